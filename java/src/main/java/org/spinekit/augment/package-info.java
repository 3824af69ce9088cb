/**
 * Joint random augmentations of an image, its mask and its keypoints ({@code Rand*} transforms with
 * a seed, composed by {@link org.spinekit.augment.Compose} and {@link org.spinekit.augment.OneOf}),
 * on the native warp kernels: images bilinear, masks nearest, keypoints exact.
 */
package org.spinekit.augment;
