package org.spinekit.cervical;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.spinekit.train.Settings;

/**
 * Every setting of a cervical training run, as data: {@link #preset} gives the values, {@link
 * #with} overrides any of them by name ({@code --set name=value} on the command line), and the
 * bundle stores them resolved ({@link #toMap}, {@link #fromMap}).
 *
 * <p>Presets: {@code seed} is the RSNA 2022 write-up (320 px, EfficientNet-B0 Unet,
 * tf_efficientnetv2_s + BiGRU + attention on 24 slices, 5 folds, the write-up's augmentation and
 * warm-up + cosine schedules); {@code cpu-small} fits a 2-core machine (128 px segmentation and 64
 * px crops on a ResNet-10 of half width, one fold of five trained, fewer epochs).
 *
 * @param preset the preset the values came from
 * @param seed seed of the fold split, the loaders and libtorch's generator
 * @param folds k of the k-fold split by study
 * @param trainFolds the folds to train (empty: all k)
 * @param excluded studies never used for training (the write-up's two)
 * @param windowCenter CT window centre (HU) of both stages' inputs
 * @param windowWidth CT window width (HU)
 * @param segEncoder {@link org.spinekit.nn.Zoo} name of the Unet's encoder
 * @param segDecoder the Unet decoder's channels, one per block
 * @param segSize the 2.5D stacks' height and width
 * @param segSliceStep train on every n-th slice of each study (1: all, as the write-up)
 * @param segEpochs stage-1 epochs
 * @param segBatch stage-1 batch size
 * @param segLr stage-1 AdamW learning rate
 * @param segWarmup warm-up epochs of the stage-1 schedule
 * @param segDiceWeight loss = cross entropy + this x Dice of the foreground classes (1..8)
 * @param segVertebraWeight cross-entropy weight of C1..C7 (background and thoracic: 1): they are
 *     small next to the background
 * @param segAugment the write-up's joint augmentation on stage-1 samples
 * @param minVoxels thoracic components smaller than this are dropped from predicted masks
 * @param clsEncoder {@link org.spinekit.nn.Zoo} name of the per-slice CNN
 * @param clsSize crops' height and width
 * @param clsSlices slices per crop (the GRU's sequence)
 * @param clsMarginZ crop margin along the slices, voxels
 * @param clsMarginXy crop margin in-plane, voxels
 * @param clsHidden GRU hidden size per direction
 * @param clsLayers GRU layers
 * @param clsAttention attention MLP width
 * @param clsSpatialDropout spatial dropout on the slices' feature maps
 * @param clsEpochs stage-2 epochs
 * @param clsBatch stage-2 batch size (crops)
 * @param clsLr stage-2 AdamW learning rate
 * @param clsWarmup warm-up epochs of the stage-2 schedule
 * @param clsAugment stage-2 augmentation (the stage-1 one on the crop's slices)
 * @param clsEma decay of the stage-2 weights' exponential moving average, which is validated and
 *     saved (0: off, the raw weights)
 * @param clsPositiveRepeat each positive vertebra's crop appears this many times per stage-2 epoch
 *     (each with its own augmentation); its loss weight is divided by as much, so the expected loss
 *     keeps the metric's 1 / 2 weights
 * @param patientRule patient_overall from the vertebrae: {@code max}, {@code noisy_or} (1 - prod(1
 *     - p)) or {@code auto} (the better of the two on validation, chosen at training)
 */
