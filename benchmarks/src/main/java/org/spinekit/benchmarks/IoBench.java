package org.spinekit.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.spinekit.cli.Cli;
import org.spinekit.cli.Converters;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.Compression;
import org.spinekit.io.dicom.DicomFile;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.dicom.DicomWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code spinekit bench io}: DICOM decoding rate, in slices per second, of 512x512 int16 CT slices,
 * uncompressed and JPEG-LS (encoded by dcmtk's dcmcjpls), beside the native tools on the same files
 * in the same run: GDCM's library in process (its Java binding: no process start-up), and {@code
 * gdcmconv --raw} and dcmtk ({@code dcmconv} / {@code dcmdjpls}) per file, with their process
 * start-up (measured on an 8x8 file) reported and subtracted. Then a directory of several series
 * read on 1 and 2 threads.
 */
@Command(
    name = "io",
    description = {
      "DICOM decoding rate: 512x512 (--size) int16 CT slices"
          + " in N series of S slices, read uncompressed and as JPEG-LS by SpineKit (1 and 2"
          + " threads), by GDCM in process, and by the command-line tools gdcmconv and dcmtk per"
          + " file; slices per second, median of R repeats"
    })
final class IoBench implements Callable<Integer>, Cli.NoLibtorch {
  @Option(
      names = "--series",
      paramLabel = "N",
      defaultValue = "4",
      converter = Converters.Positive.class,
      description = "series (default ${DEFAULT-VALUE})")
  int series;

  @Option(
      names = "--slices",
      paramLabel = "S",
      defaultValue = "48",
      converter = Converters.Positive.class,
      description = "slices per series (default ${DEFAULT-VALUE})")
  int slices;

  @Option(
      names = "--size",
      paramLabel = "P",
      defaultValue = "512",
      converter = Converters.Positive.class,
      description = "rows and columns of a slice (default ${DEFAULT-VALUE})")
  int size;

  @Option(
      names = "--repeats",
      paramLabel = "R",
      defaultValue = "5",
      converter = Converters.Positive.class,
      description = "timed repeats (default ${DEFAULT-VALUE})")
  int repeats;

