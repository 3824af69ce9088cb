package org.spinekit.synth;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.spinekit.internal.concurrent.DaemonThreads;
import org.spinekit.internal.concurrent.Futures;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.SeriesInfo;
import org.spinekit.io.dicom.Compression;
import org.spinekit.io.dicom.DicomWriter;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Level;
import org.spinekit.io.kaggle.Rsna2024;

/**
 * Synthetic lumbar spine MR studies in the RSNA 2024 layout, with known ground truth.
 *
 * <p>Each study is one {@link LumbarPhantom} sampled three ways: Sagittal T1 and Sagittal T2/STIR
 * (Image Orientation (Patient) rows along +y, columns along -z, slices along x from patient right
 * to left) and Axial T2 (rows along +x, columns along +y, slices from head to foot). The three
 * series share a Frame of Reference UID and carry their true positions, so a point in one maps to
 * the others through the geometry tags alone. {@link #generate} writes
 *
 * <pre>
 * train_images/&lt;study_id&gt;/&lt;series_id&gt;/&lt;instance&gt;.dcm    test_images/... likewise
 * train.csv                     the 25 grades of each training study
 * train_label_coordinates.csv   study_id,series_id,instance_number,condition,level,x,y
 * train_series_descriptions.csv test_series_descriptions.csv
 * sample_submission.csv         one row per test (study, condition, level), 1/3 each
 * synth_truth.csv               per study, condition and level: grade, 3D point (LPS mm) and
 *                               its label coordinates, for the training and the test studies
 * </pre>
 *
 * <p>Everything is a function of the {@link Config}: study {@code i} draws its randomness from
 * (seed, i) alone, so studies are generated in parallel and the files are byte-identical from run
 * to run.
 */
public final class LumbarSynth {
  private LumbarSynth() {}

