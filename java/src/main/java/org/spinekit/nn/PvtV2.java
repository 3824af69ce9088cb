package org.spinekit.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The Pyramid Vision Transformer v2 ({@code pvt_v2_b0}, {@code pvt_v2_b4}) with timm's current
 * state-dict keys: {@code patch_embed.proj/norm} (7x7 stride-4 overlapping patch embedding), {@code
 * stages.i.downsample.proj/norm} (3x3 stride-2, stages 1-3), {@code stages.i.blocks.j.norm1},
 * {@code attn.q/kv/proj} and, where the stage's reduction ratio is above 1, {@code attn.sr} (sr x
 * sr stride-sr conv) and {@code attn.norm}; {@code norm2}, {@code mlp.fc1/dwconv/fc2} (a 3x3
 * depthwise conv between the linears), {@code stages.i.norm}, {@code head}. Block and stage norms
 * use eps 1e-6, the embedding and reduction norms 1e-5 (as timm and the original code). Checkpoints
 * of the original PVT code ({@code patch_embed1..4}, {@code block1..4}, {@code norm1..4}) load
 * through {@code NameMap.resource("pvt-v2-original")}.
 *
 * <p>Features ({@link Encoder}): each stage's output after its norm, NCHW, at strides 4, 8, 16, 32
 * (sizes ceil(H / stride) from the padded embeddings) with the embedding widths as channels. {@link
 * #forward} averages the last map over space, then applies {@code head} (absent when {@code
 * numClasses == 0}).
 *
 * <p>In training, drop path (stochastic depth) at rates rising linearly from 0 to {@link
 * Config#dropPathRate()} over the blocks, from libtorch's default generator.
 */
public final class PvtV2 extends Net implements Encoder {
  /** Per-stage depths, widths, heads, reduction and MLP ratios; drop path; in/out. */
  public record Config(
      int[] depths,
      int[] embedDims,
      int[] numHeads,
      int[] srRatios,
      double[] mlpRatios,
      double dropPathRate,
      int inChannels,
      int numClasses) {
    public Config {
      if (depths == null
          || embedDims == null
          || numHeads == null
          || srRatios == null
          || mlpRatios == null
          || depths.length != 4
          || embedDims.length != 4
          || numHeads.length != 4
          || srRatios.length != 4
          || mlpRatios.length != 4) {
        throw new IllegalArgumentException(
            "PvtV2: depths, embedDims, numHeads, srRatios and "
                + "mlpRatios must have 4 entries each");
      }
      for (int i = 0; i < 4; i++) {
        if (depths[i] < 1
            || embedDims[i] < 1
            || numHeads[i] < 1
            || srRatios[i] < 1
            || !(mlpRatios[i] > 0)
            || embedDims[i] % numHeads[i] != 0) {
          throw new IllegalArgumentException(
              "PvtV2: stage "
                  + i
                  + " needs depth, width, heads, "
                  + "sr ratio >= 1, mlp ratio > 0 and width divisible by heads, got depth "
                  + depths[i]
                  + ", width "
                  + embedDims[i]
                  + ", heads "
                  + numHeads[i]
                  + ", sr "
                  + srRatios[i]
                  + ", mlp "
                  + mlpRatios[i]);
        }
      }
      if (!(dropPathRate >= 0 && dropPathRate <= 1)) {
        throw new IllegalArgumentException(
            "PvtV2: dropPathRate must be in [0, 1], got " + dropPathRate);
      }
      if (inChannels < 1) {
        throw new IllegalArgumentException("PvtV2: inChannels must be >= 1, got " + inChannels);
      }
      if (numClasses < 0) {
        throw new IllegalArgumentException("PvtV2: numClasses must be >= 0, got " + numClasses);
      }
      depths = depths.clone();
      embedDims = embedDims.clone();
      numHeads = numHeads.clone();
      srRatios = srRatios.clone();
      mlpRatios = mlpRatios.clone();
    }

    @Override
    public int[] depths() {
      return depths.clone();
    }

    @Override
    public int[] embedDims() {
      return embedDims.clone();
    }

    @Override
    public int[] numHeads() {
      return numHeads.clone();
    }

    @Override
    public int[] srRatios() {
      return srRatios.clone();
    }

    @Override
    public double[] mlpRatios() {
      return mlpRatios.clone();
    }

    /** timm's {@code pvt_v2_b0}: depths 2, 2, 2, 2, widths 32, 64, 160, 256. */
    public static Config b0(int inChannels, int numClasses) {
      return new Config(
          new int[] {2, 2, 2, 2},
          new int[] {32, 64, 160, 256},
          new int[] {1, 2, 5, 8},
          new int[] {8, 4, 2, 1},
          new double[] {8, 8, 4, 4},
          0.0,
          inChannels,
          numClasses);
    }

    /** timm's {@code pvt_v2_b4}: depths 3, 8, 27, 3, widths 64, 128, 320, 512. */
    public static Config b4(int inChannels, int numClasses) {
      return new Config(
          new int[] {3, 8, 27, 3},
          new int[] {64, 128, 320, 512},
          new int[] {1, 2, 5, 8},
          new int[] {8, 4, 2, 1},
          new double[] {8, 8, 4, 4},
          0.0,
          inChannels,
          numClasses);
    }

    /** This configuration with another drop path rate. */
    public Config withDropPath(double rate) {
      return new Config(
          depths, embedDims, numHeads, srRatios, mlpRatios, rate, inChannels, numClasses);
    }
  }

  private final Config config;
  private final Embed patchEmbed;
  private final Stage[] stages = new Stage[4];
  private final Linear head;

  /** Builds the network with timm's initialisation, from libtorch's generator. */
  public PvtV2(Config c) {
    this.config = c;
    int[] dims = c.embedDims();
    int[] depths = c.depths();
    patchEmbed = add("patch_embed", new Embed(c.inChannels(), dims[0], 7, 4));
    double[] rates = DropPath.rates(c.dropPathRate(), Arrays.stream(depths).sum());
    Seq all = new Seq();
    int id = 0;
    for (int s = 0; s < 4; s++) {
      double[] r = Arrays.copyOfRange(rates, id, id + depths[s]);
      id += depths[s];
      stages[s] =
          new Stage(
              s == 0 ? 0 : dims[s - 1],
              dims[s],
              depths[s],
              c.numHeads()[s],
              c.srRatios()[s],
              c.mlpRatios()[s],
              r);
      all.add(stages[s]);
    }
    add("stages", all);
    head = c.numClasses() > 0 ? add("head", new Linear(dims[3], c.numClasses())) : null;
    // timm: trunc_normal_(std 0.02) linear weights; conv weights N(0, sqrt(2 / fan_out)) with
    // fan_out = k * k * out / groups; zero biases; LayerNorms 1 and 0.
    for (Net m : descendants()) {
      if (m instanceof Conv2d cv) {
        long fanOut = cv.kernel[0] * cv.kernel[1] * cv.out / cv.groups;
        Init.normal(cv.weight, 0, Math.sqrt(2.0 / fanOut));
        Init.constant(cv.bias, 0);
      } else if (m instanceof Linear l) {
        Init.truncNormal(l.weight, 0.02);
        Init.constant(l.bias, 0);
      }
    }
  }

  /** The configuration this network was built from. */
  public Config config() {
    return config;
  }

  @Override
  public Set<String> inputConvKeys() {
    return Set.of("patch_embed.proj.weight");
  }

  @Override
  public List<Tensor> features(Tensor x) {
    ConvNeXt.checkInput("PvtV2", x, config.inChannels());
    List<Tensor> f = new ArrayList<>(4);
    x = patchEmbed.forward(x);
    for (Stage s : stages) {
      x = s.forward(x);
      f.add(x);
    }
    return f;
  }

  @Override
  public Tensor forward(Tensor x) {
    Tensor last = features(x).get(3);
    Tensor pooled = last.mean(new long[] {-1, -2}, false, new ScalarTypeOptional());
    return head == null ? pooled : head.forward(pooled);
  }

  @Override
  public int[] strides() {
    return new int[] {4, 8, 16, 32};
  }

  @Override
  public int[] channels() {
    return config.embedDims();
  }

  @Override
  public int inChannels() {
    return config.inChannels();
  }

  @Override
  public Net net() {
    return this;
  }

  /** Overlapping patch embedding: conv (k, stride, padding k / 2), LayerNorm; NCHW -> NHWC. */
  static final class Embed extends Net {
    private final Conv2d proj;
    private final LayerNorm norm;

    Embed(int in, int out, int k, int stride) {
      proj = add("proj", Conv2d.of(in, out, k, stride, k / 2, 1, true));
      norm = add("norm", new LayerNorm(out, 1e-5));
    }

    @Override
    public Tensor forward(Tensor x) {
      return norm.forward(proj.forward(x).permute(0, 2, 3, 1));
    }
  }

  /**
   * One stage: the optional downsampling embedding (NCHW in), the blocks on NHWC tokens, the stage
   * norm; NCHW out.
   */
  static final class Stage extends Net {
    private final Embed downsample;
    private final Block[] blocks;
    private final LayerNorm norm;

    /** {@code in == 0}: the first stage, fed NHWC tokens by the patch embedding. */
    Stage(int in, int dim, int depth, int heads, int sr, double mlpRatio, double[] drop) {
      downsample = in > 0 ? add("downsample", new Embed(in, dim, 3, 2)) : null;
      Seq list = new Seq();
      blocks = new Block[depth];
      for (int j = 0; j < depth; j++) {
        blocks[j] = new Block(dim, heads, sr, mlpRatio, drop[j]);
        list.add(blocks[j]);
      }
      add("blocks", list);
      norm = add("norm", new LayerNorm(dim, 1e-6));
    }

    @Override
    public Tensor forward(Tensor x) {
      if (downsample != null) x = downsample.forward(x);
      for (Block b : blocks) x = b.forward(x);
      return norm.forward(x).permute(0, 3, 1, 2).contiguous();
    }
  }

  /** Pre-norm spatial-reduction attention and depthwise-conv MLP, each with drop path. */
  static final class Block extends Net {
    private final LayerNorm norm1;
    private final Attention attn;
    private final LayerNorm norm2;
    private final Mlp mlp;
    private final double drop;

    Block(int dim, int heads, int sr, double mlpRatio, double drop) {
      this.drop = drop;
      norm1 = add("norm1", new LayerNorm(dim, 1e-6));
      attn = add("attn", new Attention(dim, heads, sr));
      norm2 = add("norm2", new LayerNorm(dim, 1e-6));
      mlp = add("mlp", new Mlp(dim, (int) (dim * mlpRatio)));
    }

    /** {@code x}: NHWC tokens. */
    @Override
    public Tensor forward(Tensor x) {
      boolean training = is_training();
      x = x.add(DropPath.apply(attn.forward(norm1.forward(x)), drop, training));
      return x.add(DropPath.apply(mlp.forward(norm2.forward(x)), drop, training));
    }
  }

  /**
   * Multi-head attention whose keys and values come from the tokens reduced by a sr x sr stride-sr
   * conv and a LayerNorm (sr 1: the tokens themselves).
   */
  static final class Attention extends Net {
    private final int heads;
    private final double scale;
    private final Linear q;
    private final Linear kv;
    private final Linear proj;
    private final Conv2d sr;
    private final LayerNorm norm;

    Attention(int dim, int heads, int srRatio) {
      this.heads = heads;
      int headDim = dim / heads; // timm: dim // num_heads
      this.scale = Math.pow(headDim, -0.5);
      q = add("q", new Linear(dim, dim));
      kv = add("kv", new Linear(dim, 2L * dim));
      proj = add("proj", new Linear(dim, dim));
      if (srRatio > 1) {
        sr = add("sr", Conv2d.of(dim, dim, srRatio, srRatio, 0, 1, true));
        norm = add("norm", new LayerNorm(dim, 1e-5));
      } else {
        sr = null;
        norm = null;
      }
    }

    /** {@code x}: NHWC tokens; returns the same shape. */
    @Override
    public Tensor forward(Tensor x) {
      long b = x.size(0);
      long h = x.size(1);
      long w = x.size(2);
      long c = x.size(3);
      long n = h * w;
      Tensor t = x.reshape(b, n, c);
      Tensor qh = q.forward(t).reshape(b, n, heads, c / heads).permute(0, 2, 1, 3);
      Tensor src = t;
      if (sr != null) {
        src = sr.forward(t.permute(0, 2, 1).reshape(b, c, h, w));
        src = norm.forward(src.reshape(b, c, -1).permute(0, 2, 1));
      }
      Tensor kvh = kv.forward(src).reshape(b, -1, 2, heads, c / heads).permute(2, 0, 3, 1, 4);
      Tensor k = kvh.select(0, 0);
      Tensor v = kvh.select(0, 1);
      Tensor a = torch.softmax(qh.mul(new Scalar(scale)).matmul(k.transpose(-2, -1)), -1);
      Tensor y = a.matmul(v).transpose(1, 2).reshape(b, n, c);
      return proj.forward(y).reshape(b, h, w, c);
    }
  }

  /** fc1, 3x3 depthwise conv over the token grid, GELU, fc2. */
  static final class Mlp extends Net {
    private final Linear fc1;
    private final Conv2d dwconv;
    private final Linear fc2;

    Mlp(int dim, int hidden) {
      fc1 = add("fc1", new Linear(dim, hidden));
      dwconv = add("dwconv", Conv2d.of(hidden, hidden, 3, 1, 1, hidden, true));
      fc2 = add("fc2", new Linear(hidden, dim));
    }

    /** {@code x}: NHWC tokens; returns the same shape. */
    @Override
    public Tensor forward(Tensor x) {
      long b = x.size(0);
      long h = x.size(1);
      long w = x.size(2);
      long c = x.size(3);
      Tensor y = fc1.forward(x.reshape(b, h * w, c));
      long hid = y.size(2);
      y = dwconv.forward(y.transpose(1, 2).reshape(b, hid, h, w)).flatten(2, -1).transpose(1, 2);
      return fc2.forward(torch.gelu(y)).reshape(b, h, w, c);
    }
  }
}
