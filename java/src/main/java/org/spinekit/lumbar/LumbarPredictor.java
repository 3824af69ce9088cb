package org.spinekit.lumbar;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.io.Volume;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Level;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.lumbar.LumbarInputs.Kind;
import org.spinekit.lumbar.LumbarInputs.Series;
import org.spinekit.nn.Net;
import org.spinekit.ops.Dsnt;
import org.spinekit.ops.HeatmapPool;
import org.spinekit.tensor.Tensors;

/**
 * Predicts the 25 grades of a lumbar study from a {@link LumbarBundle}: the one-stage heatmap nets
 * (points by DSNT, grades pooled by the heatmaps), the two-stage system (the sagittal level points
 * projected into the axial series, the axial point net there, crops of every point classified), and
 * their blend. The nets of every trained fold are averaged. Safe to call from several threads once
 * loaded (the nets run in eval mode and keep no state between calls); {@link #close} must not
 * overlap a call.
 */
public final class LumbarPredictor implements AutoCloseable {
  /** What the submission rows come from. */
  public enum Mode {
    BLEND,
    ONE_STAGE,
    TWO_STAGE;

    /** {@code blend}, {@code one-stage} or {@code two-stage}. */
    public static Mode parse(String s) {
      for (Mode m : values()) {
        if (m.name().toLowerCase(Locale.ROOT).replace('_', '-').equals(s)) return m;
      }
      throw new IllegalArgumentException("mode: expected blend, one-stage or two-stage, got " + s);
    }
  }

  /** A predicted point, in pixels of the series it is on. */
  public record Point(
      Condition condition, Level level, long seriesId, double x, double y, int instanceNumber) {}

  /**
   * What a study gets.
   *
   * @param rows the 25 submission rows (condition-major, as the sample submission)
   * @param points the level points found (5 spinal, 10 foraminal, up to 10 subarticular)
   * @param seconds time per phase: read, prepare, forward, crops, other
   * @param notes what was missing or refused (rows that got the training prior say so)
   * @param maps what a picture of the study needs (null when the T2 series is missing)
   */
  public record Result(
      long studyId,
      List<Rsna2024.Prediction> rows,
      List<Point> points,
      Map<String, Double> seconds,
      List<String> notes,
      Maps maps) {}

  /**
   * The Sagittal T2/STIR slice through the spinal canal and the one-stage net's maps on it.
   *
   * @param image the slice [size, size] of the prepared stack
   * @param heat the five level heatmaps summed, on the slice [grid, grid]
   * @param grade the grade probabilities on the slice [3, grid, grid]
   * @param points the five level points on the slice's image, x, y in stack pixels
   * @param seriesId the T2 series (with its rows and columns, to place its label points)
   */
  public record Maps(
      int slice,
      int size,
      int grid,
      float[] image,
      float[] heat,
      float[] grade,
      double[][] points,
      long seriesId,
      int rows,
      int columns) {
    /** A column of the series in the maps' image pixels. */
    public double imageX(double x) {
      return (x + 0.5) * size / columns - 0.5;
    }

    /** A row of the series in the maps' image pixels. */
    public double imageY(double y) {
      return (y + 0.5) * size / rows - 0.5;
    }
  }

  private final LumbarBundle bundle;
  private final LumbarConfig config;
  private final Mode mode;
  private final Device device;
  private final Map<String, List<Net>> nets = new LinkedHashMap<>();
  private final Map<String, List<Double>> prior = new LinkedHashMap<>();

  private LumbarPredictor(LumbarBundle b, Mode mode, Device device) {
    this.bundle = b;
    this.config = b.config();
    this.mode = mode;
    this.device = device;
  }

