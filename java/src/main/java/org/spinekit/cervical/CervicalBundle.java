package org.spinekit.cervical;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.spinekit.io.MalformedFileException;
import org.spinekit.train.RunBundle;

/**
 * A cervical run directory, the model bundle that {@code predict}, the predictor and the server
 * load: {@code bundle.json} (format, the resolved {@link CervicalConfig}, versions, the training
 * prevalences, the patient rule chosen), {@code folds.json} (the fold of every study, per stage),
 * the weights {@code seg/fold<F>.safetensors} and {@code cls/fold<F>.safetensors}, and what
 * training leaves beside them (checkpoints and logs per stage and fold, {@code crops.csv}, the
 * slice caches). Every file is written atomically.
 */
public final class CervicalBundle extends RunBundle {
  /** The value of {@code format} in bundle.json. */
  public static final String FORMAT = "spinekit-cervical-bundle";

  /** The bundle layout version this code writes and reads. */
  public static final long VERSION = RunBundle.VERSION;

  private CervicalBundle(RunBundle run) {
    super(run);
  }

  /**
   * Opens the run {@code dir} for training with {@code config}: creates it (with the fold split of
   * {@code folds}) when new; otherwise checks it holds the same configuration, naming the settings
   * that differ.
   */
  public static CervicalBundle openForTraining(
      Path dir, CervicalConfig config, Map<String, Map<String, Integer>> folds) throws IOException {
    return checked(RunBundle.openForTraining(dir, FORMAT, config.toMap(), folds));
  }

  /** Loads and checks the bundle at {@code dir}. */
  public static CervicalBundle load(Path dir) throws IOException {
    return checked(RunBundle.load(dir, FORMAT));
  }

  private static CervicalBundle checked(RunBundle r) throws IOException {
    CervicalBundle b = new CervicalBundle(r);
    try {
      b.config();
    } catch (IllegalArgumentException | ClassCastException e) {
      throw new MalformedFileException(
          r.dir().resolve("bundle.json"), "config: " + e.getMessage(), e);
    }
    return b;
  }

  public CervicalConfig config() {
    return CervicalConfig.fromMap(configMap());
  }

  public Path segWeights(int fold) {
    return dir().resolve("seg").resolve("fold" + fold + ".safetensors");
  }

  public Path clsWeights(int fold) {
    return dir().resolve("cls").resolve("fold" + fold + ".safetensors");
  }

  /** Checkpoints and logs of a stage's fold. */
  public Path work(String stage, int fold) {
    return dir().resolve(stage).resolve("fold" + fold);
  }

  /** The per-vertebra boxes of every training study (stage "crops"). */
  public Path cropsCsv() {
    return dir().resolve("crops.csv");
  }

  /** Per-study outputs of stage "crops", merged into {@link #cropsCsv}. */
  public Path cropsDir() {
    return dir().resolve("crops");
  }

  public Path cacheDir() {
    return dir().resolve("cache");
  }

  /** The folds whose weights of {@code stage} are present, ascending. */
  public List<Integer> trainedFolds(String stage) {
    List<Integer> out = new ArrayList<>();
    for (int f = 0; f < config().folds(); f++) {
      Path p = stage.equals("seg") ? segWeights(f) : clsWeights(f);
      if (Files.isRegularFile(p)) out.add(f);
    }
    return out;
  }
}
