/**
 * The spinekit command line on picocli, one class per verb (demo, info, dicom, synth, model; bench
 * lives in the benchmarks jar), with {@link org.spinekit.cli.Cli}'s exit codes and the common
 * runtime options of {@link org.spinekit.cli.RuntimeOptions}.
 */
package org.spinekit.cli;