  /**
   * Loads the networks {@code mode} needs from the bundle at {@code dir}.
   *
   * @throws IllegalArgumentException when the bundle lacks them (naming what and how to train it)
   */
  @SuppressWarnings("unchecked")
  public static LumbarPredictor load(Path dir, Mode mode, Device device) throws IOException {
    LumbarBundle b = LumbarBundle.load(dir);
    LumbarPredictor p = new LumbarPredictor(b, mode, device);
    try {
      List<String> need = new ArrayList<>(List.of(LumbarBundle.SCS, LumbarBundle.NFN));
      if (mode != Mode.ONE_STAGE) {
        need.addAll(
            List.of(
                LumbarBundle.AXIAL,
                LumbarBundle.CLS_SCS,
                LumbarBundle.CLS_NFN,
                LumbarBundle.CLS_SA));
      }
      for (String n : need) {
        List<Integer> folds = b.trainedFolds(n);
        if (folds.isEmpty()) {
          throw new IllegalArgumentException(
              dir
                  + ": no trained "
                  + n
                  + " network (mode "
                  + mode.name().toLowerCase(Locale.ROOT).replace('_', '-')
                  + " needs it; train with --model "
                  + (n.equals(LumbarBundle.SCS) || n.equals(LumbarBundle.NFN)
                      ? "one-stage"
                      : "two-stage")
                  + " or all)");
        }
        p.nets.put(n, LumbarModels.load(b, n, folds, device));
      }
      // The axial net serves one-stage predictions of the subarticular rows when present.
      if (mode == Mode.ONE_STAGE && !b.trainedFolds(LumbarBundle.AXIAL).isEmpty()) {
        p.nets.put(
            LumbarBundle.AXIAL,
            LumbarModels.load(b, LumbarBundle.AXIAL, b.trainedFolds(LumbarBundle.AXIAL), device));
      }
      Object pr = b.get("priors");
      if (!(pr instanceof Map<?, ?> m)) {
        throw new org.spinekit.io.MalformedFileException(
            dir.resolve("bundle.json"), "priors: expected a map of columns");
      }
      for (var e : ((Map<String, Object>) m).entrySet()) {
        List<Double> v = new ArrayList<>();
        for (Object o : (List<Object>) e.getValue()) v.add(((Number) o).doubleValue());
        p.prior.put(e.getKey(), v);
      }
      return p;
    } catch (IOException | RuntimeException e) {
      p.close();
      throw e;
    }
  }

  public LumbarBundle bundle() {
    return bundle;
  }

  public Mode mode() {
    return mode;
  }

  /**
   * The loaded networks by name ({@link LumbarBundle#NETS}), each its folds' nets in eval mode,
   * owned by this predictor: for callers that run them on inputs of their own.
   */
  public Map<String, List<Net>> networks() {
    Map<String, List<Net>> m = new LinkedHashMap<>();
    for (var e : nets.entrySet()) m.put(e.getKey(), List.copyOf(e.getValue()));
    return java.util.Collections.unmodifiableMap(m);
  }

  /**
   * A study read and prepared for the nets, not yet predicted: what {@link #prepare} does apart
   * from the networks, so that an application (and {@code lumbar predict}) can read the next study
   * while the nets run on this one.
   */
  public record Prepared(
      long studyId,
      Map<Kind, Volume> volumes,
      Map<Kind, Series> series,
      List<String> notes,
      double readSeconds,
      double prepareSeconds) {}

  /**
   * Reads and prepares study {@code studyId} whose series are in {@code studyDir}: the series
   * chosen by description, decoded (unreadable slices skipped and noted), normalised and resampled.
   * Safe to call from another thread than {@link #predict(Prepared, Consumer)}.
   */
  public Prepared prepare(
      long studyId, Path studyDir, List<Rsna2024.SeriesDescription> descriptions) {
    double read = 0, prep = 0;
    List<String> notes = new ArrayList<>();
    LumbarInputs.Selection sel = LumbarInputs.select(studyId, studyDir, descriptions);
    notes.addAll(sel.notes());
    Map<Kind, Volume> volumes = new EnumMap<>(Kind.class);
    Map<Kind, Series> series = new EnumMap<>(Kind.class);
    for (Kind k : Kind.values()) {
      Long id = sel.series().get(k);
      if (id == null) continue;
      long t = System.nanoTime();
      try {
        Volume v = LumbarInputs.read(studyDir.resolve(Long.toString(id)), studyId, id, notes::add);
        volumes.put(k, v);
        read += secs(t);
        t = System.nanoTime();
        series.put(
            k,
            LumbarInputs.prepare(
                k,
                id,
                v,
                k == Kind.T1 ? config.t1Slices() : config.t2Slices(),
                k == Kind.AXIAL ? config.axialSize() : config.size(),
                config.lowPercentile(),
                config.highPercentile()));
        prep += secs(t);
      } catch (IOException | IllegalArgumentException e) {
        notes.add(
            LumbarInputs.where(studyId, id)
                + " ("
                + k.description
                + ") unusable: "
                + e.getMessage());
      }
    }
    return new Prepared(studyId, volumes, series, notes, read, prep);
  }

