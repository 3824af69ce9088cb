package org.spinekit.cervical;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.io.Volume;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.ops.CropSample;
import org.spinekit.ops.Window;
import org.spinekit.tensor.Tensors;

/**
 * The trained cervical system of a {@link CervicalBundle}: a study's series -> 2.5D segmentation
 * (the folds' Unets) -> cleaned label volume -> per-vertebra boxes -> crops of {@code clsSlices}
 * slices -> the folds' classifiers (mean of their probabilities) -> seven vertebra probabilities
 * and patient_overall by the bundle's rule. A vertebra the segmentation does not find gets its
 * training prevalence and is flagged, never a guess from elsewhere.
 *
 * <p>Safe to call from several threads once loaded (the networks run in eval mode and keep no state
 * between calls); each call is one {@link PointerScope}, so native memory does not grow with the
 * number of studies. {@link #close} must not overlap a call ({@code org.spinekit.serve} keeps them
 * apart).
 */
public final class CervicalPredictor implements AutoCloseable {
  /**
   * Where a study's time went, seconds.
   *
   * @param decode reading the DICOM series
   * @param stack 2.5D stacking, windowing and resizing
   * @param segForward the Unets' forward passes
   * @param labels resizing the labels back, removing small components, boxes
   * @param crop cropping and resampling the vertebrae
   * @param clsForward the classifiers' forward passes
   */
  public record Timings(
      double decode,
      double stack,
      double segForward,
      double labels,
      double crop,
      double clsForward) {
    public double total() {
      return decode + stack + segForward + labels + crop + clsForward;
    }

    /** The forward passes' share of the total. */
    public double forwardShare() {
      double t = total();
      return t == 0 ? 0 : (segForward + clsForward) / t;
    }
  }

  /**
   * A study's prediction.
   *
   * @param studyUid the study
   * @param vertebrae probabilities of C1..C7 (the prior where not found)
   * @param patient patient_overall
   * @param boxes C1..C7 as found (or not) on the series' grid
   * @param labels the cleaned label volume [slices * rows * columns]
   * @param ct the series, for reports
   * @param timings where the time went
   * @param notes what was odd (skipped files, vertebrae not found)
   */
  public record StudyPrediction(
      String studyUid,
      double[] vertebrae,
      double patient,
      List<VertebraBoxes.Entry> boxes,
      short[] labels,
      Volume ct,
      Timings timings,
      List<String> notes) {
    public StudyPrediction {
      vertebrae = vertebrae.clone();
      boxes = List.copyOf(boxes);
      notes = List.copyOf(notes);
    }

    @Override
    public double[] vertebrae() {
      return vertebrae.clone();
    }
  }

  private final CervicalBundle bundle;
  private final CervicalConfig config;
  private final CervicalSegmenter segmenter;
  private final List<org.spinekit.nn.Unet> segNets;
  private final List<CervicalClassifier> clsNets;
  private final double[] priors;
  private final double patientPrior;
  private final String rule;
  private final Device device;

  private CervicalPredictor(
      CervicalBundle bundle,
      List<org.spinekit.nn.Unet> segNets,
      List<CervicalClassifier> clsNets,
      double[] priors,
      double patientPrior,
      String rule,
      Device device) {
    this.bundle = bundle;
    this.config = bundle.config();
    this.segNets = segNets;
    this.clsNets = clsNets;
    this.priors = priors;
    this.patientPrior = patientPrior;
    this.rule = rule;
    this.device = device;
    this.segmenter =
        new CervicalSegmenter(
            segNets,
            config.segSize(),
            new Window(config.windowCenter(), config.windowWidth()),
            config.segBatch(),
            device);
  }

  /**
   * Loads the bundle at {@code dir}: every fold's weights of both stages present, checked against
   * the configuration's networks.
   *
   * @param device where the networks run (null: CPU)
   */
  public static CervicalPredictor load(Path dir, Device device) throws IOException {
    CervicalBundle b = CervicalBundle.load(dir);
    List<Integer> seg = b.trainedFolds("seg"), cls = b.trainedFolds("cls");
    if (seg.isEmpty() || cls.isEmpty()) {
      throw new IllegalArgumentException(
          dir
              + ": the bundle lacks "
              + (seg.isEmpty() ? "segmentation" : "classifier")
              + " weights (train it with --stage all)");
    }
    Object r = b.get("patientRule");
    if (!(r instanceof String rule) || !(rule.equals("max") || rule.equals("noisy_or"))) {
      throw new IllegalArgumentException(
          dir + ": bundle.json has no patientRule (stage cls did not finish)");
    }
    List<Double> p = CervicalModels.priors(b);
    double[] priors = new double[7];
    for (int i = 0; i < 7; i++) priors[i] = p.get(i);
    List<org.spinekit.nn.Unet> segNets = CervicalModels.segNets(b, seg, device);
    try {
      List<CervicalClassifier> clsNets = CervicalModels.clsNets(b, cls, device);
      return new CervicalPredictor(b, segNets, clsNets, priors, p.get(7), rule, device);
    } catch (IOException | RuntimeException e) {
      for (var n : segNets) n.close();
      throw e;
    }
  }