public record CervicalConfig(
    String preset,
    long seed,
    int folds,
    int[] trainFolds,
    List<String> excluded,
    double windowCenter,
    double windowWidth,
    String segEncoder,
    int[] segDecoder,
    int segSize,
    int segSliceStep,
    int segEpochs,
    int segBatch,
    double segLr,
    int segWarmup,
    double segDiceWeight,
    double segVertebraWeight,
    boolean segAugment,
    long minVoxels,
    String clsEncoder,
    int clsSize,
    int clsSlices,
    int clsMarginZ,
    int clsMarginXy,
    int clsHidden,
    int clsLayers,
    int clsAttention,
    double clsSpatialDropout,
    int clsEpochs,
    int clsBatch,
    double clsLr,
    int clsWarmup,
    boolean clsAugment,
    double clsEma,
    int clsPositiveRepeat,
    String patientRule) {

  /** The preset names. */
  public static final List<String> PRESETS = List.of("seed", "cpu-small");

  /** The write-up's excluded studies. */
  public static final List<String> WRITE_UP_EXCLUDED =
      List.of("1.2.826.0.1.3680043.20574", "1.2.826.0.1.3680043.29952");

  /** The patient rules. */
  public static final Set<String> PATIENT_RULES = Set.of("auto", "max", "noisy_or");

  public CervicalConfig {
    nonEmpty("preset", preset);
    if (folds < 2) throw bad("folds", ">= 2", folds);
    if (trainFolds == null) throw bad("trainFolds", "a list (empty: all)", "null");
    trainFolds = trainFolds.clone();
    for (int f : trainFolds) {
      if (f < 0 || f >= folds) throw bad("trainFolds", "folds in 0.." + (folds - 1), f);
    }
    excluded = List.copyOf(excluded);
    if (!(windowWidth > 0)) throw bad("windowWidth", "> 0", windowWidth);
    Settings.arch("segEncoder", segEncoder);
    if (segDecoder == null || segDecoder.length == 0) {
      throw bad("segDecoder", "one channel count per decoder block", "none");
    }
    segDecoder = segDecoder.clone();
    for (int c : segDecoder) if (c < 1) throw bad("segDecoder", "channels >= 1", c);
    Settings.positive("segSize", segSize);
    Settings.positive("segSliceStep", segSliceStep);
    Settings.positive("segEpochs", segEpochs);
    Settings.positive("segBatch", segBatch);
    Settings.rate("segLr", segLr);
    if (segWarmup < 0 || segWarmup >= segEpochs) {
      throw bad("segWarmup", "0.." + (segEpochs - 1) + " (fewer than segEpochs)", segWarmup);
    }
    if (!(segDiceWeight >= 0)) throw bad("segDiceWeight", ">= 0", segDiceWeight);
    if (!(segVertebraWeight > 0) || Double.isInfinite(segVertebraWeight)) {
      throw bad("segVertebraWeight", "> 0", segVertebraWeight);
    }
    if (minVoxels < 0) throw bad("minVoxels", ">= 0", minVoxels);
    Settings.arch("clsEncoder", clsEncoder);
    Settings.positive("clsSize", clsSize);
    Settings.positive("clsSlices", clsSlices);
    if (clsMarginZ < 0) throw bad("clsMarginZ", ">= 0", clsMarginZ);
    if (clsMarginXy < 0) throw bad("clsMarginXy", ">= 0", clsMarginXy);
    Settings.positive("clsHidden", clsHidden);
    Settings.positive("clsLayers", clsLayers);
    Settings.positive("clsAttention", clsAttention);
    if (!(clsSpatialDropout >= 0 && clsSpatialDropout < 1)) {
      throw bad("clsSpatialDropout", "in [0, 1)", clsSpatialDropout);
    }
    Settings.positive("clsEpochs", clsEpochs);
    Settings.positive("clsBatch", clsBatch);
    Settings.rate("clsLr", clsLr);
    if (clsWarmup < 0 || clsWarmup >= clsEpochs) {
      throw bad("clsWarmup", "0.." + (clsEpochs - 1) + " (fewer than clsEpochs)", clsWarmup);
    }
    if (!(clsEma == 0 || (clsEma > 0 && clsEma < 1))) {
      throw bad("clsEma", "0 (off) or a decay in (0, 1)", clsEma);
    }
    Settings.positive("clsPositiveRepeat", clsPositiveRepeat);
    if (patientRule == null || !PATIENT_RULES.contains(patientRule)) {
      throw bad("patientRule", "auto, max or noisy_or", patientRule);
    }
  }

  /** The preset {@code name} ({@link #PRESETS}). */
  public static CervicalConfig preset(String name) {
    if (name == null) throw bad("preset", String.join(" or ", PRESETS), "null");
    return switch (name) {
      case "seed" ->
          new CervicalConfig(
              "seed",
              42,
              5,
              new int[0],
              WRITE_UP_EXCLUDED,
              400,
              1800,
              "efficientnet-b0",
              new int[] {256, 128, 64, 32, 16},
              320,
              1,
              10,
              16,
              1e-3,
              1,
              1.0,
              1.0, // segVertebraWeight
              true,
              500,
              "tf_efficientnetv2_s",
              224,
              24,
              0,
              8,
              256,
              2,
              128,
              0.2,
              10,
              8,
              2e-4,
              1,
              true,
              0.0, // clsEma
              1, // clsPositiveRepeat
              "auto");
      case "cpu-small" ->
          new CervicalConfig(
              "cpu-small",
              42,
              5,
              new int[] {0},
              WRITE_UP_EXCLUDED,
              400,
              1800,
              "resnet10_w32",
              new int[] {64, 32, 16, 16, 8},
              128,
              6,
              10,
              8,
              2e-3,
              1,
              1.0,
              1.0, // segVertebraWeight
              true,
              200,
              "resnet10_w32",
              64,
              24,
              0,
              4,
              64,
              1,
              32,
              0.2,
              30,
              8,
              3e-4, // clsLr: 1e-3 overfits the few positive crops (valid loss 0.38 against 0.26)
              1,
              true,
              0.0, // clsEma
              1, // clsPositiveRepeat
              "auto");
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
  public int[] segDecoder() {
    return segDecoder.clone();
  }

  /** Classes of the segmentation: background, C1..C7, thoracic. */
  public static final int SEG_CLASSES = 9;

  // --------------------------------------------------------------------- as data

  /** The values by name, in declaration order (arrays and lists as lists). */
  public Map<String, Object> toMap() {
    return Settings.toMap(this);
  }

  /**
   * The configuration of a map as {@link #toMap} writes it (numbers may be Long or Double). Every
   * name must be present and no other; a wrong type or value names the key.
   */
  public static CervicalConfig fromMap(Map<String, Object> m) {
    return Settings.fromMap(preset("cpu-small"), m);
  }

  /**
   * This configuration with setting {@code name} parsed from {@code text} (numbers, {@code
   * true}/{@code false}, comma-separated lists; an empty text is an empty list).
   */
  public CervicalConfig with(String name, String text) {
    return Settings.with(this, name, text);
  }

  private static void nonEmpty(String name, String v) {
    if (v == null || v.isBlank()) throw bad(name, "a name", v);
  }

  private static IllegalArgumentException bad(String name, String expected, Object got) {
    return Settings.bad(name, expected, got);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CervicalConfig c && toMap().equals(c.toMap());
  }

  @Override
  public int hashCode() {
    return toMap().hashCode();
  }

  @Override
  public String toString() {
    return "CervicalConfig" + toMap();
  }
}