  /**
   * What to generate.
   *
   * @param studies training studies (at least 1)
   * @param testStudies test studies (0 or more), written under test_images without labels
   * @param seed the seed everything derives from
   * @param sagittalSize rows and columns of the sagittal images (32..1024)
   * @param sagittalT1Slices slices of Sagittal T1; they must reach both foramina
   * @param sagittalT2Slices slices of Sagittal T2/STIR
   * @param sagittalSliceSpacing mm between sagittal slices (2..5; the real series' 3-4.5 mm, fine
   *     enough that a slice passes through each foramen)
   * @param sagittalFov field of view of the sagittal images, mm (170..400)
   * @param axialSize rows and columns of the axial images (32..1024)
   * @param axialSliceSpacing mm between axial slices (1..8)
   * @param axialFov field of view of the axial images, mm (120..400)
   * @param compression pixel data encoding of the DICOM files (all lossless)
   * @param threads studies generated at once; 0 for one per available processor
   */
  public record Config(
      int studies,
      int testStudies,
      long seed,
      int sagittalSize,
      int sagittalT1Slices,
      int sagittalT2Slices,
      double sagittalSliceSpacing,
      double sagittalFov,
      int axialSize,
      double axialSliceSpacing,
      double axialFov,
      Compression compression,
      int threads) {
    /** The sagittal slab must reach this far to each side of the midline (the foramina). */
    static final double MIN_SAGITTAL_HALF_EXTENT = 24;

    public Config {
      if (studies < 1) {
        throw new IllegalArgumentException("studies: expected at least 1, got " + studies);
      }
      if (testStudies < 0) {
        throw new IllegalArgumentException("testStudies: expected 0 or more, got " + testStudies);
      }
      size("sagittalSize", sagittalSize);
      size("axialSize", axialSize);
      range("sagittalSliceSpacing", sagittalSliceSpacing, 2, 5);
      range("axialSliceSpacing", axialSliceSpacing, 1, 8);
      range("sagittalFov", sagittalFov, 170, 400);
      range("axialFov", axialFov, 120, 400);
      if (sagittalT1Slices < 3
          || (sagittalT1Slices - 1) * sagittalSliceSpacing / 2 < MIN_SAGITTAL_HALF_EXTENT) {
        throw new IllegalArgumentException(
            "sagittalT1Slices: expected at least 3 slices"
                + " reaching "
                + MIN_SAGITTAL_HALF_EXTENT
                + " mm to each side of the midline (the"
                + " foramina), got "
                + sagittalT1Slices
                + " slices "
                + sagittalSliceSpacing
                + " mm apart");
      }
      if (sagittalT2Slices < 1 || sagittalT2Slices > 200) {
        throw new IllegalArgumentException(
            "sagittalT2Slices: expected 1..200, got " + sagittalT2Slices);
      }
      if (sagittalT1Slices > 200) {
        throw new IllegalArgumentException(
            "sagittalT1Slices: expected at most 200, got " + sagittalT1Slices);
      }
      Objects.requireNonNull(compression, "compression");
      if (threads < 0) {
        throw new IllegalArgumentException(
            "threads: expected 0 (all processors) or more, got " + threads);
      }
    }

    private static void size(String name, int n) {
      if (n < 32 || n > 1024) {
        throw new IllegalArgumentException(name + ": expected 32..1024 pixels, got " + n);
      }
    }

    private static void range(String name, double x, double lo, double hi) {
      if (!(x >= lo && x <= hi)) {
        throw new IllegalArgumentException(name + ": expected " + lo + ".." + hi + " mm, got " + x);
      }
    }

    /**
     * For tests: 3 training studies and 1 test study, sagittal 128x128 (about 1.6 mm pixels, 13 and
     * 11 slices 4 mm apart), axial 96x96 (about 1.7 mm) with slices 5 mm apart, uncompressed.
     */
    public static Config small(long seed) {
      return new Config(3, 1, seed, 128, 13, 11, 4.0, 200, 96, 5.0, 160, Compression.NONE, 0);
    }

    /**
     * For the demo: 16 training and 2 test studies, sagittal 256x256 (about 0.74 mm pixels, 17 and
     * 15 slices 3.5 mm apart), axial 192x192 (about 0.83 mm) with slices 4 mm apart, uncompressed.
     */
    public static Config demo(long seed) {
      return new Config(16, 2, seed, 256, 17, 15, 3.5, 190, 192, 4.0, 160, Compression.NONE, 0);
    }

    public Config withStudies(int n) {
      return new Config(
          n,
          testStudies,
          seed,
          sagittalSize,
          sagittalT1Slices,
          sagittalT2Slices,
          sagittalSliceSpacing,
          sagittalFov,
          axialSize,
          axialSliceSpacing,
          axialFov,
          compression,
          threads);
    }

    public Config withTestStudies(int n) {
      return new Config(
          studies,
          n,
          seed,
          sagittalSize,
          sagittalT1Slices,
          sagittalT2Slices,
          sagittalSliceSpacing,
          sagittalFov,
          axialSize,
          axialSliceSpacing,
          axialFov,
          compression,
          threads);
    }

    public Config withSeed(long s) {
      return new Config(
          studies,
          testStudies,
          s,
          sagittalSize,
          sagittalT1Slices,
          sagittalT2Slices,
          sagittalSliceSpacing,
          sagittalFov,
          axialSize,
          axialSliceSpacing,
          axialFov,
          compression,
          threads);
    }

    /** Rows and columns of the sagittal and of the axial images. */
    public Config withImageSize(int sagittal, int axial) {
      return new Config(
          studies,
          testStudies,
          seed,
          sagittal,
          sagittalT1Slices,
          sagittalT2Slices,
          sagittalSliceSpacing,
          sagittalFov,
          axial,
          axialSliceSpacing,
          axialFov,
          compression,
          threads);
    }

    /** Slices of Sagittal T1 and Sagittal T2/STIR, and their spacing in mm. */
    public Config withSagittalSlices(int t1, int t2, double spacing) {
      return new Config(
          studies,
          testStudies,
          seed,
          sagittalSize,
          t1,
          t2,
          spacing,
          sagittalFov,
          axialSize,
          axialSliceSpacing,
          axialFov,
          compression,
          threads);
    }

    /** The axial slice spacing in mm. */
    public Config withAxialSliceSpacing(double spacing) {
      return new Config(
          studies,
          testStudies,
          seed,
          sagittalSize,
          sagittalT1Slices,
          sagittalT2Slices,
          sagittalSliceSpacing,
          sagittalFov,
          axialSize,
          spacing,
          axialFov,
          compression,
          threads);
    }

    /** Fields of view of the sagittal and of the axial images, mm. */
    public Config withFov(double sagittal, double axial) {
      return new Config(
          studies,
          testStudies,
          seed,
          sagittalSize,
          sagittalT1Slices,
          sagittalT2Slices,
          sagittalSliceSpacing,
          sagittal,
          axialSize,
          axialSliceSpacing,
          axial,
          compression,
          threads);
    }

    public Config withCompression(Compression c) {
      return new Config(
          studies,
          testStudies,
          seed,
          sagittalSize,
          sagittalT1Slices,
          sagittalT2Slices,
          sagittalSliceSpacing,
          sagittalFov,
          axialSize,
          axialSliceSpacing,
          axialFov,
          c,
          threads);
    }

    public Config withThreads(int t) {
      return new Config(
          studies,
          testStudies,
          seed,
          sagittalSize,
          sagittalT1Slices,
          sagittalT2Slices,
          sagittalSliceSpacing,
          sagittalFov,
          axialSize,
          axialSliceSpacing,
          axialFov,
          compression,
          t);
    }

    int threadCount() {
      return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }
  }