  public CervicalConfig config() {
    return config;
  }

  public Path bundle() {
    return bundle.dir();
  }

  /** The patient rule in use. */
  public String patientRule() {
    return rule;
  }

  /** The prediction of the study whose series is in {@code dir} (bad files skipped, noted). */
  public StudyPrediction predict(String studyUid, Path dir) throws IOException {
    long t0 = System.nanoTime();
    List<String> notes = new ArrayList<>();
    Consumer<String> log = notes::add;
    Volume ct = CervicalTraining.readSeries(dir, log, studyUid);
    double decode = (System.nanoTime() - t0) / 1e9;
    return predict(studyUid, ct, decode, notes);
  }

  /** The prediction of {@code ct}, a series already read. */
  public StudyPrediction predict(String studyUid, Volume ct) {
    return predict(studyUid, ct, 0, new ArrayList<>());
  }

  private StudyPrediction predict(String uid, Volume ct, double decode, List<String> notes) {
    CervicalSegmenter.Result s = segmenter.segment(ct);
    long t0 = System.nanoTime();
    short[] labels =
        VertebraBoxes.clean(s.labels(), ct.slices(), ct.rows(), ct.columns(), config.minVoxels());
    List<VertebraBoxes.Entry> boxes =
        VertebraBoxes.boxes(uid, labels, ct.slices(), ct.rows(), ct.columns(), ct.sources());
    long t1 = System.nanoTime();
    double[] p = priors.clone();
    double crop = 0, forward = 0;
    List<VertebraBoxes.Entry> found = new ArrayList<>();
    for (VertebraBoxes.Entry e : boxes) {
      if (e.found()) {
        found.add(e);
      } else {
        notes.add("C" + e.vertebra() + " not found: training prevalence " + p[e.vertebra() - 1]);
      }
    }
    if (!found.isEmpty()) {
      try (PointerScope scope = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        long c0 = System.nanoTime();
        CropSample.Options o = CervicalModels.cropOptions(config);
        TensorVector crops = new TensorVector();
        for (VertebraBoxes.Entry e : found) {
          crops.push_back(CropSample.sample(ct, e.box(), o));
        }
        Tensor x = torch.stack(crops);
        if (device != null) x = x.to(device, x.scalar_type());
        long c1 = System.nanoTime();
        // In batches of clsBatch crops: all seven at once would hold 7 x 24 slices'
        // activations (gigabytes at the seed preset's 224 px).
        float[] q = new float[found.size()];
        int step = Math.max(1, config.clsBatch());
        for (int a = 0; a < found.size(); a += step) {
          try (PointerScope chunk = new PointerScope()) {
            int n = Math.min(step, found.size() - a);
            Tensor part = x.narrow(0, a, n);
            Tensor sum = null;
            for (CervicalClassifier net : clsNets) {
              Tensor pr = torch.sigmoid(net.forward(part));
              sum = sum == null ? pr : sum.add(pr);
            }
            System.arraycopy(Tensors.floats(sum), 0, q, a, n);
          }
        }
        long c2 = System.nanoTime();
        for (int i = 0; i < found.size(); i++) {
          p[found.get(i).vertebra() - 1] = q[i] / clsNets.size();
        }
        crop = (c1 - c0) / 1e9;
        forward = (c2 - c1) / 1e9;
      }
    }
    Timings t =
        new Timings(
            decode,
            s.stackSeconds(),
            s.forwardSeconds(),
            s.resizeSeconds() + (t1 - t0) / 1e9,
            crop,
            forward);
    return new StudyPrediction(
        uid, p, CervicalModels.patient(p, rule), boxes, labels, ct, t, notes);
  }

  /**
   * The networks by stage ({@code seg}: the folds' Unets, {@code cls}: the folds' classifiers), in
   * eval mode, owned by this predictor: for callers that run them on inputs of their own.
   */
  public java.util.Map<String, List<? extends org.spinekit.nn.Net>> networks() {
    return java.util.Map.of("seg", List.copyOf(segNets), "cls", List.copyOf(clsNets));
  }

  /** The eight submission rows of a prediction (C1..C7, patient_overall). */
  public static List<Rsna2022.Prediction> rows(StudyPrediction p) {
    return CervicalModels.rows(p.studyUid(), p.vertebrae(), p.patient());
  }

  /**
   * The rows of a study that could not be predicted: the training prevalences of C1..C7 and of
   * patient_overall.
   */
  public List<Rsna2022.Prediction> priorRows(String studyUid) {
    return CervicalModels.rows(studyUid, priors, patientPrior);
  }

  @Override
  public synchronized void close() {
    for (var n : segNets) n.close();
    for (var n : clsNets) n.close();
    segNets.clear();
    clsNets.clear();
  }

  @Override
  public String toString() {
    return "CervicalPredictor["
        + bundle.dir()
        + ", folds seg "
        + segNets.size()
        + ", cls "
        + clsNets.size()
        + ", rule "
        + rule
        + ", priors "
        + Arrays.toString(priors)
        + "]";
  }
}
