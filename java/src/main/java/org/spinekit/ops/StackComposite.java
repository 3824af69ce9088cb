package org.spinekit.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.tensor.Outputs;
import org.spinekit.tensor.Tensors;

/**
 * The 2.5D stacking and the crop-and-sample composed from libtorch ops: the references of {@link
 * Stack25d} and {@link CropSample} in the tests and the baseline of the benchmark. Rescale and
 * window on the slices, {@code upsample_bilinear2d} (what {@code interpolate(mode="bilinear",
 * align_corners=False)} calls), then {@code index_select} of the resized slices into the (slice,
 * channel) planes.
 */
public final class StackComposite {
  private StackComposite() {}

  /** Modality values (float32) of stored values, windowed when {@code window} is not null. */
  public static Tensor windowed(Tensor volume, double slope, double intercept, Window window) {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = volume.to(ScalarType.Float);
      if (slope != 1 || intercept != 0) {
        x = x.mul(new Scalar((float) slope)).add(new Scalar((float) intercept));
      }
      if (window != null) {
        float lo = (float) window.low(), hi = (float) window.high();
        x =
            x.clamp(
                    new org.bytedeco.pytorch.ScalarOptional(new Scalar(lo)),
                    new org.bytedeco.pytorch.ScalarOptional(new Scalar(hi)))
                .sub(new Scalar(lo))
                .div(new Scalar((float) window.width()));
      }
      return Outputs.handOut(scope, x.contiguous());
    }
  }

  /** [S, H, W] stored values -> [S, 2k+1, height, width] float32, as {@link Stack25d}. */
  public static Tensor stack(Tensor volume, double slope, double intercept, Stack25d.Options o) {
    try (PointerScope scope = new PointerScope()) {
      long s = volume.size(0);
      Tensor x = windowed(volume, slope, intercept, o.window()).unsqueeze(1);
      Tensor resized =
          torch.upsample_bilinear2d(x, new long[] {o.height(), o.width()}, false).squeeze(1);
      Tensor idx =
          Tensors.of(Stack25d.sourceSlices(s, o), s * o.channels())
              .to(volume.device(), ScalarType.Long);
      Tensor out =
          resized.index_select(0, idx).reshape(s, o.channels(), o.height(), o.width()).contiguous();
      return Outputs.handOut(scope, out);
    }
  }

  /**
   * [S, H, W] stored values -> [n, height, width] float32, as {@link CropSample} for a box whose
   * grown extent lies inside the volume.
   */
  public static Tensor cropInside(
      Tensor volume, double slope, double intercept, CropSample.Box b, CropSample.Options o) {
    try (PointerScope scope = new PointerScope()) {
      long[] z = CropSample.planes(b, o);
      Tensor idx = Tensors.of(z, z.length).to(volume.device(), ScalarType.Long);
      long y0 = b.y0() - o.marginY(), y1 = b.y1() + o.marginY();
      long x0 = b.x0() - o.marginX(), x1 = b.x1() + o.marginX();
      Tensor x =
          windowed(
                  volume.index_select(0, idx).narrow(1, y0, y1 - y0).narrow(2, x0, x1 - x0),
                  slope,
                  intercept,
                  o.window())
              .unsqueeze(1);
      Tensor out =
          torch
              .upsample_bilinear2d(x, new long[] {o.height(), o.width()}, false)
              .squeeze(1)
              .contiguous();
      return Outputs.handOut(scope, out);
    }
  }
}
