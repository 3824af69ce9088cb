package org.spinekit.io.dicom;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.spinekit.internal.concurrent.DaemonThreads;
import org.spinekit.internal.concurrent.Futures;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.SeriesInfo;
import org.spinekit.io.SliceSource;
import org.spinekit.io.Volume;

/**
 * Reads DICOM series into {@link Volume}s: files are grouped by Series Instance UID, slices (frames
 * of multi-frame files included) sorted by their position along the slice normal (by Instance
 * Number when positions are missing), and the rescale kept beside the stored integers (or applied,
 * with {@link Options#modality()}).
 *
 * <p>Bad files are errors naming them: files that fail to parse or decode, a second slice at a
 * position already taken, a file whose image size or orientation differs from the rest of its
 * series (from most of its files). Every file is read before the error, a {@link BadFilesException}
 * that lists them all; with {@link Options#skipBadFiles()} they are left out instead, each named
 * with its reason in {@link Scan#skipped()} and the volume's warnings. Files that are not DICOM at
 * all are left out of a directory either way. Non-uniform slice spacing (a missing slice, say) and
 * positions off the slice normal are warnings on the volume naming the slices around the gap. Files
 * are parsed and decoded in parallel on {@link Options#threads()} threads, straight into the
 * volume's array. Stateless: safe to call from several threads at once.
 */
public final class DicomSeriesReader {
  private DicomSeriesReader() {}

  /**
   * @param threads decoding threads (at least 1)
   * @param modality true: float32 modality values (rescale applied); false: stored integers with
   *     their rescale (float32 anyway when slices disagree on the rescale)
   * @param skipBadFiles true: bad files (that fail to parse or decode, a second slice at one
   *     position, a size or orientation the rest of the series does not have) are left out with a
   *     warning naming each; false: they are an error, a {@link BadFilesException} naming them all
   */
  public record Options(int threads, boolean modality, boolean skipBadFiles) {
    public Options {
      if (threads < 1) {
        throw new IllegalArgumentException("threads: expected at least 1, got " + threads);
      }
    }

    public static Options defaults() {
      return new Options(Runtime.getRuntime().availableProcessors(), false, false);
    }

    public Options withThreads(int t) {
      return new Options(t, modality, skipBadFiles);
    }

    public Options withModality(boolean m) {
      return new Options(threads, m, skipBadFiles);
    }

    public Options withSkipBadFiles(boolean s) {
      return new Options(threads, modality, s);
    }
  }

  /** One slice of a series before decoding: a file, a frame in it, and its position. */
  public record Slice(DicomHeader header, int frame, double[] position) {}

  /** A series found by {@link #scan}: its files' headers and slices in volume order. */
  public record Series(String seriesInstanceUid, List<Slice> slices, List<String> warnings) {
    public DicomHeader first() {
      return slices.get(0).header();
    }

    /** Distinct files, in slice order. */
    public List<DicomHeader> files() {
      Map<Path, DicomHeader> m = new LinkedHashMap<>();
      for (Slice s : slices) m.putIfAbsent(s.header().file(), s.header());
      return List.copyOf(m.values());
    }
  }

  /**
   * What a scan found: the series, and the files it left out, each as "path: reason" (files that
   * are not DICOM; with {@link Options#skipBadFiles()}, bad files).
   */
  public record Scan(List<Series> series, List<String> skipped) {}

  /**
   * A series read by {@link #readReporting}: the volume, and the files left out of it, each as
   * "path: reason" (also among the volume's warnings).
   */
  public record Read(Volume volume, List<String> skipped) {}

  /** The one series in a file or directory (an error if there are several or none). */
  public static Volume read(Path fileOrDir) throws IOException {
    return read(fileOrDir, Options.defaults());
  }

  /**
   * The one series in a file or directory.
   *
   * @throws BadFilesException naming every bad file, after all were read (unless {@link
   *     Options#skipBadFiles()})
   * @throws MalformedFileException when there are several series or none, or a file named alone is
   *     bad
   */
  public static Volume read(Path fileOrDir, Options o) throws IOException {
    return readReporting(fileOrDir, o).volume();
  }

