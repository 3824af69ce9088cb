package org.spinekit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.json.Json;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.lumbar.LumbarBundle;
import org.spinekit.lumbar.LumbarPoints;
import org.spinekit.synth.LumbarSynth;

/**
 * The lumbar system end to end on a tiny synthetic set, through the command line: train (every
 * network, a few steps), predict (submission, points, reports; each mode, and the blend's
 * arithmetic), score; and the bad input a user brings.
 */
class LumbarPipelineTest {
  @TempDir static Path dir;
  static Path data;
  static Path run;
  static CliRun trained;

  static final String[] SMALL = {
    "--folds",
    "2",
    "--max-steps",
    "2",
    "--set",
    "size=64",
    "--set",
    "axialSize=64",
    "--set",
    "t1Slices=8",
    "--set",
    "t2Slices=8"
  };

  @BeforeAll
  static void train() throws IOException {
    data = dir.resolve("data");
    LumbarSynth.generate(data, LumbarSynth.Config.small(4).withStudies(6).withTestStudies(2));
    run = dir.resolve("run");
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
    a.addAll(List.of(SMALL));
    trained = CliRun.of(a.toArray(String[]::new));
  }

  static CliRun predict(Path model, Path d, String split, Path out, String... more) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "--threads",
                "2",
                "lumbar",
                "predict",
                "--model",
                model.toString(),
                "--data",
                d.toString(),
                "--split",
                split,
                "--out",
                out.toString()));
    a.addAll(List.of(more));
    return CliRun.of(a.toArray(String[]::new));
  }

  @Test
  void trainWritesACompleteBundle() throws IOException {
    assertEquals(0, trained.rc(), trained.toString());
    LumbarBundle b = LumbarBundle.load(run);
    assertEquals("cpu-small", b.config().preset());
    assertEquals(64, b.config().size());
    for (String net : LumbarBundle.NETS) {
      assertEquals(List.of(0), b.trainedFolds(net), net);
      Path logs = b.work(net, 0).resolve("logs");
      assertTrue(Files.isRegularFile(logs.resolve("epochs.csv")), net);
      assertTrue(Files.isRegularFile(logs.resolve("curves.png")), net);
      assertTrue(b.get(net) instanceof Map<?, ?>, net + " figures recorded");
    }
    Map<String, Integer> folds = b.folds();
    assertEquals(6, folds.size());
    assertTrue(folds.containsValue(0) && folds.containsValue(1), folds.toString());
    Map<?, ?> priors = (Map<?, ?>) b.get("priors");
    assertEquals(25, priors.size());
    for (Object v : priors.values()) {
      double sum = 0;
      for (Object p : (List<?>) v) sum += ((Number) p).doubleValue();
      assertEquals(1.0, sum, 1e-9);
    }
    assertTrue(trained.out().contains("cls_sa fold 0: "), trained.out());
  }

  @Test
  void predictWritesEveryRowPointsAndReportsDeterministically() throws Exception {
    Path sub = dir.resolve("sub.csv"), pts = dir.resolve("points.csv"), rep = dir.resolve("report");
    CliRun r =
        predict(run, data, "test", sub, "--points", pts.toString(), "--report", rep.toString());
    assertEquals(0, r.rc(), r.toString());
    Set<String> want = new LinkedHashSet<>(), got = new LinkedHashSet<>();
    for (Rsna2024.Prediction p :
        Rsna2024.readSubmission(data.resolve(Rsna2024.SAMPLE_SUBMISSION_CSV))) {
      want.add(p.rowId());
    }
    List<Rsna2024.Prediction> rows = Rsna2024.readSubmission(sub);
    for (Rsna2024.Prediction p : rows) {
      got.add(p.rowId());
      double s = p.normalMild() + p.moderate() + p.severe();
      assertEquals(1.0, s, 1e-5, p.toString());
      assertTrue(p.normalMild() >= 0 && p.moderate() >= 0 && p.severe() >= 0, p.toString());
    }
    assertEquals(want, got);
    assertEquals(50, rows.size());
    assertTrue(r.out().contains("forward"), r.out());
    // 25 points a study (5 spinal, 10 foraminal, 10 subarticular), each on an instance of its
    // series.
    List<Rsna2024.SeriesDescription> desc =
        Rsna2024.readSeriesDescriptions(data.resolve(Rsna2024.TEST_SERIES_CSV));
    List<LumbarPoints.Point> points = LumbarPoints.read(pts);
    assertEquals(50, points.size());
    Map<Long, Set<Integer>> instances = new HashMap<>();
    for (LumbarPoints.Point p : points) {
      Set<Integer> inst =
          instances.computeIfAbsent(
              p.seriesId(),
              id -> {
                Path sd =
                    data.resolve("test_images")
                        .resolve(Long.toString(p.studyId()))
                        .resolve(Long.toString(id));
                Set<Integer> s = new java.util.HashSet<>();
                try {
                  for (var src : DicomSeriesReader.read(sd).sources()) s.add(src.instanceNumber());
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
                return s;
              });
      assertTrue(inst.contains(p.instanceNumber()), p.toString());
      String kind =
          desc.stream()
              .filter(d -> d.seriesId() == p.seriesId())
              .findFirst()
              .orElseThrow()
              .description();
      assertEquals(Rsna2024.seriesFor(p.condition()), kind, p.toString());
    }
    for (long id : studies(data, "test")) {
      Map<?, ?> js = (Map<?, ?>) Json.parse(Files.readString(rep.resolve(id + ".json")));
      assertEquals(id, ((Number) js.get("study_id")).longValue());
      assertEquals(25, ((Map<?, ?>) js.get("grades")).size());
      assertEquals(25, ((List<?>) js.get("points")).size());
      BufferedImage png = ImageIO.read(rep.resolve(id + ".png").toFile());
      assertTrue(png.getWidth() > 256 && png.getHeight() > 128);
    }
    // The same bundle and data give the same bytes.
    Path again = dir.resolve("again.csv"), pts2 = dir.resolve("points2.csv");
    CliRun r2 = predict(run, data, "test", again, "--points", pts2.toString());
    assertEquals(0, r2.rc(), r2.toString());
    assertArrayEquals(Files.readAllBytes(sub), Files.readAllBytes(again));
    assertArrayEquals(Files.readAllBytes(pts), Files.readAllBytes(pts2));
  }

  @Test
  void blendIsTheWeightedMeanOfItsParts() throws IOException {
    Map<String, double[]> out = new HashMap<>();
    for (String mode : List.of("blend", "one-stage", "two-stage")) {
      Path sub = dir.resolve(mode + ".csv");
      CliRun r = predict(run, data, "test", sub, "--mode", mode);
      assertEquals(0, r.rc(), r.toString());
      for (Rsna2024.Prediction p : Rsna2024.readSubmission(sub)) {
        out.put(mode + " " + p.rowId(), new double[] {p.normalMild(), p.moderate(), p.severe()});
      }
    }
    double w = LumbarBundle.load(run).config().blendNfn();
    int checked = 0;
    for (String key : out.keySet()) {
      if (!key.startsWith("blend ")) continue;
      String row = key.substring(6);
      double[] b = out.get(key),
          one = out.get("one-stage " + row),
          two = out.get("two-stage " + row);
      for (int i = 0; i < 3; i++) assertEquals(w * one[i] + (1 - w) * two[i], b[i], 1e-6, row);
      checked++;
    }
    assertEquals(50, checked);
    // The parts differ: the blend is not one of them.
    boolean differ = false;
    for (String key : out.keySet()) {
      if (key.startsWith("one-stage ")) {
        double[] a = out.get(key), c = out.get("two-stage " + key.substring(10));
        differ |= Math.abs(a[0] - c[0]) > 1e-4;
      }
    }
    assertTrue(differ);
  }

  @Test
  void predictOnTrainingStudiesIsScoredWithPoints() throws IOException {
    Path sub = dir.resolve("train-sub.csv"), pts = dir.resolve("train-points.csv");
    CliRun r = predict(run, data, "train", sub, "--points", pts.toString());
    assertEquals(0, r.rc(), r.toString());
    CliRun s = CliRun.of("lumbar", "score", "--data", data.toString(), "--pred", sub.toString());
    assertEquals(0, s.rc(), s.toString());
    assertTrue(s.out().startsWith("score: "), s.out());
  }

  @Test
  void badStudiesGetThePriorAndANoteTheOthersGoOn() throws IOException {
    Path bad = dir.resolve("bad");
    LumbarSynth.generate(bad, LumbarSynth.Config.small(7).withStudies(1).withTestStudies(3));
    List<Long> ids = studies(bad, "test");
    List<Rsna2024.SeriesDescription> desc =
        Rsna2024.readSeriesDescriptions(bad.resolve(Rsna2024.TEST_SERIES_CSV));
    // Study 0: its axial series directory holds no DICOM; study 1: a corrupt slice of Sagittal T1;
    // study 2: its Sagittal T2/STIR is not described at all.
    Path axial = seriesDir(bad, desc, ids.get(0), Rsna2024.AXIAL_T2);
    try (Stream<Path> s = Files.list(axial)) {
      for (Path p : s.toList()) Files.delete(p);
    }
    Files.writeString(axial.resolve("README.txt"), "not DICOM");
    Path t1 = seriesDir(bad, desc, ids.get(1), Rsna2024.SAGITTAL_T1);
    Path corrupt;
    try (Stream<Path> s = Files.list(t1)) {
      corrupt = s.sorted().toList().get(2);
    }
    byte[] bytes = Files.readAllBytes(corrupt);
    Files.write(corrupt, java.util.Arrays.copyOf(bytes, bytes.length / 3));
    List<Rsna2024.SeriesDescription> kept = new ArrayList<>();
    for (Rsna2024.SeriesDescription d : desc) {
      if (d.studyId() == ids.get(2) && d.description().equals(Rsna2024.SAGITTAL_T2_STIR)) continue;
      kept.add(d);
    }
    Rsna2024.writeSeriesDescriptions(bad.resolve(Rsna2024.TEST_SERIES_CSV), kept);
    Path sub = dir.resolve("bad.csv");
    CliRun r = predict(run, bad, "test", sub);
    assertEquals(0, r.rc(), r.toString());
    List<Rsna2024.Prediction> rows = Rsna2024.readSubmission(sub);
    assertEquals(75, rows.size());
    String out = r.out();
    assertTrue(out.contains("study " + ids.get(0)) && out.contains("Axial T2) unusable"), out);
    assertTrue(out.contains(corrupt.getFileName().toString()), out);
    assertTrue(out.contains("study " + ids.get(2) + ": no Sagittal T2/STIR series"), out);
    assertTrue(
        out.contains(
            "study " + ids.get(2) + ": spinal_canal_stenosis_l1_l2: no prediction, training prior"),
        out);
    // Study 2's spinal rows are the training prior; its foraminal rows are predicted.
    Map<?, ?> priors = (Map<?, ?>) LumbarBundle.load(run).get("priors");
    for (Rsna2024.Prediction p : rows) {
      if (p.studyId() != ids.get(2) || p.condition() != Condition.SPINAL_CANAL_STENOSIS) continue;
      List<?> q = (List<?>) priors.get(p.condition().key + "_" + p.level().key);
      assertEquals(((Number) q.get(0)).doubleValue(), p.normalMild(), 1e-12);
    }
  }

  @Test
  void usageAndInputErrorsExit2NamingWhatIsWrong() throws IOException {
    CliRun r = predict(run, data, "test", dir.resolve("x.csv"), "--mode", "both");
    assertEquals(2, r.rc(), r.toString());
    assertTrue(r.err().contains("mode: expected blend, one-stage or two-stage, got both"), r.err());
    r = predict(dir, data, "test", dir.resolve("x.csv"));
    assertEquals(1, r.rc(), r.toString());
    assertTrue(r.err().contains("bundle.json"), r.err());
    r =
        CliRun.of(
            "lumbar",
            "train",
            "--data",
            data.toString(),
            "--out",
            dir.resolve("r2").toString(),
            "--model",
            "three");
    assertEquals(2, r.rc(), r.toString());
    assertTrue(r.err().contains("model: expected one-stage, two-stage or all, got three"), r.err());
    r =
        CliRun.of(
            "lumbar",
            "train",
            "--data",
            data.toString(),
            "--out",
            dir.resolve("r3").toString(),
            "--set",
            "sigma=0");
    assertEquals(2, r.rc(), r.toString());
    assertTrue(r.err().contains("sigma: expected > 0, got 0.0"), r.err());
    // A one-stage bundle cannot blend: the message says how to train the rest.
    Path one = dir.resolve("one");
    List<String> a =
        new ArrayList<>(
            List.of(
                "lumbar",
                "train",
                "--data",
                data.toString(),
                "--out",
                one.toString(),
                "--model",
                "one-stage",
                "--gt-heatmaps"));
    a.addAll(List.of(SMALL));
    r = CliRun.of(a.toArray(String[]::new));
    assertEquals(0, r.rc(), r.toString());
    assertTrue(LumbarBundle.load(one).config().gtHeatmaps());
    assertEquals(List.of(), LumbarBundle.load(one).trainedFolds(LumbarBundle.AXIAL));
    r = predict(one, data, "test", dir.resolve("x.csv"));
    assertEquals(2, r.rc(), r.toString());
    assertTrue(
        r.err().contains("no trained axial network")
            && r.err().contains("--model two-stage or all"),
        r.err());
    r = predict(one, data, "test", dir.resolve("one.csv"), "--mode", "one-stage");
    assertEquals(0, r.rc(), r.toString());
  }

  @Test
  void levelsWithoutAnAxialSliceGetThePriorAndANote() throws IOException {
    // Every sagittal level point is farther than 1e-6 mm from every axial slice: none projects.
    Path far = dir.resolve("far");
    List<String> a =
        new ArrayList<>(
            List.of(
                "lumbar",
                "train",
                "--data",
                data.toString(),
                "--out",
                far.toString(),
                "--set",
                "axialMaxMm=0.000001"));
    a.addAll(List.of(SMALL));
    CliRun r = CliRun.of(a.toArray(String[]::new));
    assertEquals(0, r.rc(), r.toString());
    Path sub = dir.resolve("far.csv");
    r = predict(far, data, "test", sub);
    assertEquals(0, r.rc(), r.toString());
    assertTrue(r.out().contains("L1/L2: no axial slice: point ("), r.out());
    Map<?, ?> priors = (Map<?, ?>) LumbarBundle.load(far).get("priors");
    int subarticular = 0;
    for (Rsna2024.Prediction p : Rsna2024.readSubmission(sub)) {
      if (p.condition() != Condition.LEFT_SUBARTICULAR_STENOSIS
          && p.condition() != Condition.RIGHT_SUBARTICULAR_STENOSIS) {
        continue;
      }
      List<?> q = (List<?>) priors.get(p.condition().key + "_" + p.level().key);
      assertEquals(((Number) q.get(2)).doubleValue(), p.severe(), 1e-12, p.toString());
      subarticular++;
    }
    assertEquals(2 * 10, subarticular);
  }

  @Test
  void demoRunsEndToEndAndScoresTheHeldOutSet() throws IOException {
    Path demo = dir.resolve("demo");
    CliRun r =
        CliRun.of("--threads", "2", "lumbar", "demo", "--out", demo.toString(), "--max-steps", "1");
    assertEquals(0, r.rc(), r.toString());
    assertEquals(8 * 25, Rsna2024.readSubmission(demo.resolve("submission.csv")).size());
    assertEquals(16 * 25, Rsna2024.readSubmission(demo.resolve("heldout-submission.csv")).size());
    assertEquals(16 * 25, LumbarPoints.read(demo.resolve("heldout-points.csv")).size());
    try (Stream<Path> s = Files.list(demo.resolve("heldout-report"))) {
      assertEquals(16, s.filter(f -> f.toString().endsWith(".png")).count());
    }
    assertTrue(r.out().contains("score: "), r.out());
    assertTrue(r.out().contains("| Spinal Canal Stenosis | 80 |"), r.out());
    for (String net : LumbarBundle.NETS) {
      assertTrue(
          Files.isRegularFile(demo.resolve("run").resolve(net).resolve("fold0.safetensors")));
    }
  }

  static List<Long> studies(Path d, String split) throws IOException {
    Set<Long> s = new LinkedHashSet<>();
    for (Rsna2024.SeriesDescription x :
        Rsna2024.readSeriesDescriptions(d.resolve(split + "_series_descriptions.csv"))) {
      s.add(x.studyId());
    }
    return new ArrayList<>(s);
  }

  static Path seriesDir(Path d, List<Rsna2024.SeriesDescription> desc, long study, String kind) {
    long id =
        desc.stream()
            .filter(x -> x.studyId() == study && x.description().equals(kind))
            .findFirst()
            .orElseThrow()
            .seriesId();
    return d.resolve("test_images").resolve(Long.toString(study)).resolve(Long.toString(id));
  }
}
