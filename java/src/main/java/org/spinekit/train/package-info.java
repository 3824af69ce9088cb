/**
 * Training: the multi-threaded {@link org.spinekit.train.DataLoader} and lazy data sets, and the
 * {@link org.spinekit.train.Trainer} with its optimiser, schedules, EMA, checkpoints and logs.
 */
package org.spinekit.train;