  /** As {@link #read(Path, Options)}, with the files left out (and why) beside the volume. */
  public static Read readReporting(Path fileOrDir, Options o) throws IOException {
    List<MalformedFileException> bad = new ArrayList<>();
    Scan scan = scan(fileOrDir, o, bad);
    if (scan.series().size() != 1) {
      throwIfBad(fileOrDir, bad);
      throw new MalformedFileException(
          fileOrDir,
          scan.series().isEmpty()
              ? "no DICOM image series found" + skippedNote(scan)
              : "holds "
                  + scan.series().size()
                  + " series ("
                  + uids(scan)
                  + "); read them with"
                  + " readAll");
    }
    List<String> leftOut = new ArrayList<>(scan.skipped());
    Volume v = assemble(scan.series().get(0), scan.skipped(), o, bad, leftOut);
    throwIfBad(fileOrDir, bad);
    return new Read(v, List.copyOf(leftOut));
  }

  /** Every series under a directory (recursively), ordered by Series Number, then UID. */
  public static List<Volume> readAll(Path dir) throws IOException {
    return readAll(dir, Options.defaults());
  }

  /**
   * Every series under a directory.
   *
   * @throws BadFilesException naming every bad file of every series, after all were read (unless
   *     {@link Options#skipBadFiles()})
   */
  public static List<Volume> readAll(Path dir, Options o) throws IOException {
    List<MalformedFileException> bad = new ArrayList<>();
    Scan scan = scan(dir, o, bad);
    List<Volume> out = new ArrayList<>();
    for (Series s : scan.series()) {
      out.add(assemble(s, scan.skipped(), o, bad, new ArrayList<>()));
    }
    throwIfBad(dir, bad);
    return out;
  }

  /** One exception for every bad file found, in file order. */
  private static void throwIfBad(Path where, List<MalformedFileException> bad)
      throws BadFilesException {
    if (bad.isEmpty()) return;
    List<MalformedFileException> sorted = new ArrayList<>(bad);
    sorted.sort(Comparator.comparing(MalformedFileException::file));
    throw new BadFilesException(where, sorted);
  }

  private static String uids(Scan s) {
    StringBuilder b = new StringBuilder();
    for (Series x : s.series()) b.append(b.length() == 0 ? "" : ", ").append(x.seriesInstanceUid());
    return b.toString();
  }

  private static String skippedNote(Scan s) {
    return s.skipped().isEmpty() ? "" : "; skipped: " + String.join("; ", s.skipped());
  }

  /**
   * Reads the headers of a file or of every file under a directory, groups and sorts them.
   *
   * @throws BadFilesException naming every bad file, after all were read (unless {@link
   *     Options#skipBadFiles()})
   */
  public static Scan scan(Path fileOrDir, Options o) throws IOException {
    List<MalformedFileException> bad = new ArrayList<>();
    Scan s = scan(fileOrDir, o, bad);
    throwIfBad(fileOrDir, bad);
    return s;
  }

  /**
   * {@link #scan(Path, Options)}, with the bad files gathered in {@code bad} (when not skipped)
   * rather than thrown; a file named alone that is bad is thrown.
   */
  private static Scan scan(Path fileOrDir, Options o, List<MalformedFileException> bad)
      throws IOException {
    List<Path> files;
    boolean single = Files.isRegularFile(fileOrDir);
    if (single) {
      files = List.of(fileOrDir);
    } else if (Files.isDirectory(fileOrDir)) {
      try (Stream<Path> w = Files.walk(fileOrDir)) {
        files =
            w.filter(Files::isRegularFile)
                .filter(p -> !p.getFileName().toString().startsWith("."))
                .sorted()
                .toList();
      }
    } else {
      throw new java.nio.file.NoSuchFileException(
          fileOrDir.toString(), null, "no such file or directory");
    }
    List<String> skipped = new ArrayList<>();
    List<DicomHeader> headers = new ArrayList<>();
    List<Object> results =
        parallel(
            files,
            o.threads(),
            f -> {
              try {
                return DicomFile.readHeader(f);
              } catch (NotDicomException e) {
                if (single) throw e;
                return e;
              } catch (MalformedFileException e) {
                if (single && !o.skipBadFiles()) throw e;
                return e;
              }
            });
    for (Object r : results) {
      if (r instanceof DicomHeader h) {
        headers.add(h);
      } else if (r instanceof NotDicomException || o.skipBadFiles()) {
        skipped.add(((Exception) r).getMessage());
      } else {
        bad.add((MalformedFileException) r);
      }
    }
    Map<String, List<DicomHeader>> groups = new LinkedHashMap<>();
    for (DicomHeader h : headers) {
      String uid = h.seriesInstanceUid() == null ? "" : h.seriesInstanceUid();
      groups.computeIfAbsent(uid, k -> new ArrayList<>()).add(h);
    }
    List<Series> series = new ArrayList<>();
    for (Map.Entry<String, List<DicomHeader>> e : groups.entrySet()) {
      series.add(sortSeries(e.getKey(), e.getValue(), o, skipped, bad));
    }
    series.sort(
        Comparator.comparingInt((Series s) -> s.first().seriesNumber())
            .thenComparing(Series::seriesInstanceUid));
    return new Scan(List.copyOf(series), List.copyOf(skipped));
  }

