package org.spinekit.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A split-attention ResNet as timm's {@code resnest14d/26d/50d}: a deep stem (three 3x3
 * convolutions of widths {@code stemWidth, stemWidth, 2 stemWidth}), bottlenecks whose 3x3
 * convolution is a split-attention convolution of {@code radix} splits, whose stride is moved to a
 * 3x3 average pool after it ("avd"), and shortcuts that average-pool before their 1x1 convolution
 * ("avg-down"). Keys equal timm's: {@code conv1.0/.1/.3/.4/.6}, {@code bn1}, {@code
 * layerN.i.conv1/bn1}, {@code conv2.conv/bn0/fc1/bn1/fc2}, {@code conv3/bn3}, {@code
 * downsample.1/.2} ({@code .0} is the parameter-free pool), {@code fc}. Features at strides 2
 * (stem, before the max pool), 4, 8, 16, 32.
 */
public final class ResNeSt extends Net implements Encoder {
  /**
   * Depth and width. {@code width}: planes of the first stage (64 in timm, doubled per stage);
   * {@code radix}: splits of the attention convolution (>= 1); {@code avdFirst}: pool before (true)
   * or after (false) the split-attention convolution.
   */
  public record Config(
      int[] layers,
      int stemWidth,
      int width,
      int radix,
      int cardinality,
      int baseWidth,
      boolean avd,
      boolean avdFirst,
      int inChannels,
      int numClasses) {
    public Config {
      if (layers == null || layers.length != 4) {
        throw new IllegalArgumentException(
            "ResNeSt: layers must have 4 stages, got "
                + (layers == null ? "null" : java.util.Arrays.toString(layers)));
      }
      for (int n : layers) {
        if (n < 1) {
          throw new IllegalArgumentException(
              "ResNeSt: every stage needs >= 1 block, got " + java.util.Arrays.toString(layers));
        }
      }
      positive("stemWidth", stemWidth);
      positive("width", width);
      positive("radix", radix);
      positive("cardinality", cardinality);
      positive("baseWidth", baseWidth);
      positive("inChannels", inChannels);
      if (numClasses < 0) {
        throw new IllegalArgumentException("ResNeSt: numClasses must be >= 0, got " + numClasses);
      }
      layers = layers.clone();
    }

    private static void positive(String name, int v) {
      if (v < 1) throw new IllegalArgumentException("ResNeSt: " + name + " must be >= 1, got " + v);
    }

    /** Blocks per stage (a copy). */
    @Override
    public int[] layers() {
      return layers.clone();
    }

    private static Config d(int[] layers, int inChannels, int numClasses) {
      return new Config(layers, 32, 64, 2, 1, 64, true, false, inChannels, numClasses);
    }

    /** timm's {@code resnest14d} (one block per stage). */
    public static Config resnest14d(int inChannels, int numClasses) {
      return d(new int[] {1, 1, 1, 1}, inChannels, numClasses);
    }

    /** timm's {@code resnest26d}. */
    public static Config resnest26d(int inChannels, int numClasses) {
      return d(new int[] {2, 2, 2, 2}, inChannels, numClasses);
    }

    /** timm's {@code resnest50d} (27,483,240 parameters with 1000 classes). */
    public static Config resnest50d(int inChannels, int numClasses) {
      return d(new int[] {3, 4, 6, 3}, inChannels, numClasses);
    }

    /** A narrow one-block-per-stage network for fast tests (not a published architecture). */
    public static Config tiny(int inChannels, int numClasses) {
      return new Config(
          new int[] {1, 1, 1, 1}, 8, 8, 2, 1, 64, true, false, inChannels, numClasses);
    }
  }

  private final Config config;
  private final Seq conv1;
  private final BatchNorm bn1;
  private final Seq[] stages = new Seq[4];
  private final Linear fc;
  private final int[] channels = new int[5];

