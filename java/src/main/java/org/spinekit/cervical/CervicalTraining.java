package org.spinekit.cervical;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.dist.DistGroup;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.loss.BinaryCrossEntropy;
import org.spinekit.loss.CrossEntropy;
import org.spinekit.loss.DiceLoss;
import org.spinekit.nn.Unet;
import org.spinekit.ops.CropSample;
import org.spinekit.ops.Window;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.train.Adam;
import org.spinekit.train.Batch;
import org.spinekit.train.DataLoader;
import org.spinekit.train.Dataset;
import org.spinekit.train.Ema;
import org.spinekit.train.Folds;
import org.spinekit.train.History;
import org.spinekit.train.Mode;
import org.spinekit.train.ProgressBar;
import org.spinekit.train.Recipe;
import org.spinekit.train.Step;
import org.spinekit.train.Validation;

/**
 * Trains the cervical system of the RSNA 2022 write-up into a {@link CervicalBundle}, stage by
 * stage, each one resumable:
 *
 * <ol>
 *   <li>{@code seg}: per fold, a Unet on the 2.5D stacks of the studies with a segmentation ({@link
 *       SegmentationSlices}; cross entropy + Dice, AdamW, gradual warm-up + cosine); the slice
 *       caches, checkpoints and logs persist, so a killed run continues where it stopped.
 *   <li>{@code crops}: every training study segmented by the folds' Unets ({@link
 *       CervicalSegmenter}), cleaned and boxed ({@link VertebraBoxes}), one file per study (a rerun
 *       skips the studies done), merged into {@code crops.csv}; Dice against the masks where there
 *       are masks.
 *   <li>{@code cls}: per fold, the {@link CervicalClassifier} on lazy crops of those boxes ({@link
 *       CervicalCrops}), loss weighted 1 / 2 for negative / positive vertebrae as the metric weighs
 *       them; the validation studies' predictions choose the patient rule.
 * </ol>
 *
 * A bad study (no readable series, a mask that does not match it) is reported and left out; the
 * others go on.
 */
public final class CervicalTraining {
  private CervicalTraining() {}

  /** The stages {@code --stage} names. */
  public enum Stage {
    SEG,
    CROPS,
    CLS,
    ALL;

    /** {@code seg}, {@code crops}, {@code cls} or {@code all}. */
    public static Stage parse(String s) {
      for (Stage v : values()) if (v.name().toLowerCase(Locale.ROOT).equals(s)) return v;
      throw new IllegalArgumentException("stage: expected seg, crops, cls or all, got " + s);
    }

    boolean includes(Stage s) {
      return this == ALL || this == s;
    }
  }

  /**
   * What to train.
   *
   * @param data a directory in the RSNA 2022 layout
   * @param run the bundle directory (created, or continued)
   * @param config the settings
   * @param stage the stage(s) to run
   * @param folds the folds to train now (null: the configuration's)
   * @param device where the networks run (null: CPU)
   * @param maxSteps at most this many optimiser steps per stage and fold, in one epoch (0: the
   *     configured epochs); for smoke tests
   * @param workers loader threads
   * @param checkpointEvery also checkpoint every this many optimiser steps (0: at epoch ends only)
   * @param progress progress bars (null: none)
   * @param log one line per event (never null)
   * @param dist the process group of a data-parallel run (null: this process alone): the networks
   *     train on every rank with synchronised batch norm, the studies to prepare and segment are
   *     shared out by rank, and rank 0 alone writes the bundle
   */
  public record Options(
      Path data,
      Path run,
      CervicalConfig config,
      Stage stage,
      int[] folds,
      Device device,
      int maxSteps,
      int workers,
      int checkpointEvery,
      ProgressBar progress,
      Consumer<String> log,
      DistGroup dist) {
    public Options {
      if (data == null || run == null || config == null || stage == null || log == null) {
        throw new IllegalArgumentException(
            "options: data, run, config, stage and log are required");
      }
      if (maxSteps < 0)
        throw new IllegalArgumentException("maxSteps: expected >= 0, got " + maxSteps);
      if (workers < 1) throw new IllegalArgumentException("workers: expected >= 1, got " + workers);
      if (checkpointEvery < 0) {
        throw new IllegalArgumentException(
            "checkpointEvery: expected >= 0, got " + checkpointEvery);
      }
      if (folds != null) {
        folds = folds.clone();
        for (int f : folds) {
          if (f < 0 || f >= config.folds()) {
            throw new IllegalArgumentException(
                "fold: expected 0.." + (config.folds() - 1) + ", got " + f);
          }
        }
      }
    }
  }

