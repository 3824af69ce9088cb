package org.spinekit.synth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import org.spinekit.internal.concurrent.Futures;
import org.spinekit.io.dicom.Compression;
import org.spinekit.io.dicom.DicomWriter;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.io.nifti.Nifti;
import org.spinekit.io.nifti.NiftiImage;

/**
 * Generates synthetic cervical spine CT studies in the layout of the RSNA 2022 Cervical Spine
 * Fracture Detection data set ({@code spinekit synth cervical}):
 *
 * <pre>
 * out/train_images/&lt;StudyInstanceUID&gt;/&lt;n&gt;.dcm   axial CT, n = 1 the most superior slice
 * out/segmentations/&lt;StudyInstanceUID&gt;.nii     labels 1..7 C1..C7, 8..19 T1..T12 (uint8, LAS)
 * out/train.csv                                StudyInstanceUID,patient_overall,C1,...,C7
 * out/train_bounding_boxes.csv                 one box per slice per fractured vertebra
 * out/test_images/&lt;StudyInstanceUID&gt;/&lt;n&gt;.dcm
 * out/test.csv, out/sample_submission.csv
 * out/synth_truth.csv                          per vertebra: fracture kind, centre, extent
 * </pre>
 *
 * <p>Each study's anatomy, fractures and noise come from (seed, study index) only, so studies are
 * generated in parallel on a fixed pool and the same {@link Config} gives byte-identical files,
 * compressed or not, whatever the thread count. About {@link Config#fractureRate()} of the studies
 * (rounded, chosen by the seed) have one to three fractured vertebrae among C1..C7.
 */
public final class CervicalSynth {
  private CervicalSynth() {}

  /** Excluded from training in the RSNA 2022 write-up; never used as synthetic study numbers. */
  private static final Set<Integer> RESERVED = Set.of(20574, 29952);

  private static final String STUDY_PREFIX = "1.2.826.0.1.3680043.";

  /** The ground truth table beside the Kaggle CSVs. */
  public static final String TRUTH_CSV = "synth_truth.csv";

  /** The test studies' images, as on Kaggle. */
  public static final String TEST_IMAGES_DIR = "test_images";

