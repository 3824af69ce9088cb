package org.spinekit.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * segmentation_models_pytorch's {@code UnetDecoder} (no centre block, no attention): from the
 * deepest encoder map, each block upsamples x2 (nearest), concatenates the encoder map at that
 * stride when there is one, and applies two 3x3 conv-BN-ReLU ({@code blocks.i.conv1.0/.1}, {@code
 * blocks.i.conv2.0/.1}; the convolutions have no bias). There is one block per halving of the
 * deepest stride, so the output is at input resolution: five blocks for an encoder whose deepest
 * map is at stride 32.
 *
 * <p>smp's encoders also return the input (stride 1), which its decoder never uses; SpineKit's
 * {@link Encoder}s start at stride 2 (ResNet, EfficientNet) or 4 (ConvNeXt, PVTv2). A block whose
 * stride has no encoder map gets no skip (its first convolution takes only the upsampled channels),
 * exactly as smp's decoder does with the zero-channel placeholder maps its timm-universal encoder
 * inserts for stride-4 backbones: the keys and the computation are the same.
 */
public final class UnetDecoder extends Net {
  /** smp's default {@code decoder_channels}. */
  public static int[] defaultChannels() {
    return new int[] {256, 128, 64, 32, 16};
  }

  private final int[] encoderStrides;
  private final int[] decoderChannels;
  private final int[] skipIndex;
  private final List<Block> blocks = new ArrayList<>();

  /**
   * A decoder for an encoder with the given feature strides and channels (shallowest first).
   * Strides must be powers of two, at least 2, strictly increasing; the deepest one must be {@code
   * 2^decoderChannels.length} so the output comes back to input resolution.
   */
  public UnetDecoder(int[] encoderStrides, int[] encoderChannels, int[] decoderChannels) {
    if (encoderStrides == null
        || encoderChannels == null
        || encoderStrides.length == 0
        || encoderStrides.length != encoderChannels.length) {
      throw new IllegalArgumentException(
          "UnetDecoder: encoder strides and channels must be "
              + "non-empty and of equal length, got strides "
              + Arrays.toString(encoderStrides)
              + " and channels "
              + Arrays.toString(encoderChannels));
    }
    if (decoderChannels == null || decoderChannels.length == 0) {
      throw new IllegalArgumentException(
          "UnetDecoder: decoderChannels must be non-empty, got "
              + Arrays.toString(decoderChannels));
    }
    for (int i = 0; i < encoderStrides.length; i++) {
      int s = encoderStrides[i];
      if (s < 2 || Integer.bitCount(s) != 1 || (i > 0 && s <= encoderStrides[i - 1])) {
        throw new IllegalArgumentException(
            "UnetDecoder: encoder strides must be increasing "
                + "powers of two >= 2, got "
                + Arrays.toString(encoderStrides));
      }
      if (encoderChannels[i] < 1) {
        throw new IllegalArgumentException(
            "UnetDecoder: encoder channels must be >= 1, got " + Arrays.toString(encoderChannels));
      }
    }
    for (int c : decoderChannels) {
      if (c < 1) {
        throw new IllegalArgumentException(
            "UnetDecoder: decoder channels must be >= 1, got " + Arrays.toString(decoderChannels));
      }
    }
    int deepest = encoderStrides[encoderStrides.length - 1];
    int n = decoderChannels.length;
    if (n >= 31 || deepest != 1 << n) {
      throw new IllegalArgumentException(
          "UnetDecoder: "
              + n
              + " decoder blocks "
              + Arrays.toString(decoderChannels)
              + " bring stride "
              + (n >= 31 ? "2^" + n : 1 << n)
              + " back to 1, but the deepest encoder stride is "
              + deepest);
    }
    this.encoderStrides = encoderStrides.clone();
    this.decoderChannels = decoderChannels.clone();
    this.skipIndex = new int[n];
    Seq list = new Seq();
    int in = encoderChannels[encoderChannels.length - 1];
    for (int i = 0; i < n; i++) {
      int stride = deepest >> (i + 1);
      int skip = -1;
      for (int j = 0; j < encoderStrides.length - 1; j++) {
        if (encoderStrides[j] == stride) skip = j;
      }
      skipIndex[i] = skip;
      Block b = new Block(in, skip < 0 ? 0 : encoderChannels[skip], decoderChannels[i]);
      list.add(b);
      blocks.add(b);
      in = decoderChannels[i];
    }
    add("blocks", list);
    // smp's initialize_decoder: kaiming uniform (fan in, relu) weights, BN weight 1 bias 0.
    for (Net m : descendants()) {
      if (m instanceof Conv2d cv) {
        Init.uniform(
            cv.weight,
            -Math.sqrt(6.0 / Init.fans(cv.weight)[0]),
            Math.sqrt(6.0 / Init.fans(cv.weight)[0]));
      }
    }
  }