  /** Predicts study {@code studyId} whose series are in {@code studyDir}. */
  public Result predict(
      long studyId,
      Path studyDir,
      List<Rsna2024.SeriesDescription> descriptions,
      Consumer<String> log) {
    long start = System.nanoTime();
    Prepared p = prepare(studyId, studyDir, descriptions);
    return predict(p, log, start, true, null);
  }

  /**
   * Predicts a prepared study. Its seconds: read and prepare (from {@code p}), forward (every
   * network, DSNT and pooling), crops (cutting the two-stage crops), other, and total (this call
   * alone).
   */
  public Result predict(Prepared p, Consumer<String> log) {
    return predict(p, log, System.nanoTime(), false, null);
  }

  /**
   * {@link #predict(Prepared, Consumer)} with the one-stage grades pooled by the heatmaps of the
   * study's label points {@code truth} where they are known (the write-up's upper bound).
   */
  public Result predictWithTruthHeatmaps(
      Prepared p, Consumer<String> log, List<Rsna2024.LabelCoordinate> truth) {
    return predict(p, log, System.nanoTime(), false, truth);
  }

  /** {@code withPrepare}: the time since {@code start} includes reading and preparing. */
  private Result predict(
      Prepared in,
      Consumer<String> log,
      long start,
      boolean withPrepare,
      List<Rsna2024.LabelCoordinate> truth) {
    long studyId = in.studyId();
    Map<String, Double> sec = new LinkedHashMap<>();
    sec.put("read", in.readSeconds());
    sec.put("prepare", in.prepareSeconds());
    for (String k : List.of("forward", "crops", "other")) sec.put(k, 0.0);
    List<String> notes = new ArrayList<>(in.notes());
    Map<Kind, Volume> volumes = in.volumes();
    Map<Kind, Series> series = in.series();
    List<Point> points = new ArrayList<>();
    Map<Condition, double[][]> one = new EnumMap<>(Condition.class);
    Map<Condition, double[][]> two = new EnumMap<>(Condition.class);
    Maps maps = null;
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      int grid = config.grid();
      Heat scs = null, nfn = null;
      if (series.containsKey(Kind.T2)) {
        long t = System.nanoTime();
        scs = heat(LumbarBundle.SCS, stackInput(series.get(Kind.T2)), targets(in, Kind.T2, truth));
        sec.merge("forward", secs(t), Double::sum);
        one.put(Condition.SPINAL_CANAL_STENOSIS, scs.pooled);
        Series s = series.get(Kind.T2);
        for (Level l : Level.values()) {
          points.add(
              sagittalPoint(s, Condition.SPINAL_CANAL_STENOSIS, l, scs.coords[l.ordinal()], grid));
        }
        maps = maps(s, scs, grid);
      }
      if (series.containsKey(Kind.T1)) {
        long t = System.nanoTime();
        nfn = heat(LumbarBundle.NFN, stackInput(series.get(Kind.T1)), targets(in, Kind.T1, truth));
        sec.merge("forward", secs(t), Double::sum);
        Series s = series.get(Kind.T1);
        for (int side = 0; side < 2; side++) {
          Condition c = LumbarData.conditions(Kind.T1).get(side);
          double[][] pooled = new double[5][];
          for (Level l : Level.values()) {
            int k = side * 5 + l.ordinal();
            pooled[l.ordinal()] = nfn.pooled[k];
            points.add(sagittalPoint(s, c, l, nfn.coords[k], grid));
          }
          one.put(c, pooled);
        }
      }
      // Axial: the spinal canal's level points projected into the axial series.
      double[][][] axialPts = null; // [level][side] {x, y} in axial stack pixels
      int[] axialSlice = null;
      if (nets.containsKey(LumbarBundle.AXIAL) && scs != null && series.containsKey(Kind.AXIAL)) {
        Series ax = series.get(Kind.AXIAL), t2 = series.get(Kind.T2);
        Volume t2v = volumes.get(Kind.T2), axv = volumes.get(Kind.AXIAL);
        axialPts = new double[5][][];
        axialSlice = new int[5];
        double[][][] pooled = new double[2][5][];
        int ag = config.axialGrid();
        for (Level l : Level.values()) {
          double[] p = scs.coords[l.ordinal()];
          double[] lps =
              t2v.toPatient(
                  (p[2] + 0.5) * t2.slices() / t2.depth() - 0.5,
                  t2.fromGridY(p[1], grid),
                  t2.fromGridX(p[0], grid));
          LumbarGeometry.AxialHit hit;
          try {
            hit = LumbarGeometry.projectWithin(lps, axv, config.axialMaxMm());
          } catch (IllegalArgumentException e) {
            notes.add("study " + studyId + ": " + l.label + ": no axial slice: " + e.getMessage());
            axialSlice[l.ordinal()] = -1;
            continue;
          }
          axialSlice[l.ordinal()] = hit.slice();
          long t = System.nanoTime();
          Heat h =
              heat(
                  LumbarBundle.AXIAL,
                  Tensors.of(LumbarData.axialInput(ax, hit.slice()), 1, 3, ax.size(), ax.size()));
          sec.merge("forward", secs(t), Double::sum);
          axialPts[l.ordinal()] = new double[2][];
          for (int side = 0; side < 2; side++) {
            double[] c = h.coords[side];
            pooled[side][l.ordinal()] = h.pooled[side];
            axialPts[l.ordinal()][side] = new double[] {4 * c[0] + 1.5, 4 * c[1] + 1.5};
            int[] inst = ax.instances();
            points.add(
                new Point(
                    LumbarData.conditions(Kind.AXIAL).get(side),
                    l,
                    ax.seriesId(),
                    ax.fromGridX(c[0], ag),
                    ax.fromGridY(c[1], ag),
                    inst[hit.slice()]));
          }
        }
        for (int side = 0; side < 2; side++) {
          one.put(LumbarData.conditions(Kind.AXIAL).get(side), pooled[side]);
        }
      }
      if (mode != Mode.ONE_STAGE) {
        if (scs != null) {
          two.put(
              Condition.SPINAL_CANAL_STENOSIS,
              classify(LumbarBundle.CLS_SCS, series.get(Kind.T2), scs.coords, sec));
        }
        if (nfn != null) {
          double[][] all = classify(LumbarBundle.CLS_NFN, series.get(Kind.T1), nfn.coords, sec);
          for (int side = 0; side < 2; side++) {
            two.put(
                LumbarData.conditions(Kind.T1).get(side),
                java.util.Arrays.copyOfRange(all, side * 5, side * 5 + 5));
          }
        }
        if (axialPts != null && java.util.Arrays.stream(axialSlice).anyMatch(z -> z >= 0)) {
          Series ax = series.get(Kind.AXIAL);
          List<double[]> at = new ArrayList<>();
          for (Level l : Level.values()) {
            int li = l.ordinal();
            if (axialSlice[li] < 0) continue;
            for (int side = 0; side < 2; side++) {
              double[] p = axialPts[li][side];
              at.add(new double[] {p[0], p[1], axialSlice[li]});
            }
          }
          double[][] q = classifyAt(LumbarBundle.CLS_SA, ax, at.toArray(double[][]::new), sec);
          // A level without an axial slice has no row here: the blend falls back for it.
          double[][][] out = new double[2][5][];
          int k = 0;
          for (Level l : Level.values()) {
            if (axialSlice[l.ordinal()] < 0) continue;
            for (int side = 0; side < 2; side++) out[side][l.ordinal()] = q[k++];
          }
          for (int side = 0; side < 2; side++) {
            two.put(LumbarData.conditions(Kind.AXIAL).get(side), out[side]);
          }
        }
      }
    }
    List<Rsna2024.Prediction> rows = new ArrayList<>();
    for (Condition c : Condition.values()) {
      double w =
          switch (c) {
            case SPINAL_CANAL_STENOSIS -> config.blendScs();
            case LEFT_NEURAL_FORAMINAL_NARROWING, RIGHT_NEURAL_FORAMINAL_NARROWING ->
                config.blendNfn();
            default -> config.blendSubarticular();
          };
      double[][] a = one.get(c), b = two.get(c);
      if (mode == Mode.ONE_STAGE) b = null;
      if (mode == Mode.TWO_STAGE) a = null;
      for (Level l : Level.values()) {
        int li = l.ordinal();
        double[] pa = a == null ? null : a[li], pb = b == null ? null : b[li];
        double[] p;
        if (pa != null && pb != null) {
          p = new double[3];
          for (int i = 0; i < 3; i++) p[i] = w * pa[i] + (1 - w) * pb[i];
        } else if (pa != null || pb != null) {
          p = pa != null ? pa : pb;
        } else {
          List<Double> q = prior.get(new Rsna2024.ConditionLevel(c, l).column());
          p = new double[] {q.get(0), q.get(1), q.get(2)};
          notes.add(
              "study " + studyId + ": " + c.key + "_" + l.key + ": no prediction, training prior");
        }
        rows.add(new Rsna2024.Prediction(studyId, c, l, p[0], p[1], p[2]));
      }
    }
    // total: the wall time since start (with the reading when this call did it).
    double total = secs(start);
    double inCall = withPrepare ? total - in.readSeconds() - in.prepareSeconds() : total;
    sec.put("other", Math.max(0, inCall - sec.get("forward") - sec.get("crops")));
    sec.put("total", total);
    for (String n : notes) log.accept(n);
    return new Result(studyId, rows, points, sec, notes, maps);
  }

  private static double secs(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  /** The label points of a sagittal series as targets, or null without truth. */
  private float[] targets(Prepared in, Kind kind, List<Rsna2024.LabelCoordinate> truth) {
    if (truth == null) return null;
    return LumbarData.sagittalTargets(
        in.studyId(), in.series().get(kind), truth, null, config.grid(), Path.of(""), m -> {});
  }

  private Tensor stackInput(Series s) {
    return Tensors.of(s.stack(), 1, 1, s.depth(), s.size(), s.size());
  }

  /** Fold-averaged DSNT points (grid pixels; z in stack slices) and pooled grades of a heat net. */
  private record Heat(double[][] coords, double[][] pooled, float[] probs, float[] grade) {}

  private Heat heat(String name, Tensor x) {
    return heat(name, x, null);
  }

  /**
   * With {@code truth} (targets as {@link LumbarData#sagittalTargets} gives them), each level whose
   * label point is known pools its grades with the Gaussian target heatmap there instead of the
   * net's (the write-up's upper bound); the points stay the net's.
   */
  private Heat heat(String name, Tensor x, float[] truth) {
    List<Net> list = nets.get(name);
    double[][] coords = null, pooled = null;
    float[] probs = null, gradeProbs = null;
    for (Net n : list) {
      try (PointerScope scope = new PointerScope()) {
        LumbarNet.Output o = ((LumbarNet) n).heads(on(x));
        Tensor heat = o.heat().contiguous(), grade = torch.softmax(o.grade(), 1).contiguous();
        try (Dsnt.Result r = Dsnt.forward(heat)) {
          Tensor p = HeatmapPool.forward(r.probs, grade);
          if (truth != null) p = truthPooled(p, truth, heat, grade);
          float[] c = Tensors.floats(r.coords.cpu()), q = Tensors.floats(p.cpu());
          int k = (int) heat.size(1), nd = (int) heat.dim() - 2;
          if (coords == null) {
            coords = new double[k][3];
            pooled = new double[k][3];
            probs = new float[(int) r.probs.numel()];
            gradeProbs = new float[(int) grade.numel()];
          }
          for (int i = 0; i < k; i++) {
            for (int j = 0; j < nd; j++) coords[i][j] += c[i * nd + j] / list.size();
            for (int j = 0; j < 3; j++) pooled[i][j] += q[i * 3 + j] / list.size();
          }
          float[] pr = Tensors.floats(r.probs.cpu()), gr = Tensors.floats(grade.cpu());
          for (int i = 0; i < pr.length; i++) probs[i] += pr[i] / list.size();
          for (int i = 0; i < gr.length; i++) gradeProbs[i] += gr[i] / list.size();
        }
      }
    }
    return new Heat(coords, pooled, probs, gradeProbs);
  }

  private Tensor on(Tensor t) {
    return device == null ? t : t.to(device, t.scalar_type());
  }

  /** {@code pooled} [1, K, 3] with the levels of known truth pooled by their target heatmaps. */
  private Tensor truthPooled(Tensor pooled, float[] truth, Tensor heat, Tensor grade) {
    int k = (int) heat.size(1);
    float[] pts = new float[k * 3];
    for (int i = 0; i < k; i++) System.arraycopy(truth, 4 * i, pts, 3 * i, 3);
    long[] spatial = {heat.size(2), heat.size(3), heat.size(4)};
    Tensor gt =
        org.spinekit.ops.GaussianTargets.render(
            on(Tensors.of(pts, 1, k, 3)), spatial, config.sigma(), true);
    float[] a = Tensors.floats(pooled.cpu()),
        b = Tensors.floats(HeatmapPool.forward(gt, grade).cpu());
    for (int i = 0; i < k; i++) {
      if (Float.isNaN(pts[3 * i])) continue;
      System.arraycopy(b, 3 * i, a, 3 * i, 3);
    }
    return Tensors.of(a, 1, k, 3);
  }

  private Point sagittalPoint(Series s, Condition c, Level l, double[] p, int grid) {
    return new Point(
        c,
        l,
        s.seriesId(),
        s.fromGridX(p[0], grid),
        s.fromGridY(p[1], grid),
        s.instances()[s.fromStackZ(p[2])]);
  }

  /** Crop classifier probabilities for each point (grid coordinates) of a sagittal stack. */
  private double[][] classify(String name, Series s, double[][] coords, Map<String, Double> sec) {
    double[][] at = new double[coords.length][];
    for (int k = 0; k < coords.length; k++) {
      double[] p = coords[k];
      int slice = (int) Math.max(0, Math.min(s.depth() - 1, Math.round(p[2])));
      at[k] = new double[] {4 * p[0] + 1.5, 4 * p[1] + 1.5, slice};
    }
    return classifyAt(name, s, at, sec);
  }

  /**
   * Crop classifier probabilities at points {x, y, slice} of a stack (stack pixels): the crops are
   * cut (time "crops") and classified in one batch per fold (time "forward").
   */
  private double[][] classifyAt(String name, Series s, double[][] at, Map<String, Double> sec) {
    long t = System.nanoTime();
    int n = at.length, cs = config.cropSize(), sl = config.cropSlices();
    float[] batch = new float[n * sl * cs * cs];
    for (int k = 0; k < n; k++) {
      float[] c = LumbarData.crop(s, at[k][0], at[k][1], (int) at[k][2], sl, config.cropMm(), cs);
      System.arraycopy(c, 0, batch, k * c.length, c.length);
    }
    sec.merge("crops", secs(t), Double::sum);
    t = System.nanoTime();
    double[][] p = new double[n][3];
    List<Net> list = nets.get(name);
    try (PointerScope scope = new PointerScope()) {
      Tensor in = on(Tensors.of(batch, n, sl, cs, cs));
      for (Net net : list) {
        float[] q = Tensors.floats(torch.softmax(net.forward(in), 1).cpu());
        for (int k = 0; k < n; k++)
          for (int i = 0; i < 3; i++) p[k][i] += q[3 * k + i] / list.size();
      }
    }
    sec.merge("forward", secs(t), Double::sum);
    return p;
  }

  private Maps maps(Series s, Heat h, int grid) {
    int d = s.depth(), size = s.size();
    double z = 0;
    for (double[] c : h.coords) z += c[2] / h.coords.length;
    int slice = (int) Math.max(0, Math.min(d - 1, Math.round(z)));
    float[] image = new float[size * size];
    System.arraycopy(s.stack(), slice * size * size, image, 0, size * size);
    int plane = grid * grid;
    float[] heat = new float[plane];
    for (int k = 0; k < h.coords.length; k++) {
      for (int i = 0; i < plane; i++) heat[i] += h.probs[(k * d + slice) * plane + i];
    }
    float[] grade = new float[3 * plane];
    for (int c = 0; c < 3; c++)
      System.arraycopy(h.grade, (c * d + slice) * plane, grade, c * plane, plane);
    double[][] pts = new double[h.coords.length][];
    for (int k = 0; k < pts.length; k++)
      pts[k] = new double[] {4 * h.coords[k][0] + 1.5, 4 * h.coords[k][1] + 1.5};
    return new Maps(
        slice, size, grid, image, heat, grade, pts, s.seriesId(), s.rows(), s.columns());
  }

  @Override
  public void close() {
    for (List<Net> l : nets.values()) for (Net n : l) n.close();
    nets.clear();
  }
}
