package org.spinekit.lumbar;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Level;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.io.safetensors.SafeTensors;
import org.spinekit.lumbar.LumbarInputs.Kind;
import org.spinekit.lumbar.LumbarInputs.Series;
import org.spinekit.tensor.Tensors;
import org.spinekit.train.Dataset;
import org.spinekit.train.Example;

/**
 * The lumbar training data: prepared series cached one file each ({@link #save}, {@link #load}),
 * the label points of a study mapped onto them ({@link #sagittalTargets}, {@link #axialTargets}),
 * and the data sets of the heatmap nets and of the crop classifiers.
 *
 * <p>A target point is four floats: x, y (heatmap pixels), z (stack slices; for axial samples
 * unused, 0) and the grade index (-1: none); a point without a usable label has NaN coordinates.
 */
public final class LumbarData {
  private LumbarData() {}

  /** The conditions of a sagittal net's heatmaps, in channel order (five levels each). */
  public static List<Condition> conditions(Kind kind) {
    return switch (kind) {
      case T2 -> List.of(Condition.SPINAL_CANAL_STENOSIS);
      case T1 ->
          List.of(
              Condition.LEFT_NEURAL_FORAMINAL_NARROWING,
              Condition.RIGHT_NEURAL_FORAMINAL_NARROWING);
      case AXIAL ->
          List.of(Condition.LEFT_SUBARTICULAR_STENOSIS, Condition.RIGHT_SUBARTICULAR_STENOSIS);
    };
  }

  // ---------------------------------------------------------------------- the cache

  /** Writes a prepared series to {@code file} (atomically). */
  public static void save(Path file, Series s) throws IOException {
    Files.createDirectories(file.getParent());
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("kind", s.kind().name());
    meta.put("series_id", Long.toString(s.seriesId()));
    meta.put("rows", Integer.toString(s.rows()));
    meta.put("columns", Integer.toString(s.columns()));
    meta.put("instances", join(Arrays.stream(s.instances()).mapToObj(Integer::toString).toList()));
    meta.put("spacing", join(Arrays.stream(s.spacing()).mapToObj(Double::toString).toList()));
    try (PointerScope scope = new PointerScope()) {
      Tensor t = Tensors.of(s.stack(), s.depth(), s.size(), s.size());
      SafeTensors.write(file, Map.of("stack", t), meta);
    }
  }

  /** Reads a series {@link #save} wrote. */
  public static Series load(Path file) throws IOException {
    Map<String, String> m = SafeTensors.metadata(file);
    try (PointerScope scope = new PointerScope()) {
      Tensor t = SafeTensors.read(file).get("stack");
      if (t == null || t.dim() != 3) throw new MalformedFileException(file, "no [D, S, S] stack");
      int[] inst =
          Arrays.stream(field(m, "instances", file).split(","))
              .mapToInt(Integer::parseInt)
              .toArray();
      double[] sp =
          Arrays.stream(field(m, "spacing", file).split(","))
              .mapToDouble(Double::parseDouble)
              .toArray();
      if (sp.length != 3)
        throw new MalformedFileException(file, "spacing: expected 3 values, got " + sp.length);
      return new Series(
          Kind.valueOf(field(m, "kind", file)),
          Long.parseLong(field(m, "series_id", file)),
          Integer.parseInt(field(m, "rows", file)),
          Integer.parseInt(field(m, "columns", file)),
          inst,
          sp,
          (int) t.size(0),
          (int) t.size(1),
          Tensors.floats(t));
    } catch (RuntimeException e) {
      throw new MalformedFileException(file, "not a prepared lumbar series: " + e.getMessage(), e);
    }
  }

  /** A metadata value {@link #save} writes; its absence names the key. */
  private static String field(Map<String, String> m, String key, Path file)
      throws MalformedFileException {
    String v = m.get(key);
    if (v == null) throw new MalformedFileException(file, "no '" + key + "' in the metadata");
    return v;
  }

  private static String join(List<String> s) {
    return String.join(",", s);
  }

  // -------------------------------------------------------------------- the targets

