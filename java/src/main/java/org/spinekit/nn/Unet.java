package org.spinekit.nn;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * segmentation_models_pytorch's {@code Unet}: any {@link Encoder}, a {@link UnetDecoder} and a 3x3
 * segmentation head giving {@code classes} logits per pixel at input resolution. Keys equal smp's:
 * {@code encoder.*} (the encoder's own keys; for a ResNet, torchvision's minus {@code fc}), {@code
 * decoder.blocks.i.conv1.0/.1, .conv2.0/.1}, {@code segmentation_head.0}.
 *
 * <p>Input height and width must be multiples of the encoder's deepest stride (32 for every zoo
 * encoder), as smp requires; other sizes are refused before any native call.
 */
public final class Unet extends Net {
  private final Encoder encoder;
  private final UnetDecoder decoder;
  private final Conv2d head;
  private final int classes;
  private final int stride;

  /**
   * A Unet on the zoo encoder {@code encoderArch} (built without classifier) with smp's default
   * decoder channels.
   */
  public static Unet create(String encoderArch, int inChannels, int classes) {
    if (classes < 1) {
      throw new IllegalArgumentException("Unet: classes must be >= 1, got " + classes);
    }
    Net n = Zoo.create(encoderArch, inChannels, 0);
    if (!(n instanceof Encoder e)) {
      n.close();
      throw new IllegalArgumentException(
          "Unet: arch '"
              + encoderArch
              + "' is not an encoder ("
              + n.getClass().getSimpleName()
              + " gives no feature maps)");
    }
    return new Unet(e, classes);
  }

  /** A Unet on {@code encoder} (which it takes over) with smp's default decoder channels. */
  public Unet(Encoder encoder, int classes) {
    this(encoder, UnetDecoder.defaultChannels(), classes);
  }

  /**
   * A Unet on {@code encoder} (which it takes over) with one decoder block per entry of {@code
   * decoderChannels}; their number must bring the encoder's deepest stride back to 1.
   */
  public Unet(Encoder encoder, int[] decoderChannels, int classes) {
    if (encoder == null) throw new IllegalArgumentException("Unet: encoder is null");
    if (classes < 1) {
      throw new IllegalArgumentException("Unet: classes must be >= 1, got " + classes);
    }
    int[] strides = encoder.strides();
    this.encoder = encoder;
    this.classes = classes;
    this.stride = strides[strides.length - 1];
    UnetDecoder d = new UnetDecoder(strides, encoder.channels(), decoderChannels);
    add("encoder", encoder.net());
    this.decoder = add("decoder", d);
    this.head = Conv2d.of(d.outChannels(), classes, 3, 1, 1, 1, true);
    add("segmentation_head", new Seq().add(head));
    // smp's initialize_head: xavier uniform weight, zero bias.
    Init.xavierUniform(head.weight);
    Init.constant(head.bias, 0);
  }

  /** The encoder. */
  public Encoder encoder() {
    return encoder;
  }

  /** The decoder. */
  public UnetDecoder decoder() {
    return decoder;
  }

  /** Output channels (segmentation classes). */
  public int classes() {
    return classes;
  }

  /** Input channels. */
  public int inChannels() {
    return encoder.inChannels();
  }

  /** The factor input height and width must be multiples of (the deepest encoder stride). */
  public int sizeMultiple() {
    return stride;
  }

  @Override
  public Set<String> inputConvKeys() {
    Set<String> keys = new LinkedHashSet<>();
    for (String k : encoder.net().inputConvKeys()) keys.add("encoder." + k);
    return keys;
  }

  /** Logits {@code [N, classes, H, W]} for an input {@code [N, inChannels, H, W]}. */
  @Override
  public Tensor forward(Tensor x) {
    if (x.dim() != 4 || x.size(1) != encoder.inChannels()) {
      throw new IllegalArgumentException(
          "Unet: input must be [N, "
              + encoder.inChannels()
              + ", H, W], got "
              + Arrays.toString(x.sizes().vec().get()));
    }
    long h = x.size(2);
    long w = x.size(3);
    if (h % stride != 0 || w % stride != 0 || h == 0 || w == 0) {
      throw new IllegalArgumentException(
          "Unet: input height and width must be positive "
              + "multiples of "
              + stride
              + ", got "
              + h
              + " x "
              + w
              + " (input "
              + Arrays.toString(x.sizes().vec().get())
              + "); pad to "
              + roundUp(h)
              + " x "
              + roundUp(w));
    }
    List<Tensor> f = encoder.features(x);
    return head.forward(decoder.decode(f));
  }

  private long roundUp(long v) {
    return Math.max(stride, (v + stride - 1) / stride * stride);
  }
}
