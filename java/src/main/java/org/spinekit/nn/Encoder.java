package org.spinekit.nn;

import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * A backbone that gives feature maps at several strides for a decoder (a UNet, the lumbar
 * heat/grade decoders, the stage-2 per-slice CNN).
 */
public interface Encoder {
  /** Feature maps, shallowest first, at {@link #strides()} with {@link #channels()}. */
  List<Tensor> features(Tensor x);

  /** The stride of each feature map relative to the input, e.g. {2, 4, 8, 16, 32}. */
  int[] strides();

  /** The channels of each feature map. */
  int[] channels();

  /** Input channels (3 for 2.5D CT, 1 for MR). */
  int inChannels();

  /** The network itself (for parameters, train/eval and state dicts). */
  Net net();
}
