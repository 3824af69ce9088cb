package org.spinekit.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.BadFilesException;
import org.spinekit.io.dicom.DicomHeader;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.npy.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code spinekit dicom info|export}: what DICOM series are in a file or directory. */
@Command(
    name = "dicom",
    synopsisSubcommandLabel = "(info | export)",
    description = "the DICOM series in a file or directory, listed or written as NumPy arrays",
    subcommands = {DicomCommand.Info.class, DicomCommand.Export.class})
final class DicomCommand implements Callable<Integer>, Cli.NoLibtorch {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    return Cli.missingSubcommand(spec);
  }

  @Command(
      name = "info",
      description = {
        "lists each series: UIDs, description, modality,"
            + " size, spacing, transfer syntax, and what was odd (missing slices, skipped files)."
            + " Exits 1 when no series is found, 2 when a file is bad (all of them named)"
            + " unless --skip-bad."
      })
  static final class Info implements Callable<Integer>, Cli.NoLibtorch {
    @Spec CommandSpec spec;

    @Parameters(
        paramLabel = "FILE|DIR",
        description = "a DICOM file, or a directory searched" + " recursively")
    Path in;

    @Option(names = "--skip-bad", description = SKIP_BAD)
    boolean skipBad;

    @Override
    public Integer call() throws IOException {
      return info(Cli.existing("dicom info", in), readOptions(spec, skipBad));
    }
  }

  @Command(
      name = "export",
      description = {
        "writes the pixel data as a"
            + " NumPy array: a series becomes [slices, rows, cols] in slice order (sorted along the"
            + " slice normal); stored values (int16/uint16) by default, float32 modality values"
            + " (rescale applied) with --rescale. Bad files are an error naming them all unless"
            + " --skip-bad."
      })
  static final class Export implements Callable<Integer>, Cli.NoLibtorch {
    @Spec CommandSpec spec;

    @Parameters(
        paramLabel = "FILE|DIR",
        description = "a DICOM file, or a directory holding" + " one series")
    Path in;

    @Option(
        names = "--out",
        paramLabel = "PATH.npy",
        required = true,
        description = "the array to write (atomically)")
    Path out;

    @Option(
        names = "--rescale",
        description = "float32 modality values (slope and intercept" + " applied)")
    boolean rescale;

    @Option(names = "--skip-bad", description = SKIP_BAD)
    boolean skipBad;

    @Override
    public Integer call() throws IOException {
      return export(
          Cli.existing("dicom export", in), out, readOptions(spec, skipBad).withModality(rescale));
    }
  }

  private static final String SKIP_BAD =
      "leave bad files out (that fail to parse or decode, a second slice at one position, a size"
          + " or orientation the rest of the series does not have), each named with the reason";

  private static DicomSeriesReader.Options readOptions(CommandSpec spec, boolean skipBad) {
    return DicomSeriesReader.Options.defaults()
        .withThreads(RuntimeOptions.of(spec).workers())
        .withSkipBadFiles(skipBad);
  }

  /** The reader's error, with what the command line can do about it. */
  private static BadFilesException withHint(BadFilesException e) {
    return new BadFilesException(
        e.file(),
        e.failures(),
        "--skip-bad leaves " + (e.files().size() == 1 ? "it" : "them") + " out");
  }

  private static int info(Path in, DicomSeriesReader.Options o) throws IOException {
    long t0 = System.nanoTime();
    DicomSeriesReader.Scan scan;
    try {
      scan = DicomSeriesReader.scan(in, o);
    } catch (BadFilesException e) {
      throw withHint(e);
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    int files = 0;
    for (DicomSeriesReader.Series s : scan.series()) {
      DicomHeader h = s.first();
      int slices = s.slices().size();
      files += s.files().size();
      System.out.printf(Locale.ROOT, "series %s%n", s.seriesInstanceUid());
      System.out.printf(Locale.ROOT, "  study          %s%n", nz(h.studyInstanceUid()));
      System.out.printf(
          Locale.ROOT,
          "  description    %s (%s, series number %d)%n",
          nz(h.seriesDescription()),
          nz(h.modality()),
          h.seriesNumber());
      System.out.printf(
          Locale.ROOT,
          "  size           %d slices x %d rows x %d columns, %d" + " file(s)%n",
          slices,
          h.rows(),
          h.columns(),
          s.files().size());
      double[] ps = h.pixelSpacing();
      System.out.printf(
          Locale.ROOT,
          "  spacing        row %s, column %s, slice %s mm%n",
          ps == null ? "?" : fmt(ps[0]),
          ps == null ? "?" : fmt(ps[1]),
          fmt(sliceSpacing(s)));
      System.out.printf(
          Locale.ROOT,
          "  pixels         %d-bit %s (stored %d), rescale %s x + %s%n",
          h.bitsAllocated(),
          h.signed() ? "signed" : "unsigned",
          h.bitsStored(),
          fmt(h.slope()),
          fmt(h.intercept()));
      System.out.printf(
          Locale.ROOT, "  transfer       %s (%s)%n", h.transferSyntaxName(), h.transferSyntaxUid());
      if (h.imageOrientation() != null) {
        System.out.printf(
            Locale.ROOT, "  orientation    %s%n", Arrays.toString(h.imageOrientation()));
      }
      for (String w : s.warnings()) System.out.println("  warning        " + w);
    }
    for (String w : scan.skipped()) System.out.println("skipped " + w);
    System.out.printf(
        Locale.ROOT,
        "%d series, %d files, %d skipped, headers read in %.2f s%n",
        scan.series().size(),
        files,
        scan.skipped().size(),
        secs);
    return scan.series().isEmpty() ? Cli.FAILED : Cli.OK;
  }

  /** Median step between slice positions along the normal, or the header's spacing. */
  private static double sliceSpacing(DicomSeriesReader.Series s) {
    double[] steps = new double[Math.max(0, s.slices().size() - 1)];
    DicomHeader h = s.first();
    if (steps.length == 0 || s.slices().get(0).position() == null || h.imageOrientation() == null) {
      return Double.isFinite(h.spacingBetweenSlices())
          ? h.spacingBetweenSlices()
          : h.sliceThickness();
    }
    double[] iop = h.imageOrientation();
    double[] n = {
      iop[1] * iop[5] - iop[2] * iop[4],
      iop[2] * iop[3] - iop[0] * iop[5],
      iop[0] * iop[4] - iop[1] * iop[3]
    };
    for (int i = 0; i < steps.length; i++) {
      double[] a = s.slices().get(i).position();
      double[] b = s.slices().get(i + 1).position();
      steps[i] = (b[0] - a[0]) * n[0] + (b[1] - a[1]) * n[1] + (b[2] - a[2]) * n[2];
    }
    Arrays.sort(steps);
    return steps[steps.length / 2];
  }

  private static int export(Path in, Path out, DicomSeriesReader.Options o) throws IOException {
    long t0 = System.nanoTime();
    DicomSeriesReader.Read r;
    try {
      r = DicomSeriesReader.readReporting(in, o);
    } catch (BadFilesException e) {
      throw withHint(e);
    }
    Volume v = r.volume();
    double read = (System.nanoTime() - t0) / 1e9;
    Npy.write(out, v);
    Set<String> skipped = new HashSet<>(r.skipped());
    for (String w : r.skipped()) System.err.println("warning: skipped " + w);
    for (String w : v.warnings()) {
      if (!skipped.contains(w)) System.err.println("warning: " + w);
    }
    System.out.printf(
        Locale.ROOT,
        "%s: [%d, %d, %d] %s, read in %.2f s (%.0f slices/s), %d skipped%n",
        out,
        v.slices(),
        v.rows(),
        v.columns(),
        switch (v.kind()) {
          case INT16 -> "int16";
          case UINT16 -> "uint16";
          case FLOAT32 -> "float32";
        },
        read,
        v.slices() / read,
        r.skipped().size());
    return Cli.OK;
  }

  private static String nz(String s) {
    return s == null ? "-" : s;
  }

  private static String fmt(double x) {
    if (!Double.isFinite(x)) return "?";
    return String.format(Locale.ROOT, "%.6g", x).replaceAll("\\.?0+$", "");
  }
}