  /** Builds the network with timm's initialisation, drawn from libtorch's seeded generator. */
  public ResNeSt(Config c) {
    this.config = c;
    int sw = c.stemWidth();
    int inplanes = 2 * sw;
    conv1 =
        add(
            "conv1",
            new Seq()
                .add(Conv2d.of(c.inChannels(), sw, 3, 2, 1, 1, false))
                .add(new BatchNorm(sw))
                .fn(torch::relu)
                .add(Conv2d.of(sw, sw, 3, 1, 1, 1, false))
                .add(new BatchNorm(sw))
                .fn(torch::relu)
                .add(Conv2d.of(sw, inplanes, 3, 1, 1, 1, false)));
    bn1 = add("bn1", new BatchNorm(inplanes));
    channels[0] = inplanes;
    for (int s = 0; s < 4; s++) {
      int planes = c.width() << s;
      int stride = s == 0 ? 1 : 2;
      Seq stage = new Seq();
      for (int b = 0; b < c.layers()[s]; b++) {
        stage.add(new Block(inplanes, planes, b == 0 ? stride : 1, c));
        inplanes = planes * 4;
      }
      stages[s] = add("layer" + (s + 1), stage);
      channels[s + 1] = inplanes;
    }
    fc = c.numClasses() > 0 ? add("fc", new Linear(inplanes, c.numClasses())) : null;
    // timm's init: kaiming normal (fan out) on every convolution, last BN of a block zeroed.
    for (Net m : descendants()) {
      if (m instanceof Conv2d cv) Init.kaimingNormalFanOut(cv.weight);
      if (m instanceof Block blk) Init.constant(blk.bn3.weight, 0);
    }
  }

  /** The configuration this network was built from. */
  public Config config() {
    return config;
  }

  @Override
  public Set<String> inputConvKeys() {
    return Set.of("conv1.0.weight");
  }

  @Override
  public List<Tensor> features(Tensor x) {
    checkInput(x);
    List<Tensor> f = new ArrayList<>(5);
    x = torch.relu(bn1.forward(conv1.forward(x)));
    f.add(x);
    x =
        torch.max_pool2d(
            x, new long[] {3, 3}, new long[] {2, 2}, new long[] {1, 1}, new long[] {1, 1}, false);
    for (Seq s : stages) {
      x = s.forward(x);
      f.add(x);
    }
    return f;
  }

  private void checkInput(Tensor x) {
    if (x.dim() != 4 || x.size(1) != config.inChannels()) {
      throw new IllegalArgumentException(
          "ResNeSt: input must be [N, "
              + config.inChannels()
              + ", H, W], got "
              + java.util.Arrays.toString(x.sizes().vec().get()));
    }
  }

  @Override
  public Tensor forward(Tensor x) {
    List<Tensor> f = features(x);
    Tensor pooled = torch.flatten(torch.adaptive_avg_pool2d(f.get(4), 1, 1), 1, -1);
    return fc == null ? pooled : fc.forward(pooled);
  }

