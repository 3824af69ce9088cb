package org.spinekit.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.cervical.CervicalConfig;
import org.spinekit.cervical.CervicalOverlay;
import org.spinekit.cervical.CervicalPredictor;
import org.spinekit.cervical.CervicalTraining;
import org.spinekit.cervical.VertebraBoxes;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.Volume;
import org.spinekit.io.json.Json;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.io.nifti.Nifti;
import org.spinekit.io.nifti.NiftiImage;
import org.spinekit.serve.CervicalResult;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.train.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spinekit cervical train} and {@code spinekit cervical predict}. */
final class CervicalRun {
  private CervicalRun() {}

  /** {@code cpu} (null) or {@code cuda} (cuda:0, when CUDA is there). */
  static Device device(String name) {
    return switch (name) {
      case "cpu" -> null;
      case "cuda" -> {
        if (!torch.cuda_is_available()) {
          throw new IllegalStateException("--device cuda: libtorch sees no CUDA device here");
        }
        yield new Device("cuda:0");
      }
      default -> throw new IllegalArgumentException("--device: expected cpu or cuda, got " + name);
    };
  }

  @Command(
      name = "train",
      description = {
        "trains the two stages of the RSNA 2022 write-up into the bundle RUN: seg (the 2.5D"
            + " Unet on the studies with a segmentation), crops (every training study segmented,"
            + " C1..C7 boxed: RUN/crops.csv), cls (CNN + BiGRU + attention on 24-slice crops of"
            + " each vertebra). Each stage and fold resumes where a killed run stopped."
      })
  static final class Train implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--data",
        paramLabel = "DIR",
        required = true,
        description = "a directory in the RSNA 2022 Kaggle layout")
    Path data;

    @Option(
        names = "--out",
        paramLabel = "RUN",
        required = true,
        description = "the bundle directory (created or continued)")
    Path out;

    @Option(
        names = "--stage",
        paramLabel = "seg|crops|cls|all",
        defaultValue = "all",
        description = "the stage(s) to run (default ${DEFAULT-VALUE})")
    String stage;

    @Mixin TrainOptions train;

    @Override
    public Integer call() throws IOException {
      Cli.existing("cervical train --data", data);
      CervicalConfig c = train.configure(CervicalConfig.preset(train.preset), CervicalConfig::with);
      CervicalTraining.Stage st = CervicalTraining.Stage.parse(stage);
      train.run(
          p -> {
            CervicalTraining.Options o =
                new CervicalTraining.Options(
                    data,
                    out,
                    c,
                    st,
                    train.foldsToTrain(),
                    p.device(),
                    train.maxSteps,
                    Math.max(1, RuntimeOptions.of(spec).workers()),
                    train.checkpointEvery,
                    p.rank0() ? ProgressBar.console() : null,
                    p.log()::println,
                    p.group());
            long t0 = System.nanoTime();
            CervicalTraining.run(o);
            p.log()
                .printf(
                    Locale.ROOT,
                    "trained %s in %.1f s: %s%n",
                    stage,
                    (System.nanoTime() - t0) / 1e9,
                    out);
          });
      return Cli.OK;
    }
  }

  @Command(
      name = "predict",
      description = {
        "predicts every study of DIR/<split>_images with the bundle RUN and writes the Kaggle"
            + " submission (row_id,fractured; every row of every study: a study that fails gets the"
            + " training prevalences and a note). Prints each study's time breakdown."
      })
  static final class Predict implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--model",
        paramLabel = "RUN",
        required = true,
        description = "a bundle written by cervical train")
    Path model;

    @Option(
        names = "--data",
        paramLabel = "DIR",
        required = true,
        description = "a directory in the RSNA 2022 Kaggle layout")
    Path data;

    @Option(
        names = "--split",
        paramLabel = "train|test",
        defaultValue = "test",
        description = "the studies of DIR/<split>_images (default ${DEFAULT-VALUE})")
    String split;

    @Option(
        names = "--out",
        paramLabel = "submission.csv",
        required = true,
        description = "the submission (written atomically)")
    Path out;

    @Option(
        names = "--masks",
        paramLabel = "DIR",
        description =
            "also write each study's predicted labels as DIR/<UID>.nii (0, C1..C7 = 1..7, 8 thoracic; LAS, as the competition's segmentations/)")
    Path masks;

    @Option(
        names = "--report",
        paramLabel = "DIR",
        description =
            "also write DIR/<UID>.json (boxes, probabilities, timings, notes) and DIR/<UID>.png (axial and sagittal overlays)")
    Path report;

    @Option(
        names = "--device",
        paramLabel = "cpu|cuda",
        defaultValue = "cpu",
        description = "where the networks run (default ${DEFAULT-VALUE})")
    String device;

    @Override
    public Integer call() throws IOException {
      if (!split.equals("train") && !split.equals("test")) {
        throw new IllegalArgumentException("--split: expected train or test, got " + split);
      }
      Cli.existing("cervical predict --model", model);
      Path images = Cli.existing("cervical predict --data", data).resolve(split + "_images");
      if (!Files.isDirectory(images)) {
        throw new IllegalArgumentException("--data: " + images + " is not a directory");
      }
      List<Path> studies;
      try (Stream<Path> s = Files.list(images)) {
        studies = s.filter(Files::isDirectory).sorted().toList();
      }
      if (studies.isEmpty()) throw new IllegalArgumentException(images + ": no study directories");
      if (masks != null) Files.createDirectories(masks);
      if (report != null) Files.createDirectories(report);
      PrintStream log = System.out;
      List<Rsna2022.Prediction> rows = new ArrayList<>();
      int failed = 0;
      double[] sums = new double[7];
      double diceSum = 0;
      int diced = 0;
      Path segs = data.resolve(Rsna2022.SEGMENTATIONS_DIR);
      try (CervicalPredictor p = CervicalPredictor.load(model, device(device))) {
        ProgressBar bar = ProgressBar.console();
        bar.start("predict", studies.size());
        int done = 0;
        for (Path dir : studies) {
          String uid = dir.getFileName().toString();
          try {
            CervicalPredictor.StudyPrediction r = p.predict(uid, dir);
            rows.addAll(CervicalPredictor.rows(r));
            CervicalPredictor.Timings t = r.timings();
            double[] parts = {
              t.decode(), t.stack(), t.segForward(), t.labels(), t.crop(), t.clsForward(), t.total()
            };
            for (int i = 0; i < parts.length; i++) sums[i] += parts[i];
            double dice = dice(segs.resolve(uid + ".nii"), r, log);
            if (!Double.isNaN(dice)) {
              diceSum += dice;
              diced++;
            }
            log.printf(
                Locale.ROOT,
                "%s: %.2f s (decode %.2f, stack %.2f, seg forward %.2f, labels %.2f, crop %.2f, cls"
                    + " forward %.2f; forward %.0f%%)%s%s%n",
                uid,
                t.total(),
                t.decode(),
                t.stack(),
                t.segForward(),
                t.labels(),
                t.crop(),
                t.clsForward(),
                100 * t.forwardShare(),
                Double.isNaN(dice) ? "" : String.format(Locale.ROOT, " Dice C1..C7 %.4f", dice),
                r.notes().isEmpty() ? "" : " " + String.join("; ", r.notes()));
            if (masks != null) writeMask(masks.resolve(uid + ".nii"), r);
            if (report != null) writeReport(report, r);
          } catch (IOException | IllegalArgumentException e) {
            failed++;
            log.println(uid + ": failed, training prevalences written: " + e.getMessage());
            rows.addAll(p.priorRows(uid));
          }
          bar.update(++done, Double.NaN);
        }
        int ok = studies.size() - failed;
        if (diced > 0) {
          log.printf(
              Locale.ROOT,
              "mean Dice C1..C7 %.4f over %d studies with a segmentation%n",
              diceSum / diced,
              diced);
        }
        bar.end(
            String.format(
                Locale.ROOT,
                "%d studies predicted, %d failed; mean per study %.2f s (decode %.2f, stack %.2f,"
                    + " seg forward %.2f, labels %.2f, crop %.2f, cls forward %.2f)",
                ok,
                failed,
                sums[6] / Math.max(1, ok),
                sums[0] / Math.max(1, ok),
                sums[1] / Math.max(1, ok),
                sums[2] / Math.max(1, ok),
                sums[3] / Math.max(1, ok),
                sums[4] / Math.max(1, ok),
                sums[5] / Math.max(1, ok)));
      }
      Rsna2022.writeSubmission(out, rows);
      log.println("wrote " + out + " (" + rows.size() + " rows)");
      return failed == studies.size() ? Cli.FAILED : Cli.OK;
    }

    /**
     * The mean Dice of C1..C7 of a prediction against the study's segmentation, when {@code seg}
     * exists (NaN otherwise, when no vertebra is in either, or when the mask does not fit the
     * series: a note says so, the prediction stands).
     */
    private static double dice(Path seg, CervicalPredictor.StudyPrediction r, PrintStream log)
        throws IOException {
      if (!Files.isRegularFile(seg)) return Double.NaN;
      short[] truth;
      try {
        truth = VertebraBoxes.labelsOnSeries(seg, r.ct());
      } catch (IllegalArgumentException e) {
        log.println(r.studyUid() + ": no Dice: " + e.getMessage());
        return Double.NaN;
      }
      double[] d = VertebraBoxes.dice(r.labels(), truth, CervicalConfig.SEG_CLASSES);
      double s = 0;
      int k = 0;
      for (int v = 1; v <= 7; v++) {
        if (Double.isNaN(d[v])) continue;
        s += d[v];
        k++;
      }
      return k == 0 ? Double.NaN : s / k;
    }

    private static void writeMask(Path file, CervicalPredictor.StudyPrediction r)
        throws IOException {
      Volume ct = r.ct();
      Volume labels = ct.toBuilder().shorts(r.labels(), false, 1, 0).build();
      Nifti.write(NiftiImage.fromVolume(labels, "LAS", NiftiImage.Datatype.UINT8), file);
    }

    private static void writeReport(Path dir, CervicalPredictor.StudyPrediction r)
        throws IOException {
      Map<String, Object> m = CervicalResult.of(r, Map.of()).toJson();
      double[] v = r.vertebrae();
      AtomicFiles.write(
          dir.resolve(r.studyUid() + ".json"),
          (Json.write(m) + "\n").getBytes(StandardCharsets.UTF_8));
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < 7; i++) {
        text.append(String.format(Locale.ROOT, "C%d %.2f  ", i + 1, v[i]));
      }
      text.append(String.format(Locale.ROOT, "patient %.2f", r.patient()));
      CervicalOverlay.write(
          dir.resolve(r.studyUid() + ".png"), r.ct(), r.labels(), r.boxes(), text.toString());
    }
  }

  @Command(
      name = "demo",
      description = {
        "the cervical system on synthetic data, end to end: generates a training set (96 studies"
            + " with masks and labels, 8 test studies) and a held-out set of another seed (16"
            + " studies), trains the cpu-small preset, predicts the test studies (submission,"
            + " per-study JSON, PNG overlays, NIfTI masks), then predicts and scores the held-out"
            + " set (Dice, weighted log loss, AUCs). About 20 minutes on 2 cores; every step"
            + " resumes or reuses what DIR already holds."
      })
  static final class Demo implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--out",
        paramLabel = "DIR",
        defaultValue = "cervical-demo",
        description = "where data, bundle and outputs go (default ${DEFAULT-VALUE})")
    Path out;

    @Option(
        names = "--max-steps",
        paramLabel = "N",
        defaultValue = "0",
        description = "train at most N steps per stage (0: the preset's epochs)")
    int maxSteps;

    @Override
    public Integer call() throws IOException {
      PrintStream log = System.out;
      Path data = out.resolve("data"), held = out.resolve("heldout"), run = out.resolve("run");
      if (!Files.isRegularFile(data.resolve(Rsna2022.TRAIN_CSV))) {
        generated(log, data, CervicalSynth.Config.small(100).withStudies(96).withTestStudies(8));
      }
      if (!Files.isRegularFile(held.resolve(Rsna2022.TRAIN_CSV))) {
        generated(log, held, CervicalSynth.Config.small(201).withStudies(16).withTestStudies(0));
      }
      Train t = new Train();
      t.spec = spec;
      t.data = data;
      t.out = run;
      t.stage = "all";
      t.train = new TrainOptions();
      t.train.preset = "cpu-small";
      t.train.device = "cpu";
      t.train.maxSteps = maxSteps;
      t.train.checkpointEvery = 200;
      t.call();
      Predict p = predict(run, data, "test", out.resolve("submission.csv"));
      p.report = out.resolve("report");
      p.masks = out.resolve("masks");
      p.call();
      Predict h = predict(run, held, "train", out.resolve("heldout-submission.csv"));
      h.report = out.resolve("heldout-report");
      h.call();
      CervicalCommand.Score s = new CervicalCommand.Score();
      s.truth = held.resolve(Rsna2022.TRAIN_CSV);
      s.pred = h.out;
      int rc = s.call();
      log.println(
          "pictures: "
              + p.report
              + "/*.png (test studies), "
              + h.report
              + "/*.png (held-out studies); curves: "
              + run
              + "/{seg,cls}/fold0/logs/curves.png");
      return rc;
    }

    private static void generated(PrintStream log, Path dir, CervicalSynth.Config c)
        throws IOException {
      CervicalSynth.Summary s = CervicalSynth.generate(dir, c);
      log.printf(
          Locale.ROOT,
          "%s: %d training and %d test studies (seed %d, %d px) in %.1f s%n",
          dir,
          s.studies(),
          s.testStudies(),
          c.seed(),
          c.imageSize(),
          s.seconds());
    }

    private static Predict predict(Path run, Path data, String split, Path out) {
      Predict p = new Predict();
      p.model = run;
      p.data = data;
      p.split = split;
      p.out = out;
      p.device = "cpu";
      return p;
    }
  }
}
