/**
 * Training data path: the multi-threaded {@link org.spinekit.train.DataLoader} over a
 * {@link org.spinekit.train.Dataset}, and lazy data sets that read and crop at training time.
 */
package org.spinekit.train;