  static double[] normal(double[] iop) {
    double[] r = {iop[0], iop[1], iop[2]};
    double[] c = {iop[3], iop[4], iop[5]};
    return Volume.cross(r, c);
  }

  private static double dot(double[] a, double[] b) {
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  }

  /**
   * Sorts the files of one series into slices. Files whose size or orientation differs from the
   * series' (that of most of its files, of the first on a tie) and second slices at one position
   * are bad: noted in {@code skipped} with {@link Options#skipBadFiles()}, added to {@code bad}
   * otherwise, and left out either way.
   */
  private static Series sortSeries(
      String uid,
      List<DicomHeader> all,
      Options o,
      List<String> skipped,
      List<MalformedFileException> bad) {
    List<String> warnings = new ArrayList<>();
    DicomHeader ref = mostCommonGeometry(all);
    List<DicomHeader> hs = new ArrayList<>();
    for (DicomHeader h : all) {
      MalformedFileException odd = null;
      if (h.rows() != ref.rows() || h.columns() != ref.columns()) {
        odd =
            new MalformedFileException(
                h.file(),
                "series "
                    + uid
                    + " mixes image sizes: "
                    + h.rows()
                    + "x"
                    + h.columns()
                    + " here, "
                    + ref.rows()
                    + "x"
                    + ref.columns()
                    + " in "
                    + ref.file());
      } else if (!sameOrientation(h, ref)) {
        odd =
            new MalformedFileException(
                h.file(),
                "series "
                    + uid
                    + " mixes orientations: "
                    + Arrays.toString(h.imageOrientation())
                    + " here, "
                    + Arrays.toString(ref.imageOrientation())
                    + " in "
                    + ref.file());
      }
      if (odd == null) {
        hs.add(h);
      } else if (o.skipBadFiles()) {
        skipped.add(odd.getMessage() + "; left out");
      } else {
        bad.add(odd);
      }
    }
    double[] iop = ref.imageOrientation();
    double[] n = iop == null ? new double[] {0, 0, 1} : normal(iop);
    List<Slice> slices = new ArrayList<>();
    boolean positioned = iop != null;
    for (DicomHeader h : hs) {
      for (int f = 0; f < h.frames(); f++) {
        double[] pos;
        if (!h.framePositions().isEmpty()) {
          pos = h.framePositions().get(f);
        } else if (h.imagePosition() != null && h.frames() == 1) {
          pos = h.imagePosition();
        } else if (h.imagePosition() != null) {
          double step =
              Double.isFinite(h.spacingBetweenSlices())
                  ? h.spacingBetweenSlices()
                  : h.sliceThickness();
          if (!Double.isFinite(step) || step <= 0) {
            pos = null;
          } else {
            double[] p0 = h.imagePosition();
            pos =
                new double[] {
                  p0[0] + f * step * n[0], p0[1] + f * step * n[1], p0[2] + f * step * n[2]
                };
          }
        } else {
          pos = null;
        }
        positioned &= pos != null;
        slices.add(new Slice(h, f, pos));
      }
    }
    if (positioned) {
      slices.sort(
          Comparator.comparingDouble((Slice s) -> dot(s.position(), n))
              .thenComparingInt(s -> s.header().instanceNumber())
              .thenComparingInt(Slice::frame));
      List<Slice> kept = new ArrayList<>();
      for (Slice s : slices) {
        if (!kept.isEmpty()) {
          Slice prev = kept.get(kept.size() - 1);
          double d = dot(s.position(), n) - dot(prev.position(), n);
          if (Math.abs(d) < 1e-3) {
            String what =
                "series "
                    + uid
                    + " has two slices at the same position ("
                    + fmt(dot(s.position(), n))
                    + " mm along the normal): "
                    + name(prev)
                    + " and "
                    + name(s);
            MalformedFileException dup = new MalformedFileException(s.header().file(), what);
            if (o.skipBadFiles()) {
              skipped.add(dup.getMessage() + "; kept the first");
            } else {
              bad.add(dup);
            }
            continue;
          }
        }
        kept.add(s);
      }
      slices = kept;
    } else {
      warnings.add(
          "no Image Position/Orientation (Patient) on every slice; slices ordered by"
              + " Instance Number");
      slices.sort(
          Comparator.comparingInt((Slice s) -> s.header().instanceNumber())
              .thenComparing(s -> s.header().file())
              .thenComparingInt(Slice::frame));
    }
    return new Series(uid, List.copyOf(slices), List.copyOf(warnings));
  }

