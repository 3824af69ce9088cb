package org.spinekit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.Compression;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.dicom.DicomWriter;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.testing.Subprocess;
import picocli.CommandLine;

/**
 * The command line in process: synth and dicom end to end (generate, list, export, check with
 * numpy), usage errors, bad input and I/O failures with their exit codes and messages, the
 * generated help, and the common options reaching the runtime.
 */
class CommandsTest {
  @TempDir Path dir;

  /** stdout of a command that must succeed. */
  private static String capture(String... args) {
    CliRun r = CliRun.of(args);
    assertEquals(0, r.rc(), String.join(" ", args) + ": " + r);
    return r.out();
  }

  /** A command that must fail with {@code rc}, its stderr holding each fragment. */
  private static CliRun expectError(int rc, String[] args, String... fragments) {
    CliRun r = CliRun.of(args);
    assertEquals(rc, r.rc(), String.join(" ", args) + ": " + r);
    for (String f : fragments) {
      assertTrue(
          r.err().contains(f), "'" + f + "' in stderr of " + String.join(" ", args) + ": " + r);
    }
    assertTrue(!r.err().contains("\tat org."), "no stack trace: " + r);
    return r;
  }

  private static String[] args(String... a) {
    return a;
  }

  @Test
  void synthThenInfoThenExportMatchesTheSeriesReader() throws Exception {
    Path out = dir.resolve("lumbar");
    String s =
        capture(
            "synth",
            "lumbar",
            "--out",
            out.toString(),
            "--size",
            "small",
            "--studies",
            "1",
            "--test-studies",
            "0",
            "--seed",
            "3");
    assertTrue(s.contains("1 studies, 3 series"), s);
    Path study;
    try (Stream<Path> w = Files.list(out.resolve("train_images"))) {
      study = w.findFirst().orElseThrow();
    }
    String info = capture("dicom", "info", study.toString());
    assertTrue(
        info.contains("Sagittal T1")
            && info.contains("Sagittal T2/STIR")
            && info.contains("Axial T2")
            && info.contains("3 series"),
        info);
    Path series;
    try (Stream<Path> w = Files.list(study)) {
      series = w.sorted().findFirst().orElseThrow();
    }
    Path npy = dir.resolve("v.npy");
    capture("dicom", "export", series.toString(), "--out", npy.toString());
    Volume v = DicomSeriesReader.read(series);
    byte[] b = Files.readAllBytes(npy);
    int headerLen = (b[8] & 0xff) | ((b[9] & 0xff) << 8);
    String header = new String(b, 10, headerLen, StandardCharsets.US_ASCII);
    assertTrue(
        header.contains("'descr': '<u2'")
            && header.contains(
                "'shape': (" + v.slices() + ", " + v.rows() + ", " + v.columns() + ")"),
        header);
    short[] got = new short[(int) v.voxelCount()];
    ByteBuffer.wrap(b, 10 + headerLen, got.length * 2)
        .order(ByteOrder.LITTLE_ENDIAN)
        .asShortBuffer()
        .get(got);
    assertTrue(Arrays.equals(v.shorts(), got));
    // numpy reads it as the same array.
    String py =
        Subprocess.run(
                List.of(
                    "/usr/bin/python3",
                    "-c",
                    "import numpy as np,sys; a=np.load(sys.argv[1]); print(a.dtype, a.shape, int(a.sum()))",
                    npy.toString()),
                Duration.ofSeconds(60))
            .succeeded()
            .stdout()
            .trim();
    long sum = 0;
    for (short x : v.shorts()) sum += x & 0xffff;
    assertEquals("uint16 (" + v.slices() + ", " + v.rows() + ", " + v.columns() + ") " + sum, py);
    // --rescale: float32 modality values.
    capture("dicom", "export", series.toString(), "--out", npy.toString(), "--rescale");
    assertTrue(
        new String(Files.readAllBytes(npy), 0, 80, StandardCharsets.US_ASCII).contains("'<f4'"));
  }

  @Test
  void usageErrorsExit2NamingTheOption() {
    expectError(
        2,
        args("synth", "cervical", "--out", "x", "--compress", "zip"),
        "spinekit synth cervical: Invalid value for option '--compress'",
        "compression",
        "zip",
        "Usage: spinekit synth cervical");
    expectError(
        2,
        args("dicom", "export", dir.toString()),
        "Missing required option: '--out=PATH.npy'",
        "Try 'spinekit dicom export --help'");
    expectError(
        2, args("synth", "lumbar", "--out", "x", "--studies", "many"), "'--studies'", "many");
    expectError(
        2,
        args("synth", "lumbar", "--out", "x", "--size", "huge"),
        "'--size'",
        "small, demo",
        "huge");
    expectError(
        2, args("synth", "lumbar", "--out", "x", "--frobnicate"), "Unknown option: '--frobnicate'");
    expectError(2, args("synth", "sacral", "--out", "x"), "'sacral'");
    expectError(2, args("demo", "--shape", "8x5x80"), "'--shape'", "NxKxHxW", "8x5x80");
    expectError(2, args("demo", "--sigma", "0"), "'--sigma'", "> 0");
    expectError(
        2, args("--threads", "-1", "dicom", "info", dir.toString()), "'--threads'", ">= 0", "-1");
    expectError(
        2,
        args("dicom", "info", dir.toString(), "--kernel-threads", "two"),
        "'--kernel-threads'",
        "two");
    expectError(
        2, args("--conv-guard", "maybe", "info"), "'--conv-guard'", "auto, on or off", "maybe");
    CliRun none =
        expectError(
            2,
            args(),
            "spinekit: expected a command: demo, info, dicom, synth, model, cervical, lumbar, serve,"
                + " launch,"
                + " bench");
    assertTrue(none.err().contains("Usage: spinekit"), none.toString());
    expectError(2, args("synth"), "expected a command: cervical, lumbar");
  }

