package org.spinekit.lumbar;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.io.SliceSource;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.tensor.Tensors;

/**
 * A lumbar study as the nets see it: its three series chosen by description, read, normalised
 * (intensity percentiles to 0..1, MR having no fixed scale) and resampled to fixed sizes: the
 * sagittal series to [depth, size, size] stacks, the axial series in-plane only.
 *
 * <p>Coordinates: pixel centres sit at integers in every grid (align-corners false), so a pixel x
 * of a series with {@code columns} columns is {@code (x + 0.5) * g / columns - 0.5} on a grid of
 * width g, and slice i of n is {@code (i + 0.5) * depth / n - 0.5} in a stack of {@code depth}.
 */
public final class LumbarInputs {
  private LumbarInputs() {}

  /** The three series types of a study and their descriptions. */
  public enum Kind {
    T1(Rsna2024.SAGITTAL_T1),
    T2(Rsna2024.SAGITTAL_T2_STIR),
    AXIAL(Rsna2024.AXIAL_T2);

    /** As in the series descriptions CSV. */
    public final String description;

    Kind(String description) {
      this.description = description;
    }

    /** By description, or null. */
    public static Kind of(String description) {
      for (Kind k : values()) if (k.description.equals(description)) return k;
      return null;
    }
  }

  /**
   * One series prepared: its identity and geometry (what mapping points needs) and the normalised,
   * resampled voxels {@code stack} [depth, size, size].
   *
   * @param instances instance numbers of the series' slices, in sorted slice order
   * @param spacing mm between rows, columns and slices
   */
  public record Series(
      Kind kind,
      long seriesId,
      int rows,
      int columns,
      int[] instances,
      double[] spacing,
      int depth,
      int size,
      float[] stack) {
    public Series {
      instances = instances.clone();
      spacing = spacing.clone();
      if (stack.length != (long) depth * size * size) {
        throw new IllegalArgumentException(
            "stack: expected "
                + depth
                + " x "
                + size
                + " x "
                + size
                + " values, got "
                + stack.length);
      }
    }

    @Override
    public int[] instances() {
      return instances.clone();
    }

    @Override
    public double[] spacing() {
      return spacing.clone();
    }

    /** Number of slices of the series as acquired. */
    public int slices() {
      return instances.length;
    }

    /** The slice index (sorted order) of an instance number, or -1. */
    public int sliceOf(int instanceNumber) {
      for (int i = 0; i < instances.length; i++) if (instances[i] == instanceNumber) return i;
      return -1;
    }

    /** Column x of the series on a grid {@code g} wide. */
    public double toGridX(double x, int g) {
      return (x + 0.5) * g / columns - 0.5;
    }

    /** Row y of the series on a grid {@code g} high. */
    public double toGridY(double y, int g) {
      return (y + 0.5) * g / rows - 0.5;
    }

    /** Slice i of the series in the stack's depth. */
    public double toStackZ(double slice) {
      return (slice + 0.5) * depth / slices() - 0.5;
    }

    /** Column of the series of a grid x. */
    public double fromGridX(double gx, int g) {
      return (gx + 0.5) * columns / g - 0.5;
    }

    /** Row of the series of a grid y. */
    public double fromGridY(double gy, int g) {
      return (gy + 0.5) * rows / g - 0.5;
    }

    /** Slice of the series (nearest, clamped) of a stack z. */
    public int fromStackZ(double z) {
      int i = (int) Math.round((z + 0.5) * slices() / depth - 0.5);
      return Math.max(0, Math.min(slices() - 1, i));
    }

    /** mm per pixel of the stack in x and y. */
    public double[] stackMm() {
      return new double[] {spacing[1] * columns / size, spacing[0] * rows / size};
    }
  }

  /**
   * The series of each type chosen among a study's descriptions: the one with the most files when
   * several are described (reported in {@code notes}); a type without any is absent and reported.
   */
  public record Selection(Map<Kind, Long> series, List<String> notes) {
    public Selection {
      series = Map.copyOf(series);
      notes = List.copyOf(notes);
    }
  }