  /** Runs the stages of {@code o}; returns the bundle. */
  public static CervicalBundle run(Options o) throws IOException {
    CervicalConfig c = o.config();
    Rsna2022.Dataset d = Rsna2022.open(o.data());
    List<Rsna2022.CervicalLabel> labels = new ArrayList<>();
    for (Rsna2022.CervicalLabel l : d.train()) {
      if (c.excluded().contains(l.studyUid())) {
        o.log().accept("excluded (configuration): " + l.studyUid());
      } else {
        labels.add(l);
      }
    }
    if (labels.size() < c.folds()) {
      throw new IllegalArgumentException(
          o.data()
              + ": "
              + labels.size()
              + " training studies, fewer than the "
              + c.folds()
              + " folds");
    }
    List<String> segUids = new ArrayList<>();
    for (Rsna2022.CervicalLabel l : labels) {
      if (d.segmentations().containsKey(l.studyUid())) segUids.add(l.studyUid());
    }
    if (o.stage().includes(Stage.SEG) && segUids.size() < c.folds()) {
      throw new IllegalArgumentException(
          o.data()
              + ": "
              + segUids.size()
              + " training studies have a segmentation in "
              + Rsna2022.SEGMENTATIONS_DIR
              + "/, fewer than the "
              + c.folds()
              + " folds");
    }
    Map<String, Map<String, Integer>> split = new LinkedHashMap<>();
    split.put("seg", foldsOf(segUids, null, c));
    String[] all = labels.stream().map(Rsna2022.CervicalLabel::studyUid).toArray(String[]::new);
    int[] strata = labels.stream().mapToInt(l -> l.patientOverall() ? 1 : 0).toArray();
    split.put("cls", foldsOf(Arrays.asList(all), strata, c));
    // Rank 0 creates (or checks) the bundle; the others check it once it is there.
    CervicalBundle b =
        recipe(o).openBundle(() -> CervicalBundle.openForTraining(o.run(), c, split));
    b.put("priors", priors(labels));
    int[] folds = o.folds() != null ? o.folds() : c.foldsToTrain();
    if (o.stage().includes(Stage.SEG)) {
      for (int f : folds) trainSeg(o, d, b, f);
    }
    if (o.stage().includes(Stage.CROPS)) crops(o, d, b, labels);
    if (o.stage().includes(Stage.CLS)) {
      for (int f : folds) trainCls(o, d, b, f);
      choosePatientRule(o, b);
    }
    return b;
  }

  private static Map<String, Integer> foldsOf(List<String> uids, int[] strata, CervicalConfig c) {
    Map<String, Integer> out = new LinkedHashMap<>();
    if (uids.size() < c.folds()) return out;
    String[] g = uids.toArray(String[]::new);
    Folds f =
        strata == null
            ? Folds.byGroup(g, c.folds(), c.seed())
            : Folds.byGroupStratified(g, strata, c.folds(), c.seed());
    for (int i = 0; i < g.length; i++) out.put(g[i], f.fold(i));
    return out;
  }

  /** Training prevalence of C1..C7 and patient_overall. */
  private static List<Double> priors(List<Rsna2022.CervicalLabel> labels) {
    double[] p = new double[8];
    for (Rsna2022.CervicalLabel l : labels) {
      for (int v = 1; v <= 7; v++) if (l.fractured(v)) p[v - 1]++;
      if (l.patientOverall()) p[7]++;
    }
    List<Double> out = new ArrayList<>();
    for (double x : p) out.add(x / labels.size());
    return out;
  }

  // ------------------------------------------------------------------------- stage 1

