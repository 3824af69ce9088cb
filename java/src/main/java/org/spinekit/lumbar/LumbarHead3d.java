package org.spinekit.lumbar;

/**
 * The 3D lumbar head (neural foraminal narrowing, left and right, on sagittal T1 stacks): the
 * slices' encoder maps stacked as [N, C, D, H, W] at in-plane strides 4, 8, ..., decoded with 3x3x3
 * convolutions (upsampling in-plane only) to heat logits [N, points, D, H/4, W/4] and grade logits
 * [N, grades, D, H/4, W/4]. For NFN, points = 10: channels 0-4 the left foramina L1/L2 .. L5/S1,
 * 5-9 the right ones; the grade map is shared, the left and right points pool it on their own
 * slices. Keys as {@link LumbarHead}.
 */
public final class LumbarHead3d extends LumbarHead {
  /**
   * @param encoderChannels channels of the encoder maps at strides 4, 8, ... (shallowest first)
   * @param decoderChannels widths of the decoder blocks, deepest first (one fewer)
   * @param points heat channels (10: five levels, left then right)
   * @param grades grade classes (3)
   */
  public LumbarHead3d(int[] encoderChannels, int[] decoderChannels, int points, int grades) {
    super(3, encoderChannels, decoderChannels, points, grades);
  }
}