  /** Chooses the series of each type of {@code studyId} in {@code studyDir}. */
  public static Selection select(
      long studyId, Path studyDir, List<Rsna2024.SeriesDescription> descriptions) {
    Map<Kind, List<Long>> byKind = new EnumMap<>(Kind.class);
    List<String> notes = new ArrayList<>();
    for (Rsna2024.SeriesDescription d : descriptions) {
      if (d.studyId() != studyId) continue;
      Kind k = Kind.of(d.description());
      if (k == null) {
        notes.add(
            "study " + studyId + ": series " + d.seriesId() + " (" + d.description() + ") unused");
        continue;
      }
      byKind.computeIfAbsent(k, x -> new ArrayList<>()).add(d.seriesId());
    }
    Map<Kind, Long> chosen = new EnumMap<>(Kind.class);
    for (Kind k : Kind.values()) {
      List<Long> ids = byKind.get(k);
      if (ids == null) {
        notes.add("study " + studyId + ": no " + k.description + " series");
        continue;
      }
      long best = ids.get(0);
      if (ids.size() > 1) {
        long most = -1;
        for (long id : ids) {
          long n = count(studyDir.resolve(Long.toString(id)));
          if (n > most) {
            most = n;
            best = id;
          }
        }
        notes.add(
            "study "
                + studyId
                + ": "
                + ids.size()
                + " "
                + k.description
                + " series "
                + ids
                + ", using "
                + best
                + " (most files)");
      }
      chosen.put(k, best);
    }
    return new Selection(chosen, notes);
  }

  /** The entries of {@code dir}, 0 when it cannot be listed (any file system, in memory too). */
  private static long count(Path dir) {
    try (java.util.stream.Stream<Path> s = java.nio.file.Files.list(dir)) {
      return s.count();
    } catch (java.io.IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The fewest slices a series may have (the sagittal stacks and the 2.5D crops need some). */
  public static final int MIN_SLICES = 3;

  /**
   * Reads the series {@code dir} (unreadable slices skipped and reported through {@code log}).
   *
   * @throws IOException when nothing readable is there
   * @throws IllegalArgumentException for fewer than {@link #MIN_SLICES} slices
   */
  public static Volume read(Path dir, long studyId, long seriesId, Consumer<String> log)
      throws IOException {
    DicomSeriesReader.Read r =
        DicomSeriesReader.readReporting(
            dir, DicomSeriesReader.Options.defaults().withThreads(1).withSkipBadFiles(true));
    for (String s : r.skipped()) {
      log.accept("study " + studyId + ", series " + seriesId + ": skipped " + s);
    }
    Volume v = r.volume();
    if (v.slices() < MIN_SLICES) {
      throw new IllegalArgumentException(
          "study "
              + studyId
              + ", series "
              + seriesId
              + " ("
              + dir
              + "): "
              + v.slices()
              + " slice(s), fewer than "
              + MIN_SLICES);
    }
    return v;
  }

  /**
   * Prepares a read series: sagittal ones to [depth, size, size] (trilinear), axial ones in-plane
   * to [slices, size, size] ({@code depth} ignored).
   */
  public static Series prepare(
      Kind kind, long seriesId, Volume v, int depth, int size, double lowPct, double highPct) {
    int n = v.slices(), rows = v.rows(), cols = v.columns();
    float[] values = v.toModality().floats();
    float[] range = percentiles(values, lowPct, highPct);
    float lo = range[0], scale = range[1] > range[0] ? 1f / (range[1] - range[0]) : 0f;
    int outDepth = kind == Kind.AXIAL ? n : depth;
    float[] out;
    try (PointerScope scope = new PointerScope()) {
      Tensor t = Tensors.of(values, 1, 1, n, rows, cols);
      t = t.sub(new org.bytedeco.pytorch.Scalar(lo)).mul(new org.bytedeco.pytorch.Scalar(scale));
      t =
          t.clamp(
              new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(0f)),
              new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(1f)));
      // At its own size the resampling is a copy (weights 1 and 0), and took half the time of
      // an axial series' preparation.
      if (outDepth != n || size != rows || size != cols) {
        t = torch.upsample_trilinear3d(t, new long[] {outDepth, size, size}, false);
      }
      out = Tensors.floats(t.contiguous());
    }
    // Label points name instances: without one per slice they could not be placed.
    List<SliceSource> src = v.sources();
    if (src.size() != n) {
      throw new IllegalArgumentException(
          "series "
              + seriesId
              + ": "
              + src.size()
              + " slice sources for "
              + n
              + " slices; instance numbers unknown");
    }
    int[] instances = new int[n];
    for (int i = 0; i < n; i++) instances[i] = src.get(i).instanceNumber();
    return new Series(kind, seriesId, rows, cols, instances, v.spacing(), outDepth, size, out);
  }

