package org.spinekit.lumbar;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.spinekit.io.MalformedFileException;
import org.spinekit.train.RunBundle;

/**
 * A lumbar run directory, the model bundle that {@code predict}, the predictor and the server load:
 * {@code bundle.json} (format, the resolved {@link LumbarConfig}, versions, the training
 * prevalences, per-network validation figures), {@code folds.json} (the fold of every study), the
 * weights {@code <net>/fold<F>.safetensors} of each network of {@link #NETS}, and what training
 * leaves beside them (checkpoints and logs per network and fold, the prepared series under {@code
 * cache/}). Every file is written atomically.
 */
public final class LumbarBundle extends RunBundle {
  /** The value of {@code format} in bundle.json. */
  public static final String FORMAT = "spinekit-lumbar-bundle";

  /** Spinal canal heatmap net (one-stage; the two-stage's Sagittal T2 locator). */
  public static final String SCS = "scs";

  /** Foramen heatmap net (one-stage; the two-stage's Sagittal T1 locator). */
  public static final String NFN = "nfn";

  /** Axial subarticular point net (two-stage locator). */
  public static final String AXIAL = "axial";

  /** The two-stage crop classifiers, one per condition group. */
  public static final String CLS_SCS = "cls_scs";

  public static final String CLS_NFN = "cls_nfn";
  public static final String CLS_SA = "cls_sa";

  /** Every network, in training order. */
  public static final List<String> NETS = List.of(SCS, NFN, AXIAL, CLS_SCS, CLS_NFN, CLS_SA);

  private LumbarBundle(RunBundle run) {
    super(run);
  }

  /** Opens {@code dir} for training with {@code config} (created when new, else checked). */
  public static LumbarBundle openForTraining(
      Path dir, LumbarConfig config, Map<String, Map<String, Integer>> folds) throws IOException {
    return checked(RunBundle.openForTraining(dir, FORMAT, config.toMap(), folds));
  }

  /** Loads and checks the bundle at {@code dir}. */
  public static LumbarBundle load(Path dir) throws IOException {
    return checked(RunBundle.load(dir, FORMAT));
  }

  private static LumbarBundle checked(RunBundle r) throws IOException {
    LumbarBundle b = new LumbarBundle(r);
    try {
      b.config();
    } catch (IllegalArgumentException | ClassCastException e) {
      throw new MalformedFileException(
          r.dir().resolve("bundle.json"), "config: " + e.getMessage(), e);
    }
    return b;
  }

  public LumbarConfig config() {
    return LumbarConfig.fromMap(configMap());
  }

  /** The fold of every study (by study id). */
  public Map<String, Integer> folds() throws IOException {
    return folds("studies");
  }

  /** Weights of network {@code net} ({@link #NETS}) of a fold. */
  public Path weights(String net, int fold) {
    return dir().resolve(net).resolve("fold" + fold + ".safetensors");
  }

  /** Checkpoints and logs of a network's fold. */
  public Path work(String net, int fold) {
    return dir().resolve(net).resolve("fold" + fold);
  }

  /** The prepared series of one type of every training study. */
  public Path cacheDir(LumbarInputs.Kind kind) {
    LumbarConfig c = config();
    int size = kind == LumbarInputs.Kind.AXIAL ? c.axialSize() : c.size();
    String depth =
        switch (kind) {
          case T1 -> "x" + c.t1Slices();
          case T2 -> "x" + c.t2Slices();
          case AXIAL -> "";
        };
    return dir()
        .resolve("cache")
        .resolve(kind.name().toLowerCase(java.util.Locale.ROOT) + size + depth);
  }

  /** The folds whose weights of {@code net} are present, ascending. */
  public List<Integer> trainedFolds(String net) {
    List<Integer> out = new ArrayList<>();
    for (int f = 0; f < config().folds(); f++) {
      if (Files.isRegularFile(weights(net, f))) out.add(f);
    }
    return out;
  }
}
