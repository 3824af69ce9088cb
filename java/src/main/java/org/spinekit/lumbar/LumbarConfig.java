package org.spinekit.lumbar;

import java.util.List;
import java.util.Map;
import org.spinekit.train.Settings;

/**
 * Every setting of a lumbar training run, as data: {@link #preset} gives the values, {@link #with}
 * overrides any of them by name ({@code --set name=value}), and the bundle stores them resolved
 * ({@link #toMap}, {@link #fromMap}).
 *
 * <p>Presets: {@code seed} is the RSNA 2024 write-up (PVTv2-B4 encoders at 320 px, 2D decoder for
 * spinal canal stenosis, 3D decoder for neural foraminal narrowing, Adam 1e-4 to 1e-5, batch 4, 50
 * epochs, 5 folds); {@code cpu-small} fits a 2-core machine (96 px on a ResNet-10 of half width,
 * one fold of five trained, fewer epochs).
 *
 * @param preset the preset the values came from
 * @param seed seed of the fold split, the loaders and libtorch's generator
 * @param folds k of the k-fold split by study
 * @param trainFolds the folds to train (empty: all k)
 * @param lowPercentile intensity percentile of a series mapped to 0 (MR has no fixed scale)
 * @param highPercentile intensity percentile mapped to 1
 * @param size the sagittal stacks' height and width (the heatmaps are size / 4)
 * @param t2Slices depth of the Sagittal T2/STIR stack (spinal canal), slices resampled to it
 * @param t1Slices depth of the Sagittal T1 stack (foramina)
 * @param axialSize the axial slices' height and width
 * @param scsEncoder {@link org.spinekit.nn.Zoo} encoder of the spinal canal net (2D decoder, slice
 *     by slice)
 * @param nfnEncoder {@link org.spinekit.nn.Zoo} encoder of the foramen net (3D decoder)
 * @param axialEncoder {@link org.spinekit.nn.Zoo} encoder of the axial subarticular point net (2D)
 * @param decoder widths of the heatmap decoder's blocks, deepest first
 * @param sigma Gaussian target sigma, heatmap pixels
 * @param pixelCeWeight weight of the pixel cross entropy on the grade map
 * @param flip flip augmentation (left and right swap with their labels)
 * @param gtHeatmaps the write-up's upper bound: grades pooled with the true heatmaps in training
 *     and in validation, the heatmap net untrained
 * @param epochs epochs of the heatmap nets
 * @param batch volumes (or axial slices) per step
 * @param lr Adam learning rate at the start
 * @param finalLr learning rate at the end (cosine)
 * @param axialMaxMm a sagittal level point farther than this from every axial slice has no axial
 *     slice (its subarticular rows get the training prior)
 * @param cropMm side of the two-stage crops, mm
 * @param cropSize crops' height and width, pixels
 * @param cropSlices slices per crop (the 2.5D channels), centred on the point's slice
 * @param clsEncoder {@link org.spinekit.nn.Zoo} classifier of the two-stage crops
 * @param clsEpochs epochs of the crop classifiers
 * @param clsBatch crops per step
 * @param clsLr crop classifier AdamW learning rate
 * @param cropJitterMm training crops are centred this far (uniform, in-plane) from the true point
 * @param blendScs weight of the one-stage net in the spinal canal blend (two-stage: 1 - this)
 * @param blendNfn weight of the one-stage net in the foramen blend
 * @param blendSubarticular weight of the axial point net's pooled grades in the subarticular blend
 */
