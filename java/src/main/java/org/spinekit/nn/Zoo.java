package org.spinekit.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The architectures by name, as {@code spinekit model} and the training code look them up. Names
 * follow torchvision (or timm where torchvision lacks the network; EfficientNet-PyTorch's {@code
 * efficientnet-b0}, the network of smp's encoder of that name). {@code unet:<arch>} is
 * segmentation_models_pytorch's Unet on the encoder {@code <arch>}, with {@code numClasses}
 * segmentation classes (at least 1).
 */
public final class Zoo {
  private Zoo() {}

  /** Builds a network with the given input channels and classifier classes (0: no head). */
  @FunctionalInterface
  public interface Factory {
    Net create(int inChannels, int numClasses);
  }

  /** The prefix of the segmentation networks: {@code unet:<encoder arch>}. */
  public static final String UNET = "unet:";

  private static final Map<String, Factory> ARCHS = new LinkedHashMap<>();

  static {
    // ResNet family
    ARCHS.put("resnet18", (c, k) -> new ResNet(ResNet.Config.resnet18(c, k)));
    ARCHS.put("resnet50", (c, k) -> new ResNet(ResNet.Config.resnet50(c, k)));
    // One basic block per stage at half width: a small encoder for CPU presets (no published
    // weights).
    ARCHS.put(
        "resnet10_w32",
        (c, k) -> new ResNet(new ResNet.Config(new int[] {1, 1, 1, 1}, false, 32, c, k)));
    // ResNeSt family (timm's split-attention ResNets)
    ARCHS.put("resnest14d", (c, k) -> new ResNeSt(ResNeSt.Config.resnest14d(c, k)));
    ARCHS.put("resnest26d", (c, k) -> new ResNeSt(ResNeSt.Config.resnest26d(c, k)));
    ARCHS.put("resnest50d", (c, k) -> new ResNeSt(ResNeSt.Config.resnest50d(c, k)));
    // EfficientNet family
    ARCHS.put("efficientnet_b0", (c, k) -> new EfficientNet(EfficientNet.Config.b0(c, k)));
    ARCHS.put("efficientnet_b4", (c, k) -> new EfficientNet(EfficientNet.Config.b4(c, k)));
    ARCHS.put("tf_efficientnet_b0", (c, k) -> new EfficientNet(EfficientNet.Config.b0(c, k).tf()));
    // EfficientNet-PyTorch's name: the network of smp's efficientnet-b0 encoder.
    ARCHS.put(
        "efficientnet-b0",
        (c, k) -> new EfficientNet(EfficientNet.Config.efficientnetPytorchB0(c, k)));
    ARCHS.put("efficientnet_v2_s", (c, k) -> new EfficientNet(EfficientNet.Config.v2s(c, k)));
    ARCHS.put(
        "tf_efficientnetv2_s", (c, k) -> new EfficientNet(EfficientNet.Config.v2s(c, k).tf()));
    // ConvNeXt and PVTv2 family
    ARCHS.put("convnext_tiny", (c, k) -> new ConvNeXt(ConvNeXt.Config.tiny(c, k)));
    ARCHS.put("convnext_base", (c, k) -> new ConvNeXt(ConvNeXt.Config.base(c, k)));
    ARCHS.put("pvt_v2_b0", (c, k) -> new PvtV2(PvtV2.Config.b0(c, k)));
    ARCHS.put("pvt_v2_b4", (c, k) -> new PvtV2(PvtV2.Config.b4(c, k)));
    // segmentation_models_pytorch's Unet on each encoder above; numClasses: its classes.
    for (String encoder : List.copyOf(ARCHS.keySet())) {
      ARCHS.put(UNET + encoder, (c, k) -> Unet.create(encoder, c, k));
    }
  }

  /** The registered names, in registration order. */
  public static Set<String> names() {
    return Collections.unmodifiableSet(ARCHS.keySet());
  }

  /** A new network; unknown names are refused with the list of known ones. */
  public static Net create(String arch, int inChannels, int numClasses) {
    Factory f = ARCHS.get(arch);
    if (f == null) {
      throw new IllegalArgumentException("unknown arch '" + arch + "'; known: " + names());
    }
    if (inChannels < 1) {
      throw new IllegalArgumentException("inChannels must be >= 1, got " + inChannels);
    }
    if (numClasses < 0) {
      throw new IllegalArgumentException("numClasses must be >= 0, got " + numClasses);
    }
    return f.create(inChannels, numClasses);
  }
}