  @Override
  public int[] strides() {
    return new int[] {2, 4, 8, 16, 32};
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

  /** timm's {@code make_divisible}: nearest multiple of 8, at least {@code min}. */
  static int roundChannels(double v, int min) {
    int r = Math.max(min, (int) (v + 4) / 8 * 8);
    if (r < 0.9 * v) r += 8;
    return r;
  }

  /**
   * The split-attention convolution ({@code SplitAttn}): a grouped 3x3 convolution giving {@code
   * radix} splits, whose sum is pooled and mapped by two 1x1 convolutions to a softmax over the
   * splits (a sigmoid for radix 1) that weighs them.
   */
  static final class SplitAttn extends Net {
    private final int radix;
    private final int cardinality;
    private final Conv2d conv;
    private final BatchNorm bn0;
    private final Conv2d fc1;
    private final BatchNorm bn1;
    private final Conv2d fc2;

    SplitAttn(int chs, int stride, int cardinality, int radix) {
      this.radix = radix;
      this.cardinality = cardinality;
      int mid = chs * radix;
      int attn = roundChannels(chs * radix * 0.25, 32);
      conv = add("conv", Conv2d.of(chs, mid, 3, stride, 1, (long) cardinality * radix, false));
      bn0 = add("bn0", new BatchNorm(mid));
      fc1 = add("fc1", Conv2d.of(chs, attn, 1, 1, 0, cardinality, true));
      bn1 = add("bn1", new BatchNorm(attn));
      fc2 = add("fc2", Conv2d.of(attn, mid, 1, 1, 0, cardinality, true));
    }

    @Override
    public Tensor forward(Tensor x) {
      x = torch.relu(bn0.forward(conv.forward(x)));
      long b = x.size(0);
      long rc = x.size(1);
      long h = x.size(2);
      long w = x.size(3);
      Tensor gap;
      if (radix > 1) {
        x = x.reshape(b, radix, rc / radix, h, w);
        gap = x.sum(new long[] {1}, false, new ScalarTypeOptional());
      } else {
        gap = x;
      }
      gap = gap.mean(new long[] {2, 3}, true, new ScalarTypeOptional());
      gap = torch.relu(bn1.forward(fc1.forward(gap)));
      Tensor a = fc2.forward(gap);
      if (radix > 1) {
        a = a.view(b, cardinality, radix, -1).transpose(1, 2).softmax(1).reshape(b, -1);
        return x.mul(a.reshape(b, radix, rc / radix, 1, 1))
            .sum(new long[] {1}, false, new ScalarTypeOptional())
            .contiguous();
      }
      return x.mul(a.sigmoid().view(b, -1, 1, 1)).contiguous();
    }
  }

  /** timm's {@code ResNestBottleneck}. */
  static final class Block extends Net {
    private final Conv2d conv1;
    private final BatchNorm bn1;
    private final SplitAttn conv2;
    private final Conv2d conv3;
    final BatchNorm bn3;
    private final Seq downsample;
    private final int avdStride;
    private final boolean avdFirst;

    Block(int in, int planes, int stride, Config c) {
      int gw = ((int) (planes * (c.baseWidth() / 64.0))) * c.cardinality();
      int out = planes * 4;
      // timm never marks a stage's first block, so the pool only takes over a stride > 1.
      avdStride = c.avd() && stride > 1 ? stride : 0;
      avdFirst = c.avdFirst();
      int convStride = avdStride > 0 ? 1 : stride;
      conv1 = add("conv1", Conv2d.of(in, gw, 1, 1, 0, 1, false));
      bn1 = add("bn1", new BatchNorm(gw));
      conv2 = add("conv2", new SplitAttn(gw, convStride, c.cardinality(), c.radix()));
      conv3 = add("conv3", Conv2d.of(gw, out, 1, 1, 0, 1, false));
      bn3 = add("bn3", new BatchNorm(out));
      if (stride != 1 || in != out) {
        Seq d = new Seq();
        if (stride > 1) {
          long s = stride;
          d.fn(
              t ->
                  torch.avg_pool2d(
                      t,
                      new long[] {2, 2},
                      new long[] {s, s},
                      new long[] {0, 0},
                      true,
                      false,
                      new org.bytedeco.pytorch.LongOptional()));
        } else {
          d.fn(t -> t);
        }
        downsample =
            add("downsample", d.add(Conv2d.of(in, out, 1, 1, 0, 1, false)).add(new BatchNorm(out)));
      } else {
        downsample = null;
      }
    }

    private Tensor avd(Tensor y) {
      return torch.avg_pool2d(
          y,
          new long[] {3, 3},
          new long[] {avdStride, avdStride},
          new long[] {1, 1},
          false,
          true,
          new org.bytedeco.pytorch.LongOptional());
    }

    @Override
    public Tensor forward(Tensor x) {
      Tensor y = torch.relu(bn1.forward(conv1.forward(x)));
      if (avdStride > 0 && avdFirst) y = avd(y);
      y = conv2.forward(y);
      if (avdStride > 0 && !avdFirst) y = avd(y);
      y = bn3.forward(conv3.forward(y));
      Tensor id = downsample == null ? x : downsample.forward(x);
      return torch.relu(y.add(id));
    }
  }
}