  /**
   * The {@code lo} and {@code hi} percentiles of {@code v}, from an even sample of at most 2^16
   * voxels (a window, not a statistic: sorting every voxel of a series cost more than its forward
   * passes on small nets).
   */
  static float[] percentiles(float[] v, double lo, double hi) {
    int step = Math.max(1, (v.length + 65535) >> 16);
    int[] keys = new int[(v.length + step - 1) / step];
    for (int i = 0, j = 0; i < v.length; i += step) keys[j++] = key(v[i]);
    // Two order statistics by their bits, not a sort: sorting the sample was 6 of a lumbar
    // study's 9 ms of preparation, a quickselect (branches the data decides) still 2.
    int[] scratch = new int[keys.length];
    return new float[] {
      value(keyAt(keys, rank(keys.length, lo), scratch)),
      value(keyAt(keys, rank(keys.length, hi), scratch))
    };
  }

  /**
   * {@code f}'s bits turned so that comparing them unsigned orders floats as {@link Float#compare}
   * (and {@link Arrays#sort(float[])}) does: -0.0 before 0.0, NaN last.
   */
  static int key(float f) {
    int bits = Float.floatToIntBits(f);
    return (bits ^ ((bits >> 31) & 0x7fffffff)) ^ 0x80000000;
  }

  /** The float whose {@link #key} is {@code key} (NaN as {@link Float#NaN}). */
  static float value(int key) {
    int k = key ^ 0x80000000;
    return Float.intBitsToFloat(k ^ ((k >> 31) & 0x7fffffff));
  }

  /** Where {@link #keyAt}'s digits start: bits 21-31, 10-20 and 0-9. */
  private static final int[] DIGITS = {21, 10, 0};

  /**
   * The key at index {@code k} of {@code keys} sorted unsigned, by its digits from the top (11, 11
   * and 10 bits): each pass counts the candidates' next digit and keeps those whose digit holds
   * rank {@code k}. Linear and without data-dependent branches in its counting; {@code keys} is
   * left as it was, {@code scratch} (as long as {@code keys}) is overwritten.
   */
  static int keyAt(int[] keys, int k, int[] scratch) {
    if (k < 0 || k >= keys.length) {
      throw new IndexOutOfBoundsException("k " + k + " outside [0, " + keys.length + ")");
    }
    int[] cur = keys, count = new int[1 << 11];
    int n = keys.length, key = 0;
    for (int shift : DIGITS) {
      int mask = shift == 0 ? (1 << 10) - 1 : (1 << 11) - 1;
      Arrays.fill(count, 0);
      for (int i = 0; i < n; i++) count[(cur[i] >>> shift) & mask]++;
      int d = 0;
      while (k >= count[d]) k -= count[d++];
      key |= d << shift;
      int m = 0;
      for (int i = 0; i < n && shift > 0; i++) {
        int x = cur[i];
        if (((x >>> shift) & mask) == d) scratch[m++] = x;
      }
      cur = scratch;
      n = m;
    }
    return key;
  }

  private static int rank(int n, double pct) {
    return (int) Math.max(0, Math.min(n - 1, Math.round(pct / 100.0 * (n - 1))));
  }

  /** "study S, series R" for messages. */
  static String where(long studyId, long seriesId) {
    return String.format(Locale.ROOT, "study %d, series %d", studyId, seriesId);
  }
}
