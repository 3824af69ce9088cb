package org.spinekit.lumbar;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.nn.Encoder;
import org.spinekit.nn.Encoders;
import org.spinekit.nn.Net;
import org.spinekit.nn.Zoo;

/**
 * The lumbar one-stage model of the RSNA 2024 write-up: any {@link Encoder} (PVTv2, ConvNeXt,
 * EfficientNet in the write-up; whatever {@link Zoo} has) and a {@link LumbarHead}, giving level
 * heat logits and per-pixel grade logits at 1/4 of the input resolution (80x80 for 320x320).
 * Training follows with a spatial softmax and DSNT on the heat logits ({@code ops.Dsnt}), a softmax
 * over the grade channels, and heatmap pooling of the grades ({@code ops.HeatmapPool}); {@code
 * ops.HeadLoss} fuses these with the losses.
 *
 * <ul>
 *   <li>2D ({@link LumbarHead2d}, spinal canal stenosis): input [B, C, H, W]; heat [B, points, H/4,
 *       W/4], grade [B, grades, H/4, W/4].
 *   <li>3D ({@link LumbarHead3d}, neural foraminal narrowing): input [B, C, D, H, W], a stack of D
 *       sagittal slices, each encoded as a 2D image; the maps are stacked along D for the 3D
 *       decoder. Heat [B, points, D, H/4, W/4], grade [B, grades, D, H/4, W/4].
 * </ul>
 *
 * <p>Keys: {@code encoder.*} (the encoder's own keys, e.g. torchvision's), {@code head.*} (see
 * {@link LumbarHead}). The encoder's maps at strides 4, 8, ... feed the head (a stride-2 map, when
 * the encoder has one, is not used). H and W must be multiples of the encoder's deepest stride.
 */
public final class LumbarNet extends Net {
  /**
   * The two outputs.
   *
   * @param heat level-point logits [B, points, (D,) h, w]; softmax over the spatial axes
   * @param grade grade logits [B, grades, (D,) h, w]; softmax over the channel axis
   */
  public record Output(Tensor heat, Tensor grade) {}

  private final Encoder encoder;
  private final LumbarHead head;
  private final int[] used;
  private final int deepest;

  /**
   * Wraps an encoder and a head; the head's encoder channels must be the encoder's channels at
   * strides 4, 8, ... (see {@link #usedChannels}).
   */
  public LumbarNet(Encoder encoder, LumbarHead head) {
    this.used = usedMaps(encoder);
    int[] want = usedChannels(encoder);
    if (!Arrays.equals(want, head.encoderChannels())) {
      throw new IllegalArgumentException(
          "LumbarNet: head.encoderChannels must be the encoder's "
              + "channels at strides 4, 8, ...: expected "
              + Arrays.toString(want)
              + ", got "
              + Arrays.toString(head.encoderChannels()));
    }
    int[] strides = encoder.strides();
    this.deepest = strides[strides.length - 1];
    this.encoder = encoder;
    this.head = head;
    add("encoder", encoder.net());
    add("head", head);
  }

  /** A 2D model: {@link Zoo} encoder {@code arch} with a {@link LumbarHead2d}. */
  public static LumbarNet create2d(
      String arch, int inChannels, int points, int grades, int... decoderChannels) {
    return Encoders.owning(
        Encoders.byName(arch, inChannels), e -> of(2, e, points, grades, decoderChannels));
  }

  /** A 3D model: {@link Zoo} encoder {@code arch} with a {@link LumbarHead3d}. */
  public static LumbarNet create3d(
      String arch, int inChannels, int points, int grades, int... decoderChannels) {
    return Encoders.owning(
        Encoders.byName(arch, inChannels), e -> of(3, e, points, grades, decoderChannels));
  }

  /**
   * A model of {@code dims} (2 or 3) on the given encoder; no {@code decoderChannels} means the
   * default widths (..., 256, 128, 64: the stride-4 block 64 wide, doubling per block).
   */
  public static LumbarNet of(
      int dims, Encoder encoder, int points, int grades, int... decoderChannels) {
    int[] enc = usedChannels(encoder);
    int[] dec =
        decoderChannels == null || decoderChannels.length == 0
            ? defaultDecoder(enc.length - 1)
            : decoderChannels;
    LumbarHead head =
        switch (dims) {
          case 2 -> new LumbarHead2d(enc, dec, points, grades);
          case 3 -> new LumbarHead3d(enc, dec, points, grades);
          default -> throw new IllegalArgumentException("dims: expected 2 or 3, got " + dims);
        };
    return new LumbarNet(encoder, head);
  }