  /**
   * The targets of a sagittal net on series {@code s} of {@code studyId}: for each condition of
   * {@link #conditions} and each level, x, y, z and grade. A label point on another series, on an
   * instance the series lacks or outside the image is reported through {@code log} and left out.
   */
  public static float[] sagittalTargets(
      long studyId,
      Series s,
      List<Rsna2024.LabelCoordinate> coordinates,
      Rsna2024.LumbarLabel label,
      int grid,
      Path seriesDir,
      Consumer<String> log) {
    List<Condition> conds = conditions(s.kind());
    float[] t = new float[conds.size() * 5 * 4];
    Arrays.fill(t, Float.NaN);
    for (int ci = 0; ci < conds.size(); ci++) {
      for (Level l : Level.values()) {
        int k = ci * 5 + l.ordinal();
        Grade g = label == null ? null : label.grade(conds.get(ci), l);
        t[4 * k + 3] = g == null ? -1 : g.ordinal();
        for (Rsna2024.LabelCoordinate c : coordinates) {
          if (c.studyId() != studyId || c.condition() != conds.get(ci) || c.level() != l) continue;
          double[] p = point(s, c, seriesDir, log);
          if (p == null) continue;
          t[4 * k] = (float) s.toGridX(c.x(), grid);
          t[4 * k + 1] = (float) s.toGridY(c.y(), grid);
          t[4 * k + 2] = (float) s.toStackZ(p[2]);
        }
      }
    }
    return t;
  }

  /**
   * The label point {@code c} checked against series {@code s}: {x, y, slice}, or null (reported)
   * when it is on another series, an instance the series lacks, or outside the image.
   */
  static double[] point(
      Series s, Rsna2024.LabelCoordinate c, Path seriesDir, Consumer<String> log) {
    String what = c.condition().label + " " + c.level().label;
    if (c.seriesId() != s.seriesId()) {
      log.accept(
          LumbarInputs.where(c.studyId(), c.seriesId())
              + ": "
              + what
              + " is marked on another series than the "
              + s.kind().description
              + " used ("
              + s.seriesId()
              + "); point left out");
      return null;
    }
    int slice = s.sliceOf(c.instanceNumber());
    if (slice < 0) {
      log.accept(
          LumbarInputs.where(c.studyId(), c.seriesId())
              + " ("
              + seriesDir
              + "): "
              + what
              + " is on instance "
              + c.instanceNumber()
              + ", which the series does not have; point left out");
      return null;
    }
    if (!(c.x() >= -0.5
        && c.x() <= s.columns() - 0.5
        && c.y() >= -0.5
        && c.y() <= s.rows() - 0.5)) {
      log.accept(
          LumbarInputs.where(c.studyId(), c.seriesId())
              + " ("
              + seriesDir
              + "): "
              + what
              + " at ("
              + c.x()
              + ", "
              + c.y()
              + ") is outside the "
              + s.columns()
              + " x "
              + s.rows()
              + " image; point left out");
      return null;
    }
    return new double[] {c.x(), c.y(), slice};
  }

  /**
   * One axial sample: the slice of a level (where its subarticular points were marked) and the
   * targets of the left and right points (x, y in heatmap pixels, 0, grade).
   */
  public record AxialLevel(Level level, int slice, float[] target) {}

  /** The axial samples of {@code studyId} on axial series {@code s}, one per marked level. */
  public static List<AxialLevel> axialTargets(
      long studyId,
      Series s,
      List<Rsna2024.LabelCoordinate> coordinates,
      Rsna2024.LumbarLabel label,
      int grid,
      Path seriesDir,
      Consumer<String> log) {
    List<Condition> conds = conditions(Kind.AXIAL);
    List<AxialLevel> out = new ArrayList<>();
    for (Level l : Level.values()) {
      float[] t = new float[8];
      Arrays.fill(t, Float.NaN);
      double sliceSum = 0;
      int marked = 0;
      for (int side = 0; side < 2; side++) {
        Grade g = label == null ? null : label.grade(conds.get(side), l);
        t[4 * side + 3] = g == null ? -1 : g.ordinal();
        for (Rsna2024.LabelCoordinate c : coordinates) {
          if (c.studyId() != studyId || c.condition() != conds.get(side) || c.level() != l) {
            continue;
          }
          double[] p = point(s, c, seriesDir, log);
          if (p == null) continue;
          t[4 * side] = (float) s.toGridX(c.x(), grid);
          t[4 * side + 1] = (float) s.toGridY(c.y(), grid);
          t[4 * side + 2] = 0;
          sliceSum += p[2];
          marked++;
        }
      }
      if (marked > 0) out.add(new AxialLevel(l, (int) Math.round(sliceSum / marked), t));
    }
    return out;
  }