  @Test
  void badInputExits2AndIoFailuresExit1() throws Exception {
    expectError(
        2,
        args("dicom", "info", dir.resolve("missing").toString()),
        "spinekit: dicom info: no such file or directory",
        "missing");
    Path junk = dir.resolve("junk.dcm");
    Files.write(junk, new byte[300]);
    expectError(
        2,
        args("dicom", "export", junk.toString(), "--out", dir.resolve("j.npy").toString()),
        "spinekit: " + junk,
        "not a DICOM file");
    assertTrue(!Files.exists(dir.resolve("j.npy")));
    // The output directory cannot be made: a regular file is in the way.
    Path file = dir.resolve("file");
    Files.writeString(file, "x");
    expectError(
        1,
        args(
            "synth",
            "lumbar",
            "--out",
            file.resolve("set").toString(),
            "--size",
            "small",
            "--studies",
            "1",
            "--test-studies",
            "0"),
        "spinekit: " + file);
    expectError(2, args("bench", "--quick"), "./spinekit");
  }

  /** Six 8x8 slices written as 1.dcm..6.dcm, 3.dcm cut in half and 5.dcm garbage after "DICM". */
  private Path seriesWithTwoBadFiles() throws Exception {
    short[] vox = new short[6 * 8 * 8];
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < vox.length; i++) vox[i] = (short) r.nextInt(0, 4096);
    Volume v =
        Volume.builder(6, 8, 8)
            .shorts(vox, false, 1, -1024)
            .spacing(0.7, 0.8, 1.25)
            .origin(-80.5, -60.25, 300)
            .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
            .build();
    String study = "1.2.826.0.1.3680043.10003";
    Path series = dir.resolve("series");
    DicomWriter.writeSeries(
        v,
        series,
        new DicomWriter.Series("P1", study, study + ".1", 1, "bad", "CT", study + ".9"),
        Compression.NONE);
    byte[] b = Files.readAllBytes(series.resolve("3.dcm"));
    Files.write(series.resolve("3.dcm"), Arrays.copyOf(b, b.length / 2));
    b = Files.readAllBytes(series.resolve("5.dcm"));
    for (int i = 132; i < b.length; i++) b[i] = (byte) r.nextInt(256);
    Files.write(series.resolve("5.dcm"), b);
    return series;
  }

  @Test
  void badDicomFilesAreAllNamedAndSkippedWithSkipBad() throws Exception {
    Path series = seriesWithTwoBadFiles();
    String three = series.resolve("3.dcm").toString();
    String five = series.resolve("5.dcm").toString();
    Path npy = dir.resolve("v.npy");
    // Without --skip-bad: bad input (2), both files named with their reasons, and the way out.
    expectError(
        2,
        args("dicom", "info", series.toString()),
        "spinekit: " + series + ": 2 files are bad:",
        "\n  " + three + ": ",
        "\n  " + five + ": ",
        "--skip-bad leaves them out");
    expectError(
        2,
        args("dicom", "export", series.toString(), "--out", npy.toString()),
        "spinekit: " + series + ": 2 files are bad:",
        "\n  " + three + ": ",
        "\n  " + five + ": ",
        "--skip-bad leaves them out");
    assertTrue(!Files.exists(npy));
    // With it: left out, one line each, and counted.
    String info = capture("dicom", "info", series.toString(), "--skip-bad");
    assertTrue(
        info.contains("\nskipped " + three + ": ")
            && info.contains("\nskipped " + five + ": ")
            && info.contains("4 slices x 8 rows x 8 columns, 4 file(s)")
            && info.contains("1 series, 4 files, 2 skipped"),
        info);
    CliRun export =
        CliRun.of("dicom", "export", series.toString(), "--out", npy.toString(), "--skip-bad");
    assertEquals(0, export.rc(), export.toString());
    assertTrue(
        export.err().contains("warning: skipped " + three + ": ")
            && export.err().contains("warning: skipped " + five + ": "),
        export.toString());
    assertTrue(
        export.out().startsWith(npy + ": [4, 8, 8] uint16, read in ")
            && export.out().contains(", 2 skipped"),
        export.toString());
    assertTrue(Files.exists(npy));
  }

  @Test
  void helpAndVersion() {
    for (String[] a : List.of(args("--help"), args("-h"))) {
      CliRun r = CliRun.of(a);
      assertEquals(0, r.rc(), r.toString());
      assertTrue(r.out().startsWith("Usage: spinekit [-hV] [COMMON-OPTIONS] COMMAND"), r.out());
      for (String c : List.of("demo", "info", "dicom", "synth", "model", "bench")) {
        assertTrue(r.out().contains("\n  " + c + " "), c + " in " + r.out());
      }
      assertTrue(
          r.out().contains("--threads=N")
              && r.out().contains("--conv-guard=auto|on|off")
              && r.out().contains("2   a usage error or bad input"),
          r.out());
    }
    for (String[] a :
        List.of(
            args("dicom", "info", "--help"),
            args("dicom", "export", "-h"),
            args("synth", "cervical", "--help"),
            args("synth", "lumbar", "--help"),
            args("model", "list", "--help"),
            args("model", "info", "--help"),
            args("model", "run", "--help"),
            args("demo", "--help"),
            args("info", "--help"),
            args("synth", "--help"),
            args("dicom", "--help"),
            args("model", "--help"))) {
      CliRun r = CliRun.of(a);
      String name = String.join(" ", Arrays.copyOf(a, a.length - 1));
      assertEquals(0, r.rc(), r.toString());
      assertTrue(r.out().startsWith("Usage: spinekit " + name + " [-hV]"), r.out());
      assertTrue(
          r.out().contains("Common options") && r.out().contains("--kernel-threads=N"), r.out());
    }
    assertTrue(
        CliRun.of("synth", "cervical", "--help")
            .out()
            .contains("--compress=NAME      pixel data: none, jpegls, jpeg-lossless, j2k, rle"));
    CliRun v = CliRun.of("--version");
    assertEquals(0, v.rc(), v.toString());
    assertTrue(
        v.out().startsWith("spinekit ") && v.out().contains("JavaCPP Presets for PyTorch"),
        v.out());
  }

  @Test
  void commonOptionsConfigureTheRuntimeBeforeTheCommand() {
    NativeRuntime.Settings before = NativeRuntime.state().settings();
    try {
      String info = capture("--threads", "1", "--blas-threads", "1", "--conv-guard", "off", "info");
      assertTrue(info.contains("libtorch threads: 1 intra-op"), info);
      assertTrue(info.contains("kernel threads: 1"), info);
      assertTrue(info.contains("OpenBLAS threads: 1"), info);
      assertTrue(info.contains("convolution guard: off"), info);
      assertTrue(info.contains("CUDA kernels compiled: "), info);
      // This module's tests run without spinekit-gdcm.
      assertTrue(info.contains("DICOM external codec: none (12-bit lossy JPEG"), info);
      // After the command as well; --kernel-threads apart from --threads.
      info = capture("info", "--threads", "2", "--kernel-threads", "1", "--conv-guard", "on");
      assertTrue(
          info.contains("libtorch threads: 2 intra-op")
              && info.contains("kernel threads: 1")
              && info.contains("convolution guard: on"),
          info);
    } finally {
      NativeRuntime.configure(before);
    }
  }

  /**
   * Every "Usage: spinekit ..." block of the README is the start of that command's --help, and
   * every command of this jar has one (bench's are the benchmarks jar's).
   */
  @Test
  void readmeUsageBlocksMatchTheHelp() throws Exception {
    List<String> lines = Files.readAllLines(Path.of("..", "README.md"));
    Set<String> shown = new TreeSet<>();
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).startsWith("Usage: spinekit")) continue;
      StringBuilder block = new StringBuilder(lines.get(i)).append('\n');
      while (i + 1 < lines.size() && lines.get(i + 1).startsWith("       ")) {
        block.append(lines.get(++i)).append('\n');
      }
      List<String> words = new ArrayList<>();
      for (String w : block.substring("Usage: spinekit ".length()).split("\\s+")) {
        if (!w.matches("[a-z]+")) break;
        words.add(w);
      }
      if (!words.isEmpty() && words.get(0).equals("bench")) continue;
      shown.add(String.join(" ", words));
      words.add("--help");
      CliRun r = CliRun.of(words.toArray(String[]::new));
      assertEquals(0, r.rc(), r.toString());
      assertTrue(r.out().startsWith(block.toString()), "README:\n" + block + "--help:\n" + r.out());
    }
    Set<String> commands = new TreeSet<>();
    leaves(Cli.commandLine(new Main()), "", commands);
    commands.remove("bench");
    assertEquals(commands, shown, "commands with a usage block in the README");
  }

  private static void leaves(CommandLine cl, String name, Set<String> out) {
    if (name.isEmpty() || cl.getSubcommands().isEmpty()) out.add(name);
    for (var e : cl.getSubcommands().entrySet()) {
      leaves(e.getValue(), (name.isEmpty() ? "" : name + " ") + e.getKey(), out);
    }
  }
}
