package org.spinekit.serve;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Unzipping an uploaded study, the server's {@code receive} stage without the network: a zip of
 * {@code study}'s files (a folder; by default 56 files of 25.5 KiB of 16-bit noise, which deflates
 * by about a third, as the synthetic MR studies do), deflated by {@link ZipOutputStream}.
 *
 * <ul>
 *   <li>libdeflate: {@link ZipStudy#read(byte[], Limits, boolean)} through libspinekit_codecs: the
 *       central directory, then each entry in one call into an array of its size.
 *   <li>zlib: the same reader through {@link java.util.zip.Inflater}, one call per entry.
 *   <li>stream: {@link ZipInputStream} over the body, as the server read uploads before: zlib fed
 *       512 bytes at a time, each entry grown in a {@link ByteArrayOutputStream}.
 * </ul>
 *
 * In package {@code org.spinekit.serve} to reach the package-private reader.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx1g"})
@State(Scope.Thread)
public class ZipStudyBenchmark {
  @Param({"libdeflate", "zlib", "stream"})
  public String side;

  /** A study folder; empty: synthetic noise. */
  @Param({""})
  public String study;

  private byte[] zip;
  private final Limits limits = Limits.defaults();

  @Setup
  public void setUp() throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    if (study.isEmpty()) {
      Random r = new Random(7);
      for (int f = 0; f < 56; f++) {
        byte[] b = new byte[26_112];
        for (int i = 0; i < b.length; i += 2) {
          int v = 600 + (int) (r.nextGaussian() * 90);
          b[i] = (byte) v;
          b[i + 1] = (byte) (v >> 8);
        }
        files.put("study/" + f + ".dcm", b);
      }
    } else {
      Path root = Path.of(study);
      try (Stream<Path> s = Files.walk(root)) {
        for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
          files.put(root.relativize(p).toString(), Files.readAllBytes(p));
        }
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      for (var e : files.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    zip = out.toByteArray();
    if (side.equals("libdeflate") && !ZipStudy.nativeInflate()) {
      throw new IllegalStateException("libspinekit_codecs has no libdeflate");
    }
    List<String> names = List.copyOf(read().keySet());
    if (!names.equals(List.copyOf(files.keySet()))) {
      throw new IllegalStateException(side + " read " + names.size() + " files");
    }
  }

  @Benchmark
  public Map<String, byte[]> read() throws IOException {
    return switch (side) {
      case "libdeflate" -> ZipStudy.read(zip, limits, true);
      case "zlib" -> ZipStudy.read(zip, limits, false);
      case "stream" -> stream(zip);
      default -> throw new IllegalArgumentException("side: " + side);
    };
  }

  private static Map<String, byte[]> stream(byte[] zip) throws IOException {
    Map<String, byte[]> files = new LinkedHashMap<>();
    try (ZipInputStream z = new ZipInputStream(new ByteArrayInputStream(zip))) {
      byte[] buf = new byte[64 * 1024];
      for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int r; (r = z.read(buf)) > 0; ) out.write(buf, 0, r);
        files.put(e.getName(), out.toByteArray());
      }
    }
    return files;
  }
}