  // ------------------------------------------------------------------ augmentation

  /**
   * Flips a sample left to right in place: the input's last axis when {@code axis} is the columns
   * (axial), its depth axis for sagittal stacks; x (or z) of every point mirrored, and the first
   * and second half of the points swapped when {@code swapSides} (left and right).
   *
   * @param input the sample [C, D, H, W] or [C, H, W], flattened
   * @param shape its shape
   * @param axis the axis flipped
   * @param target points, 4 floats each
   * @param extent the flipped axis' extent in target units (heatmap width or stack depth)
   * @param coordinate which coordinate of a point the axis is (0 = x, 2 = z)
   */
  public static void flip(
      float[] input,
      int[] shape,
      int axis,
      float[] target,
      int extent,
      int coordinate,
      boolean swapSides) {
    int inner = 1;
    for (int a = axis + 1; a < shape.length; a++) inner *= shape[a];
    int n = shape[axis];
    int outer = input.length / (inner * n);
    for (int o = 0; o < outer; o++) {
      for (int i = 0; i < n / 2; i++) {
        int a = (o * n + i) * inner, b = (o * n + n - 1 - i) * inner;
        for (int j = 0; j < inner; j++) {
          float tmp = input[a + j];
          input[a + j] = input[b + j];
          input[b + j] = tmp;
        }
      }
    }
    int points = target.length / 4;
    for (int k = 0; k < points; k++) {
      float v = target[4 * k + coordinate];
      if (!Float.isNaN(v)) target[4 * k + coordinate] = extent - 1 - v;
    }
    if (swapSides) {
      int half = points / 2;
      for (int k = 0; k < half; k++) {
        for (int j = 0; j < 4; j++) {
          float tmp = target[4 * k + j];
          target[4 * k + j] = target[4 * (k + half) + j];
          target[4 * (k + half) + j] = tmp;
        }
      }
    }
  }

  /** Random contrast and brightness, then clamped to [0, 1] (in place). */
  static void intensity(float[] x, SplittableRandom rng) {
    float gain = (float) (0.8 + 0.4 * rng.nextDouble());
    float bias = (float) (-0.1 + 0.2 * rng.nextDouble());
    for (int i = 0; i < x.length; i++) x[i] = Math.max(0f, Math.min(1f, x[i] * gain + bias));
  }

  // ------------------------------------------------------------------- data sets

  /** One sagittal sample: a cached series and its targets. */
  public record SagittalItem(long studyId, Path cache, float[] target) {}

  /**
   * The samples of a sagittal heatmap net: input [1, D, S, S], target 4 floats per point. With
   * {@code augment}: intensity jitter and, with {@code flip}, a depth flip half the time (left and
   * right foramina swap with their labels; the spinal canal's stay).
   */
  public static Dataset sagittal(List<SagittalItem> items, boolean augment, boolean flip) {
    List<SagittalItem> list = List.copyOf(items);
    return Dataset.of(
        list.size(),
        (index, rng) -> {
          SagittalItem it = list.get(index);
          Series s = load(it.cache());
          float[] x = s.stack();
          float[] t = it.target().clone();
          if (augment) {
            intensity(x, rng);
            if (flip && rng.nextBoolean()) {
              flip(
                  x,
                  new int[] {s.depth(), s.size(), s.size()},
                  0,
                  t,
                  s.depth(),
                  2,
                  s.kind() == Kind.T1);
            }
          }
          return new Example(Tensors.of(x, 1, s.depth(), s.size(), s.size()), t);
        });
  }

  /** One axial sample: a cached axial series, the level's slice and its targets. */
  public record AxialItem(long studyId, Path cache, int slice, float[] target) {}