  private static void trainSeg(Options o, Rsna2022.Dataset d, CervicalBundle b, int fold)
      throws IOException {
    CervicalConfig c = o.config();
    if (Files.isRegularFile(b.segWeights(fold))) {
      o.log().accept("seg fold " + fold + ": done (" + b.segWeights(fold) + ")");
      return;
    }
    Map<String, Integer> split = b.folds("seg");
    List<SegmentationSlices.Study> train = new ArrayList<>(), valid = new ArrayList<>();
    Path cache = b.cacheDir().resolve("seg" + c.segSize());
    Files.createDirectories(cache);
    List<String> uids = new ArrayList<>(split.keySet());
    if (o.progress() != null) o.progress().start("prepare slices", uids.size());
    int done = 0;
    // Each rank prepares its share of the caches, then every rank opens them all.
    for (int i = 0; i < uids.size(); i++) {
      Path file = cache.resolve(uids.get(i) + ".bin");
      if (mine(o, i) && !Files.isRegularFile(file)) {
        try {
          prepareStudy(o, d, uids.get(i), file);
        } catch (IOException | IllegalArgumentException e) {
          // reported below, where the study is left out
        }
      }
    }
    barrier(o);
    for (String uid : uids) {
      Path file = cache.resolve(uid + ".bin");
      try {
        if (!Files.isRegularFile(file)) prepareStudy(o, d, uid, file);
        SegmentationSlices.Study s = SegmentationSlices.Study.open(uid, file);
        (split.get(uid) == fold ? valid : train).add(s);
      } catch (IOException | IllegalArgumentException e) {
        o.log().accept("seg: study " + uid + " left out: " + e.getMessage());
      }
      if (o.progress() != null) o.progress().update(++done, Double.NaN);
    }
    if (o.progress() != null) o.progress().end("prepared " + uids.size() + " studies in " + cache);
    if (train.isEmpty() || valid.isEmpty()) {
      throw new IllegalArgumentException(
          "seg fold "
              + fold
              + ": no "
              + (train.isEmpty() ? "training" : "validation")
              + " study left");
    }
    Dataset trainSet =
        new SegmentationSlices(
            train, c.segSliceStep(), c.segAugment() ? CervicalAugment.pipeline() : null);
    Dataset validSet = new SegmentationSlices(valid, c.segSliceStep(), null);
    long t0 = System.nanoTime();
    // The initial weights depend on the seed and the fold only, not on what drew from
    // libtorch's generator before (the convolution guard's checks do, a varying number of times).
    NativeRuntime.seed(c.seed() * 1000 + fold);
    Unet net = CervicalModels.unet(c);
    int size = c.segSize();
    double vw = c.segVertebraWeight();
    CrossEntropy ce =
        vw == 1
            ? new CrossEntropy()
            : new CrossEntropy().withClassWeights(1, vw, vw, vw, vw, vw, vw, vw, 1);
    // Dice of the foreground classes only (as nnU-Net): with the background in the mean, the
    // small classes C1..C7 stayed at background for thousands of steps.
    DiceLoss dice = DiceLoss.multiclass().withoutBackground();
    double w = c.segDiceWeight();
    Step<Unet> step =
        (m, batch) -> {
          Tensor x = on(o.device(), batch.inputs());
          Tensor y =
              on(o.device(), batch.targets()).reshape(batch.size(), size, size).to(ScalarType.Long);
          Tensor logits = m.forward(x);
          Tensor l = ce.apply(logits, y);
          if (w > 0) l = l.add(dice.apply(logits, y).mul(new Scalar(w)));
          return Step.Result.of(l);
        };
    History h =
        fit(
            o,
            b.work("seg", fold),
            net,
            step,
            trainSet,
            validSet,
            c.segBatch(),
            c.segEpochs(),
            c.segLr(),
            c.segWarmup(),
            null,
            diceValidation(o.device(), size),
            "valid_dice",
            Mode.MAX);
    saveWeights(o, net, b.segWeights(fold), "seg", fold, c.segEncoder());
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("train_studies", train.size());
    r.put("valid_studies", valid.size());
    r.put("epochs", h.epochs().size());
    if (!h.epochs().isEmpty()) {
      r.putAll(h.epochs().get(h.epochs().size() - 1).metrics());
    }
    r.put("seconds", (System.nanoTime() - t0) / 1e9);
    record(b, "seg", fold, r);
    net.close();
    o.log().accept(String.format(Locale.ROOT, "seg fold %d: %s", fold, r));
  }

