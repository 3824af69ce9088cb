package org.spinekit.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.json.Json;

/** Loads a training run's bundle as the {@link Predictor} of its system. */
public final class Predictors {
  private Predictors() {}

  /**
   * How a bundle is served.
   *
   * @param name the model's name (null: the run directory's name)
   * @param lumbarMode blend, one-stage or two-stage (lumbar only)
   * @param parallel how many studies (or network calls) run at once; the others wait their turn.
   *     libtorch's intra-op threads ({@code --threads}) are shared by all of them
   * @param warmupStudy a study folder predicted a few times at load (null: none), so that the first
   *     request also finds the readers, the kernels and the Java code warm; the networks are warmed
   *     up on zeros in any case
   */
  public record Options(String name, String lumbarMode, int parallel, Path warmupStudy) {
    public Options {
      if (parallel < 1) {
        throw new IllegalArgumentException("parallel: expected at least 1, got " + parallel);
      }
      if (name != null && !name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
        throw new IllegalArgumentException(
            "name: expected letters, digits, '_', '.' and '-' (not first), got '" + name + "'");
      }
    }

    public Options(String name, String lumbarMode, int parallel) {
      this(name, lumbarMode, parallel, null);
    }

    /** The defaults: the run's name, blend, one study at a time, no warm-up study. */
    public static Options defaults() {
      return new Options(null, "blend", 1, null);
    }

    public Options withName(String n) {
      return new Options(n, lumbarMode, parallel, warmupStudy);
    }

    public Options withLumbarMode(String m) {
      return new Options(name, m, parallel, warmupStudy);
    }

    public Options withParallel(int p) {
      return new Options(name, lumbarMode, p, warmupStudy);
    }

    public Options withWarmupStudy(Path study) {
      return new Options(name, lumbarMode, parallel, study);
    }
  }

  /** Predictions of the warm-up study at load. */
  public static final int WARM_UP_STUDIES = 3;

  /**
   * Loads the run at {@code run} (its bundle.json says which system), on the CPU.
   *
   * @throws MalformedFileException when bundle.json is missing, unreadable or of no known format
   * @throws IllegalArgumentException when the bundle lacks trained networks (naming them)
   */
  public static Predictor<?> load(Path run, Options o) throws IOException {
    return load(run, o, null);
  }

  /** As {@link #load(Path, Options)} on {@code device} (null: CPU). */
  public static Predictor<?> load(Path run, Options o, Device device) throws IOException {
    String format = format(run);
    Predictor<?> p =
        switch (format) {
          case "spinekit-cervical-bundle" -> CervicalModel.load(run, o, device);
          case "spinekit-lumbar-bundle" -> LumbarModel.load(run, o, device);
          default ->
              throw new MalformedFileException(
                  run.resolve("bundle.json"),
                  "format '"
                      + format
                      + "': expected spinekit-cervical-bundle or spinekit-lumbar-bundle");
        };
    if (o.warmupStudy() != null) {
      try {
        for (int i = 0; i < WARM_UP_STUDIES; i++) p.predict(null, o.warmupStudy());
      } catch (IOException | RuntimeException e) {
        p.close();
        throw new IllegalArgumentException(
            "warm-up study " + o.warmupStudy() + ": " + e.getMessage(), e);
      }
    }
    return p;
  }

  private static String format(Path run) throws IOException {
    Path f = run.resolve("bundle.json");
    if (!Files.isRegularFile(f)) {
      throw new MalformedFileException(
          f, "no bundle.json: not a training run (train one with spinekit cervical|lumbar train)");
    }
    Object o;
    try {
      o = Json.parse(Files.readString(f));
    } catch (Json.SyntaxException e) {
      throw new MalformedFileException(f, e.getMessage());
    }
    if (!(o instanceof Map<?, ?> m) || !(m.get("format") instanceof String s)) {
      throw new MalformedFileException(f, "expected a JSON object with a format");
    }
    return s;
  }
}
