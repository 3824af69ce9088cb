package org.spinekit.augment;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.tensor.Outputs;

/**
 * Brightness and contrast, as albumentations' RandomBrightnessContrast on float images
 * (brightness_by_max, max value 1): image * a + b with a = 1 + uniform(-contrastLimit,
 * contrastLimit) and b = uniform(-brightnessLimit, brightnessLimit), drawn in that order; no
 * clipping. Mask and keypoints are unchanged. NaN pixels stay NaN.
 */
public final class RandBrightnessContrast extends RandTransform {
  private final double brightnessLimit;
  private final double contrastLimit;

  public RandBrightnessContrast(double brightnessLimit, double contrastLimit, double p) {
    super(p);
    nonNegative(brightnessLimit, "brightnessLimit");
    nonNegative(contrastLimit, "contrastLimit");
    this.brightnessLimit = brightnessLimit;
    this.contrastLimit = contrastLimit;
  }

  /** albumentations' defaults: 0.2, 0.2, p = 0.5. */
  public static RandBrightnessContrast defaults() {
    return new RandBrightnessContrast(0.2, 0.2, 0.5);
  }

  @Override
  public Sample force(Sample s, SplittableRandom rng) {
    double a = 1 + uniform(rng, -contrastLimit, contrastLimit);
    double b = uniform(rng, -brightnessLimit, brightnessLimit);
    try (PointerScope scope = new PointerScope()) {
      Tensor img = s.image().mul(new Scalar((float) a)).add_(new Scalar((float) b));
      return new Sample(Outputs.handOut(scope, img), s.mask(), s.keypoints());
    }
  }
}
