package org.spinekit.cervical;

import org.spinekit.augment.Compose;
import org.spinekit.augment.OneOf;
import org.spinekit.augment.RandBrightnessContrast;
import org.spinekit.augment.RandElastic;
import org.spinekit.augment.RandFlip;
import org.spinekit.augment.RandGridDistortion;
import org.spinekit.augment.RandShiftScaleRotate;
import org.spinekit.augment.Resize;

/**
 * The joint augmentation of the cervical stage-1 segmentation (SPEC.md): horizontal flip p = 0.5,
 * shift-scale-rotate (shift 0.0625, scale 0.05, rotate 10 degrees) p = 0.5, and one of grid
 * distortion (5 steps, limit 0.05) and elastic (alpha 1, sigma 50, alpha_affine 50) with p = 0.25.
 * The resize to 320 x 320 that precedes it is {@link Resize}, done once (the stacking kernels write
 * that size directly).
 */
public final class CervicalAugment {
  private CervicalAugment() {}

  public static Compose pipeline() {
    return new Compose(
        RandFlip.horizontal(),
        RandShiftScaleRotate.defaults(),
        new OneOf(0.25, RandGridDistortion.defaults(), RandElastic.defaults()));
  }

  /** The pipeline with brightness/contrast (albumentations defaults) after the warps. */
  public static Compose withBrightnessContrast() {
    return new Compose(pipeline(), RandBrightnessContrast.defaults());
  }
}