  private static boolean sameOrientation(DicomHeader a, DicomHeader b) {
    double[] x = a.imageOrientation();
    double[] y = b.imageOrientation();
    return x == null ? y == null : y != null && maxDiff(x, y) <= 1e-3;
  }

  /** A file of the image size and orientation most files have (the first such on a tie). */
  private static DicomHeader mostCommonGeometry(List<DicomHeader> hs) {
    List<DicomHeader> kinds = new ArrayList<>();
    List<Integer> counts = new ArrayList<>();
    for (DicomHeader h : hs) {
      int k = 0;
      while (k < kinds.size()
          && !(kinds.get(k).rows() == h.rows()
              && kinds.get(k).columns() == h.columns()
              && sameOrientation(kinds.get(k), h))) {
        k++;
      }
      if (k == kinds.size()) {
        kinds.add(h);
        counts.add(0);
      }
      counts.set(k, counts.get(k) + 1);
    }
    int best = 0;
    for (int k = 1; k < kinds.size(); k++) if (counts.get(k) > counts.get(best)) best = k;
    return kinds.get(best);
  }

  private static String name(Slice s) {
    String f = s.header().file().getFileName().toString();
    return s.header().frames() > 1 ? f + " frame " + (s.frame() + 1) : f;
  }

  private static String fmt(double x) {
    return String.format(java.util.Locale.ROOT, "%.4g", x);
  }