  /**
   * What to generate.
   *
   * @param studies training studies (images, masks, labels)
   * @param testStudies test studies (images only, listed in test.csv)
   * @param seed the seed every random choice derives from
   * @param imageSize rows and columns of every slice
   * @param pixelSpacing in-plane spacing, mm
   * @param sliceSpacing distance between slices, mm
   * @param lastVertebra label (8..19, T1..T12) of the vertebra through whose body the series ends;
   *     the vertebrae above it are whole, those below absent
   * @param fractureRate fraction of studies (of each split) with at least one fracture
   * @param compression transfer syntax of the DICOM files (all lossless)
   * @param threads worker threads; does not change the output
   */
  public record Config(
      int studies,
      int testStudies,
      long seed,
      int imageSize,
      double pixelSpacing,
      double sliceSpacing,
      int lastVertebra,
      double fractureRate,
      Compression compression,
      int threads) {
    public Config {
      if (studies < 0 || studies > 30000) {
        throw new IllegalArgumentException("studies: expected 0..30000, got " + studies);
      }
      if (testStudies < 0 || testStudies > 30000) {
        throw new IllegalArgumentException("testStudies: expected 0..30000, got " + testStudies);
      }
      if (studies + testStudies == 0) {
        throw new IllegalArgumentException(
            "studies: expected at least one study in all, got 0" + " training and 0 test studies");
      }
      if (imageSize < 64 || imageSize > 1024) {
        throw new IllegalArgumentException("imageSize: expected 64..1024 pixels, got " + imageSize);
      }
      if (!(pixelSpacing >= 0.2 && pixelSpacing <= 3)) {
        throw new IllegalArgumentException("pixelSpacing: expected 0.2..3 mm, got " + pixelSpacing);
      }
      if (!(sliceSpacing >= 0.2 && sliceSpacing <= 3)) {
        throw new IllegalArgumentException("sliceSpacing: expected 0.2..3 mm, got " + sliceSpacing);
      }
      if (lastVertebra < 8 || lastVertebra > 19) {
        throw new IllegalArgumentException(
            "lastVertebra: expected a label 8..19 (T1..T12), got " + lastVertebra);
      }
      if (!(fractureRate >= 0 && fractureRate <= 1)) {
        throw new IllegalArgumentException("fractureRate: expected 0..1, got " + fractureRate);
      }
      if (compression == null) {
        throw new IllegalArgumentException("compression: expected a Compression, got null");
      }
      if (threads < 1 || threads > 1024) {
        throw new IllegalArgumentException("threads: expected 1..1024, got " + threads);
      }
    }

    /**
     * For tests: 3 training and 1 test study of 128 x 128 pixels at 1 mm, 1 mm slices from the
     * skull base into T2 (about 180 slices each); a few seconds on two cores.
     */
    public static Config small(long seed) {
      return new Config(3, 1, seed, 128, 1.0, 1.0, 9, 0.5, Compression.NONE, defaultThreads());
    }

    /**
     * For the demo: 8 training and 2 test studies of 256 x 256 pixels at 0.7 mm, 0.8 mm slices from
     * the skull base into T3 (about 280 slices each).
     */
    public static Config demo(long seed) {
      return new Config(8, 2, seed, 256, 0.7, 0.8, 10, 0.5, Compression.NONE, defaultThreads());
    }

    public Config withStudies(int n) {
      return new Config(
          n,
          testStudies,
          seed,
          imageSize,
          pixelSpacing,
          sliceSpacing,
          lastVertebra,
          fractureRate,
          compression,
          threads);
    }

    public Config withTestStudies(int n) {
      return new Config(
          studies,
          n,
          seed,
          imageSize,
          pixelSpacing,
          sliceSpacing,
          lastVertebra,
          fractureRate,
          compression,
          threads);
    }

    public Config withSeed(long s) {
      return new Config(
          studies,
          testStudies,
          s,
          imageSize,
          pixelSpacing,
          sliceSpacing,
          lastVertebra,
          fractureRate,
          compression,
          threads);
    }

    public Config withImageSize(int size) {
      return new Config(
          studies,
          testStudies,
          seed,
          size,
          pixelSpacing,
          sliceSpacing,
          lastVertebra,
          fractureRate,
          compression,
          threads);
    }

    public Config withPixelSpacing(double mm) {
      return new Config(
          studies,
          testStudies,
          seed,
          imageSize,
          mm,
          sliceSpacing,
          lastVertebra,
          fractureRate,
          compression,
          threads);
    }

    public Config withSliceSpacing(double mm) {
      return new Config(
          studies,
          testStudies,
          seed,
          imageSize,
          pixelSpacing,
          mm,
          lastVertebra,
          fractureRate,
          compression,
          threads);
    }

    public Config withLastVertebra(int label) {
      return new Config(
          studies,
          testStudies,
          seed,
          imageSize,
          pixelSpacing,
          sliceSpacing,
          label,
          fractureRate,
          compression,
          threads);
    }

    public Config withFractureRate(double rate) {
      return new Config(
          studies,
          testStudies,
          seed,
          imageSize,
          pixelSpacing,
          sliceSpacing,
          lastVertebra,
          rate,
          compression,
          threads);
    }

    public Config withCompression(Compression c) {
      return new Config(
          studies,
          testStudies,
          seed,
          imageSize,
          pixelSpacing,
          sliceSpacing,
          lastVertebra,
          fractureRate,
          c,
          threads);
    }

    public Config withThreads(int n) {
      return new Config(
          studies,
          testStudies,
          seed,
          imageSize,
          pixelSpacing,
          sliceSpacing,
          lastVertebra,
          fractureRate,
          compression,
          n);
    }

    private static int defaultThreads() {
      return Math.max(1, Runtime.getRuntime().availableProcessors());
    }
  }

  /**
   * What {@link #generate} wrote.
   *
   * @param studies training studies
   * @param testStudies test studies
   * @param fracturedStudies training and test studies with at least one fracture
   * @param series DICOM series written (one per study)
   * @param files files written (DICOM, NIfTI and CSV)
   * @param bytes their total size
   * @param seconds wall time
   */
  public record Summary(
      int studies,
      int testStudies,
      int fracturedStudies,
      int series,
      int files,
      long bytes,
      double seconds) {}

  /** Identity of one study of a run: index (training first, then test), split, UIDs, seed. */
  public record StudySpec(int index, boolean test, int number, boolean fractured, long seed) {
    public String studyUid() {
      return STUDY_PREFIX + number;
    }

    public String seriesUid() {
      return studyUid() + ".1";
    }

    public String frameOfReferenceUid() {
      return studyUid() + ".2";
    }