  /** The three slices around {@code slice} (clamped at the ends), [3, S, S] flattened. */
  public static float[] axialInput(Series s, int slice) {
    int plane = s.size() * s.size();
    float[] x = new float[3 * plane];
    for (int c = 0; c < 3; c++) {
      int z = Math.max(0, Math.min(s.depth() - 1, slice - 1 + c));
      System.arraycopy(s.stack(), z * plane, x, c * plane, plane);
    }
    return x;
  }

  /**
   * The samples of the axial point net: input [3, S, S] (the level's slice and its neighbours),
   * targets the left and right subarticular points; with {@code augment}, intensity jitter and a
   * left-right flip half the time (left and right swap).
   */
  public static Dataset axial(List<AxialItem> items, boolean augment, boolean flip, int grid) {
    List<AxialItem> list = List.copyOf(items);
    return Dataset.of(
        list.size(),
        (index, rng) -> {
          AxialItem it = list.get(index);
          Series s = load(it.cache());
          float[] x = axialInput(s, it.slice());
          float[] t = it.target().clone();
          if (augment) {
            intensity(x, rng);
            if (flip && rng.nextBoolean()) {
              flip(x, new int[] {3, s.size(), s.size()}, 2, t, grid, 0, true);
            }
          }
          return new Example(Tensors.of(x, 3, s.size(), s.size()), t);
        });
  }

  /**
   * One crop of the two-stage classifier: a point (x, y in stack pixels, slice in the stack) of a
   * cached series and its grade.
   */
  public record CropItem(long studyId, Path cache, double x, double y, int slice, int grade) {}

  /**
   * A crop {@code mm} wide around (x, y) on {@code slices} slices centred on {@code slice}
   * (clamped), resampled bilinearly to [slices, size, size]; outside the image is 0.
   */
  public static float[] crop(
      Series s, double x, double y, int slice, int slices, double mm, int size) {
    double[] px = s.stackMm();
    double wx = mm / px[0], wy = mm / px[1];
    int n = s.size(), plane = n * n;
    float[] out = new float[slices * size * size];
    float[] v = s.stack();
    for (int c = 0; c < slices; c++) {
      int z = Math.max(0, Math.min(s.depth() - 1, slice - slices / 2 + c));
      for (int r = 0; r < size; r++) {
        double sy = y + ((r + 0.5) / size - 0.5) * wy;
        for (int q = 0; q < size; q++) {
          double sx = x + ((q + 0.5) / size - 0.5) * wx;
          out[(c * size + r) * size + q] = bilinear(v, z * plane, n, sx, sy);
        }
      }
    }
    return out;
  }

  private static float bilinear(float[] v, int base, int n, double x, double y) {
    int x0 = (int) Math.floor(x), y0 = (int) Math.floor(y);
    double fx = x - x0, fy = y - y0;
    double s = 0;
    for (int dy = 0; dy < 2; dy++) {
      for (int dx = 0; dx < 2; dx++) {
        int xi = x0 + dx, yi = y0 + dy;
        if (xi < 0 || yi < 0 || xi >= n || yi >= n) continue;
        s += v[base + yi * n + xi] * (dx == 0 ? 1 - fx : fx) * (dy == 0 ? 1 - fy : fy);
      }
    }
    return (float) s;
  }

  /**
   * The samples of a crop classifier: input [slices, size, size], target the grade; with {@code
   * jitterMm}, the centre moves up to that far in x and y, plus intensity jitter.
   */
  public static Dataset crops(
      List<CropItem> items, int slices, double mm, int size, double jitterMm, boolean augment) {
    List<CropItem> list = List.copyOf(items);
    return Dataset.of(
        list.size(),
        (index, rng) -> {
          CropItem it = list.get(index);
          Series s = load(it.cache());
          double x = it.x(), y = it.y();
          if (augment && jitterMm > 0) {
            double[] px = s.stackMm();
            x += (2 * rng.nextDouble() - 1) * jitterMm / px[0];
            y += (2 * rng.nextDouble() - 1) * jitterMm / px[1];
          }
          float[] c = crop(s, x, y, it.slice(), slices, mm, size);
          if (augment) intensity(c, rng);
          return new Example(Tensors.of(c, slices, size, size), new float[] {it.grade()});
        });
  }
}
