/**
 * Training losses built from libtorch ops (autograd-capable, float32 or float64, any device): Dice,
 * cross entropy, binary cross entropy, focal, Jensen-Shannon, the fused head loss, sums.
 */
package org.spinekit.loss;