    public String patientId() {
      return Integer.toString(number);
    }
  }

  /** One study in memory: its identity, anatomy and rendered image, mask and truth. */
  public record Study(StudySpec spec, CervicalAnatomy anatomy, CervicalPhantom.Rendered render) {}

  /** The studies of a run: training studies first, then test studies. */
  public static List<StudySpec> plan(Config config) {
    int total = config.studies() + config.testStudies();
    SplittableRandom ids = new SplittableRandom(CervicalNoise.seed(config.seed(), 0));
    Set<Integer> used = new HashSet<>();
    int[] numbers = new int[total];
    for (int i = 0; i < total; i++) {
      int n;
      do {
        n = total > 20000 ? 1000 + ids.nextInt(90000) : 1000 + ids.nextInt(32000);
      } while (RESERVED.contains(n) || !used.add(n));
      numbers[i] = n;
    }
    boolean[] fractured = new boolean[total];
    chooseFractured(
        fractured,
        0,
        config.studies(),
        config.fractureRate(),
        CervicalNoise.seed(config.seed(), 1));
    chooseFractured(
        fractured,
        config.studies(),
        config.testStudies(),
        config.fractureRate(),
        CervicalNoise.seed(config.seed(), 2));
    List<StudySpec> out = new ArrayList<>(total);
    for (int i = 0; i < total; i++) {
      out.add(
          new StudySpec(
              i,
              i >= config.studies(),
              numbers[i],
              fractured[i],
              CervicalNoise.seed(config.seed(), 3, i)));
    }
    return out;
  }

  private static void chooseFractured(boolean[] out, int from, int count, double rate, long seed) {
    int[] order = IntStream.range(0, count).toArray();
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = count - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int positives = (int) Math.round(rate * count);
    for (int i = 0; i < positives; i++) out[from + order[i]] = true;
  }

  /** The anatomy of one planned study. */
  public static CervicalAnatomy anatomy(Config config, StudySpec spec) {
    return CervicalAnatomy.sample(
        spec.seed(),
        config.imageSize(),
        config.pixelSpacing(),
        config.sliceSpacing(),
        config.lastVertebra(),
        spec.fractured());
  }

  /** Renders one planned study in memory (slices in parallel on the calling pool). */
  public static Study study(Config config, StudySpec spec) {
    CervicalAnatomy an = anatomy(config, spec);
    return new Study(spec, an, CervicalPhantom.render(an));
  }