  private static void prepareStudy(Options o, Rsna2022.Dataset d, String uid, Path file)
      throws IOException {
    CervicalConfig c = o.config();
    Volume ct = readSeries(d.imageDirs().get(uid), o.log(), uid);
    Path seg = d.segmentations().get(uid);
    short[] labels;
    try {
      labels = VertebraBoxes.labelsOnSeries(seg, ct);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(uid + ": " + e.getMessage(), e);
    }
    SegmentationSlices.prepare(
        file, ct, labels, c.segSize(), new Window(c.windowCenter(), c.windowWidth()));
  }

  /** The series of a study, bad files skipped with a note. */
  static Volume readSeries(Path dir, Consumer<String> log, String uid) throws IOException {
    if (dir == null) throw new IOException(uid + ": no image directory");
    DicomSeriesReader.Read r =
        DicomSeriesReader.readReporting(
            dir, DicomSeriesReader.Options.defaults().withThreads(1).withSkipBadFiles(true));
    for (String s : r.skipped()) log.accept(uid + ": skipped " + s);
    return r.volume();
  }

  /** Mean Dice of C1..C7 over the whole validation set (classes absent from both left out). */
  private static Validation<Unet> diceValidation(Device device, int size) {
    return (model, loader, epoch) -> {
      long[] inter = new long[CervicalConfig.SEG_CLASSES];
      long[] sums = new long[CervicalConfig.SEG_CLASSES];
      double loss = 0;
      long n = 0;
      CrossEntropy ce = new CrossEntropy();
      for (var it = loader.epoch(epoch); it.hasNext(); ) {
        try (PointerScope scope = new PointerScope();
            Batch batch = it.next()) {
          Tensor y =
              on(device, batch.targets()).reshape(batch.size(), size, size).to(ScalarType.Long);
          Tensor logits = model.forward(on(device, batch.inputs()));
          loss += ce.apply(logits, y).item_double() * batch.size();
          n += batch.size();
          Tensor p = logits.argmax(new org.bytedeco.pytorch.LongOptional(1), false);
          for (int k = 1; k <= 7; k++) {
            Tensor pk = p.eq(new Scalar((long) k));
            Tensor yk = y.eq(new Scalar((long) k));
            inter[k] += pk.logical_and(yk).sum().item_long();
            sums[k] += pk.sum().item_long() + yk.sum().item_long();
          }
        }
      }
      double s = 0;
      int k = 0;
      for (int v = 1; v <= 7; v++) {
        if (sums[v] == 0) continue;
        s += 2.0 * inter[v] / sums[v];
        k++;
      }
      Map<String, Double> out = new LinkedHashMap<>();
      out.put("loss", loss / Math.max(1, n));
      out.put("dice", k == 0 ? Double.NaN : s / k);
      return out;
    };
  }

  // ------------------------------------------------------------------------- crops

