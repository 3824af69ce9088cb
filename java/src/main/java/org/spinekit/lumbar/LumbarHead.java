package org.spinekit.lumbar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.nn.BatchNorm;
import org.spinekit.nn.Conv2d;
import org.spinekit.nn.Conv3d;
import org.spinekit.nn.Net;
import org.spinekit.nn.Seq;

/**
 * The heatmap and grade decoder of the lumbar one-stage model (the RSNA 2024 write-up's
 * "point-masking and pool" net): a UNet-like decoder from the encoder's deepest map up to stride 4,
 * then two 1x1 convolutions, level-point heat logits and per-pixel grade logits.
 *
 * <p>Each decoder block upsamples (nearest) to the next shallower encoder map, concatenates it, and
 * applies two 3x3 convolution + batch norm + ReLU layers. Keys: {@code block.<i>.conv1.0.weight}
 * (convolution), {@code block.<i>.conv1.1.*} (batch norm), the same for {@code conv2}, then {@code
 * heatmap.weight/bias} and {@code grade.weight/bias}. Block 0 is the deepest.
 *
 * <p>{@link LumbarHead2d} works on single images (spinal canal stenosis on sagittal T2), {@link
 * LumbarHead3d} on slice stacks (neural foraminal narrowing on sagittal T1): the same decoder with
 * 3x3x3 convolutions whose upsampling keeps the slice axis.
 */
public abstract sealed class LumbarHead extends Net permits LumbarHead2d, LumbarHead3d {
  private final int dims;
  private final int[] encoderChannels;
  private final int[] decoderChannels;
  private final int points;
  private final int grades;
  private final List<Block> blocks = new ArrayList<>();
  private final Net heatmap;
  private final Net grade;

  LumbarHead(int dims, int[] encoderChannels, int[] decoderChannels, int points, int grades) {
    String name = getClass().getSimpleName();
    if (encoderChannels == null || encoderChannels.length < 2) {
      throw new IllegalArgumentException(
          name
              + ": encoderChannels: expected >= 2 maps (strides"
              + " 4, 8, ...), got "
              + Arrays.toString(encoderChannels));
    }
    if (decoderChannels == null || decoderChannels.length != encoderChannels.length - 1) {
      throw new IllegalArgumentException(
          name
              + ": decoderChannels: expected "
              + (encoderChannels.length - 1)
              + " widths (one per block), got "
              + Arrays.toString(decoderChannels));
    }
    for (int c : encoderChannels) positive(name, "encoderChannels", c, encoderChannels);
    for (int c : decoderChannels) positive(name, "decoderChannels", c, decoderChannels);
    if (points < 1) {
      throw new IllegalArgumentException(name + ": points: expected >= 1, got " + points);
    }
    if (grades < 1) {
      throw new IllegalArgumentException(name + ": grades: expected >= 1, got " + grades);
    }
    this.dims = dims;
    this.encoderChannels = encoderChannels.clone();
    this.decoderChannels = decoderChannels.clone();
    this.points = points;
    this.grades = grades;
    Seq list = add("block", new Seq());
    int n = encoderChannels.length;
    int in = encoderChannels[n - 1];
    for (int i = 0; i < n - 1; i++) {
      Block b = new Block(dims, in, encoderChannels[n - 2 - i], decoderChannels[i]);
      list.add(b);
      blocks.add(b);
      in = decoderChannels[i];
    }
    heatmap = add("heatmap", conv(dims, in, points, 1, 0, true));
    grade = add("grade", conv(dims, in, grades, 1, 0, true));
  }

  private static void positive(String name, String what, int c, int[] all) {
    if (c < 1) {
      throw new IllegalArgumentException(
          name + ": " + what + ": expected positive widths, got " + Arrays.toString(all));
    }
  }

  static Net conv(int dims, long in, long out, long k, long pad, boolean bias) {
    return dims == 2
        ? Conv2d.of(in, out, k, 1, pad, 1, bias)
        : new Conv3d(in, out, k, 1, pad, bias);
  }

  /** Spatial axes of the maps: 2 (H, W) or 3 (D, H, W). */
  public int dims() {
    return dims;
  }

  /** Heat channels (one per level point; 10 = 5 levels x left/right for NFN). */
  public int points() {
    return points;
  }

  /** Grade classes (3: normal/mild, moderate, severe). */
  public int grades() {
    return grades;
  }

  /** Channels of the encoder maps this head reads, at strides 4, 8, ... (shallowest first). */
  public int[] encoderChannels() {
    return encoderChannels.clone();
  }

  /** Output widths of the decoder blocks, deepest block first. */
  public int[] decoderChannels() {
    return decoderChannels.clone();
  }

  /**
   * Decodes encoder maps, shallowest (stride 4) first, each [N, C_i, (D,) H_i, W_i], into heat
   * logits [N, points, (D,) H_0, W_0] and grade logits [N, grades, (D,) H_0, W_0].
   */
  public LumbarNet.Output decode(List<Tensor> features) {
    String name = getClass().getSimpleName();
    if (features.size() != encoderChannels.length) {
      throw new IllegalArgumentException(
          name + ": expected " + encoderChannels.length + " feature maps, got " + features.size());
    }
    for (int i = 0; i < features.size(); i++) {
      Tensor f = features.get(i);
      if (f.dim() != dims + 2 || f.size(1) != encoderChannels[i]) {
        throw new IllegalArgumentException(
            name
                + ": feature "
                + i
                + " must be [N, "
                + encoderChannels[i]
                + (dims == 3 ? ", D, H, W]" : ", H, W]")
                + ", got "
                + Arrays.toString(f.sizes().vec().get()));
      }
    }
    int n = features.size();
    Tensor d = features.get(n - 1);
    for (int i = 0; i < blocks.size(); i++) d = blocks.get(i).forward(d, features.get(n - 2 - i));
    return new LumbarNet.Output(heatmap.forward(d), grade.forward(d));
  }

  /** Not a single-input module: use {@link #decode}. */
  @Override
  public Tensor forward(Tensor x) {
    throw new UnsupportedOperationException(
        getClass().getSimpleName() + " decodes a list of encoder maps: call decode(features)");
  }

  /** Upsample to the skip's size, concatenate, two conv + BN + ReLU ({@code conv1, conv2}). */
  static final class Block extends Net {
    private final int dims;
    private final Seq conv1;
    private final Seq conv2;

    Block(int dims, int in, int skip, int out) {
      this.dims = dims;
      conv1 = add("conv1", convBnRelu(dims, in + skip, out));
      conv2 = add("conv2", convBnRelu(dims, out, out));
    }

    private static Seq convBnRelu(int dims, int in, int out) {
      return new Seq()
          .add(conv(dims, in, out, 3, 1, false))
          .add(new BatchNorm(out))
          .fn(torch::relu);
    }

    Tensor forward(Tensor x, Tensor skip) {
      x =
          dims == 2
              ? torch.upsample_nearest2d(x, skip.size(2), skip.size(3))
              : torch.upsample_nearest3d(x, skip.size(2), skip.size(3), skip.size(4));
      x = torch.cat(new TensorVector(x, skip), 1);
      return conv2.forward(conv1.forward(x));
    }

    @Override
    public Tensor forward(Tensor x) {
      throw new UnsupportedOperationException("a decoder block needs its skip map");
    }
  }
}