  /**
   * What {@link #generate} wrote: studies (training and test), series, files (DICOM and CSV), their
   * total size in bytes, and the wall-clock seconds it took.
   */
  public record Summary(int studies, int series, int files, long bytes, double seconds) {}

  /** The identities of one study, drawn before any study is generated. */
  private record Plan(int index, boolean test, long studyId, long[] seriesIds) {}

  private static final long MIN_ID = 1_000_000L;
  private static final long MAX_ID = 4_294_967_295L;

  private static List<Plan> plan(Config c) {
    SplittableRandom ids = new SplittableRandom(mix(c.seed(), -1));
    Set<Long> used = new HashSet<>();
    List<Plan> out = new ArrayList<>();
    int n = c.studies() + c.testStudies();
    for (int i = 0; i < n; i++) {
      long study = uniqueId(ids, used);
      long[] series = {uniqueId(ids, used), uniqueId(ids, used), uniqueId(ids, used)};
      out.add(new Plan(i, i >= c.studies(), study, series));
    }
    return out;
  }

  private static long uniqueId(SplittableRandom r, Set<Long> used) {
    while (true) {
      long id = r.nextLong(MIN_ID, MAX_ID + 1);
      if (used.add(id)) return id;
    }
  }

  /** SplitMix64 finaliser of (seed, index): independent streams per study. */
  static long mix(long seed, long index) {
    long z = seed * 0x9E3779B97F4A7C15L + (index + 1) * 0xD1B54A32D192ED03L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Study {@code index} of {@code config} in memory, exactly as {@link #generate} writes it:
   * indices below {@code studies} are training studies, the next {@code testStudies} test studies.
   */
  public static LumbarStudy study(Config config, int index) {
    int n = config.studies() + config.testStudies();
    if (index < 0 || index >= n) {
      throw new IllegalArgumentException("index: expected 0.." + (n - 1) + ", got " + index);
    }
    return render(config, plan(config).get(index));
  }

  /**
   * A study whose grades are given rather than drawn: the anatomy, geometry and noise are those of
   * study {@code index} of {@code config}, so studies that differ only in {@code grades} differ
   * only where the grades act.
   */
  public static LumbarStudy study(Config config, int index, LumbarGrades grades) {
    int n = config.studies() + config.testStudies();
    if (index < 0 || index >= n) {
      throw new IllegalArgumentException("index: expected 0.." + (n - 1) + ", got " + index);
    }
    return render(config, plan(config).get(index), Objects.requireNonNull(grades, "grades"));
  }

  private static LumbarStudy render(Config c, Plan p) {
    return render(c, p, null);
  }

  private static LumbarStudy render(Config c, Plan p, LumbarGrades forced) {
    SplittableRandom root = new SplittableRandom(mix(c.seed(), p.index()));
    SplittableRandom anatomy = root.split();
    SplittableRandom gradeRnd = root.split();
    SplittableRandom narrowing = root.split();
    SplittableRandom geometry = root.split();
    SplittableRandom noise = root.split();
    String frameUid = "2.25." + new BigInteger(1, bytes(root.nextLong(), root.nextLong()));
    LumbarGrades drawn = LumbarGrades.random(gradeRnd);
    LumbarGrades grades = forced == null ? drawn : forced;
    LumbarPhantom ph = LumbarPhantom.create(anatomy, grades, narrowing);

    String study = Long.toString(p.studyId());
    // Sagittal: centred between L1/L2 and L5/S1, a little behind the canal.
    double[] top = ph.toPatient(0, ph.levelS(Level.L1_L2) - 18, 14);
    double[] bottom = ph.toPatient(0, ph.levelS(Level.L5_S1) + 14, 14);
    double[] centre = {ph.midlineX(), 0.5 * (top[1] + bottom[1]), 0.5 * (top[2] + bottom[2])};
    LumbarScanner.Grid t1Grid =
        sagittal(c, c.sagittalT1Slices(), c.sagittalFov(), centre, geometry);
    LumbarScanner.Grid t2Grid =
        sagittal(c, c.sagittalT2Slices(), c.sagittalFov() * 0.96, centre, geometry);
    LumbarScanner.Grid axGrid = axial(c, ph, geometry);

    List<LumbarSeries> series = new ArrayList<>();
    series.add(
        scan(
            ph,
            LumbarPhantom.Contrast.T1,
            t1Grid,
            study,
            p.seriesIds()[0],
            1,
            LumbarSeries.SAGITTAL_T1,
            geometry,
            noise.split()));
    series.add(
        scan(
            ph,
            LumbarPhantom.Contrast.T2,
            t2Grid,
            study,
            p.seriesIds()[1],
            2,
            LumbarSeries.SAGITTAL_T2,
            geometry,
            noise.split()));
    series.add(
        scan(
            ph,
            LumbarPhantom.Contrast.T2,
            axGrid,
            study,
            p.seriesIds()[2],
            3,
            LumbarSeries.AXIAL_T2,
            geometry,
            noise.split()));

    List<LumbarTruth> truth = new ArrayList<>();
    for (Condition cond : Condition.values()) {
      for (Level l : Level.values()) {
        truth.add(truth(ph, cond, l, series));
      }
    }
    return new LumbarStudy(p.studyId(), p.test(), frameUid, ph, series, truth);
  }

  private static byte[] bytes(long a, long b) {
    byte[] out = new byte[16];
    for (int i = 0; i < 8; i++) {
      out[i] = (byte) (a >>> (56 - 8 * i));
      out[8 + i] = (byte) (b >>> (56 - 8 * i));
    }
    return out;
  }

  private static double uniform(SplittableRandom r, double lo, double hi) {
    return lo + (hi - lo) * r.nextDouble();
  }

  private static LumbarScanner.Grid sagittal(
      Config c, int slices, double fov, double[] centre, SplittableRandom r) {
    int n = c.sagittalSize();
    double px = fov / n;
    double sp = c.sagittalSliceSpacing();
    double cx = centre[0] + uniform(r, -0.3, 0.3) * sp;
    double cy = centre[1] + uniform(r, -6, 6);
    double cz = centre[2] + uniform(r, -6, 6);
    double half = 0.5 * (n - 1) * px;
    double[] origin = {cx - 0.5 * (slices - 1) * sp, cy - half, cz + half};
    return new LumbarScanner.Grid(
        slices,
        n,
        n,
        px,
        px,
        sp,
        origin,
        new double[] {0, 1, 0},
        new double[] {0, 0, -1},
        new double[] {1, 0, 0});
  }

  private static LumbarScanner.Grid axial(Config c, LumbarPhantom ph, SplittableRandom r) {
    int n = c.axialSize();
    double px = c.axialFov() / n;
    double sp = c.axialSliceSpacing();
    double zTop = Double.NEGATIVE_INFINITY;
    double zBottom = Double.POSITIVE_INFINITY;
    double yMean = 0;
    for (Level l : Level.values()) {
      double[] canal = ph.point(Condition.SPINAL_CANAL_STENOSIS, l);
      zTop = Math.max(zTop, canal[2]);
      zBottom = Math.min(zBottom, canal[2]);
      yMean += canal[1] / Level.values().length;
    }
    zTop += 12 + uniform(r, 0, 4);
    zBottom -= 12;
    int slices = (int) Math.floor((zTop - zBottom) / sp) + 1;
    double cx = ph.midlineX() + uniform(r, -4, 4);
    double cy = yMean - 10 + uniform(r, -5, 5);
    double half = 0.5 * (n - 1) * px;
    double[] origin = {cx - half, cy - half, zTop};
    return new LumbarScanner.Grid(
        slices,
        n,
        n,
        px,
        px,
        sp,
        origin,
        new double[] {1, 0, 0},
        new double[] {0, 1, 0},
        new double[] {0, 0, -1});
  }

  private static LumbarSeries scan(
      LumbarPhantom ph,
      LumbarPhantom.Contrast contrast,
      LumbarScanner.Grid grid,
      String study,
      long seriesId,
      int number,
      String description,
      SplittableRandom geometry,
      SplittableRandom noise) {
    double gain = uniform(geometry, 0.88, 1.1);
    double sigma = uniform(geometry, 14, 30);
    SeriesInfo info = new SeriesInfo(study, Long.toString(seriesId), description, "MR", "");
    return new LumbarSeries(
        seriesId,
        number,
        description,
        grid,
        LumbarScanner.scan(ph, contrast, grid, gain, sigma, noise, info));
  }

  private static LumbarTruth truth(
      LumbarPhantom ph, Condition c, Level l, List<LumbarSeries> series) {
    Grade g = ph.grades().get(c, l);
    LumbarSeries s =
        switch (c) {
          case SPINAL_CANAL_STENOSIS -> series.get(1);
          case LEFT_NEURAL_FORAMINAL_NARROWING, RIGHT_NEURAL_FORAMINAL_NARROWING -> series.get(0);
          case LEFT_SUBARTICULAR_STENOSIS, RIGHT_SUBARTICULAR_STENOSIS -> series.get(2);
        };
    LumbarScanner.Grid grid = s.grid();
    double[] p = ph.point(c, l);
    int slice = (int) Math.round(grid.toIndex(p)[0]);
    if (c == Condition.LEFT_SUBARTICULAR_STENOSIS || c == Condition.RIGHT_SUBARTICULAR_STENOSIS) {
      slice = Math.max(0, Math.min(grid.slices() - 1, slice));
      p = ph.recessPointAtZ(c, l, grid.toPatient(slice, 0, 0)[2]);
    }
    double[] idx = grid.toIndex(p);
    if (slice < 0
        || slice >= grid.slices()
        || idx[1] < 0
        || idx[1] > grid.rows() - 1
        || idx[2] < 0
        || idx[2] > grid.columns() - 1) {
      throw new IllegalStateException(
          "the "
              + c.label
              + " "
              + l.label
              + " point "
              + java.util.Arrays.toString(p)
              + " falls outside "
              + s.description()
              + " "
              + grid);
    }
    return new LumbarTruth(c, l, g, p[0], p[1], p[2], s.seriesId(), slice + 1, idx[2], idx[1]);
  }

  // ---------------------------------------------------------------- files

  /**
   * Writes {@code config}'s studies under {@code out} in the RSNA 2024 layout (see the class
   * comment), studies in parallel on {@code config.threads()} threads. The series directories it
   * writes are replaced; a study directory under {@code out} that this configuration does not
   * produce is an error, so sets made with different settings never mix.
   */
  public static Summary generate(Path out, Config config) throws IOException {
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(config, "config");
    long t0 = System.nanoTime();
    List<Plan> plans = plan(config);
    checkForeign(out, plans);
    int threads = Math.min(config.threadCount(), plans.size());
    ExecutorService pool =
        Executors.newFixedThreadPool(threads, DaemonThreads.named("lumbar-synth"));
    List<LumbarStudyFiles> written = new ArrayList<>();
    try {
      List<Future<LumbarStudyFiles>> futures = new ArrayList<>();
      for (Plan p : plans) futures.add(pool.submit(() -> writeStudy(out, config, p)));
      for (Future<LumbarStudyFiles> f : futures) written.add(get(f));
    } finally {
      pool.shutdownNow();
    }
    int files = 0;
    long bytes = 0;
    for (LumbarStudyFiles w : written) {
      files += w.files();
      bytes += w.bytes();
    }
    List<Path> csvs = writeCsvs(out, written);
    for (Path p : csvs) bytes += Files.size(p);
    files += csvs.size();
    double seconds = (System.nanoTime() - t0) / 1e9;
    return new Summary(plans.size(), plans.size() * 3, files, bytes, seconds);
  }

  /** What one study left on disk, and its truths for the CSV files. */
  private record LumbarStudyFiles(
      long studyId,
      boolean test,
      long[] seriesIds,
      String[] descriptions,
      List<LumbarTruth> truth,
      int files,
      long bytes) {}

  private static LumbarStudyFiles get(Future<LumbarStudyFiles> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while generating lumbar studies", e);
    } catch (ExecutionException e) {
      Throwable c = Futures.rethrowUnchecked(e);
      if (c instanceof IOException io) throw io;
      throw new IOException(c);
    }
  }

  private static void checkForeign(Path out, List<Plan> plans) throws IOException {
    Set<String> train = new HashSet<>();
    Set<String> test = new HashSet<>();
    for (Plan p : plans) (p.test() ? test : train).add(Long.toString(p.studyId()));
    checkForeign(out.resolve(Rsna2024.TRAIN_IMAGES_DIR), train);
    checkForeign(out.resolve(TEST_IMAGES_DIR), test);
  }

  private static void checkForeign(Path dir, Set<String> ours) throws IOException {
    if (!Files.isDirectory(dir)) return;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        if (!name.startsWith(".") && !ours.contains(name)) {
          throw new IllegalArgumentException(
              "out: "
                  + p
                  + " is not a study of this"
                  + " configuration (another seed or study count made it); write to an empty"
                  + " directory or remove it");
        }
      }
    }
  }

  private static LumbarStudyFiles writeStudy(Path out, Config config, Plan p) throws IOException {
    LumbarStudy st = render(config, p);
    Path studyDir =
        out.resolve(p.test() ? TEST_IMAGES_DIR : Rsna2024.TRAIN_IMAGES_DIR)
            .resolve(Long.toString(p.studyId()));
    clearForeignSeries(studyDir, p);
    int files = 0;
    long bytes = 0;
    String[] descriptions = new String[3];
    for (int i = 0; i < 3; i++) {
      LumbarSeries s = st.series().get(i);
      descriptions[i] = s.description();
      Path dir = studyDir.resolve(Long.toString(s.seriesId()));
      clearDicom(dir);
      DicomWriter.Series meta =
          new DicomWriter.Series(
              Long.toString(p.studyId()),
              Long.toString(p.studyId()),
              Long.toString(s.seriesId()),
              s.seriesNumber(),
              s.description(),
              "MR",
              st.frameOfReferenceUid());
      for (Path f : DicomWriter.writeSeries(s.volume(), dir, meta, config.compression())) {
        files++;
        bytes += Files.size(f);
      }
    }
    return new LumbarStudyFiles(
        p.studyId(), p.test(), p.seriesIds(), descriptions, st.truth(), files, bytes);
  }

  private static void clearForeignSeries(Path studyDir, Plan p) throws IOException {
    if (!Files.isDirectory(studyDir)) return;
    Set<String> ours = new HashSet<>();
    for (long id : p.seriesIds()) ours.add(Long.toString(id));
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(studyDir)) {
      for (Path s : ds) {
        if (!ours.contains(s.getFileName().toString())) {
          throw new IllegalArgumentException(
              "out: "
                  + s
                  + " is not a series of this"
                  + " configuration; write to an empty directory or remove it");
        }
      }
    }
  }

  /** Removes the DICOM files of an earlier run (which may have had more slices). */
  private static void clearDicom(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) return;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.dcm")) {
      for (Path f : ds) Files.delete(f);
    }
  }

  private static List<Path> writeCsvs(Path out, List<LumbarStudyFiles> studies) throws IOException {
    List<Path> written = new ArrayList<>();
    List<Rsna2024.LumbarLabel> labels = new ArrayList<>();
    List<Rsna2024.LabelCoordinate> points = new ArrayList<>();
    List<Rsna2024.SeriesDescription> trainSeries = new ArrayList<>();
    List<Rsna2024.SeriesDescription> testSeries = new ArrayList<>();
    List<Rsna2024.Prediction> submission = new ArrayList<>();
    for (LumbarStudyFiles s : studies) {
      for (int i = 0; i < 3; i++) {
        (s.test() ? testSeries : trainSeries)
            .add(
                new Rsna2024.SeriesDescription(s.studyId(), s.seriesIds()[i], s.descriptions()[i]));
      }
      if (s.test()) {
        for (LumbarTruth t : s.truth()) {
          submission.add(
              new Rsna2024.Prediction(
                  s.studyId(), t.condition(), t.level(), 1.0 / 3, 1.0 / 3, 1.0 / 3));
        }
        continue;
      }
      Map<Rsna2024.ConditionLevel, Grade> grades = new LinkedHashMap<>();
      for (LumbarTruth t : s.truth()) {
        grades.put(new Rsna2024.ConditionLevel(t.condition(), t.level()), t.grade());
        points.add(
            new Rsna2024.LabelCoordinate(
                s.studyId(),
                t.seriesId(),
                t.instanceNumber(),
                t.condition(),
                t.level(),
                t.x(),
                t.y()));
      }
      labels.add(new Rsna2024.LumbarLabel(s.studyId(), grades));
    }
    Path train = out.resolve(Rsna2024.TRAIN_CSV);
    Rsna2024.writeTrain(train, labels);
    written.add(train);
    Path coordinates = out.resolve(Rsna2024.COORDINATES_CSV);
    Rsna2024.writeCoordinates(coordinates, points);
    written.add(coordinates);
    Path series = out.resolve(Rsna2024.SERIES_CSV);
    Rsna2024.writeSeriesDescriptions(series, trainSeries);
    written.add(series);
    Path testSeriesFile = out.resolve(Rsna2024.TEST_SERIES_CSV);
    Rsna2024.writeSeriesDescriptions(testSeriesFile, testSeries);
    written.add(testSeriesFile);
    Path sample = out.resolve(Rsna2024.SAMPLE_SUBMISSION_CSV);
    Rsna2024.writeSubmission(sample, submission);
    written.add(sample);
    Path truth = out.resolve(TRUTH_CSV);
    AtomicFiles.write(
        truth,
        o -> {
          Writer w = new OutputStreamWriter(o, StandardCharsets.UTF_8);
          w.write(
              "study_id,split,condition,level,grade,x_mm,y_mm,z_mm,series_id,instance_number,"
                  + "x,y\n");
          for (LumbarStudyFiles s : studies) {
            for (LumbarTruth t : s.truth()) {
              w.write(
                  s.studyId()
                      + ","
                      + (s.test() ? "test" : "train")
                      + ","
                      + t.condition().label
                      + ","
                      + t.level().label
                      + ","
                      + t.grade().label
                      + ","
                      + num(t.xMm())
                      + ","
                      + num(t.yMm())
                      + ","
                      + num(t.zMm())
                      + ","
                      + t.seriesId()
                      + ","
                      + t.instanceNumber()
                      + ","
                      + num(t.x())
                      + ","
                      + num(t.y())
                      + "\n");
            }
          }
          w.flush();
        });
    written.add(truth);
    return written;
  }

  /** The ground-truth file {@link #generate} writes beside the Kaggle files. */
  public static final String TRUTH_CSV = "synth_truth.csv";

  /** Where {@link #generate} puts the test studies' images. */
  public static final String TEST_IMAGES_DIR = "test_images";

  private static String num(double x) {
    return String.format(Locale.ROOT, "%.4f", x);
  }
}