  private static void crops(
      Options o, Rsna2022.Dataset d, CervicalBundle b, List<Rsna2022.CervicalLabel> labels)
      throws IOException {
    CervicalConfig c = o.config();
    List<Integer> folds = b.trainedFolds("seg");
    if (folds.isEmpty()) {
      throw new IllegalStateException(
          "stage crops needs the segmentation weights of stage seg: none in "
              + b.dir().resolve("seg"));
    }
    Files.createDirectories(b.cropsDir());
    List<Unet> nets = CervicalModels.segNets(b, folds, o.device());
    try {
      CervicalSegmenter seg =
          new CervicalSegmenter(
              nets,
              c.segSize(),
              new Window(c.windowCenter(), c.windowWidth()),
              c.segBatch(),
              o.device());
      if (o.progress() != null) o.progress().start("segment", labels.size());
      int done = 0, failed = 0;
      for (int i = 0; i < labels.size(); i++) {
        String uid = labels.get(i).studyUid();
        Path table = b.cropsDir().resolve(uid + ".csv");
        if (mine(o, i) && !Files.isRegularFile(table)) {
          try {
            cropStudy(o, d, uid, seg, table, b.cropsDir().resolve(uid + ".json"));
          } catch (IOException | IllegalArgumentException e) {
            failed++;
            o.log().accept("crops: study " + uid + " left out: " + e.getMessage());
          }
        }
        if (o.progress() != null) o.progress().update(++done, Double.NaN);
      }
      if (o.dist() != null) failed = (int) o.dist().sum(failed)[0];
      barrier(o);
      List<VertebraBoxes.Entry> all = new ArrayList<>();
      double diceSum = 0;
      int diced = 0, missing = 0;
      for (Rsna2022.CervicalLabel l : labels) {
        Path table = b.cropsDir().resolve(l.studyUid() + ".csv");
        if (!Files.isRegularFile(table)) continue;
        for (VertebraBoxes.Entry e : VertebraBoxes.read(table)) {
          all.add(e);
          if (!e.found()) missing++;
        }
        Path js = b.cropsDir().resolve(l.studyUid() + ".json");
        if (Files.isRegularFile(js)) {
          double v = readDice(js);
          if (!Double.isNaN(v)) {
            diceSum += v;
            diced++;
          }
        }
      }
      if (all.isEmpty()) throw new IOException("crops: no study could be segmented");
      if (writer(o)) VertebraBoxes.write(b.cropsCsv(), all);
      String summary =
          String.format(
              Locale.ROOT,
              "crops: %d studies boxed, %d failed, %d vertebrae not found; mean Dice C1..C7 %.4f over"
                  + " %d studies with masks",
              all.size() / 7,
              failed,
              missing,
              diced == 0 ? Double.NaN : diceSum / diced,
              diced);
      if (o.progress() != null) {
        o.progress().end(summary);
      } else {
        o.log().accept(summary);
      }
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("studies", all.size() / 7);
      r.put("failed", failed);
      r.put("missing_vertebrae", missing);
      r.put("mean_dice", diced == 0 ? null : diceSum / diced);
      b.put("crops", r);
      barrier(o);
    } finally {
      for (Unet n : nets) n.close();
    }
  }

  private static void cropStudy(
      Options o, Rsna2022.Dataset d, String uid, CervicalSegmenter seg, Path table, Path json)
      throws IOException {
    CervicalConfig c = o.config();
    long t0 = System.nanoTime();
    Volume ct = readSeries(d.imageDirs().get(uid), o.log(), uid);
    CervicalSegmenter.Result r = seg.segment(ct);
    short[] labels =
        VertebraBoxes.clean(r.labels(), ct.slices(), ct.rows(), ct.columns(), c.minVoxels());
    List<VertebraBoxes.Entry> boxes =
        VertebraBoxes.boxes(uid, labels, ct.slices(), ct.rows(), ct.columns(), ct.sources());
    double[] dice = null;
    Path segFile = d.segmentations().get(uid);
    if (segFile != null) {
      try {
        short[] truth = VertebraBoxes.labelsOnSeries(segFile, ct);
        dice = VertebraBoxes.dice(labels, truth, CervicalConfig.SEG_CLASSES);
      } catch (IllegalArgumentException e) {
        o.log().accept("crops: " + uid + ": " + e.getMessage() + "; no Dice");
      }
    }
    writeDice(json, dice, (System.nanoTime() - t0) / 1e9);
    VertebraBoxes.write(table, boxes);
  }

