package org.spinekit.train;

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
 * The directory of a training run as the systems' bundles keep it: {@code bundle.json} (a format
 * name, a layout version, the resolved configuration, versions, and what training records), {@code
 * folds.json} (the fold of every study, per stage) and, beside them, whatever the system stores.
 * Every file is written atomically.
 */
public class RunBundle {
  /** The bundle layout version the systems write and read. */
  public static final long VERSION = 1;

  private final Path dir;
  private final String format;
  private final Map<String, Object> meta;
  private boolean writer = true;

  private RunBundle(Path dir, String format, Map<String, Object> meta) {
    this.dir = dir;
    this.format = format;
    this.meta = meta;
  }

  /** A system's view of a loaded bundle (the same directory and records). */
  protected RunBundle(RunBundle loaded) {
    this(loaded.dir, loaded.format, loaded.meta);
    this.writer = loaded.writer;
  }

  /**
   * Opens {@code dir} for training with {@code config} (as {@link Settings#toMap} gives it):
   * creates it with the fold split {@code folds} when new; otherwise checks that it holds a bundle
   * of {@code format} with the same configuration, naming the settings that differ.
   */
  public static RunBundle openForTraining(
      Path dir, String format, Map<String, Object> config, Map<String, Map<String, Integer>> folds)
      throws IOException {
    if (Files.exists(dir.resolve("bundle.json"))) {
      RunBundle b = load(dir, format);
      Map<String, Object> have = b.configMap();
      // Compared as stored: the JSON round trip gives both the same number types.
      config = asStored(config);
      if (!have.equals(config)) {
        List<String> diff = new ArrayList<>();
        for (String k : have.keySet()) {
          if (!have.get(k).equals(config.get(k))) {
            diff.add(k + " " + have.get(k) + " -> " + config.get(k));
          }
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
    m.put("format", format);
    m.put("version", VERSION);
    m.put("config", config);
    m.put("versions", versions());
    RunBundle b = new RunBundle(dir, format, m);
    b.save();
    return b;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asStored(Map<String, Object> config) {
    try {
      return (Map<String, Object>) Json.parse(Json.write(config));
    } catch (Json.SyntaxException e) {
      throw new IllegalStateException("a configuration that does not survive JSON: " + e, e);
    }
  }

  /** Loads {@code dir}/bundle.json and checks its format and version. */
  public static RunBundle load(Path dir, String format) throws IOException {
    Path json = dir.resolve("bundle.json");
    if (!Files.isRegularFile(json)) {
      throw new NoSuchFileException(
          json.toString(), null, "not a model bundle of format " + format + " (no bundle.json)");
    }
    Object v;
    try {
      v = Json.parse(Files.readString(json, StandardCharsets.UTF_8));
    } catch (Json.SyntaxException e) {
      throw new MalformedFileException(json, e.getMessage(), e);
    }
    if (!(v instanceof Map<?, ?> raw) || !format.equals(raw.get("format"))) {
      throw new MalformedFileException(json, "expected format \"" + format + "\"");
    }
    if (!Long.valueOf(VERSION).equals(raw.get("version"))) {
      throw new MalformedFileException(
          json, "bundle version " + raw.get("version") + ", this SpineKit reads " + VERSION);
    }
    if (!(raw.get("config") instanceof Map<?, ?>)) {
      throw new MalformedFileException(json, "config: expected an object");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) raw);
    return new RunBundle(dir, format, m);
  }

  public Path dir() {
    return dir;
  }

  public String format() {
    return format;
  }

  /** The configuration as stored. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> configMap() {
    return (Map<String, Object>) meta.get("config");
  }

  /** The fold of every study of {@code stage}. */
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

  /** A value recorded by training (null when absent). */
  public Object get(String key) {
    return meta.get(key);
  }

  /** Records {@code value} under {@code key} and rewrites bundle.json (when this is the writer). */
  public void put(String key, Object value) throws IOException {
    if (key.equals("format") || key.equals("version") || key.equals("config")) {
      throw new IllegalArgumentException("key: '" + key + "' is fixed");
    }
    meta.put(key, value);
    if (writer) save();
  }

  /**
   * Records {@code value} under {@code key} of the map {@code group} ({@code stage -> fold ->
   * figures}, say), keeping the group's other keys.
   */
  @SuppressWarnings("unchecked")
  public void putIn(String group, String key, Object value) throws IOException {
    Object prev = meta.get(group);
    Map<String, Object> m =
        prev instanceof Map<?, ?> p
            ? new LinkedHashMap<>((Map<String, Object>) p)
            : new LinkedHashMap<>();
    m.put(key, value);
    put(group, m);
  }

  /**
   * Whether {@link #put} rewrites bundle.json (true) or records in memory only: the ranks of a
   * data-parallel run but rank 0 read the bundle and never write it.
   */
  public void writer(boolean v) {
    writer = v;
  }

  private void save() throws IOException {
    AtomicFiles.write(dir.resolve("bundle.json"), bytes(Json.write(meta) + "\n"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** SpineKit's and libtorch's versions. */
  public static Map<String, Object> versions() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("spinekit", version(RunBundle.class));
    v.put("pytorch-preset", version(org.bytedeco.pytorch.Tensor.class));
    v.put("java", System.getProperty("java.version"));
    return v;
  }

  private static String version(Class<?> c) {
    String v = c.getPackage() == null ? null : c.getPackage().getImplementationVersion();
    return v == null ? "unknown" : v;
  }
}
