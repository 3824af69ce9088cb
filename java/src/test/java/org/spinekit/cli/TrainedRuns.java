package org.spinekit.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.synth.LumbarSynth;

/**
 * Tiny trained runs of both systems, made once per test JVM through the command line (train, then
 * predict the test split with {@code --report}) and shared by the tests that serve them. Deleted
 * when the JVM exits.
 */
public final class TrainedRuns {
  /**
   * A trained run.
   *
   * @param data the synthetic data set (Kaggle layout)
   * @param run the training run (the bundle)
   * @param images the test split's study folders
   * @param report the command line's per-study JSON of the test split
   * @param submission the command line's submission of the test split
   */
  public record Run(Path data, Path run, Path images, Path report, Path submission) {
    /** The test split's study folders, sorted. */
    public List<Path> studies() {
      try (Stream<Path> s = Files.list(images)) {
        return s.filter(Files::isDirectory).sorted().toList();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static Path root;
  private static Run cervical;
  private static Run lumbar;

  private TrainedRuns() {}

  /** The cervical run (6 training studies of 64 px, 2 folds, 2 steps per stage). */
  public static synchronized Run cervical() throws IOException {
    if (cervical == null) {
      Path d = root().resolve("cervical");
      Path data = d.resolve("data");
      CervicalSynth.generate(
          data, CervicalSynth.Config.small(3).withStudies(6).withTestStudies(2).withImageSize(64));
      Path run = d.resolve("run");
      check(
          CliRun.of(
              "--threads",
              "2",
              "cervical",
              "train",
              "--data",
              data.toString(),
              "--out",
              run.toString(),
              "--folds",
              "2",
              "--max-steps",
              "2"));
      cervical = predict("cervical", data, run, d, "test_images");
    }
    return cervical;
  }

  /** The lumbar run (6 training studies, 64 px, 8 slices, 2 folds, 2 steps per network). */
  public static synchronized Run lumbar() throws IOException {
    if (lumbar == null) {
      Path d = root().resolve("lumbar");
      Path data = d.resolve("data");
      LumbarSynth.generate(data, LumbarSynth.Config.small(4).withStudies(6).withTestStudies(2));
      Path run = d.resolve("run");
      List<String> a =
          new ArrayList<>(
              List.of(
                  "--threads",
                  "2",
                  "lumbar",
                  "train",
                  "--data",
                  data.toString(),
                  "--out",
                  run.toString()));
      a.addAll(List.of(LumbarPipelineTest.SMALL));
      check(CliRun.of(a.toArray(String[]::new)));
      lumbar = predict("lumbar", data, run, d, "test_images");
    }
    return lumbar;
  }

  private static Run predict(String system, Path data, Path run, Path d, String images) {
    Path report = d.resolve("report"), sub = d.resolve("submission.csv");
    check(
        CliRun.of(
            "--threads",
            "2",
            system,
            "predict",
            "--model",
            run.toString(),
            "--data",
            data.toString(),
            "--split",
            "test",
            "--out",
            sub.toString(),
            "--report",
            report.toString()));
    return new Run(data, run, data.resolve(images), report, sub);
  }

  private static void check(CliRun r) {
    if (r.rc() != 0) throw new IllegalStateException("command failed: " + r);
  }

  private static Path root() throws IOException {
    if (root == null) {
      root = Files.createTempDirectory("spinekit-runs");
      Path r = root;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try (Stream<Path> w = Files.walk(r)) {
                      for (Path p : w.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                      }
                    } catch (IOException e) {
                      // best effort: a temporary directory
                    }
                  }));
    }
    return root;
  }
}
