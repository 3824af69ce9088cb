package org.spinekit.cervical;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.json.Json;

/**
 * A cervical run directory, the model bundle that {@code predict}, the predictor and the server
 * load: {@code bundle.json} (format, the resolved {@link CervicalConfig}, versions, the training
 * prevalences, the patient rule chosen), {@code folds.json} (the fold of every study, per stage),
 * the weights {@code seg/fold<F>.safetensors} and {@code cls/fold<F>.safetensors}, and what
 * training leaves beside them (checkpoints and logs per stage and fold, {@code crops.csv}, the
 * slice caches). Every file is written atomically.
 */
public final class CervicalBundle {
  /** The value of {@code format} in bundle.json. */
  public static final String FORMAT = "spinekit-cervical-bundle";

  /** The bundle layout version this code writes and reads. */
  public static final long VERSION = 1;

  private final Path dir;
  private final Map<String, Object> meta;

  private CervicalBundle(Path dir, Map<String, Object> meta) {
    this.dir = dir;
    this.meta = meta;
  }

  /**
   * Opens the run {@code dir} for training with {@code config}: creates it (with the fold split of
   * {@code folds}) when new; otherwise checks it holds the same configuration, naming the settings
   * that differ.
   */
  public static CervicalBundle openForTraining(
      Path dir, CervicalConfig config, Map<String, Map<String, Integer>> folds) throws IOException {
    Path json = dir.resolve("bundle.json");
    if (Files.exists(json)) {
      CervicalBundle b = load(dir);
      CervicalConfig have = b.config();
      if (!have.equals(config)) {
        List<String> diff = new ArrayList<>();
        Map<String, Object> a = have.toMap(), c = config.toMap();
        for (String k : a.keySet()) {
          if (!a.get(k).equals(c.get(k))) diff.add(k + " " + a.get(k) + " -> " + c.get(k));
        }
        throw new IllegalArgumentException(
            dir + " holds a run with another configuration (" + String.join(", ", diff) + ")");
      }
      return b;
    }
    Files.createDirectories(dir);
    Map<String, Object> f = new LinkedHashMap<>();
    for (var e : folds.entrySet()) f.put(e.getKey(), new LinkedHashMap<>(e.getValue()));
    AtomicFiles.write(dir.resolve("folds.json"), bytes(Json.write(f)));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", FORMAT);
    m.put("version", VERSION);
    m.put("config", config.toMap());
    m.put("versions", versions());
    CervicalBundle b = new CervicalBundle(dir, m);
    b.save();
    return b;
  }

  /** Loads and checks the bundle at {@code dir}. */
  public static CervicalBundle load(Path dir) throws IOException {
    Path json = dir.resolve("bundle.json");
    if (!Files.isRegularFile(json)) {
      throw new NoSuchFileException(
          json.toString(), null, "not a cervical model bundle (no bundle.json)");
    }
    Object v;
    try {
      v = Json.parse(Files.readString(json, StandardCharsets.UTF_8));
    } catch (Json.SyntaxException e) {
      throw new MalformedFileException(json, e.getMessage(), e);
    }
    if (!(v instanceof Map<?, ?> raw) || !FORMAT.equals(raw.get("format"))) {
      throw new MalformedFileException(json, "expected format \"" + FORMAT + "\"");
    }
    if (!Long.valueOf(VERSION).equals(raw.get("version"))) {
      throw new MalformedFileException(
          json, "bundle version " + raw.get("version") + ", this SpineKit reads " + VERSION);
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) raw);
    CervicalBundle b = new CervicalBundle(dir, m);
    try {
      b.config();
    } catch (IllegalArgumentException | ClassCastException e) {
      throw new MalformedFileException(json, "config: " + e.getMessage(), e);
    }
    return b;
  }

  public Path dir() {
    return dir;
  }

  @SuppressWarnings("unchecked")
  public CervicalConfig config() {
    return CervicalConfig.fromMap((Map<String, Object>) meta.get("config"));
  }

  /** The fold of every study of {@code stage} ("seg" or "cls"). */
  @SuppressWarnings("unchecked")
  public Map<String, Integer> folds(String stage) throws IOException {
    Path p = dir.resolve("folds.json");
    try {
      Map<String, Object> all = (Map<String, Object>) Json.parse(Files.readString(p));
      Map<String, Object> f = (Map<String, Object>) all.get(stage);
      Map<String, Integer> out = new LinkedHashMap<>();
      if (f != null)
        for (var e : f.entrySet()) out.put(e.getKey(), ((Long) e.getValue()).intValue());
      return out;
    } catch (Json.SyntaxException | ClassCastException e) {
      throw new MalformedFileException(p, "expected {stage: {study: fold}}: " + e.getMessage(), e);
    }
  }

  public Path segWeights(int fold) {
    return dir.resolve("seg").resolve("fold" + fold + ".safetensors");
  }

  public Path clsWeights(int fold) {
    return dir.resolve("cls").resolve("fold" + fold + ".safetensors");
  }

  /** Checkpoints and logs of a stage's fold. */
  public Path work(String stage, int fold) {
    return dir.resolve(stage).resolve("fold" + fold);
  }

  /** The per-vertebra boxes of every training study (stage "crops"). */
  public Path cropsCsv() {
    return dir.resolve("crops.csv");
  }

  /** Per-study outputs of stage "crops", merged into {@link #cropsCsv}. */
  public Path cropsDir() {
    return dir.resolve("crops");
  }

  public Path cacheDir() {
    return dir.resolve("cache");
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

  /** A value recorded by training (null when absent). */
  public Object get(String key) {
    return meta.get(key);
  }

  /** Records {@code value} under {@code key} and rewrites bundle.json. */
  public void put(String key, Object value) throws IOException {
    if (key.equals("format") || key.equals("version") || key.equals("config")) {
      throw new IllegalArgumentException("key: '" + key + "' is fixed");
    }
    meta.put(key, value);
    if (writer) save();
  }

  private boolean writer = true;

  /**
   * Whether {@link #put} rewrites bundle.json (true) or records in memory only: the ranks of a
   * data-parallel run but rank 0 read the bundle and never write it.
   */
  void writer(boolean v) {
    writer = v;
  }

  private void save() throws IOException {
    AtomicFiles.write(dir.resolve("bundle.json"), bytes(Json.write(meta) + "\n"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** SpineKit's and libtorch's versions. */
  static Map<String, Object> versions() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("spinekit", version(CervicalBundle.class));
    v.put("pytorch-preset", version(org.bytedeco.pytorch.Tensor.class));
    v.put("java", System.getProperty("java.version"));
    return v;
  }

  private static String version(Class<?> c) {
    String v = c.getPackage() == null ? null : c.getPackage().getImplementationVersion();
    return v == null ? "unknown" : v;
  }
}