  static int[] defaultDecoder(int blocks) {
    int[] d = new int[blocks];
    for (int i = 0; i < blocks; i++) d[i] = 64 << (blocks - 1 - i);
    return d;
  }

  /** Indices of the encoder maps the head reads: strides 4, 8, ..., checked. */
  private static int[] usedMaps(Encoder encoder) {
    int[] s = encoder.strides();
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < s.length; i++) {
      if (s[i] >= 4) idx.add(i);
    }
    if (idx.size() < 2 || s[idx.get(0)] != 4) {
      throw new IllegalArgumentException(
          "LumbarNet: the encoder must give maps at stride 4 and"
              + " deeper, got strides "
              + Arrays.toString(s));
    }
    return idx.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The encoder's channels at strides 4, 8, ... (what a head on it must take). */
  public static int[] usedChannels(Encoder encoder) {
    int[] idx = usedMaps(encoder);
    int[] ch = encoder.channels();
    int[] out = new int[idx.length];
    for (int i = 0; i < idx.length; i++) out[i] = ch[idx[i]];
    return out;
  }

  /** The encoder. */
  public Encoder encoder() {
    return encoder;
  }

  /** The head. */
  public LumbarHead head() {
    return head;
  }

  /**
   * Heat and grade logits of {@code x} ([B, C, H, W] for 2D, [B, C, D, H, W] for 3D). A 2D model
   * also takes a slice stack [B, C, D, H, W]: each slice is decoded alone and the maps are stacked
   * as [B, points, D, h, w] (so a softmax over them spans the slices: the spinal canal net's z).
   */
  public Output heads(Tensor x) {
    int dims = head.dims();
    if (dims == 2 && x.dim() == 5) {
      long b = x.size(0), d = x.size(2);
      Output o = heads(x.permute(0, 2, 1, 3, 4).reshape(b * d, x.size(1), x.size(3), x.size(4)));
      return new Output(restack(o.heat(), b, d), restack(o.grade(), b, d));
    }
    long c = encoder.inChannels();
    String axes =
        dims == 2
            ? "[B, " + c + ", H, W] (or a slice stack [B, " + c + ", D, H, W])"
            : "[B, " + c + ", D, H, W]";
    long[] shape = x.sizes().vec().get();
    if (x.dim() != dims + 2 || x.size(1) != c) {
      throw new IllegalArgumentException(
          "LumbarNet: input must be " + axes + ", got " + Arrays.toString(shape));
    }
    long h = x.size(-2);
    long w = x.size(-1);
    if (h % deepest != 0 || w % deepest != 0 || h == 0 || w == 0) {
      throw new IllegalArgumentException(
          "LumbarNet: input H and W must be positive multiples of"
              + " the encoder's deepest stride "
              + deepest
              + ", got "
              + Arrays.toString(shape));
    }
    if (dims == 2) return head.decode(select(encoder.features(x), 0, 0));
    long b = x.size(0);
    long d = x.size(2);
    if (d < 1) {
      throw new IllegalArgumentException(
          "LumbarNet: input must have at least one slice, got " + Arrays.toString(shape));
    }
    Tensor slices = x.permute(0, 2, 1, 3, 4).reshape(b * d, c, h, w);
    return head.decode(select(encoder.features(slices), b, d));
  }

  /** [B*D, K, h, w] as [B, K, D, h, w]. */
  private static Tensor restack(Tensor t, long b, long d) {
    return t.reshape(b, d, t.size(1), t.size(2), t.size(3)).permute(0, 2, 1, 3, 4).contiguous();
  }

  /** The used maps; with {@code d > 0}, [B*D, C, h, w] maps restacked as [B, C, D, h, w]. */
  private List<Tensor> select(List<Tensor> all, long b, long d) {
    List<Tensor> out = new ArrayList<>(used.length);
    for (int i : used) {
      Tensor f = all.get(i);
      if (d > 0) {
        f = f.reshape(b, d, f.size(1), f.size(2), f.size(3)).permute(0, 2, 1, 3, 4);
      }
      out.add(f);
    }
    return out;
  }

  /**
   * Heat and grade logits concatenated along the channel axis, [B, points + grades, (D,) h, w] (one
   * tensor, for generic callers; {@link #heads} gives them apart).
   */
  @Override
  public Tensor forward(Tensor x) {
    Output o = heads(x);
    return torch.cat(new TensorVector(o.heat(), o.grade()), 1);
  }

  @Override
  public java.util.Set<String> inputConvKeys() {
    java.util.Set<String> keys = new java.util.LinkedHashSet<>();
    for (String k : encoder.net().inputConvKeys()) keys.add("encoder." + k);
    return keys;
  }
}
