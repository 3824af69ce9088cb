package org.spinekit.lumbar;

/**
 * The 2D lumbar head (spinal canal stenosis on sagittal T2): encoder maps [N, C, H, W] at strides
 * 4, 8, ... to heat logits [N, points, H/4, W/4] (points = 5 levels, L1/L2 .. L5/S1) and grade
 * logits [N, grades, H/4, W/4]. A slice stack is decoded slice by slice by folding the slices into
 * N. Keys as {@link LumbarHead}.
 */
public final class LumbarHead2d extends LumbarHead {
  /**
   * @param encoderChannels channels of the encoder maps at strides 4, 8, ... (shallowest first)
   * @param decoderChannels widths of the decoder blocks, deepest first (one fewer)
   * @param points heat channels (5 levels)
   * @param grades grade classes (3)
   */
  public LumbarHead2d(int[] encoderChannels, int[] decoderChannels, int points, int grades) {
    super(2, encoderChannels, decoderChannels, points, grades);
  }
}
