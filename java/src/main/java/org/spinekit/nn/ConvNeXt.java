package org.spinekit.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * torchvision's ConvNeXt ({@code convnext_tiny}, {@code convnext_base}). Keys equal torchvision's
 * state dicts: the stem {@code features.0.0} (4x4 stride-4 conv) and {@code features.0.1}
 * (LayerNorm2d); stage {@code s} is {@code features.(2s+1)}, a sequence of blocks ({@code block.0}
 * 7x7 depthwise conv, {@code block.2} LayerNorm, {@code block.3} and {@code block.5} the MLP
 * linears, {@code layer_scale} shaped [C, 1, 1]); between stages {@code features.(2s+2).0/1}
 * (LayerNorm2d, 2x2 stride-2 conv); the head {@code classifier.0} (LayerNorm2d) and {@code
 * classifier.2} (linear). Weights published with timm's keys load through {@code
 * NameMap.resource("timm-convnext")}.
 *
 * <p>Features ({@link Encoder}): the output of each stage, at strides 4, 8, 16 and 32 with the
 * stage widths as channels (before the next downsampling's norm; the last one before the head's
 * norm). With {@code numClasses == 0} there is no classifier at all and {@link #forward} returns
 * the global average pool of the last feature map.
 *
 * <p>In training, each block's residual branch is dropped per sample (stochastic depth) at a rate
 * rising linearly from 0 at the first block to {@link Config#stochasticDepthProb()} at the last,
 * from libtorch's default generator.
 */
public final class ConvNeXt extends Net implements Encoder {
  /**
   * Depths and widths of the four stages, stochastic depth at the last block, the initial
   * layer-scale value, input channels and classifier classes (0: no head).
   */
  public record Config(
      int[] depths,
      int[] dims,
      double stochasticDepthProb,
      double layerScale,
      int inChannels,
      int numClasses) {
    public Config {
      if (depths == null || dims == null || depths.length != 4 || dims.length != 4) {
        throw new IllegalArgumentException(
            "ConvNeXt: depths and dims must have 4 entries, got "
                + Arrays.toString(depths)
                + " and "
                + Arrays.toString(dims));
      }
      for (int i = 0; i < 4; i++) {
        if (depths[i] < 1 || dims[i] < 1) {
          throw new IllegalArgumentException(
              "ConvNeXt: depths and dims must be >= 1, got "
                  + Arrays.toString(depths)
                  + " and "
                  + Arrays.toString(dims));
        }
      }
      if (!(stochasticDepthProb >= 0 && stochasticDepthProb <= 1)) {
        throw new IllegalArgumentException(
            "ConvNeXt: stochasticDepthProb must be in [0, 1], " + "got " + stochasticDepthProb);
      }
      if (inChannels < 1) {
        throw new IllegalArgumentException("ConvNeXt: inChannels must be >= 1, got " + inChannels);
      }
      if (numClasses < 0) {
        throw new IllegalArgumentException("ConvNeXt: numClasses must be >= 0, got " + numClasses);
      }
      depths = depths.clone();
      dims = dims.clone();
    }

    @Override
    public int[] depths() {
      return depths.clone();
    }

    @Override
    public int[] dims() {
      return dims.clone();
    }

    /** torchvision's {@code convnext_tiny}: depths 3, 3, 9, 3, widths 96..768, sd 0.1. */
    public static Config tiny(int inChannels, int numClasses) {
      return new Config(
          new int[] {3, 3, 9, 3}, new int[] {96, 192, 384, 768}, 0.1, 1e-6, inChannels, numClasses);
    }

    /** torchvision's {@code convnext_base}: depths 3, 3, 27, 3, widths 128..1024, sd 0.5. */
    public static Config base(int inChannels, int numClasses) {
      return new Config(
          new int[] {3, 3, 27, 3},
          new int[] {128, 256, 512, 1024},
          0.5,
          1e-6,
          inChannels,
          numClasses);
    }

    /** This configuration with another stochastic depth rate (0 turns it off). */
    public Config withStochasticDepth(double prob) {
      return new Config(depths, dims, prob, layerScale, inChannels, numClasses);
    }
  }

  /** The smallest input height and width: every stage keeps at least one pixel. */
  public static final int MIN_SIZE = 32;

  private final Config config;
  private final Seq stem;
  private final Seq[] stages = new Seq[4];
  private final Seq[] downsamples = new Seq[3];
  private final LayerNorm2d headNorm;
  private final Linear head;

  /** Builds the network with torchvision's initialisation, from libtorch's generator. */
  public ConvNeXt(Config c) {
    this.config = c;
    int[] dims = c.dims();
    int[] depths = c.depths();
    Seq features = new Seq();
    stem =
        new Seq()
            .add(Conv2d.of(c.inChannels(), dims[0], 4, 4, 0, 1, true))
            .add(new LayerNorm2d(dims[0], 1e-6));
    features.add(stem);
    int total = Arrays.stream(depths).sum();
    double[] rates = DropPath.rates(c.stochasticDepthProb(), total);
    int id = 0;
    for (int s = 0; s < 4; s++) {
      Seq stage = new Seq();
      for (int b = 0; b < depths[s]; b++) {
        stage.add(new Block(dims[s], c.layerScale(), rates[id++]));
      }
      stages[s] = stage;
      features.add(stage);
      if (s < 3) {
        downsamples[s] =
            new Seq()
                .add(new LayerNorm2d(dims[s], 1e-6))
                .add(Conv2d.of(dims[s], dims[s + 1], 2, 2, 0, 1, true));
        features.add(downsamples[s]);
      }
    }
    add("features", features);
    if (c.numClasses() > 0) {
      headNorm = new LayerNorm2d(dims[3], 1e-6);
      head = new Linear(dims[3], c.numClasses());
      add("classifier", new Seq().add(headNorm).fn(x -> torch.flatten(x, 1, -1)).add(head));
    } else {
      headNorm = null;
      head = null;
    }
    // torchvision: trunc_normal_(std 0.02) for every conv and linear weight, zero biases.
    for (Net m : descendants()) {
      if (m instanceof Conv2d cv) {
        Init.truncNormal(cv.weight, 0.02);
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
    return Set.of("features.0.0.weight");
  }

  @Override
  public List<Tensor> features(Tensor x) {
    checkInput("ConvNeXt", x, config.inChannels());
    List<Tensor> f = new ArrayList<>(4);
    x = stem.forward(x);
    for (int s = 0; s < 4; s++) {
      x = stages[s].forward(x);
      f.add(x);
      if (s < 3) x = downsamples[s].forward(x);
    }
    return f;
  }

  /** Refuses anything but [N, channels, H, W] with H, W >= {@link #MIN_SIZE}. */
  static void checkInput(String net, Tensor x, int channels) {
    if (x.dim() != 4
        || x.size(1) != channels
        || x.size(0) < 1
        || x.size(2) < MIN_SIZE
        || x.size(3) < MIN_SIZE) {
      throw new IllegalArgumentException(
          net
              + ": input x must be [N, "
              + channels
              + ", H, W] with N >= 1 and H, W >= "
              + MIN_SIZE
              + ", got "
              + Arrays.toString(x.sizes().vec().get()));
    }
  }

  @Override
  public Tensor forward(Tensor x) {
    Tensor last = features(x).get(3);
    Tensor pooled = torch.adaptive_avg_pool2d(last, 1, 1);
    if (head == null) return torch.flatten(pooled, 1, -1);
    return head.forward(torch.flatten(headNorm.forward(pooled), 1, -1));
  }

  @Override
  public int[] strides() {
    return new int[] {4, 8, 16, 32};
  }

  @Override
  public int[] channels() {
    return config.dims();
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
   * torchvision's {@code CNBlock}: depthwise 7x7 conv, then channels-last LayerNorm, linear to 4C,
   * GELU, linear to C, scaled by {@code layer_scale}, stochastic depth, residual.
   */
  static final class Block extends Net {
    private final Seq block;
    private final Tensor layerScale;
    private final double dropProb;

    Block(int dim, double layerScaleInit, double dropProb) {
      this.dropProb = dropProb;
      block =
          add(
              "block",
              new Seq()
                  .add(Conv2d.of(dim, dim, 7, 1, 3, dim, true))
                  .fn(x -> x.permute(0, 2, 3, 1))
                  .add(new LayerNorm(dim, 1e-6))
                  .add(new Linear(dim, 4L * dim))
                  .fn(torch::gelu)
                  .add(new Linear(4L * dim, dim))
                  .fn(x -> x.permute(0, 3, 1, 2)));
      layerScale = param("layer_scale", dim, 1, 1);
      Init.constant(layerScale, layerScaleInit);
    }

    @Override
    public Tensor forward(Tensor x) {
      Tensor r = layerScale.mul(block.forward(x));
      return DropPath.apply(r, dropProb, is_training()).add(x);
    }
  }
}