  /** Per-study record of stage crops: Dice per label 0..8 (null: no mask) and their C1..C7 mean. */
  private static void writeDice(Path json, double[] dice, double seconds) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    if (dice != null) {
      List<Double> d = new ArrayList<>();
      double s = 0;
      int k = 0;
      for (double v : dice) d.add(v);
      for (int v = 1; v <= 7; v++) {
        if (Double.isNaN(dice[v])) continue;
        s += dice[v];
        k++;
      }
      m.put("dice", d);
      m.put("mean_dice", k == 0 ? null : s / k);
    }
    m.put("seconds", seconds);
    org.spinekit.io.AtomicFiles.write(
        json, org.spinekit.io.json.Json.write(m).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private static double readDice(Path json) throws IOException {
    try {
      Object v = org.spinekit.io.json.Json.parse(Files.readString(json));
      Object d = v instanceof Map<?, ?> m ? m.get("mean_dice") : null;
      return d instanceof Number n ? n.doubleValue() : Double.NaN;
    } catch (org.spinekit.io.json.Json.SyntaxException e) {
      throw new org.spinekit.io.MalformedFileException(json, e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------------- stage 2

  private static void trainCls(Options o, Rsna2022.Dataset d, CervicalBundle b, int fold)
      throws IOException {
    CervicalConfig c = o.config();
    if (Files.isRegularFile(b.clsWeights(fold))) {
      o.log().accept("cls fold " + fold + ": done (" + b.clsWeights(fold) + ")");
      return;
    }
    if (!Files.isRegularFile(b.cropsCsv())) {
      throw new IllegalStateException(
          "stage cls needs the boxes of stage crops: no " + b.cropsCsv());
    }
    List<CervicalCrops.InstanceBox> boxes = new ArrayList<>();
    for (VertebraBoxes.Entry e : VertebraBoxes.read(b.cropsCsv())) {
      if (!e.found()) continue;
      int[] in = e.instances();
      int lo = Arrays.stream(in).min().orElseThrow(), hi = Arrays.stream(in).max().orElseThrow();
      boxes.add(
          new CervicalCrops.InstanceBox(
              e.studyUid(),
              e.vertebra(),
              lo,
              hi,
              e.rowMin(),
              e.rowMax(),
              e.columnMin(),
              e.columnMax()));
    }
    List<CervicalCrops.Crop> records = CervicalCrops.fromBoxes(o.data(), boxes, c.clsMarginZ());
    Map<String, Integer> split = b.folds("cls");
    List<CervicalCrops.Crop> train = new ArrayList<>(), valid = new ArrayList<>();
    for (CervicalCrops.Crop r : records) {
      Integer f = split.get(r.studyUid());
      if (f == null) continue;
      if (f == fold) {
        valid.add(r);
      } else {
        for (int k = r.fractured() ? c.clsPositiveRepeat() : 1; k > 0; k--) train.add(r);
      }
    }
    if (train.isEmpty() || valid.isEmpty()) {
      throw new IllegalArgumentException(
          "cls fold " + fold + ": no " + (train.isEmpty() ? "training" : "validation") + " crop");
    }
    CropSample.Options crop = CervicalModels.cropOptions(c);
    Dataset trainSet =
        new CervicalCrops(train, crop, c.clsAugment() ? CervicalAugment.pipeline() : null);
    Dataset validSet = new CervicalCrops(valid, crop, null);
    long t0 = System.nanoTime();
    NativeRuntime.seed(c.seed() * 1000 + 500 + fold);
    CervicalClassifier net = CervicalModels.classifier(c);
    BinaryCrossEntropy bce =
        new BinaryCrossEntropy()
            .withTargetWeights(new double[] {1}, new double[] {2.0 / c.clsPositiveRepeat()})
            .withNormalisation(BinaryCrossEntropy.Normalisation.WEIGHTS);
    Step<CervicalClassifier> step =
        (m, batch) ->
            Step.Result.of(
                bce.apply(
                    m.forward(on(o.device(), batch.inputs())), on(o.device(), batch.targets())));
    History h =
        fit(
            o,
            b.work("cls", fold),
            net,
            step,
            trainSet,
            validSet,
            c.clsBatch(),
            c.clsEpochs(),
            c.clsLr(),
            c.clsWarmup(),
            c.clsEma() > 0 ? Ema.Options.warmup(c.clsEma()) : null,
            null,
            "valid_loss",
            Mode.MIN);
    saveWeights(o, net, b.clsWeights(fold), "cls", fold, c.clsEncoder());
    // The validation studies' vertebra probabilities, for the patient rule.
    Map<String, double[]> probs = new LinkedHashMap<>();
    List<Double> priors = CervicalModels.priors(b);
    net.eval();
    try (DataLoader loader =
            new DataLoader(
                validSet,
                DataLoader.Options.of(c.clsBatch(), o.workers(), c.seed()).withShuffle(false));
        NoGradGuard g = new NoGradGuard()) {
      for (Batch batch : loader) {
        try (PointerScope scope = new PointerScope();
            batch) {
          float[] p =
              org.spinekit.tensor.Tensors.floats(
                  torch.sigmoid(net.forward(on(o.device(), batch.inputs()))));
          int[] idx = batch.indices();
          for (int i = 0; i < p.length; i++) {
            CervicalCrops.Crop r = valid.get(idx[i]);
            probs.computeIfAbsent(r.studyUid(), k -> priorsArray(priors))[r.vertebra() - 1] = p[i];
          }
        }
      }
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("train_crops", train.size()); // positives counted clsPositiveRepeat times
    r.put("valid_crops", valid.size());
    r.put("epochs", h.epochs().size());
    if (!h.epochs().isEmpty()) r.putAll(h.epochs().get(h.epochs().size() - 1).metrics());
    List<Rsna2022.CervicalLabel> truth = new ArrayList<>();
    for (Rsna2022.CervicalLabel l : d.train()) if (probs.containsKey(l.studyUid())) truth.add(l);
    for (String rule : List.of("max", "noisy_or")) {
      List<Rsna2022.Prediction> pred = new ArrayList<>();
      for (var e : probs.entrySet())
        pred.addAll(CervicalModels.rows(e.getKey(), e.getValue(), rule));
      CervicalMetric.Result m =
          CervicalMetric.score(truth, pred, CervicalMetric.Options.defaults());
      r.put("valid_score_" + rule, m.score());
      if (rule.equals("max")) r.put("valid_vertebra_auc", m.vertebraAuc());
    }
    r.put("seconds", (System.nanoTime() - t0) / 1e9);
    record(b, "cls", fold, r);
    net.close();
    o.log().accept(String.format(Locale.ROOT, "cls fold %d: %s", fold, r));
  }

  private static double[] priorsArray(List<Double> priors) {
    double[] a = new double[7];
    for (int i = 0; i < 7; i++) a[i] = priors.get(i);
    return a;
  }

  @SuppressWarnings("unchecked")
  private static void choosePatientRule(Options o, CervicalBundle b) throws IOException {
    String rule = o.config().patientRule();
    if (rule.equals("auto")) {
      double max = 0, or = 0;
      Object cls = b.get("cls");
      if (cls instanceof Map<?, ?> m) {
        for (Object v : m.values()) {
          Map<String, Object> f = (Map<String, Object>) v;
          max += ((Number) f.get("valid_score_max")).doubleValue();
          or += ((Number) f.get("valid_score_noisy_or")).doubleValue();
        }
      }
      rule = or < max ? "noisy_or" : "max";
    }
    b.put("patientRule", rule);
    o.log().accept("patient_overall rule: " + rule);
  }

  // ------------------------------------------------------------------------- shared

  private static <M extends org.spinekit.nn.Net> History fit(
      Options o,
      Path work,
      M net,
      Step<M> step,
      Dataset trainSet,
      Dataset validSet,
      int batch,
      int epochs,
      double lr,
      int warmup,
      Ema.Options ema,
      Validation<M> validation,
      String monitor,
      Mode mode)
      throws IOException {
    Recipe.Plan plan =
        new Recipe.Plan(batch, epochs, Adam.Options.adamW(lr), 0.01, warmup, ema, 5.0, true);
    return Recipe.fit(
        recipe(o), work, net, step, trainSet, validSet, plan, validation, monitor, mode);
  }

  private static Recipe.Run recipe(Options o) {
    return new Recipe.Run(
        o.device(),
        o.maxSteps(),
        o.workers(),
        o.checkpointEvery(),
        o.progress(),
        o.dist(),
        o.config().seed());
  }

  /** Whether this process writes the bundle: rank 0 of a data-parallel run, or the only one. */
  private static boolean writer(Options o) {
    return recipe(o).writer();
  }

  /** Waits for every rank (nothing when alone). */
  private static void barrier(Options o) {
    recipe(o).barrier();
  }

  /** Whether the i-th study of a shared-out list is this rank's to prepare. */
  private static boolean mine(Options o, int i) {
    return recipe(o).mine(i);
  }

  /** Rank 0 writes the weights; every rank returns once they are in place. */
  private static void saveWeights(
      Options o, org.spinekit.nn.Net net, Path file, String stage, int fold, String arch)
      throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("stage", stage);
    meta.put("fold", Integer.toString(fold));
    meta.put("arch", arch);
    Recipe.saveWeights(recipe(o), net, file, meta);
  }

  private static void record(CervicalBundle b, String stage, int fold, Map<String, Object> r)
      throws IOException {
    b.putIn(stage, Integer.toString(fold), r);
  }

  static Tensor on(Device device, Tensor t) {
    return device == null ? t : t.to(device, t.scalar_type());
  }
}
