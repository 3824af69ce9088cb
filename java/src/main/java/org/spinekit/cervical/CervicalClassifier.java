package org.spinekit.cervical;

import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.nn.Encoder;
import org.spinekit.nn.Encoders;
import org.spinekit.nn.Gru;
import org.spinekit.nn.Linear;
import org.spinekit.nn.Net;
import org.spinekit.nn.Seq;
import org.spinekit.nn.Zoo;

/**
 * Stage 2 of the cervical fracture system (RSNA 2022 write-up): a vertebra crop of S evenly sampled
 * axial slices (24 in the write-up) -> the same 2D CNN on every slice -> spatial dropout on its
 * last feature map -> global average pooling -> a bidirectional GRU over the slices -> attention
 * pooling over the slices -> logits (one fracture logit per crop by default).
 *
 * <p>Input: [B, S, H, W] when each slice is one channel (the write-up's "(bs, 24, img_size,
 * img_size)"), or [B, S, C, H, W] with C channels per slice (e.g. CT windows); {@link
 * Config#channelsPerSlice} says which. The encoder is any {@link Encoder} (by {@link Zoo} name with
 * {@link #create}); its deepest map is used.
 *
 * <p>Spatial dropout is {@code nn.Dropout2d} on each slice's feature map: in training mode whole
 * channels of a slice's map are zeroed (the rest scaled by 1/(1-p)); identity in eval mode.
 * Attention pooling: an MLP scores each slice's GRU output (Linear, tanh, Linear to 1), a softmax
 * over the slices weights them, their weighted sum is the crop's feature.
 *
 * <p>Keys: {@code encoder.*} (the encoder's own), {@code gru.*} ({@code nn.GRU}'s, see {@link
 * Gru}), {@code attention.0.*} and {@code attention.2.*} (the scoring MLP, an {@code
 * nn.Sequential(Linear, Tanh, Linear)}), {@code head.weight/bias} (the final Linear).
 */
public final class CervicalClassifier extends Net {
  /**
   * The stage-2 settings.
   *
   * @param slices S, slices per crop (the GRU's sequence length)
   * @param channelsPerSlice 1: input [B, S, H, W]; more: input [B, S, C, H, W]
   * @param hidden GRU hidden size per direction (the pooled feature is 2 x hidden wide)
   * @param layers stacked GRU layers
   * @param attentionHidden width of the attention MLP's hidden layer
   * @param outputs logits per crop (1: fracture of this vertebra)
   * @param spatialDropout Dropout2d probability on the slices' feature maps
   * @param gruDropout dropout between GRU layers (training only)
   */
  public record Config(
      int slices,
      int channelsPerSlice,
      int hidden,
      int layers,
      int attentionHidden,
      int outputs,
      double spatialDropout,
      double gruDropout) {
    public Config {
      atLeast1("slices", slices);
      atLeast1("channelsPerSlice", channelsPerSlice);
      atLeast1("hidden", hidden);
      atLeast1("layers", layers);
      atLeast1("attentionHidden", attentionHidden);
      atLeast1("outputs", outputs);
      if (!(spatialDropout >= 0 && spatialDropout < 1)) {
        throw new IllegalArgumentException(
            "spatialDropout: expected in [0, 1), got " + spatialDropout);
      }
      if (!(gruDropout >= 0 && gruDropout < 1)) {
        throw new IllegalArgumentException("gruDropout: expected in [0, 1), got " + gruDropout);
      }
    }

    private static void atLeast1(String name, int v) {
      if (v < 1) throw new IllegalArgumentException(name + ": expected >= 1, got " + v);
    }

    /**
     * The defaults: 1 channel per slice, a 2-layer BiGRU of 256 per direction, attention MLP 128
     * wide, 1 output, spatial dropout 0.2, no dropout between GRU layers.
     */
    public static Config of(int slices) {
      return new Config(slices, 1, 256, 2, 128, 1, 0.2, 0);
    }

    public Config withChannelsPerSlice(int c) {
      return new Config(
          slices, c, hidden, layers, attentionHidden, outputs, spatialDropout, gruDropout);
    }

    public Config withGru(int hidden, int layers) {
      return new Config(
          slices,
          channelsPerSlice,
          hidden,
          layers,
          attentionHidden,
          outputs,
          spatialDropout,
          gruDropout);
    }

    public Config withAttentionHidden(int a) {
      return new Config(
          slices, channelsPerSlice, hidden, layers, a, outputs, spatialDropout, gruDropout);
    }

    public Config withOutputs(int k) {
      return new Config(
          slices, channelsPerSlice, hidden, layers, attentionHidden, k, spatialDropout, gruDropout);
    }

    public Config withDropout(double spatial, double gru) {
      return new Config(
          slices, channelsPerSlice, hidden, layers, attentionHidden, outputs, spatial, gru);
    }
  }

