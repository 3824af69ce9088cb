package org.spinekit.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.spinekit.internal.concurrent.DaemonThreads;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.json.Json;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Level;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.lumbar.LumbarBundle;
import org.spinekit.lumbar.LumbarConfig;
import org.spinekit.lumbar.LumbarOverlay;
import org.spinekit.lumbar.LumbarPoints;
import org.spinekit.lumbar.LumbarPredictor;
import org.spinekit.lumbar.LumbarTraining;
import org.spinekit.serve.LumbarResult;
import org.spinekit.synth.LumbarSynth;
import org.spinekit.train.ProgressBar;
import org.spinekit.train.Recipe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spinekit lumbar train} and {@code spinekit lumbar predict}. */
final class LumbarRun {
  private LumbarRun() {}

  @Command(
      name = "train",
      description = {
        "trains the lumbar system of the RSNA 2024 write-up into the bundle RUN: the one-stage"
            + " heatmap nets (scs: Sagittal T2/STIR, 2D decoder; nfn: Sagittal T1, 3D decoder; level"
            + " heatmaps by DSNT, grades pooled by the heatmaps) and the two-stage baseline (axial"
            + " subarticular points, crop classifiers per condition). Each network and fold"
            + " resumes where a killed run stopped."
      })
  static final class Train implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--data",
        paramLabel = "DIR",
        required = true,
        description = "a directory in the RSNA 2024 Kaggle layout")
    Path data;

    @Option(
        names = "--out",
        paramLabel = "RUN",
        required = true,
        description = "the bundle directory (created or continued)")
    Path out;

    @Option(
        names = "--model",
        paramLabel = "one-stage|two-stage|all",
        defaultValue = "all",
        description =
            "the networks to train (two-stage includes the sagittal heatmap nets, its locators; default ${DEFAULT-VALUE})")
    String model;

    @Option(
        names = "--gt-heatmaps",
        description =
            "the write-up's upper bound: the one-stage nets pool their grades with the true heatmaps")
    boolean gtHeatmaps;

    @Mixin TrainOptions train;

    @Override
    public Integer call() throws IOException {
      Cli.existing("lumbar train --data", data);
      LumbarConfig preset = LumbarConfig.preset(train.preset);
      if (gtHeatmaps) preset = preset.with("gtHeatmaps", "true");
      LumbarConfig c = train.configure(preset, LumbarConfig::with);
      LumbarTraining.Model m = LumbarTraining.Model.parse(model);
      train.run(
          p -> {
            Recipe.Run run =
                new Recipe.Run(
                    p.device(),
                    train.maxSteps,
                    Math.max(1, RuntimeOptions.of(spec).workers()),
                    train.checkpointEvery,
                    p.rank0() ? ProgressBar.console() : null,
                    p.group(),
                    c.seed());
            long t0 = System.nanoTime();
            LumbarTraining.run(
                new LumbarTraining.Options(
                    data, out, c, m, train.foldsToTrain(), run, p.log()::println));
            p.log()
                .printf(
                    Locale.ROOT,
                    "trained %s in %.1f s: %s%n",
                    model,
                    (System.nanoTime() - t0) / 1e9,
                    out);
          });
      return Cli.OK;
    }
  }

  @Command(
      name = "predict",
      description = {
        "predicts every study of DIR/<split>_series_descriptions.csv with the bundle RUN and"
            + " writes the Kaggle submission (row_id,normal_mild,moderate,severe; 25 rows a study:"
            + " rows without a prediction get the training prior and a note). Prints each study's"
            + " time breakdown."
      })
  static final class Predict implements Callable<Integer> {
    @Option(
        names = "--model",
        paramLabel = "RUN",
        required = true,
        description = "a bundle written by lumbar train")
    Path model;

    @Option(
        names = "--data",
        paramLabel = "DIR",
        required = true,
        description = "a directory in the RSNA 2024 Kaggle layout")
    Path data;

    @Option(
        names = "--split",
        paramLabel = "train|test",
        defaultValue = "test",
        description =
            "the studies of DIR/<split>_series_descriptions.csv (default ${DEFAULT-VALUE})")
    String split;

    @Option(
        names = "--out",
        paramLabel = "submission.csv",
        required = true,
        description = "the submission (written atomically)")
    Path out;

    @Option(
        names = "--mode",
        paramLabel = "blend|one-stage|two-stage",
        defaultValue = "blend",
        description =
            "what the rows come from (default ${DEFAULT-VALUE}: 0.75 x two-stage + 0.25 x one-stage, per the configuration's blend weights)")
    String mode;

    @Option(
        names = "--points",
        paramLabel = "points.csv",
        description =
            "also write the level points (study_id,series_id,condition,level,x,y,instance_number; pixels of the series)")
    Path points;

    @Option(
        names = "--report",
        paramLabel = "DIR",
        description =
            "also write DIR/<study>.json (points, grades, timings, notes) and DIR/<study>.png")
    Path report;

    @Option(
        names = "--device",
        paramLabel = "cpu|cuda",
        defaultValue = "cpu",
        description = "where the networks run (default ${DEFAULT-VALUE})")
    String device;

    @Option(
        names = "--gt-heatmaps",
        description =
            "the write-up's upper bound: the one-stage grades pooled with the heatmaps of the label"
                + " points (DIR/train_label_coordinates.csv; --split train) where they are known")
    boolean gtHeatmaps;

    @Override
    public Integer call() throws IOException {
      if (!split.equals("train") && !split.equals("test")) {
        throw new IllegalArgumentException("--split: expected train or test, got " + split);
      }
      Cli.existing("lumbar predict --model", model);
      Cli.existing("lumbar predict --data", data);
      Path csv = data.resolve(split + "_series_descriptions.csv");
      Path images = data.resolve(split + "_images");
      Cli.existing("lumbar predict --data", csv);
      List<Rsna2024.SeriesDescription> desc = Rsna2024.readSeriesDescriptions(csv);
      Set<Long> studies = new LinkedHashSet<>();
      for (Rsna2024.SeriesDescription d : desc) studies.add(d.studyId());
      if (studies.isEmpty()) throw new IllegalArgumentException(csv + ": no study");
      LumbarPredictor.Mode m = LumbarPredictor.Mode.parse(mode);
      if (report != null) Files.createDirectories(report);
      // The label points, when the split has them, for the pictures.
      List<Rsna2024.LabelCoordinate> truth = List.of();
      Path coords = data.resolve(Rsna2024.COORDINATES_CSV);
      if (report != null && split.equals("train") && Files.isRegularFile(coords)) {
        truth = Rsna2024.readCoordinates(coords);
      }
      List<Rsna2024.LabelCoordinate> labelled = null;
      if (gtHeatmaps) {
        if (!split.equals("train") || !Files.isRegularFile(coords)) {
          throw new IllegalArgumentException(
              "--gt-heatmaps: needs --split train and " + coords + " (the label points)");
        }
        labelled = Rsna2024.readCoordinates(coords);
      }
      PrintStream log = System.out;
      List<Rsna2024.Prediction> rows = new ArrayList<>();
      List<LumbarPoints.Point> pts = new ArrayList<>();
      Map<String, Double> sums = new LinkedHashMap<>();
      int failed = 0;
      List<Long> ids = new ArrayList<>(studies);
      // The next study is read and prepared on a second thread while the nets run on this one.
      ExecutorService reader =
          Executors.newSingleThreadExecutor(DaemonThreads.named("spinekit-lumbar-reader"));
      try (LumbarPredictor p = LumbarPredictor.load(model, m, CervicalRun.device(device))) {
        ProgressBar bar = ProgressBar.console();
        bar.start("predict", ids.size());
        Future<LumbarPredictor.Prepared> next = read(reader, p, ids.get(0), images, desc);
        double wall = 0, waited = 0;
        for (int i = 0; i < ids.size(); i++) {
          long id = ids.get(i);
          long t0 = System.nanoTime();
          LumbarPredictor.Prepared cur = take(next, id);
          double wait = (System.nanoTime() - t0) / 1e9;
          if (i + 1 < ids.size()) next = read(reader, p, ids.get(i + 1), images, desc);
          LumbarPredictor.Result r =
              labelled == null
                  ? p.predict(cur, s -> {})
                  : p.predictWithTruthHeatmaps(cur, s -> {}, labelled);
          rows.addAll(r.rows());
          for (LumbarPredictor.Point q : r.points()) {
            pts.add(
                new LumbarPoints.Point(
                    id, q.seriesId(), q.condition(), q.level(), q.x(), q.y(), q.instanceNumber()));
          }
          if (r.points().isEmpty()) failed++;
          for (var e : r.seconds().entrySet()) sums.merge(e.getKey(), e.getValue(), Double::sum);
          Map<String, Double> t = r.seconds();
          double total = wait + t.get("total");
          wall += total;
          waited += wait;
          log.printf(
              Locale.ROOT,
              "%d: %.2f s (waiting for input %.2f, forward %.2f, crops %.2f, other %.2f; forward"
                  + " %.0f%%; read %.2f and prepare %.2f beside the previous study)%s%n",
              id,
              total,
              wait,
              t.get("forward"),
              t.get("crops"),
              t.get("other"),
              100 * t.get("forward") / Math.max(1e-9, total),
              t.get("read"),
              t.get("prepare"),
              r.notes().isEmpty() ? "" : " " + String.join("; ", r.notes()));
          if (report != null) {
            writeReport(report, r);
            writePicture(report.resolve(id + ".png"), r, truth);
          }
          bar.update(i + 1, Double.NaN);
        }
        int n = ids.size();
        bar.end(
            String.format(
                Locale.ROOT,
                "%d studies, %d without any point; mean per study %.2f s (waiting for input %.2f,"
                    + " forward %.2f, crops %.2f, other %.2f; forward %.0f%%; read %.2f and"
                    + " prepare %.2f beside)",
                n,
                failed,
                wall / n,
                waited / n,
                sums.get("forward") / n,
                sums.get("crops") / n,
                sums.get("other") / n,
                100 * sums.get("forward") / Math.max(1e-9, wall),
                sums.get("read") / n,
                sums.get("prepare") / n));
      } finally {
        reader.shutdownNow();
      }
      Rsna2024.writeSubmission(out, rows);
      log.println("wrote " + out + " (" + rows.size() + " rows)");
      if (points != null) {
        LumbarPoints.write(points, pts);
        log.println("wrote " + points + " (" + pts.size() + " points)");
      }
      return failed == studies.size() ? Cli.FAILED : Cli.OK;
    }

    /** The spinal canal slice: predicted and true level points, the heatmaps, the grade map. */
    private static void writePicture(
        Path png, LumbarPredictor.Result r, List<Rsna2024.LabelCoordinate> truth)
        throws IOException {
      LumbarPredictor.Maps m = r.maps();
      if (m == null) return;
      List<LumbarOverlay.Mark> marks = new ArrayList<>();
      Level[] levels = Level.values();
      for (int k = 0; k < m.points().length; k++) {
        marks.add(
            new LumbarOverlay.Mark(levels[k].label, m.points()[k][0], m.points()[k][1], false));
      }
      for (Rsna2024.LabelCoordinate c : truth) {
        if (c.studyId() != r.studyId()
            || c.seriesId() != m.seriesId()
            || c.condition() != Condition.SPINAL_CANAL_STENOSIS) {
          continue;
        }
        marks.add(new LumbarOverlay.Mark(c.level().label, m.imageX(c.x()), m.imageY(c.y()), true));
      }
      String title =
          String.format(
              Locale.ROOT,
              "study %d: Sagittal T2/STIR series %d, stack slice %d; spinal canal levels"
                  + " (dots predicted, rings labelled)",
              r.studyId(),
              m.seriesId(),
              m.slice());
      LumbarOverlay.write(
          png,
          title,
          List.of(
              new LumbarOverlay.Panel(
                  "spinal canal stenosis",
                  m.image(),
                  m.size(),
                  m.size(),
                  marks,
                  m.heat(),
                  m.grid(),
                  m.grid(),
                  m.grade())));
    }

    private static Future<LumbarPredictor.Prepared> read(
        ExecutorService reader,
        LumbarPredictor p,
        long id,
        Path images,
        List<Rsna2024.SeriesDescription> desc) {
      return reader.submit(() -> p.prepare(id, images.resolve(Long.toString(id)), desc));
    }

    /** The prepared study; one that could not be read at all has no series (its rows: priors). */
    private static LumbarPredictor.Prepared take(Future<LumbarPredictor.Prepared> f, long id) {
      try {
        return f.get();
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        return new LumbarPredictor.Prepared(
            id, Map.of(), Map.of(), List.of("study " + id + " unreadable: " + c), 0, 0);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while reading study " + id, e);
      }
    }

    private static void writeReport(Path dir, LumbarPredictor.Result r) throws IOException {
      Map<String, Object> m = LumbarResult.of(r, Map.of()).toJson();
      AtomicFiles.write(
          dir.resolve(r.studyId() + ".json"),
          (Json.write(m) + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  @Command(
      name = "demo",
      description = {
        "the lumbar system on synthetic data, end to end: generates a training set (96 studies"
            + " with grades and label points, 8 test studies) and a held-out set of another seed"
            + " (16 studies), trains the cpu-small preset (one-stage and two-stage networks),"
            + " predicts the test studies (submission, points, per-study JSON and PNG), then"
            + " predicts and scores the held-out set (the competition's score, the point accuracy"
            + " table). About 5 minutes on 2 cores; every step resumes or reuses what DIR already"
            + " holds."
      })
  static final class Demo implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--out",
        paramLabel = "DIR",
        defaultValue = "lumbar-demo",
        description = "where data, bundle and outputs go (default ${DEFAULT-VALUE})")
    Path out;

    @Option(
        names = "--max-steps",
        paramLabel = "N",
        defaultValue = "0",
        description = "train at most N steps per network (0: the preset's epochs)")
    int maxSteps;

    @Override
    public Integer call() throws IOException {
      PrintStream log = System.out;
      Path data = out.resolve("data"), held = out.resolve("heldout"), run = out.resolve("run");
      if (!Files.isRegularFile(data.resolve(Rsna2024.TRAIN_CSV))) {
        generated(log, data, LumbarSynth.Config.small(100).withStudies(96).withTestStudies(8));
      }
      if (!Files.isRegularFile(held.resolve(Rsna2024.TRAIN_CSV))) {
        generated(log, held, LumbarSynth.Config.small(201).withStudies(16).withTestStudies(0));
      }
      Train t = new Train();
      t.spec = spec;
      t.data = data;
      t.out = run;
      t.model = "all";
      t.train = new TrainOptions();
      t.train.preset = "cpu-small";
      t.train.device = "cpu";
      t.train.maxSteps = maxSteps;
      t.train.checkpointEvery = 200;
      t.call();
      Predict p = predict(run, data, "test", out.resolve("submission.csv"));
      p.report = out.resolve("report");
      p.points = out.resolve("points.csv");
      p.call();
      Predict h = predict(run, held, "train", out.resolve("heldout-submission.csv"));
      h.report = out.resolve("heldout-report");
      h.points = out.resolve("heldout-points.csv");
      h.call();
      LumbarCommand.Score s = new LumbarCommand.Score();
      s.spec = spec;
      s.data = held;
      s.pred = h.out;
      s.points = h.points;
      s.grid = LumbarBundle.load(run).config().grid();
      int rc = s.call();
      log.println(
          "pictures: "
              + p.report
              + "/*.png (test studies), "
              + h.report
              + "/*.png (held-out studies, with the labelled points); curves: "
              + run
              + "/<net>/fold0/logs/curves.png");
      return rc;
    }

    private static void generated(PrintStream log, Path dir, LumbarSynth.Config c)
        throws IOException {
      LumbarSynth.Summary s = LumbarSynth.generate(dir, c);
      log.printf(
          Locale.ROOT,
          "%s: %d studies (seed %d) in %.1f s%n",
          dir,
          s.studies(),
          c.seed(),
          s.seconds());
    }

    private static Predict predict(Path run, Path data, String split, Path out) {
      Predict p = new Predict();
      p.model = run;
      p.data = data;
      p.split = split;
      p.out = out;
      p.mode = "blend";
      p.device = "cpu";
      return p;
    }
  }
}
