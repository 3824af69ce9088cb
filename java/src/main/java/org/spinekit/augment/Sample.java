package org.spinekit.augment;

import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One training sample as the augmentations see it: a float32 image [C, H, W], an optional integer
 * mask [H, W] (uint8, int8, int16, int32 or int64) and optional {@link Keypoints}. Tensors are
 * contiguous CPU tensors (the augmentations run on the loader's worker threads). The constructor
 * checks all of this and names the argument at fault.
 *
 * <p>NaN pixels are accepted, not checked (that would cost a pass over the image): a warp writes
 * NaN to every output pixel whose 2x2 bilinear footprint holds one, nearest-neighbour masks are
 * unaffected, brightness/contrast keeps them NaN (native/include/spinekit/warp.h).
 *
 * <p>Transforms never modify a sample's tensors: they return a new sample (or the same one when
 * they do nothing). Tensors a transform makes belong to the caller, as those of every SpineKit
 * operation (see {@code org.spinekit.tensor.Outputs}).
 */
public final class Sample {
  private final Tensor image;
  private final Tensor mask;
  private final Keypoints keypoints;

  public Sample(Tensor image, Tensor mask, Keypoints keypoints) {
    checkImage(image);
    if (mask != null) checkMask(mask, image);
    this.image = image;
    this.mask = mask;
    this.keypoints = keypoints;
  }

  public Tensor image() {
    return image;
  }

  /** The mask, or null. */
  public Tensor mask() {
    return mask;
  }

  /** The keypoints, or null. */
  public Keypoints keypoints() {
    return keypoints;
  }

  public long channels() {
    return image.size(0);
  }

  public long height() {
    return image.size(1);
  }

  public long width() {
    return image.size(2);
  }

  static long[] shape(Tensor t) {
    long[] s = new long[(int) t.dim()];
    for (int i = 0; i < s.length; i++) s[i] = t.size(i);
    return s;
  }

  private static void common(Tensor t, String name) {
    if (t == null || t.isNull() || !t.defined()) {
      throw new IllegalArgumentException(name + ": expected a tensor, got none");
    }
    if (!t.is_cpu()) {
      throw new IllegalArgumentException(
          name + ": expected a CPU tensor, got device " + t.device().str().getString());
    }
    if (!t.is_contiguous()) {
      throw new IllegalArgumentException(
          name
              + ": expected a contiguous tensor (call"
              + " contiguous()), got a view of shape "
              + Arrays.toString(shape(t)));
    }
    if (t.numel() == 0) {
      throw new IllegalArgumentException(
          name + ": expected a non-empty tensor, got shape " + Arrays.toString(shape(t)));
    }
  }

  static void checkImage(Tensor image) {
    common(image, "image");
    if (image.dim() != 3) {
      throw new IllegalArgumentException(
          "image: expected rank 3 [C, H, W], got rank "
              + image.dim()
              + " (shape "
              + Arrays.toString(shape(image))
              + ")");
    }
    if (image.scalar_type().value != ScalarType.Float.value) {
      throw new IllegalArgumentException("image: expected dtype Float, got " + image.scalar_type());
    }
  }

  static void checkMask(Tensor mask, Tensor image) {
    common(mask, "mask");
    if (mask.dim() != 2) {
      throw new IllegalArgumentException(
          "mask: expected rank 2 [H, W], got rank "
              + mask.dim()
              + " (shape "
              + Arrays.toString(shape(mask))
              + ")");
    }
    elementSize(mask);
    if (mask.size(0) != image.size(1) || mask.size(1) != image.size(2)) {
      throw new IllegalArgumentException(
          "mask: expected shape ["
              + image.size(1)
              + ", "
              + image.size(2)
              + "] (the image's H, W), got "
              + Arrays.toString(shape(mask)));
    }
  }

  /** Bytes per element of an integer mask. */
  static int elementSize(Tensor mask) {
    int v = mask.scalar_type().value;
    if (v == ScalarType.Byte.value || v == ScalarType.Char.value) return 1;
    if (v == ScalarType.Short.value) return 2;
    if (v == ScalarType.Int.value) return 4;
    if (v == ScalarType.Long.value) return 8;
    throw new IllegalArgumentException(
        "mask: expected an integer dtype (Byte, Char, Short, Int"
            + " or Long), got "
            + mask.scalar_type());
  }
}