  /** The channels of the decoder's output (the last block's). */
  public int outChannels() {
    return decoderChannels[decoderChannels.length - 1];
  }

  /** The decoder channels, one per block. */
  public int[] decoderChannels() {
    return decoderChannels.clone();
  }

  /**
   * Decodes the encoder's feature maps (shallowest first, at the strides given to the constructor)
   * to a map of {@link #outChannels()} channels at input resolution.
   */
  public Tensor decode(List<Tensor> features) {
    if (features == null || features.size() != encoderStrides.length) {
      throw new IllegalArgumentException(
          "UnetDecoder: expected "
              + encoderStrides.length
              + " feature maps at strides "
              + Arrays.toString(encoderStrides)
              + ", got "
              + (features == null ? "null" : features.size()));
    }
    Tensor x = features.get(features.size() - 1);
    for (int i = 0; i < blocks.size(); i++) {
      x = blocks.get(i).forward(x, skipIndex[i] < 0 ? null : features.get(skipIndex[i]));
    }
    return x;
  }

  /**
   * Not a single-input module: use {@link #decode(List)}.
   *
   * @throws UnsupportedOperationException always
   */
  @Override
  public Tensor forward(Tensor x) {
    throw new UnsupportedOperationException(
        "UnetDecoder takes the encoder's feature maps: " + "call decode(features)");
  }

  /** smp's {@code Conv2dReLU} with batch norm: conv (no bias), BN, ReLU as keys 0, 1. */
  private static Seq convBnRelu(int in, int out) {
    return new Seq()
        .add(Conv2d.of(in, out, 3, 1, 1, 1, false))
        .add(new BatchNorm(out))
        .fn(torch::relu);
  }

  /** smp's {@code DecoderBlock}. */
  static final class Block extends Net {
    private final int in;
    private final int skip;
    private final Seq conv1;
    private final Seq conv2;

    Block(int in, int skip, int out) {
      this.in = in;
      this.skip = skip;
      conv1 = add("conv1", convBnRelu(in + skip, out));
      conv2 = add("conv2", convBnRelu(out, out));
    }

    Tensor forward(Tensor x, Tensor skipMap) {
      if (x.dim() != 4 || x.size(1) != in) {
        throw new IllegalArgumentException(
            "UnetDecoder block: input must be [N, "
                + in
                + ", H, W], got "
                + Arrays.toString(x.sizes().vec().get()));
      }
      long h = 2 * x.size(2);
      long w = 2 * x.size(3);
      x = torch.upsample_nearest2d(x, new long[] {h, w});
      if (skipMap != null) {
        if (skipMap.dim() != 4
            || skipMap.size(0) != x.size(0)
            || skipMap.size(1) != skip
            || skipMap.size(2) != h
            || skipMap.size(3) != w) {
          throw new IllegalArgumentException(
              "UnetDecoder block: skip map must be ["
                  + x.size(0)
                  + ", "
                  + skip
                  + ", "
                  + h
                  + ", "
                  + w
                  + "], got "
                  + Arrays.toString(skipMap.sizes().vec().get()));
        }
        x = torch.cat(new TensorVector(x, skipMap), 1);
      }
      return conv2.forward(conv1.forward(x));
    }

    @Override
    public Tensor forward(Tensor x) {
      if (skip != 0) {
        throw new UnsupportedOperationException(
            "UnetDecoder block with a skip of "
                + skip
                + " channels needs the skip map: call forward(x, skip)");
      }
      return forward(x, null);
    }
  }
}
