package org.spinekit.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.json.Json;
import org.spinekit.io.safetensors.SafeTensors;

/**
 * The checkpoints of a training run in one directory: each is a safetensors file ({@code
 * ckpt-NNNNNN.safetensors}, a new name every time) and a JSON record that names it. {@code
 * last.json} names the latest, {@code best.json} the best one. Order of a save: the tensors are
 * written to a temporary file and renamed; then {@code last.json} (and {@code best.json}) likewise;
 * only then are the files no record names deleted. A run killed at any moment therefore leaves a
 * {@code last.json} whose tensors file is complete, at worst beside an orphan tensors file or a
 * temporary file, which the next {@link Checkpoints} removes.
 */
final class Checkpoints {
  static final String FORMAT = "spinekit-checkpoint/1";
  static final String LAST = "last.json";
  static final String BEST = "best.json";
  private static final Pattern TENSORS = Pattern.compile("ckpt-(\\d+)\\.safetensors");

  /** A checkpoint read back: its record and the path of its tensors. */
  record Saved(Path json, Path tensors, Map<String, Object> meta) {}

  /**
   * Called (when set) at the points of a save where a kill matters: "tensors" once the tensors file
   * is in place, "last" once {@code last.json} is. Tests set it to halt the JVM there.
   */
  static volatile Hook hook;

  /** A test hook of {@link #save}. */
  interface Hook {
    /** {@code tensors}: the path of the checkpoint's tensors file. */
    void at(String point, String tensors);
  }

  private final Path dir;
  private long seq;

  /** Opens (creates) {@code dir}, removing what killed saves left behind. */
  Checkpoints(Path dir) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    long max = 0;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        Matcher m = TENSORS.matcher(p.getFileName().toString());
        if (m.matches()) max = Math.max(max, Long.parseLong(m.group(1)));
      }
    }
    seq = max + 1;
    clean();
  }

  Path dir() {
    return dir;
  }

  /** The record {@code name} ({@link #LAST} or {@link #BEST}), if there is one. */
  Optional<Saved> read(String name) throws IOException {
    Path json = dir.resolve(name);
    if (!Files.exists(json)) return Optional.empty();
    Object parsed;
    try {
      parsed = Json.parse(Files.readString(json, StandardCharsets.UTF_8));
    } catch (Json.SyntaxException e) {
      throw new MalformedFileException(json, e.getMessage(), e);
    }
    if (!(parsed instanceof Map<?, ?> m) || !FORMAT.equals(m.get("format"))) {
      throw new MalformedFileException(
          json, "not a checkpoint record (expected \"format\": \"" + FORMAT + "\")");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> meta = (Map<String, Object>) m;
    if (!(meta.get("tensors") instanceof String t) || !TENSORS.matcher(t).matches()) {
      throw new MalformedFileException(
          json, "\"tensors\" is " + meta.get("tensors") + ", expected a ckpt-N.safetensors name");
    }
    Path tensors = dir.resolve(t);
    if (!Files.exists(tensors)) {
      throw new MalformedFileException(json, "names " + t + ", which is missing");
    }
    Object bytes = meta.get("tensors_bytes");
    if (!(bytes instanceof Long b) || b != Files.size(tensors)) {
      throw new MalformedFileException(
          json, "names " + t + " of " + bytes + " bytes, the file" + " has " + Files.size(tensors));
    }
    return Optional.of(new Saved(json, tensors, meta));
  }

  /**
   * Saves {@code tensors} with the record {@code meta} (JSON values: String, Number, Boolean, Map,
   * List) as the last checkpoint, and as the best when {@code best}.
   */
  Saved save(Map<String, Tensor> tensors, Map<String, Object> meta, boolean best)
      throws IOException {
    String name = String.format("ckpt-%06d.safetensors", seq++);
    Path file = dir.resolve(name);
    SafeTensors.write(file, tensors, Map.of("format", FORMAT));
    Hook h = hook;
    if (h != null) h.at("tensors", file.toString());
    Map<String, Object> rec = new LinkedHashMap<>();
    rec.put("format", FORMAT);
    rec.put("tensors", name);
    rec.put("tensors_bytes", Files.size(file));
    rec.putAll(meta);
    byte[] json = (toJson(rec) + "\n").getBytes(StandardCharsets.UTF_8);
    AtomicFiles.write(dir.resolve(LAST), json);
    if (h != null) h.at("last", file.toString());
    if (best) AtomicFiles.write(dir.resolve(BEST), json);
    clean();
    return new Saved(dir.resolve(LAST), file, rec);
  }

  /** Deletes tensors files no record names and temporary files of interrupted writes. */
  void clean() throws IOException {
    Set<String> keep = new HashSet<>();
    for (String r : List.of(LAST, BEST)) {
      Path p = dir.resolve(r);
      if (!Files.exists(p)) continue;
      try {
        Object o = Json.parse(Files.readString(p, StandardCharsets.UTF_8));
        if (o instanceof Map<?, ?> m && m.get("tensors") instanceof String t) {
          keep.add(t);
        } else {
          return; // an unknown record: delete nothing
        }
      } catch (Json.SyntaxException e) {
        return;
      }
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        boolean orphan = TENSORS.matcher(n).matches() && !keep.contains(n);
        boolean temp =
            n.endsWith(".tmp")
                && (n.startsWith(".ckpt-")
                    || n.startsWith("." + LAST + ".")
                    || n.startsWith("." + BEST + "."));
        if (orphan || temp) Files.deleteIfExists(p);
      }
    }
  }

  /** A JSON text of a value made of maps, lists, strings, numbers, booleans and nulls. */
  static String toJson(Object v) {
    return Json.write(v);
  }
}
