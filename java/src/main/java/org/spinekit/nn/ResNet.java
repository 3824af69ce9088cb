package org.spinekit.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * torchvision's ResNet (v1.5: the stride sits on the 3x3 convolution). Keys equal torchvision's
 * {@code resnet18}/{@code resnet50} state dicts; timm's {@code resnet18}/ {@code resnet50} use the
 * same keys. Features at strides 2 (after the stem), 4, 8, 16, 32.
 */
public final class ResNet extends Net implements Encoder {
  /** Depth and width. {@code bottleneck}: ResNet-50 style blocks with expansion 4. */
  public record Config(
      int[] layers, boolean bottleneck, int width, int inChannels, int numClasses) {
    public static Config resnet18(int inChannels, int numClasses) {
      return new Config(new int[] {2, 2, 2, 2}, false, 64, inChannels, numClasses);
    }

    public static Config resnet50(int inChannels, int numClasses) {
      return new Config(new int[] {3, 4, 6, 3}, true, 64, inChannels, numClasses);
    }
  }

  private final Config config;
  private final Conv2d conv1;
  private final BatchNorm bn1;
  private final Seq[] stages = new Seq[4];
  private final Linear fc;
  private final int[] channels;

  public ResNet(Config c) {
    if (c.inChannels() < 1) {
      throw new IllegalArgumentException("ResNet: inChannels must be >= 1, got " + c.inChannels());
    }
    this.config = c;
    int w = c.width();
    conv1 = add("conv1", Conv2d.of(c.inChannels(), w, 7, 2, 3, 1, false));
    bn1 = add("bn1", new BatchNorm(w));
    int expansion = c.bottleneck() ? 4 : 1;
    int inplanes = w;
    channels = new int[5];
    channels[0] = w;
    for (int s = 0; s < 4; s++) {
      int planes = w << s;
      int stride = s == 0 ? 1 : 2;
      Seq stage = new Seq();
      for (int b = 0; b < c.layers()[s]; b++) {
        stage.add(
            c.bottleneck()
                ? new Bottleneck(inplanes, planes, b == 0 ? stride : 1)
                : new Basic(inplanes, planes, b == 0 ? stride : 1));
        inplanes = planes * expansion;
      }
      stages[s] = add("layer" + (s + 1), stage);
      channels[s + 1] = inplanes;
    }
    fc = c.numClasses() > 0 ? add("fc", new Linear(inplanes, c.numClasses())) : null;
    for (Net m : descendants()) {
      if (m instanceof Conv2d cv) Init.kaimingNormalFanOut(cv.weight);
    }
  }

  @Override
  public Set<String> inputConvKeys() {
    return Set.of("conv1.weight");
  }

  @Override
  public List<Tensor> features(Tensor x) {
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

  /** The 1x1 conv + BN shortcut when shape changes ({@code downsample.0/.1}). */
  private static Seq downsample(int in, int out, int stride) {
    return new Seq().add(Conv2d.of(in, out, 1, stride, 0, 1, false)).add(new BatchNorm(out));
  }

  static final class Basic extends Net {
    private final Conv2d conv1;
    private final BatchNorm bn1;
    private final Conv2d conv2;
    private final BatchNorm bn2;
    private final Seq downsample;

    Basic(int in, int planes, int stride) {
      conv1 = add("conv1", Conv2d.of(in, planes, 3, stride, 1, 1, false));
      bn1 = add("bn1", new BatchNorm(planes));
      conv2 = add("conv2", Conv2d.of(planes, planes, 3, 1, 1, 1, false));
      bn2 = add("bn2", new BatchNorm(planes));
      downsample =
          stride != 1 || in != planes ? add("downsample", downsample(in, planes, stride)) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
      Tensor y = torch.relu(bn1.forward(conv1.forward(x)));
      y = bn2.forward(conv2.forward(y));
      Tensor id = downsample == null ? x : downsample.forward(x);
      return torch.relu(y.add(id));
    }
  }

  static final class Bottleneck extends Net {
    private final Conv2d conv1;
    private final BatchNorm bn1;
    private final Conv2d conv2;
    private final BatchNorm bn2;
    private final Conv2d conv3;
    private final BatchNorm bn3;
    private final Seq downsample;

    Bottleneck(int in, int planes, int stride) {
      int out = planes * 4;
      conv1 = add("conv1", Conv2d.of(in, planes, 1, 1, 0, 1, false));
      bn1 = add("bn1", new BatchNorm(planes));
      conv2 = add("conv2", Conv2d.of(planes, planes, 3, stride, 1, 1, false));
      bn2 = add("bn2", new BatchNorm(planes));
      conv3 = add("conv3", Conv2d.of(planes, out, 1, 1, 0, 1, false));
      bn3 = add("bn3", new BatchNorm(out));
      downsample = stride != 1 || in != out ? add("downsample", downsample(in, out, stride)) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
      Tensor y = torch.relu(bn1.forward(conv1.forward(x)));
      y = torch.relu(bn2.forward(conv2.forward(y)));
      y = bn3.forward(conv3.forward(y));
      Tensor id = downsample == null ? x : downsample.forward(x);
      return torch.relu(y.add(id));
    }
  }
}