  /**
   * Logits and the attention weights behind them.
   *
   * @param logits [B, outputs]
   * @param weights [B, S], each row sums to 1
   */
  public record Output(Tensor logits, Tensor weights) {}

  private final Config config;
  private final Encoder encoder;
  private final Gru gru;
  private final Seq attention;
  private final Linear head;

  /** The classifier on {@code encoder}, whose input channels must be channelsPerSlice. */
  public CervicalClassifier(Encoder encoder, Config c) {
    if (encoder.inChannels() != c.channelsPerSlice()) {
      throw new IllegalArgumentException(
          "CervicalClassifier: encoder input channels must equal"
              + " channelsPerSlice "
              + c.channelsPerSlice()
              + ", got "
              + encoder.inChannels());
    }
    this.config = c;
    this.encoder = encoder;
    int[] ch = encoder.channels();
    long features = ch[ch.length - 1];
    long out = 2L * c.hidden();
    add("encoder", encoder.net());
    gru =
        add(
            "gru",
            new Gru(new Gru.Config(features, c.hidden(), c.layers(), true, true, c.gruDropout())));
    attention =
        add(
            "attention",
            new Seq()
                .add(new Linear(out, c.attentionHidden()))
                .fn(torch::tanh)
                .add(new Linear(c.attentionHidden(), 1)));
    head = add("head", new Linear(out, c.outputs()));
  }

  /** The classifier on the {@link Zoo} encoder {@code arch} (built without its head). */
  public static CervicalClassifier create(String arch, Config c) {
    return Encoders.owning(
        Encoders.byName(arch, c.channelsPerSlice()), e -> new CervicalClassifier(e, c));
  }

  /** {@link #create(String, Config)} with {@link Config#of}{@code (slices)}. */
  public static CervicalClassifier create(String arch, int slices) {
    return create(arch, Config.of(slices));
  }

  public Config config() {
    return config;
  }

  public Encoder encoder() {
    return encoder;
  }

  public Gru gru() {
    return gru;
  }

  /** The logits [B, outputs]. */
  @Override
  public Tensor forward(Tensor x) {
    return run(x).logits();
  }

  /** Logits and attention weights of crops {@code x}. */
  public Output run(Tensor x) {
    long s = config.slices();
    long c = config.channelsPerSlice();
    long[] shape = x.sizes().vec().get();
    boolean ok =
        x.dim() == 5 ? x.size(1) == s && x.size(2) == c : x.dim() == 4 && c == 1 && x.size(1) == s;
    if (!ok) {
      String want =
          c == 1
              ? "[B, " + s + ", H, W] or [B, " + s + ", 1, H, W]"
              : "[B, " + s + ", " + c + ", H, W]";
      throw new IllegalArgumentException(
          "CervicalClassifier: input must be "
              + want
              + " (slices "
              + s
              + ", channels per slice "
              + c
              + "), got "
              + Arrays.toString(shape));
    }
    long b = x.size(0);
    Tensor images = x.reshape(b * s, c, x.size(-2), x.size(-1));
    List<Tensor> maps = encoder.features(images);
    Tensor last = dropMaps(maps.get(maps.size() - 1));
    Tensor pooled = torch.adaptive_avg_pool2d(last, 1, 1).flatten(1, -1);
    Tensor seq = gru.forward(pooled.reshape(b, s, pooled.size(1)));
    Tensor weights = torch.softmax(attention.forward(seq), 1);
    Tensor feature =
        seq.mul(weights).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    return new Output(head.forward(feature), weights.squeeze(-1));
  }

  /**
   * The spatial dropout ({@code Dropout2d}) on feature maps [N, C, h, w]: in training mode each (n,
   * c) map is zeroed with probability {@link Config#spatialDropout} and otherwise scaled by
   * 1/(1-p); identity in eval mode.
   */
  public Tensor dropMaps(Tensor maps) {
    if (maps.dim() != 4) {
      throw new IllegalArgumentException(
          "dropMaps: maps must be [N, C, h, w], got " + Arrays.toString(maps.sizes().vec().get()));
    }
    if (!is_training() || config.spatialDropout() == 0) return maps;
    return torch.feature_dropout(maps, config.spatialDropout(), true);
  }
}
