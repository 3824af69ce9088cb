/**
 * Java API of the native kernels (DSNT, heatmap pooling, Gaussian targets, fused head loss), with
 * every argument checked before native code runs, and their libtorch composites.
 */
package org.spinekit.ops;
