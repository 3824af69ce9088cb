/**
 * The spinekit command line: demo, info, dicom, synth, model (and bench, run from the
 * benchmarks jar by the ./spinekit script).
 */
package org.spinekit.cli;