public record LumbarConfig(
    String preset,
    long seed,
    int folds,
    int[] trainFolds,
    double lowPercentile,
    double highPercentile,
    int size,
    int t2Slices,
    int t1Slices,
    int axialSize,
    String scsEncoder,
    String nfnEncoder,
    String axialEncoder,
    int[] decoder,
    double sigma,
    double pixelCeWeight,
    boolean flip,
    boolean gtHeatmaps,
    int epochs,
    int batch,
    double lr,
    double finalLr,
    double axialMaxMm,
    double cropMm,
    int cropSize,
    int cropSlices,
    String clsEncoder,
    int clsEpochs,
    int clsBatch,
    double clsLr,
    double cropJitterMm,
    double blendScs,
    double blendNfn,
    double blendSubarticular) {

  /** The preset names. */
  public static final List<String> PRESETS = List.of("seed", "cpu-small");

  public LumbarConfig {
    if (preset == null || preset.isBlank()) throw bad("preset", "a name", preset);
    if (folds < 2) throw bad("folds", ">= 2", folds);
    if (trainFolds == null) throw bad("trainFolds", "a list (empty: all)", "null");
    trainFolds = trainFolds.clone();
    for (int f : trainFolds) {
      if (f < 0 || f >= folds) throw bad("trainFolds", "folds in 0.." + (folds - 1), f);
    }
    if (!(lowPercentile >= 0 && lowPercentile < highPercentile && highPercentile <= 100)) {
      throw bad(
          "lowPercentile, highPercentile",
          "0 <= low < high <= 100",
          lowPercentile + ", " + highPercentile);
    }
    multipleOf32("size", size);
    multipleOf32("axialSize", axialSize);
    Settings.positive("t2Slices", t2Slices);
    Settings.positive("t1Slices", t1Slices);
    Settings.arch("scsEncoder", scsEncoder);
    Settings.arch("nfnEncoder", nfnEncoder);
    Settings.arch("axialEncoder", axialEncoder);
    Settings.arch("clsEncoder", clsEncoder);
    if (decoder == null || decoder.length == 0) {
      throw bad("decoder", "one width per decoder block", "none");
    }
    decoder = decoder.clone();
    for (int c : decoder) if (c < 1) throw bad("decoder", "widths >= 1", c);
    if (!(sigma > 0) || Double.isInfinite(sigma)) throw bad("sigma", "> 0", sigma);
    if (!(pixelCeWeight >= 0) || Double.isInfinite(pixelCeWeight)) {
      throw bad("pixelCeWeight", ">= 0", pixelCeWeight);
    }
    Settings.positive("epochs", epochs);
    Settings.positive("batch", batch);
    Settings.rate("lr", lr);
    Settings.rate("finalLr", finalLr);
    if (finalLr > lr) throw bad("finalLr", "<= lr " + lr, finalLr);
    if (!(axialMaxMm > 0)) throw bad("axialMaxMm", "> 0", axialMaxMm);
    if (!(cropMm > 0) || Double.isInfinite(cropMm)) throw bad("cropMm", "> 0", cropMm);
    Settings.positive("cropSize", cropSize);
    if (cropSlices < 1 || cropSlices % 2 == 0) {
      throw bad("cropSlices", "an odd count (centred on the point's slice)", cropSlices);
    }
    Settings.positive("clsEpochs", clsEpochs);
    Settings.positive("clsBatch", clsBatch);
    Settings.rate("clsLr", clsLr);
    if (!(cropJitterMm >= 0) || Double.isInfinite(cropJitterMm)) {
      throw bad("cropJitterMm", ">= 0", cropJitterMm);
    }
    weight("blendScs", blendScs);
    weight("blendNfn", blendNfn);
    weight("blendSubarticular", blendSubarticular);
  }

  /** The preset {@code name} ({@link #PRESETS}). */
  public static LumbarConfig preset(String name) {
    if (name == null) throw bad("preset", String.join(" or ", PRESETS), "null");
    return switch (name) {
      case "seed" ->
          new LumbarConfig(
              "seed",
              42,
              5,
              new int[0],
              1,
              99.5,
              320,
              16,
              16,
              320,
              "pvt_v2_b4",
              "pvt_v2_b4",
              "pvt_v2_b4",
              new int[] {256, 128, 64},
              2.0,
              1.0,
              true,
              false,
              50,
              4,
              1e-4,
              1e-5,
              5.0,
              48,
              128,
              5,
              "efficientnet_b4",
              20,
              16,
              2e-4,
              3.0,
              0.25,
              0.25,
              0.25);
      case "cpu-small" ->
          new LumbarConfig(
              "cpu-small",
              42,
              5,
              new int[] {0},
              1,
              99.5,
              96,
              12,
              12,
              96,
              "resnet10_w32",
              "resnet10_w32",
              "resnet10_w32",
              new int[] {64, 32, 32},
              1.0,
              1.0,
              true,
              false,
              20,
              4,
              1e-3,
              1e-4,
              5.0,
              40,
              32,
              3,
              "resnet10_w32",
              20,
              32,
              1e-3,
              2.0,
              0.25,
              0.25,
              0.25);
      default -> throw bad("preset", String.join(" or ", PRESETS), name);
    };
  }

  /** The folds this run trains: {@link #trainFolds}, or every fold when it is empty. */
  public int[] foldsToTrain() {
    if (trainFolds.length > 0) return trainFolds.clone();
    int[] all = new int[folds];
    for (int i = 0; i < folds; i++) all[i] = i;
    return all;
  }

  @Override
  public int[] trainFolds() {
    return trainFolds.clone();
  }

  @Override
  public int[] decoder() {
    return decoder.clone();
  }

  /** Side of the sagittal heatmaps (size / 4). */
  public int grid() {
    return size / 4;
  }

  /** Side of the axial heatmaps. */
  public int axialGrid() {
    return axialSize / 4;
  }

  /** The values by name, in declaration order (arrays as lists). */
  public Map<String, Object> toMap() {
    return Settings.toMap(this);
  }

  /** The configuration {@link #toMap} wrote; every name must be present. */
  public static LumbarConfig fromMap(Map<String, Object> m) {
    return Settings.fromMap(preset("cpu-small"), m);
  }

  /** This configuration with setting {@code name} parsed from {@code text}. */
  public LumbarConfig with(String name, String text) {
    return Settings.with(this, name, text);
  }

  private static void multipleOf32(String name, int v) {
    if (v < 32 || v % 32 != 0) throw bad(name, "a multiple of 32 (the encoders' stride)", v);
  }

  private static void weight(String name, double v) {
    if (!(v >= 0 && v <= 1)) throw bad(name, "a weight in [0, 1]", v);
  }

  private static IllegalArgumentException bad(String name, String expected, Object got) {
    return Settings.bad(name, expected, got);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LumbarConfig c && toMap().equals(c.toMap());
  }

  @Override
  public int hashCode() {
    return toMap().hashCode();
  }

  @Override
  public String toString() {
    return "LumbarConfig" + toMap();
  }
}