  @Override
  public Integer call() throws IOException {
    Path root = Files.createTempDirectory("spinekit-bench-io");
    try {
      return measure(root, series, slices, size, repeats);
    } finally {
      try (Stream<Path> w = Files.walk(root)) {
        w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** A CT-like slice stack: body ellipse, bone ring, smooth gradients and noise (sigma 15). */
  static Volume phantom(int slices, int size, long seed) {
    short[] v = new short[slices * size * size];
    SplittableRandom r = new SplittableRandom(seed);
    for (int z = 0; z < slices; z++) {
      for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
          double u = (x - size / 2.0) / (size * 0.42);
          double w = (y - size / 2.0) / (size * 0.32);
          double rr = u * u + w * w;
          double hu = rr > 1 ? -1000 : 40 + 20 * Math.sin(x * 0.05 + z * 0.1);
          double b = Math.hypot(x - size / 2.0, y - size * 0.55) / (size * 0.08);
          if (b < 1 && b > 0.6) hu = 900;
          else if (b <= 0.6) hu = 250;
          hu += r.nextGaussian() * 15;
          v[(z * size + y) * size + x] = (short) Math.round(hu + 1024);
        }
      }
    }
    return Volume.builder(slices, size, size)
        .shorts(v, true, 1, -1024)
        .spacing(0.7, 0.7, 1.0)
        .origin(-179, -179, 0)
        .build();
  }

  private static int measure(Path root, int nSeries, int slices, int size, int repeats)
      throws IOException {
    Path raw = root.resolve("uncompressed");
    Path jls = root.resolve("jpegls");
    boolean dcmtk = onPath("dcmcjpls") && onPath("dcmdjpls") && onPath("dcmconv");
    boolean gdcmconv = onPath("gdcmconv");
    System.out.printf(
        Locale.ROOT,
        "writing %d series x %d slices of %dx%d int16 ...%n",
        nSeries,
        slices,
        size,
        size);
    for (int s = 0; s < nSeries; s++) {
      Volume v = phantom(slices, size, s);
      String uid = "1.2.826.0.1.3680043.99." + (s + 1);
      DicomWriter.Series ser =
          new DicomWriter.Series(
              "BENCH",
              "1.2.826.0.1.3680043.99",
              uid,
              s + 1,
              "bench",
              "CT",
              "1.2.826.0.1.3680043.99.0");
      List<Path> files = DicomWriter.writeSeries(v, raw.resolve("s" + s), ser, Compression.NONE);
      Path dst = jls.resolve("s" + s);
      if (dcmtk) {
        Files.createDirectories(dst);
        for (Path f : files)
          exec("dcmcjpls", f.toString(), dst.resolve(f.getFileName()).toString());
      } else {
        DicomWriter.writeSeries(v, dst, ser, Compression.JPEG_LS);
      }
    }
    int total = nSeries * slices;
    System.out.printf(
        Locale.ROOT,
        "JPEG-LS by %s; %d slices per set; median of %d runs%n%n",
        dcmtk ? "dcmtk's dcmcjpls" : "GDCM (dcmcjpls not found)",
        total,
        repeats);
    System.out.printf(
        Locale.ROOT, "%-40s %14s %14s%n", "reader (slices/s)", "uncompressed", "JPEG-LS");
    double[] one = new double[2];
    double[] two = new double[2];
    Path[] sets = {raw, jls};
    for (int k = 0; k < 2; k++) {
      Path set = sets[k];
      one[k] =
          rate(
              total,
              repeats,
              () ->
                  DicomSeriesReader.readAll(
                      set, DicomSeriesReader.Options.defaults().withThreads(1)));
      two[k] =
          rate(
              total,
              repeats,
              () ->
                  DicomSeriesReader.readAll(
                      set, DicomSeriesReader.Options.defaults().withThreads(2)));
    }
    row("SpineKit, series reader, 1 thread", one);
    row("SpineKit, series reader, 2 threads", two);
    System.out.printf(
        Locale.ROOT,
        "%-40s %13.2fx %13.2fx%n",
        "  scaling 1 -> 2 threads",
        two[0] / one[0],
        two[1] / one[1]);
    double[] file = new double[2];
    for (int k = 0; k < 2; k++) {
      List<Path> files = files(sets[k]);
      file[k] =
          rate(
              total,
              repeats,
              () -> {
                for (Path f : files) DicomFile.read(f);
                return null;
              });
    }
    row("SpineKit, DicomFile.read, 1 thread", file);
    if (GdcmDirect.available()) {
      double[] lib = new double[2];
      for (int k = 0; k < 2; k++) {
        List<Path> files = files(sets[k]);
        lib[k] =
            rate(
                total,
                repeats,
                () -> {
                  for (Path f : files) GdcmDirect.decode(f);
                  return null;
                });
      }
      row("GDCM library in process, 1 thread", lib);
    } else {
      System.out.println("(GDCM library in process: not measured, libgdcm-java is not installed)");
    }
    if (gdcmconv) {
      Path out = root.resolve("out.dcm");
      double start =
          startup(root, new String[] {"gdcmconv", "--raw", "-i", "%in", "-o", out.toString()});
      double[] t =
          toolRate(
              sets,
              repeats,
              new String[] {"gdcmconv", "--raw", "-i", "%in", "-o", out.toString()},
              new String[] {"gdcmconv", "--raw", "-i", "%in", "-o", out.toString()});
      row("gdcmconv --raw, per file", t);
      row(
          String.format(Locale.ROOT, "  less %.1f ms process start", start * 1e3),
          net(t, start, total));
    }
    if (dcmtk) {
      Path out = root.resolve("out2.dcm");
      double start = startup(root, new String[] {"dcmconv", "%in", out.toString()});
      double[] t =
          toolRate(
              sets,
              repeats,
              new String[] {"dcmconv", "%in", out.toString()},
              new String[] {"dcmdjpls", "%in", out.toString()});
      row("dcmtk dcmconv / dcmdjpls, per file", t);
      row(
          String.format(Locale.ROOT, "  less %.1f ms process start", start * 1e3),
          net(t, start, total));
    }
    System.out.printf(
        Locale.ROOT,
        "%nuncompressed: %.1f MB per set; JPEG-LS: %.1f MB%n",
        bytes(raw) / 1e6,
        bytes(jls) / 1e6);
    return 0;
  }

  interface Work {
    Object run() throws IOException;
  }

  /**
   * Slices per second: median over repeats, after warming up (JIT) for at least 3 runs and 2
   * seconds.
   */
  static double rate(int slices, int repeats, Work w) throws IOException {
    long warm = System.nanoTime();
    for (int i = 0; i < 3 || System.nanoTime() - warm < 2_000_000_000L; i++) w.run();
    double[] t = new double[repeats];
    for (int i = 0; i < repeats; i++) {
      long t0 = System.nanoTime();
      w.run();
      t[i] = (System.nanoTime() - t0) / 1e9;
    }
    Arrays.sort(t);
    return slices / t[repeats / 2];
  }

  private static void row(String name, double[] v) {
    System.out.printf(Locale.ROOT, "%-40s %14.0f %14.0f%n", name, v[0], v[1]);
  }

  private static double[] net(double[] rate, double startup, int total) {
    double[] out = new double[rate.length];
    for (int i = 0; i < rate.length; i++) {
      double per = 1 / rate[i] - startup;
      out[i] = per > 0 ? 1 / per : Double.POSITIVE_INFINITY;
    }
    return out;
  }

  private static double[] toolRate(Path[] sets, int repeats, String[] rawCmd, String[] jlsCmd)
      throws IOException {
    double[] out = new double[2];
    for (int k = 0; k < 2; k++) {
      List<Path> files = files(sets[k]);
      // Tools are slow per file: one pass over a quarter of the files per repeat.
      List<Path> some = files.subList(0, Math.max(1, files.size() / 4));
      String[] cmd = k == 0 ? rawCmd : jlsCmd;
      out[k] =
          rate(
              some.size(),
              Math.max(1, repeats / 2),
              () -> {
                for (Path f : some) exec(subst(cmd, f));
                return null;
              });
    }
    return out;
  }

  /** Seconds one run of the tool takes on an 8x8 uncompressed file. */
  private static double startup(Path root, String[] cmd) throws IOException {
    Path tiny = root.resolve("tiny");
    Volume v = Volume.builder(1, 8, 8).shorts(new short[64], true, 1, 0).build();
    Path f =
        DicomWriter.writeSeries(
                v,
                tiny,
                new DicomWriter.Series("T", "1.2.3", "1.2.3.4", 1, "tiny", "CT", "1.2.3.5"),
                Compression.NONE)
            .get(0);
    return 1 / rate(1, 15, () -> exec(subst(cmd, f)));
  }

  private static String[] subst(String[] cmd, Path in) {
    String[] c = cmd.clone();
    for (int i = 0; i < c.length; i++) if (c[i].equals("%in")) c[i] = in.toString();
    return c;
  }

  private static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> w = Files.walk(dir)) {
      return w.filter(Files::isRegularFile).sorted().toList();
    }
  }

  private static long bytes(Path dir) throws IOException {
    long n = 0;
    for (Path f : files(dir)) n += Files.size(f);
    return n;
  }

  private static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) return true;
    }
    return false;
  }

  private static Object exec(String... cmd) throws IOException {
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " failed");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    return null;
  }

  /**
   * GDCM's own reader and decoder, called directly (the comparison, not our code path), through
   * reflection: GDCM is optional (libgdcm-java), and the benchmarks build without it.
   */
  static final class GdcmDirect {
    private static final String JNI = "/usr/lib/x86_64-linux-gnu/jni/libgdcmjni.so";
    private static volatile Class<?> reader;

    /** Whether GDCM's Java binding loads here. */
    static boolean available() {
      try {
        readerClass();
        return true;
      } catch (ReflectiveOperationException | LinkageError e) {
        return false;
      }
    }

    private static synchronized Class<?> readerClass() throws ReflectiveOperationException {
      if (reader != null) return reader;
      // The jar must be on the class path (./spinekit bench puts it there when installed): its
      // classes and the JNI library they bind to must share a class loader.
      Class<?> c = Class.forName("gdcm.ImageReader", false, IoBench.class.getClassLoader());
      try {
        System.loadLibrary("gdcmjni");
      } catch (UnsatisfiedLinkError e) {
        System.load(JNI);
      }
      reader = c;
      return reader;
    }

    static byte[] decode(Path f) throws IOException {
      try {
        Class<?> rc = readerClass();
        Object r = rc.getConstructor().newInstance();
        try {
          rc.getMethod("SetFileName", String.class).invoke(r, f.toString());
          if (!(Boolean) rc.getMethod("Read").invoke(r)) {
            throw new IOException(f + ": GDCM could not read it");
          }
          Object img = rc.getMethod("GetImage").invoke(r);
          long n = (Long) img.getClass().getMethod("GetBufferLength").invoke(img);
          byte[] out = new byte[(int) n];
          if (!(Boolean) img.getClass().getMethod("GetBuffer", byte[].class).invoke(img, out)) {
            throw new IOException(f + ": GDCM could not decode it");
          }
          return out;
        } finally {
          rc.getMethod("delete").invoke(r);
        }
      } catch (ReflectiveOperationException e) {
        throw new IOException(f + ": calling GDCM failed: " + e, e);
      }
    }
  }
}
