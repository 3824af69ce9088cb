package org.spinekit.cervical;

import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.io.Volume;
import org.spinekit.nn.Unet;
import org.spinekit.ops.Stack25d;
import org.spinekit.ops.Window;

/**
 * Stage-1 inference: every slice of a series as its 2.5D stack (i-1, i, i+1), through the Unet(s)
 * (the mean of the folds' softmax), the argmax per pixel, resized back to the series' grid by
 * nearest neighbour: a label volume (0 background, 1..7 C1..C7, 8 thoracic) in the series' [slice,
 * row, column] order.
 *
 * <p>The stacks are quantised to 8 bits as the training cache stores them ({@link
 * SegmentationSlices}), so a slice looks the same to the network at training and at inference. Not
 * thread-safe (the networks are shared); one call is one {@link PointerScope}.
 */
public final class CervicalSegmenter {
  /**
   * A label volume and where the time went.
   *
   * @param labels [slices * rows * columns] on the series' grid
   * @param stackSeconds 2.5D stacking, windowing and resizing
   * @param forwardSeconds the networks' forward passes (with softmax and argmax)
   * @param resizeSeconds labels back to the series' grid
   */
  public record Result(
      short[] labels, double stackSeconds, double forwardSeconds, double resizeSeconds) {}

  private final List<Unet> nets;
  private final int size;
  private final Window window;
  private final int batch;
  private final Device device;

  /**
   * @param nets the folds' Unets (9 classes, 3 input channels), in eval mode on {@code device}
   * @param size stack height and width
   * @param window the CT window of the stacks
   * @param batch slices per forward pass
   */
  public CervicalSegmenter(List<Unet> nets, int size, Window window, int batch, Device device) {
    if (nets == null || nets.isEmpty()) {
      throw new IllegalArgumentException("nets: expected at least one Unet, got none");
    }
    for (Unet n : nets) {
      if (n.classes() != CervicalConfig.SEG_CLASSES || n.inChannels() != 3) {
        throw new IllegalArgumentException(
            "nets: expected Unets of 3 input channels and "
                + CervicalConfig.SEG_CLASSES
                + " classes, got "
                + n.inChannels()
                + " and "
                + n.classes());
      }
    }
    if (size < 1 || size % nets.get(0).sizeMultiple() != 0) {
      throw new IllegalArgumentException(
          "size: expected a multiple of " + nets.get(0).sizeMultiple() + ", got " + size);
    }
    if (batch < 1) throw new IllegalArgumentException("batch: expected >= 1, got " + batch);
    this.nets = List.copyOf(nets);
    this.size = size;
    this.window = window;
    this.batch = batch;
    this.device = device;
  }

  /** The label volume of {@code ct}. */
  public Result segment(Volume ct) {
    int s = ct.slices();
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      long t0 = System.nanoTime();
      Tensor stacks = Stack25d.images(ct, new Stack25d.Options(1, 1, size, size, window));
      // As the cache: clamp to [0, 1], 8 bits.
      stacks =
          stacks
              .clamp(
                  new org.bytedeco.pytorch.ScalarOptional(new Scalar(0.0)),
                  new org.bytedeco.pytorch.ScalarOptional(new Scalar(1.0)))
              .mul(new Scalar(255.0))
              .round()
              .div(new Scalar(255.0));
      long t1 = System.nanoTime();
      Tensor labels =
          torch.empty(
              new long[] {s, size, size},
              new org.bytedeco.pytorch.TensorOptions(ScalarType.Short),
              null);
      for (int a = 0; a < s; a += batch) {
        try (PointerScope step = new PointerScope()) {
          int n = Math.min(batch, s - a);
          Tensor x = stacks.narrow(0, a, n);
          if (device != null && !device.is_cpu()) x = x.to(device, ScalarType.Float);
          Tensor mean = null;
          for (Unet net : nets) {
            Tensor p = torch.softmax(net.forward(x), 1);
            mean = mean == null ? p : mean.add(p);
          }
          labels
              .narrow(0, a, n)
              .copy_(
                  mean.argmax(new org.bytedeco.pytorch.LongOptional(1), false)
                      .to(ScalarType.Short)
                      .cpu());
        }
      }
      long t2 = System.nanoTime();
      Tensor back =
          Stack25d.masks(
                  labels,
                  new Stack25d.Options(0, 1, ct.rows(), ct.columns(), null),
                  ScalarType.Long)
              .to(ScalarType.Short)
              .contiguous();
      short[] out = new short[Math.toIntExact(ct.voxelCount())];
      back.data_ptr_short().get(out);
      long t3 = System.nanoTime();
      return new Result(out, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
    }
  }
}