  /** Writes the data set of {@code config} under {@code out} (created if missing). */
  public static Summary generate(Path out, Config config) throws IOException {
    long t0 = System.nanoTime();
    Files.createDirectories(out);
    List<StudySpec> specs = plan(config);
    checkNoOtherStudies(out, specs);
    ForkJoinPool pool = new ForkJoinPool(config.threads());
    List<Written> written;
    try {
      written =
          pool.submit(() -> specs.parallelStream().map(s -> write(out, config, s)).toList()).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while generating studies into " + out, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UncheckedIOException u) throw u.getCause();
      Throwable c = Futures.rethrowUnchecked(e);
      throw new IOException("generating studies into " + out + ": " + c, c);
    } finally {
      pool.shutdown();
    }
    int files = 0;
    long bytes = 0;
    int fractured = 0;
    List<CervicalTruth.Row> truth = new ArrayList<>();
    List<Rsna2022.CervicalLabel> labels = new ArrayList<>();
    List<Rsna2022.FractureBox> boxes = new ArrayList<>();
    List<Rsna2022.TestRow> testRows = new ArrayList<>();
    List<Rsna2022.Prediction> sample = new ArrayList<>();
    for (Written w : written) {
      String uid = w.spec.studyUid();
      files += w.files;
      bytes += w.bytes;
      if (w.spec.fractured()) fractured++;
      for (CervicalTruth t : w.truth) truth.add(new CervicalTruth.Row(uid, w.spec.test(), t));
      if (w.spec.test()) {
        for (String target : Rsna2022.TARGETS) {
          testRows.add(Rsna2022.TestRow.of(uid, target));
          sample.add(new Rsna2022.Prediction(uid, target, 0.5));
        }
        continue;
      }
      boolean[] broken = new boolean[7];
      for (CervicalTruth t : w.truth) {
        if (t.label() <= 7) broken[t.label() - 1] = t.fracture() != null;
      }
      labels.add(Rsna2022.CervicalLabel.of(uid, broken));
      for (CervicalPhantom.Box b : w.boxes) {
        boxes.add(
            new Rsna2022.FractureBox(uid, b.x(), b.y(), b.width(), b.height(), b.instanceNumber()));
      }
    }
    List<Path> tables =
        List.of(
            out.resolve(Rsna2022.TRAIN_CSV),
            out.resolve(Rsna2022.BOUNDING_BOXES_CSV),
            out.resolve(Rsna2022.TEST_CSV),
            out.resolve(Rsna2022.SAMPLE_SUBMISSION_CSV),
            out.resolve(TRUTH_CSV));
    Rsna2022.writeTrain(tables.get(0), labels);
    Rsna2022.writeBoundingBoxes(tables.get(1), boxes);
    Rsna2022.writeTest(tables.get(2), testRows);
    Rsna2022.writeSubmission(tables.get(3), sample);
    CervicalTruth.write(tables.get(4), truth);
    for (Path p : tables) {
      files++;
      bytes += Files.size(p);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    return new Summary(
        config.studies(), config.testStudies(), fractured, written.size(), files, bytes, seconds);
  }

  /**
   * Refuses an output directory that holds studies of another run: train.csv would not list them,
   * and the Kaggle readers would reject the set.
   */
  private static void checkNoOtherStudies(Path out, List<StudySpec> specs) throws IOException {
    Set<String> mine = new HashSet<>();
    for (StudySpec s : specs) mine.add(s.studyUid());
    for (String sub :
        List.of(Rsna2022.TRAIN_IMAGES_DIR, TEST_IMAGES_DIR, Rsna2022.SEGMENTATIONS_DIR)) {
      Path dir = out.resolve(sub);
      if (!Files.isDirectory(dir)) continue;
      try (var entries = Files.list(dir)) {
        for (Path p : (Iterable<Path>) entries::iterator) {
          String name = p.getFileName().toString();
          if (name.startsWith(".")) continue;
          String uid = name.replaceFirst("\\.nii(\\.gz)?$", "");
          if (!mine.contains(uid)) {
            throw new IllegalArgumentException(
                "out: "
                    + p
                    + " belongs to a study this run does"
                    + " not generate; write into an empty directory (or one of a run with the same"
                    + " seed and study counts)");
          }
        }
      }
    }
  }

  /** Removes {@code <n>.dcm} files left in a study directory by an earlier, longer series. */
  private static void removeStaleSlices(Path dir, int slices) throws IOException {
    try (var entries = Files.list(dir)) {
      for (Path p : (Iterable<Path>) entries::iterator) {
        String name = p.getFileName().toString();
        if (name.matches("[1-9][0-9]{0,8}\\.dcm")
            && Integer.parseInt(name.substring(0, name.length() - 4)) > slices) {
          Files.delete(p);
        }
      }
    }
  }

  /** What one study left on disk, and its truth for the CSVs. */
  private record Written(
      StudySpec spec,
      List<CervicalTruth> truth,
      List<CervicalPhantom.Box> boxes,
      int files,
      long bytes) {}

  private static Written write(Path out, Config config, StudySpec spec) {
    try {
      Study s = study(config, spec);
      Path dir =
          out.resolve(spec.test() ? TEST_IMAGES_DIR : Rsna2022.TRAIN_IMAGES_DIR)
              .resolve(spec.studyUid());
      List<Path> paths =
          new ArrayList<>(
              DicomWriter.writeSeries(
                  s.render().image(),
                  dir,
                  new DicomWriter.Series(
                      spec.patientId(),
                      spec.studyUid(),
                      spec.seriesUid(),
                      1,
                      "CERVICAL SPINE 1.0 BONE",
                      "CT",
                      spec.frameOfReferenceUid()),
                  config.compression()));
      removeStaleSlices(dir, paths.size());
      if (!spec.test()) {
        // uint8 labels in the axis order of the competition's masks
        Path seg = out.resolve(Rsna2022.SEGMENTATIONS_DIR).resolve(spec.studyUid() + ".nii");
        Nifti.write(
            NiftiImage.fromVolume(s.render().mask(), "LAS", NiftiImage.Datatype.UINT8), seg);
        paths.add(seg);
      }
      long bytes = 0;
      for (Path p : paths) bytes += Files.size(p);
      return new Written(spec, s.render().truth(), s.render().boxes(), paths.size(), bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