  private static double maxDiff(double[] a, double[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  }

  /**
   * Decodes a scanned series into a volume.
   *
   * @param skipped notes for the volume's warnings (the scan's {@link Scan#skipped()})
   * @throws BadFilesException naming every file that failed to decode, after all were tried (unless
   *     {@link Options#skipBadFiles()})
   */
  public static Volume assemble(Series s, List<String> skipped, Options o) throws IOException {
    List<MalformedFileException> bad = new ArrayList<>();
    Volume v = assemble(s, skipped, o, bad, new ArrayList<>());
    if (!bad.isEmpty()) {
      Path where = s.first().file().getParent();
      throwIfBad(where == null ? s.first().file() : where, bad);
    }
    return v;
  }

  /**
   * {@link #assemble(Series, List, Options)}: files that fail to decode are added to {@code bad}
   * (null returned) or, with {@link Options#skipBadFiles()}, left out and noted in {@code leftOut}.
   */
  private static Volume assemble(
      Series s,
      List<String> skipped,
      Options o,
      List<MalformedFileException> bad,
      List<String> leftOut)
      throws IOException {
    List<String> warnings = new ArrayList<>(s.warnings());
    warnings.addAll(skipped);
    DicomHeader first = s.first();
    int rows = first.rows();
    int cols = first.columns();
    int n = s.slices().size();
    int plane = rows * cols;
    if ((long) n * plane > Integer.MAX_VALUE - 8) {
      throw new MalformedFileException(
          first.file(),
          "series "
              + s.seriesInstanceUid()
              + " has "
              + n
              + " slices of "
              + rows
              + "x"
              + cols
              + ": more voxels than one Java array holds");
    }
    // Geometry.
    double[] iop = first.imageOrientation();
    double[] rowDir = iop == null ? new double[] {1, 0, 0} : new double[] {iop[0], iop[1], iop[2]};
    double[] colDir = iop == null ? new double[] {0, 1, 0} : new double[] {iop[3], iop[4], iop[5]};
    rowDir = unit(rowDir);
    colDir = unit(colDir);
    double[] nrm = Volume.cross(rowDir, colDir);
    if (iop == null) warnings.add("no Image Orientation (Patient); assumed axial");
    double[] ps = first.pixelSpacing();
    if (ps == null) {
      warnings.add("no Pixel Spacing (0028,0030); assumed 1 mm");
      ps = new double[] {1, 1};
    }
    double sliceSpacing = spacingAlongNormal(s, nrm, warnings);
    double[] origin =
        s.slices().get(0).position() != null
            ? s.slices().get(0).position()
            : first.imagePosition() != null ? first.imagePosition() : new double[3];
    // Pixels: each file decoded straight into its slices of one array.
    short[] voxels = new short[n * plane];
    Map<Path, List<Integer>> slotsOfFile = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      slotsOfFile.computeIfAbsent(s.slices().get(i).header().file(), k -> new ArrayList<>()).add(i);
    }
    List<Map.Entry<Path, List<Integer>>> jobs = new ArrayList<>(slotsOfFile.entrySet());
    List<Object> decoded =
        parallel(
            jobs,
            o.threads(),
            job -> {
              List<Integer> slots = job.getValue();
              DicomHeader h = s.slices().get(slots.get(0)).header();
              try {
                if (h.frames() == 1) {
                  return DicomFile.readInto(h.file(), h, voxels, slots.get(0) * plane);
                }
                short[] all = new short[h.frames() * plane];
                DicomHeader now = DicomFile.readInto(h.file(), h, all, 0);
                for (int slot : slots) {
                  System.arraycopy(
                      all, s.slices().get(slot).frame() * plane, voxels, slot * plane, plane);
                }
                return now;
              } catch (MalformedFileException e) {
                return e;
              }
            });
    List<String> failed = new ArrayList<>();
    java.util.Set<Path> undecoded = new java.util.HashSet<>();
    for (Object d : decoded) {
      if (d instanceof MalformedFileException e) {
        failed.add(e.getMessage());
        undecoded.add(e.file());
        if (!o.skipBadFiles()) bad.add(e);
      }
    }
    if (!bad.isEmpty()) return null; // an error follows: no need to build the volume
    if (!undecoded.isEmpty()) {
      // Leave the files that failed to decode out, and assemble the rest again.
      List<Slice> kept = new ArrayList<>();
      for (Slice sl : s.slices()) if (!undecoded.contains(sl.header().file())) kept.add(sl);
      if (kept.isEmpty()) {
        throw new MalformedFileException(
            first.file(),
            "no slice of series "
                + s.seriesInstanceUid()
                + " could be decoded: "
                + String.join("; ", failed));
      }
      List<String> notes = new ArrayList<>(skipped);
      notes.addAll(failed);
      leftOut.addAll(failed);
      return assemble(
          new Series(s.seriesInstanceUid(), List.copyOf(kept), s.warnings()),
          notes,
          o,
          bad,
          new ArrayList<>());
    }
    // Rescale: one for the series, or per slice into float32.
    boolean uniform = true;
    for (Slice sl : s.slices()) {
      DicomHeader h = sl.header();
      uniform &=
          h.slope() == first.slope()
              && h.intercept() == first.intercept()
              && h.signed() == first.signed();
    }
    for (Object d : decoded) {
      for (String w : ((DicomHeader) d).warnings()) {
        warnings.add(((DicomHeader) d).file().getFileName() + ": " + w);
      }
    }
    Volume.Builder b =
        Volume.builder(n, rows, cols)
            .spacing(ps[0], ps[1], sliceSpacing)
            .origin(origin[0], origin[1], origin[2])
            .orientation(rowDir, colDir);
    if (!uniform) {
      warnings.add(
          "slices differ in rescale slope/intercept or signedness; returned as float32"
              + " modality values");
    }
    if (uniform && !o.modality()) {
      b.shorts(voxels, first.signed(), first.slope(), first.intercept());
    } else {
      float[] f = new float[voxels.length];
      for (int i = 0; i < n; i++) {
        DicomHeader h = s.slices().get(i).header();
        float sl = (float) h.slope();
        float ic = (float) h.intercept();
        int base = i * plane;
        if (h.signed()) {
          for (int k = base; k < base + plane; k++) f[k] = voxels[k] * sl + ic;
        } else {
          for (int k = base; k < base + plane; k++) f[k] = (voxels[k] & 0xffff) * sl + ic;
        }
      }
      b.floats(f);
    }
    List<SliceSource> sources = new ArrayList<>(n);
    for (Slice sl : s.slices()) {
      DicomHeader h = sl.header();
      String sop = h.sopInstanceUid() == null ? "" : h.sopInstanceUid();
      sources.add(new SliceSource(h.file(), sl.frame(), h.instanceNumber(), sop));
    }
    b.sources(sources);
    b.series(
        new SeriesInfo(
            nz(first.studyInstanceUid()),
            s.seriesInstanceUid(),
            nz(first.seriesDescription()),
            nz(first.modality()),
            first.transferSyntaxUid()));
    b.warnings(warnings);
    return b.build();
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  private static double[] unit(double[] v) {
    double l = Math.sqrt(dot(v, v));
    return new double[] {v[0] / l, v[1] / l, v[2] / l};
  }

  /** The slice spacing (median step along the normal) and warnings for uneven steps. */
  private static double spacingAlongNormal(Series s, double[] n, List<String> warnings) {
    List<Slice> sl = s.slices();
    DicomHeader first = s.first();
    double fallback =
        Double.isFinite(first.spacingBetweenSlices()) && first.spacingBetweenSlices() > 0
            ? first.spacingBetweenSlices()
            : Double.isFinite(first.sliceThickness()) && first.sliceThickness() > 0
                ? first.sliceThickness()
                : 1;
    if (sl.size() < 2 || sl.get(0).position() == null) return fallback;
    double[] steps = new double[sl.size() - 1];
    for (int i = 0; i + 1 < sl.size(); i++) {
      steps[i] = dot(sl.get(i + 1).position(), n) - dot(sl.get(i).position(), n);
    }
    double[] sorted = steps.clone();
    Arrays.sort(sorted);
    double median = sorted[sorted.length / 2];
    double tol = Math.max(0.01, 0.05 * median);
    int reported = 0;
    for (int i = 0; i < steps.length; i++) {
      if (Math.abs(steps[i] - median) > tol) {
        if (reported < 5) {
          long missing = Math.round(steps[i] / median) - 1;
          warnings.add(
              "non-uniform slice spacing: "
                  + fmt(steps[i])
                  + " mm between "
                  + name(sl.get(i))
                  + " (instance "
                  + sl.get(i).header().instanceNumber()
                  + ") and "
                  + name(sl.get(i + 1))
                  + " (instance "
                  + sl.get(i + 1).header().instanceNumber()
                  + "), median "
                  + fmt(median)
                  + " mm"
                  + (missing >= 1 ? "; " + missing + " slice(s) missing?" : ""));
        }
        reported++;
      }
    }
    if (reported > 5) warnings.add("... and " + (reported - 5) + " more uneven steps");
    // Positions off the line through the first slice along the normal: gantry tilt or shear.
    double[] p0 = sl.get(0).position();
    double worst = 0;
    for (Slice x : sl) {
      double[] d = {x.position()[0] - p0[0], x.position()[1] - p0[1], x.position()[2] - p0[2]};
      double along = dot(d, n);
      double off = Math.sqrt(Math.max(0, dot(d, d) - along * along));
      worst = Math.max(worst, off);
    }
    if (worst > 0.5) {
      warnings.add(
          "slice positions drift up to "
              + fmt(worst)
              + " mm off the slice normal"
              + " (gantry tilt?); the volume assumes no shear");
    }
    return median;
  }

  /** What a parallel task does with one item. */
  interface Task<T> {
    Object apply(T t) throws IOException;
  }

  /**
   * Runs {@code task} over {@code items} on {@code threads} threads, results in order; the first
   * failure (in item order) is rethrown.
   */
  static <T> List<Object> parallel(List<T> items, int threads, Task<T> task) throws IOException {
    int t = Math.min(threads, Math.max(1, items.size()));
    if (t == 1) {
      List<Object> out = new ArrayList<>(items.size());
      for (T item : items) out.add(task.apply(item));
      return out;
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(t, DaemonThreads.named("spinekit-dicom-read"));
    try {
      List<Future<Object>> fs = new ArrayList<>(items.size());
      for (T item : items) fs.add(pool.submit(() -> task.apply(item)));
      List<Object> out = new ArrayList<>(items.size());
      for (Future<Object> f : fs) {
        try {
          out.add(f.get());
        } catch (ExecutionException e) {
          if (e.getCause() instanceof UncheckedIOException u) throw u.getCause();
          Throwable c = Futures.rethrowUnchecked(e);
          if (c instanceof IOException io) throw io;
          throw new IOException(c);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("interrupted while reading DICOM files");
        }
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }
}
