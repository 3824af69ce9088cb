package org.spinekit.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * torchvision's EfficientNet (V1: MBConv blocks with squeeze-and-excitation; V2: FusedMBConv then
 * MBConv). Keys equal torchvision's {@code efficientnet_b0}, {@code efficientnet_b4} and {@code
 * efficientnet_v2_s} state dicts: {@code features.0} is the stem (conv, batch norm, SiLU), {@code
 * features.1 .. features.n} are the stages of blocks ({@code
 * features.<stage>.<block>.block.<i>...}), {@code features.n+1} is the 1x1 head convolution and
 * {@code classifier.1} the linear layer (after dropout). timm's names load through the name maps
 * {@code timm-efficientnet} (efficientnet_b0..b7, and tf_efficientnet_b* with {@link Config#tf()})
 * and {@code timm-efficientnetv2} (tf_efficientnetv2_s, with {@link Config#tf()});
 * EfficientNet-PyTorch's (lukemelas) efficientnet-b0 through {@code efficientnet-pytorch-b0}
 * ({@link Config#efficientnetPytorchB0}).
 *
 * <p>Training mode behaves as torchvision's: each residual block drops its branch per sample with
 * probability {@code stochasticDepthProb * blockIndex / blockCount} (scaled by the survival rate,
 * "row" mode), the classifier applies dropout; both draw from libtorch's default generator, so
 * {@code torch.manual_seed} makes a training step repeatable.
 *
 * <p>As an {@link Encoder}, it gives the outputs of the {@code features} children listed in {@link
 * Config#featureStages()}: at strides 2, 4, 8, 16 and 32, each the last stage of its stride. For
 * EfficientNet-B* the stride-2 map is the stem's output (indices 0, 2, 3, 5, 7; channels 32, 24,
 * 40, 112, 320 for B0 and 48, 32, 56, 160, 448 for B4, as segmentation_models_pytorch's
 * timm-efficientnet-b* encoders); for V2-S it is the first stage's output (indices 1, 2, 3, 5, 6;
 * channels 24, 48, 64, 160, 256, as timm's features_only). {@link Config#featureBlocks()} can take
 * a map inside a stage: smp's efficientnet-b0 encoder (EfficientNet-PyTorch's network) takes its
 * stride-16 map after the first 112-channel block. The head convolution is not part of the
 * features.
 */
public final class EfficientNet extends Net implements Encoder {
  /**
   * One row of torchvision's block table after width and depth scaling: {@code layers} blocks, the
   * first with {@code stride} and {@code inChannels}, the rest stride 1 from {@code outChannels}.
   * {@code fused}: FusedMBConv (V2's early stages), else MBConv.
   */
  public record Stage(
      boolean fused,
      double expandRatio,
      int kernel,
      int stride,
      int inChannels,
      int outChannels,
      int layers) {
    public Stage {
      if (kernel < 1
          || kernel % 2 == 0
          || stride < 1
          || stride > 2
          || inChannels < 1
          || outChannels < 1
          || layers < 1
          || !(expandRatio >= 1)) {
        throw new IllegalArgumentException(
            "EfficientNet.Stage: kernel odd >= 1, stride 1 or 2,"
                + " channels and layers >= 1, expandRatio >= 1 expected, got kernel="
                + kernel
                + " stride="
                + stride
                + " in="
                + inChannels
                + " out="
                + outChannels
                + " layers="
                + layers
                + " expandRatio="
                + expandRatio);
      }
    }
  }

  /**
   * The whole architecture. {@code lastChannel}: channels of the head convolution; {@code
   * bnEps}/{@code bnMomentum}: every batch norm's; {@code dropout}: the classifier's; {@code
   * tfSamePadding}: TensorFlow "SAME" padding on every convolution (timm's tf_ variants); {@code
   * featureStages}: the {@code features} children whose outputs are the encoder's feature maps
   * (strides 2, 4, 8, 16, 32); {@code numClasses} 0: an encoder, without the head convolution
   * ({@code features.n+1}) and the classifier ({@link #forward} then returns the pooled stride-32
   * features). Published full-network weights load into an encoder once the head's keys are dropped
   * by a name map, e.g. {@code NameMap.of("features\\.8\\..*|classifier\\..*", "-")} for B0/B4.
   * {@code staticImageSize} above 0: the TF "SAME" padding of every convolution is computed once,
   * for that input size (EfficientNet-PyTorch's), not from each input. {@code featureBlocks}: for
   * each feature stage, the number of its blocks after which its map is taken (0: the whole {@code
   * features} child).
   */
  public record Config(
      String name,
      List<Stage> stages,
      int lastChannel,
      double bnEps,
      double bnMomentum,
      double dropout,
      double stochasticDepthProb,
      boolean tfSamePadding,
      int[] featureStages,
      int inChannels,
      int numClasses,
      int staticImageSize,
      int[] featureBlocks) {
    public Config {
      stages = List.copyOf(stages);
      featureStages = featureStages.clone();
      featureBlocks = featureBlocks == null ? new int[featureStages.length] : featureBlocks.clone();
      if (featureBlocks.length != featureStages.length) {
        throw new IllegalArgumentException(
            "EfficientNet.Config: featureBlocks must have one "
                + "entry per feature stage ("
                + featureStages.length
                + "), got "
                + Arrays.toString(featureBlocks));
      }
      if (staticImageSize < 0 || (staticImageSize > 0 && !tfSamePadding)) {
        throw new IllegalArgumentException(
            "EfficientNet.Config: staticImageSize must be 0, or"
                + " > 0 with tfSamePadding, got "
                + staticImageSize
                + " (tfSamePadding "
                + tfSamePadding
                + ")");
      }
    }

    /**
     * A configuration whose features are the whole {@code features} children ({@code featureBlocks}
     * all 0) and whose TF "SAME" padding, if any, is computed from each input ({@code
     * staticImageSize} 0).
     */
    public Config(
        String name,
        List<Stage> stages,
        int lastChannel,
        double bnEps,
        double bnMomentum,
        double dropout,
        double stochasticDepthProb,
        boolean tfSamePadding,
        int[] featureStages,
        int inChannels,
        int numClasses) {
      this(
          name,
          stages,
          lastChannel,
          bnEps,
          bnMomentum,
          dropout,
          stochasticDepthProb,
          tfSamePadding,
          featureStages,
          inChannels,
          numClasses,
          0,
          null);
    }

    /** The feature stage indices (a copy). */
    @Override
    public int[] featureStages() {
      return featureStages.clone();
    }

    /** The blocks run of each feature stage before its map is taken, 0 for all (a copy). */
    @Override
    public int[] featureBlocks() {
      return featureBlocks.clone();
    }

    private static final double[][] B_TABLE = {
      // expand, kernel, stride, in, out, layers (torchvision's _efficientnet_conf)
      {1, 3, 1, 32, 16, 1},
      {6, 3, 2, 16, 24, 2},
      {6, 5, 2, 24, 40, 2},
      {6, 3, 2, 40, 80, 3},
      {6, 5, 1, 80, 112, 3},
      {6, 5, 2, 112, 192, 4},
      {6, 3, 1, 192, 320, 1},
    };

    private static final double[][] V2S_TABLE = {
      // fused (1/0), expand, kernel, stride, in, out, layers
      {1, 1, 3, 1, 24, 24, 2}, {1, 4, 3, 2, 24, 48, 4}, {1, 4, 3, 2, 48, 64, 4},
      {0, 4, 3, 2, 64, 128, 6}, {0, 6, 3, 1, 128, 160, 9}, {0, 6, 3, 2, 160, 256, 15},
    };

    /** torchvision's efficientnet_b0: width 1.0, depth 1.0, dropout 0.2. */
    public static Config b0(int inChannels, int numClasses) {
      return b("efficientnet_b0", 1.0, 1.0, 0.2, inChannels, numClasses);
    }

    /** torchvision's efficientnet_b4: width 1.4, depth 1.8, dropout 0.4. */
    public static Config b4(int inChannels, int numClasses) {
      return b("efficientnet_b4", 1.4, 1.8, 0.4, inChannels, numClasses);
    }

    /** torchvision's efficientnet_v2_s: batch-norm eps 1e-3, dropout 0.2, head 1280. */
    public static Config v2s(int inChannels, int numClasses) {
      return v2("efficientnet_v2_s", 1.0, 1.0, inChannels, numClasses);
    }

    /** A small EfficientNet-B* (width 0.25, depth 0.5; 10 blocks) for fast tests. */
    public static Config tinyB(int inChannels, int numClasses) {
      return b("efficientnet_tiny", 0.25, 0.5, 0.2, inChannels, numClasses);
    }

    /** A small EfficientNetV2-S (width 0.25, depth 0.25; 12 blocks) for fast tests. */
    public static Config tinyV2(int inChannels, int numClasses) {
      return v2("efficientnet_v2_tiny", 0.25, 0.25, inChannels, numClasses);
    }

    /**
     * EfficientNet-B* with torchvision's scaling: channels {@code makeDivisible(c * width)}, layers
     * {@code ceil(n * depth)}, head 4x the last stage's channels; batch norm eps 1e-5, momentum 0.1
     * (torchvision's B0-B4), stochastic depth 0.2.
     */
    public static Config b(
        String name, double width, double depth, double dropout, int inChannels, int numClasses) {
      checkMultipliers(width, depth);
      List<Stage> s = new ArrayList<>();
      for (double[] r : B_TABLE) {
        s.add(
            new Stage(
                false,
                r[0],
                (int) r[1],
                (int) r[2],
                adjust(r[3], width),
                adjust(r[4], width),
                (int) Math.ceil(r[5] * depth)));
      }
      int last = s.get(s.size() - 1).outChannels() * 4;
      return new Config(
          name,
          s,
          last,
          1e-5,
          0.1,
          dropout,
          0.2,
          false,
          new int[] {0, 2, 3, 5, 7},
          inChannels,
          numClasses);
    }

    /**
     * EfficientNetV2-S's table scaled like the B* family (torchvision has no multipliers for V2; at
     * 1.0 and 1.0 this is its efficientnet_v2_s): head {@code makeDivisible(1280 * width)}, batch
     * norm eps 1e-3, momentum 0.1, dropout 0.2, stochastic depth 0.2.
     */
    public static Config v2(
        String name, double width, double depth, int inChannels, int numClasses) {
      checkMultipliers(width, depth);
      List<Stage> s = new ArrayList<>();
      for (double[] r : V2S_TABLE) {
        s.add(
            new Stage(
                r[0] == 1,
                r[1],
                (int) r[2],
                (int) r[3],
                adjust(r[4], width),
                adjust(r[5], width),
                (int) Math.ceil(r[6] * depth)));
      }
      return new Config(
          name,
          s,
          adjust(1280, width),
          1e-3,
          0.1,
          0.2,
          0.2,
          false,
          new int[] {1, 2, 3, 5, 6},
          inChannels,
          numClasses);
    }

    /**
     * timm's tf_ variant of this network (e.g. tf_efficientnetv2_s): TensorFlow "SAME" padding on
     * every convolution (asymmetric, computed from the input size, where the stride is 2) and
     * batch-norm eps 1e-3. Same keys, same parameter count.
     */
    public Config tf() {
      String n = name.startsWith("tf_") ? name : "tf_" + name;
      return new Config(
          n,
          stages,
          lastChannel,
          1e-3,
          bnMomentum,
          dropout,
          stochasticDepthProb,
          true,
          featureStages,
          inChannels,
          numClasses,
          staticImageSize,
          featureBlocks);
    }

    /**
     * EfficientNet-PyTorch's (lukemelas) {@code efficientnet-b0}, the network of
     * segmentation_models_pytorch's {@code efficientnet-b0} encoder: timm's tf_efficientnet_b0
     * (batch-norm eps 1e-3; momentum 0.01, PyTorch's form of its TF 0.99) with TensorFlow "SAME"
     * padding computed once for 224 x 224 inputs ({@code Conv2dStaticSamePadding}): at input sizes
     * whose maps are even before every stride-2 convolution (multiples of 32) the same as timm's,
     * at others a fixed padding where timm's follows the input. As an encoder its stride-16 map is
     * taken after the first block of the 112-channel stage ({@code features.5.0}), where smp's
     * efficientnet-b0 encoder takes it (its {@code out_indexes} 2, 4, 8, 15), not at the end of
     * that stage.
     */
    public static Config efficientnetPytorchB0(int inChannels, int numClasses) {
      Config c = b0(inChannels, numClasses).tf();
      return new Config(
          "efficientnet-b0",
          c.stages,
          c.lastChannel,
          1e-3,
          0.01,
          c.dropout,
          c.stochasticDepthProb,
          true,
          c.featureStages,
          inChannels,
          numClasses,
          224,
          new int[] {0, 0, 0, 1, 0});
    }

    /** torchvision's {@code _make_divisible(c * width, 8)}. */
    static int adjust(double channels, double width) {
      return makeDivisible(channels * width, 8);
    }

    private static void checkMultipliers(double width, double depth) {
      if (!(width > 0) || !(depth > 0)) {
        throw new IllegalArgumentException(
            "EfficientNet: width and depth multipliers must be "
                + "> 0, got width="
                + width
                + " depth="
                + depth);
      }
    }
  }

  /**
   * torchvision's (and TensorFlow's) {@code _make_divisible}: the nearest multiple of {@code
   * divisor}, at least {@code divisor}, and not more than 10% below {@code v}.
   */
  static int makeDivisible(double v, int divisor) {
    int r = Math.max(divisor, ((int) (v + divisor / 2.0)) / divisor * divisor);
    if (r < 0.9 * v) r += divisor;
    return r;
  }

  private final Config config;
  private final Seq features;
  private final Seq classifier;
  private final int[] channels;
  private final int[] strides = {2, 4, 8, 16, 32};
  private final List<Block> blocks = new ArrayList<>();
  private final List<Seq> stageNets = new ArrayList<>();

  /** Builds the network; draw order and initialisation follow torchvision's. */
  public EfficientNet(Config c) {
    if (c.inChannels() < 1) {
      throw new IllegalArgumentException(
          "EfficientNet: inChannels must be >= 1, got " + c.inChannels());
    }
    if (c.numClasses() < 0) {
      throw new IllegalArgumentException(
          "EfficientNet: numClasses must be >= 0, got " + c.numClasses());
    }
    if (c.stages().isEmpty()) {
      throw new IllegalArgumentException("EfficientNet: at least one stage expected");
    }
    if (c.lastChannel() < 1
        || !(c.dropout() >= 0 && c.dropout() <= 1)
        || !(c.stochasticDepthProb() >= 0 && c.stochasticDepthProb() <= 1)) {
      throw new IllegalArgumentException(
          "EfficientNet: lastChannel >= 1, dropout and "
              + "stochasticDepthProb in [0, 1] expected, got lastChannel="
              + c.lastChannel()
              + " dropout="
              + c.dropout()
              + " stochasticDepthProb="
              + c.stochasticDepthProb());
    }
    this.config = c;
    this.channels = featureChannels(c);
    Norm norm = new Norm(c.bnEps(), c.bnMomentum(), c.tfSamePadding(), c.staticImageSize() > 0);
    features = new Seq();
    int stem = c.stages().get(0).inChannels();
    // The nominal input size of each convolution, for padding computed once (static).
    int size = c.staticImageSize();
    features.add(norm.convNormAct(c.inChannels(), stem, 3, 2, 1, true, size));
    size = (size + 1) / 2;
    int total = 0;
    for (Stage s : c.stages()) total += s.layers();
    int id = 0;
    for (Stage s : c.stages()) {
      Seq stage = new Seq();
      for (int b = 0; b < s.layers(); b++) {
        int in = b == 0 ? s.inChannels() : s.outChannels();
        int stride = b == 0 ? s.stride() : 1;
        double p = c.stochasticDepthProb() * id / total;
        Block blk =
            s.fused()
                ? new FusedMBConv(
                    in, s.outChannels(), s.expandRatio(), s.kernel(), stride, p, norm, size)
                : new MBConv(
                    in, s.outChannels(), s.expandRatio(), s.kernel(), stride, p, norm, size);
        size = (size + stride - 1) / stride;
        stage.add(blk);
        blocks.add(blk);
        id++;
      }
      stageNets.add(stage);
      features.add(stage);
    }
    int lastIn = c.stages().get(c.stages().size() - 1).outChannels();
    if (c.numClasses() > 0) {
      // An encoder (numClasses 0) leaves out the head convolution, as segmentation_models_
      // pytorch's encoders do: nothing downstream uses it, and parameters without gradients
      // would still be decayed by AdamW.
      features.add(norm.convNormAct(lastIn, c.lastChannel(), 1, 1, 1, true, size));
    }
    add("features", features);
    if (c.numClasses() > 0) {
      double p = c.dropout();
      classifier = new Seq();
      classifier.fn(x -> torch.dropout(x, p, is_training()));
      classifier.add(new Linear(c.lastChannel(), c.numClasses()));
      add("classifier", classifier);
    } else {
      classifier = null;
    }
    for (Net m : descendants()) {
      if (m instanceof Conv2d cv) {
        Init.kaimingNormalFanOut(cv.weight);
        if (cv.bias != null) Init.constant(cv.bias, 0);
      } else if (m instanceof Linear l) {
        double r = 1.0 / Math.sqrt(l.out);
        Init.uniform(l.weight, -r, r);
        Init.constant(l.bias, 0);
      }
    }
  }

  /** Checks the feature stage indices and returns their channels. */
  private static int[] featureChannels(Config c) {
    int n = c.stages().size();
    int[] stride = new int[n + 1];
    int[] ch = new int[n + 1];
    stride[0] = 2;
    ch[0] = c.stages().get(0).inChannels();
    for (int i = 0; i < n; i++) {
      stride[i + 1] = stride[i] * c.stages().get(i).stride();
      ch[i + 1] = c.stages().get(i).outChannels();
    }
    int[] fs = c.featureStages();
    int[] want = {2, 4, 8, 16, 32};
    int[] got = new int[fs.length];
    boolean ok = fs.length == 5;
    for (int i = 0; i < fs.length; i++) {
      boolean inRange = fs[i] >= 0 && fs[i] <= n;
      got[i] = inRange ? stride[fs[i]] : -1;
      ok &= inRange && i < 5 && got[i] == want[i];
    }
    if (!ok) {
      throw new IllegalArgumentException(
          "EfficientNet: featureStages must name 5 of features.0"
              + ".."
              + n
              + " at strides "
              + Arrays.toString(want)
              + ", got "
              + Arrays.toString(fs)
              + " at strides "
              + Arrays.toString(got));
    }
    int[] fb = c.featureBlocks();
    for (int i = 0; i < 5; i++) {
      int layers = fs[i] == 0 ? 0 : c.stages().get(fs[i] - 1).layers();
      if (fb[i] < 0 || fb[i] > layers) {
        throw new IllegalArgumentException(
            "EfficientNet: featureBlocks must be 0 (a whole "
                + "child) or 1.."
                + "the blocks of that stage, got "
                + fb[i]
                + " for features."
                + fs[i]
                + " ("
                + layers
                + " blocks): "
                + Arrays.toString(fb));
      }
    }
    int[] out = new int[5];
    for (int i = 0; i < 5; i++) out[i] = ch[fs[i]];
    return out;
  }

  /** The configuration this network was built from. */
  public Config config() {
    return config;
  }

  /** Each block's stochastic-depth probability, in order (torchvision's linear rule). */
  public double[] dropProbabilities() {
    return blocks.stream().mapToDouble(b -> b.dropProb).toArray();
  }

  @Override
  public Set<String> inputConvKeys() {
    return Set.of("features.0.0.weight");
  }

  private void checkInput(Tensor x) {
    long[] s = x.sizes().vec().get();
    if (s.length != 4 || s[1] != config.inChannels() || s[0] < 1 || s[2] < 1 || s[3] < 1) {
      throw new IllegalArgumentException(
          "EfficientNet: input must be [N, "
              + config.inChannels()
              + ", H, W] with N, H, W >= 1, got "
              + Arrays.toString(s));
    }
    if (is_training() && s[0] == 1 && (s[2] + 31) / 32 * ((s[3] + 31) / 32) == 1) {
      throw new IllegalArgumentException(
          "EfficientNet: training-mode batch norm needs more "
              + "than one value per channel at stride 32: batch 1 needs H or W > 32, got "
              + Arrays.toString(s));
    }
  }

  @Override
  public List<Tensor> features(Tensor x) {
    checkInput(x);
    int[] fs = config.featureStages();
    int[] fb = config.featureBlocks();
    List<Tensor> out = new ArrayList<>(fs.length);
    int next = 0;
    for (int i = 0; next < fs.length; i++) {
      if (i == fs[next] && fb[next] > 0) {
        // The map is taken inside this stage: run it block by block.
        Seq stage = stageNets.get(i - 1);
        for (int b = 0; b < stage.size(); b++) {
          x = stage.step(b).forward(x);
          if (b + 1 == fb[next]) out.add(x);
        }
        next++;
        continue;
      }
      x = features.step(i).forward(x);
      if (i == fs[next]) {
        out.add(x);
        next++;
      }
    }
    return out;
  }

  @Override
  public Tensor forward(Tensor x) {
    checkInput(x);
    x = features.forward(x);
    x = torch.flatten(torch.adaptive_avg_pool2d(x, 1, 1), 1, -1);
    return classifier == null ? x : classifier.forward(x);
  }

  @Override
  public int[] strides() {
    return strides.clone();
  }

  @Override
  public int[] channels() {
    return channels.clone();
  }

  @Override
  public int inChannels() {
    return config.inChannels();
  }

  @Override
  public Net net() {
    return this;
  }

  /**
   * torchvision's {@code stochastic_depth(x, p, "row", training)}: in training each sample (row of
   * dim 0) is zeroed with probability {@code p} and the survivors scaled by {@code 1 / (1 - p)};
   * the mask is drawn from libtorch's default generator in the input's dtype. The identity in eval
   * mode or for {@code p == 0}.
   */
  static Tensor stochasticDepth(Tensor x, double p, boolean training) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("stochasticDepth: p must be in [0, 1], got " + p);
    }
    if (!training || p == 0) return x;
    double survival = 1 - p;
    long[] size = new long[(int) x.dim()];
    Arrays.fill(size, 1);
    size[0] = x.size(0);
    Tensor noise = x.new_empty(size);
    try (PointerScope s = new PointerScope()) {
      noise.bernoulli_(survival, new GeneratorOptional());
      if (survival > 0) noise.div_(new Scalar(survival));
    }
    return x.mul(noise);
  }

  /**
   * Batch-norm and padding settings shared by every convolution of one network. {@code size}
   * arguments: the nominal input size of the convolution, used when the TF "SAME" padding is {@code
   * fixed} (computed once for the configuration's static image size).
   */
  private record Norm(double eps, double momentum, boolean tfSame, boolean fixed) {
    Conv2d conv(long in, long out, int k, int stride, long groups, boolean bias, int size) {
      if (fixed) return Conv2d.staticSamePadding(in, out, k, stride, groups, bias, size);
      return tfSame
          ? Conv2d.samePadding(in, out, k, stride, groups, bias)
          : Conv2d.of(in, out, k, stride, (k - 1) / 2, groups, bias);
    }

    /** torchvision's Conv2dNormActivation: conv (no bias), batch norm, SiLU if {@code act}. */
    Seq convNormAct(long in, long out, int k, int stride, long groups, boolean act, int size) {
      Seq s =
          new Seq()
              .add(conv(in, out, k, stride, groups, false, size))
              .add(new BatchNorm(out, eps, momentum));
      if (act) s.fn(torch::silu);
      return s;
    }
  }

  /** A residual block: {@code block} (a Seq) plus stochastic depth on the residual branch. */
  private abstract static class Block extends Net {
    final boolean residual;
    final double dropProb;
    Seq block;

    Block(int in, int out, int stride, double dropProb) {
      this.residual = stride == 1 && in == out;
      this.dropProb = dropProb;
    }

    @Override
    public Tensor forward(Tensor x) {
      Tensor y = block.forward(x);
      if (!residual) return y;
      return stochasticDepth(y, dropProb, is_training()).add(x);
    }
  }

  /**
   * torchvision's MBConv: [1x1 expand], depthwise kxk, squeeze-excitation, 1x1 project. {@code
   * size}: the nominal input size (see {@link Norm}).
   */
  private static final class MBConv extends Block {
    MBConv(int in, int out, double expand, int k, int stride, double p, Norm n, int size) {
      super(in, out, stride, p);
      int mid = Config.adjust(in, expand);
      int after = (size + stride - 1) / stride;
      block = new Seq();
      if (mid != in) block.add(n.convNormAct(in, mid, 1, 1, 1, true, size));
      block.add(n.convNormAct(mid, mid, k, stride, mid, true, size));
      block.add(new SqueezeExcitation(mid, Math.max(1, in / 4), n));
      block.add(n.convNormAct(mid, out, 1, 1, 1, false, after));
      add("block", block);
    }
  }

  /** torchvision's FusedMBConv: kxk expand (or kxk alone at ratio 1), 1x1 project. */
  private static final class FusedMBConv extends Block {
    FusedMBConv(int in, int out, double expand, int k, int stride, double p, Norm n, int size) {
      super(in, out, stride, p);
      int mid = Config.adjust(in, expand);
      block = new Seq();
      if (mid != in) {
        block.add(n.convNormAct(in, mid, k, stride, 1, true, size));
        block.add(n.convNormAct(mid, out, 1, 1, 1, false, (size + stride - 1) / stride));
      } else {
        block.add(n.convNormAct(in, out, k, stride, 1, true, size));
      }
      add("block", block);
    }
  }

  /** torchvision's SqueezeExcitation with SiLU and sigmoid: keys fc1, fc2 (1x1, bias). */
  private static final class SqueezeExcitation extends Net {
    private final Conv2d fc1;
    private final Conv2d fc2;

    SqueezeExcitation(int channels, int squeeze, Norm n) {
      fc1 = add("fc1", n.conv(channels, squeeze, 1, 1, 1, true, 1));
      fc2 = add("fc2", n.conv(squeeze, channels, 1, 1, 1, true, 1));
    }

    @Override
    public Tensor forward(Tensor x) {
      Tensor s = torch.adaptive_avg_pool2d(x, 1, 1);
      s = torch.sigmoid(fc2.forward(torch.silu(fc1.forward(s))));
      return s.mul(x);
    }
  }
}
