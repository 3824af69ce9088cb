/**
 * JMH benchmarks of the native kernels beside the libtorch composites they replace, a memory-copy
 * floor, and {@link org.spinekit.benchmarks.BenchMain}, the runner of spinekit bench.
 */
package org.spinekit.benchmarks;
