package org.spinekit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.Volume;
import org.spinekit.testing.Subprocess;

/** The synth and dicom commands end to end: generate, list, export, and check with numpy. */
class CommandsTest {
  @TempDir Path dir;

  private static String capture(String... args) throws Exception {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, Main.run(args), String.join(" ", args));
    } finally {
      System.setOut(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  @Test
  void synthThenInfoThenExportMatchesTheSeriesReader() throws Exception {
    Path out = dir.resolve("lumbar");
    String s = capture("synth", "lumbar", "--out", out.toString(), "--size", "small",
        "--studies", "1", "--test-studies", "0", "--seed", "3");
    assertTrue(s.contains("1 studies, 3 series"), s);
    Path study;
    try (Stream<Path> w = Files.list(out.resolve("train_images"))) {
      study = w.findFirst().orElseThrow();
    }
    String info = capture("dicom", "info", study.toString());
    assertTrue(info.contains("Sagittal T1") && info.contains("Sagittal T2/STIR")
        && info.contains("Axial T2") && info.contains("3 series"), info);
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
    assertTrue(header.contains("'descr': '<u2'") && header.contains("'shape': (" + v.slices()
        + ", " + v.rows() + ", " + v.columns() + ")"), header);
    short[] got = new short[(int) v.voxelCount()];
    ByteBuffer.wrap(b, 10 + headerLen, got.length * 2).order(ByteOrder.LITTLE_ENDIAN)
        .asShortBuffer().get(got);
    assertTrue(java.util.Arrays.equals(v.shorts(), got));
    // numpy reads it as the same array.
    String py = Subprocess.run(List.of("/usr/bin/python3", "-c",
        "import numpy as np,sys; a=np.load(sys.argv[1]); print(a.dtype, a.shape, int(a.sum()))",
        npy.toString()), Duration.ofSeconds(60)).succeeded().stdout().trim();
    long sum = 0;
    for (short x : v.shorts()) sum += x & 0xffff;
    assertEquals("uint16 (" + v.slices() + ", " + v.rows() + ", " + v.columns() + ") " + sum,
        py);
    // --rescale: float32 modality values.
    capture("dicom", "export", series.toString(), "--out", npy.toString(), "--rescale");
    assertTrue(new String(Files.readAllBytes(npy), 0, 80, StandardCharsets.US_ASCII)
        .contains("'<f4'"));
  }

  @Test
  void badArgumentsNameWhatIsWrong() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Main.run(new String[] {"synth", "cervical", "--out", "x", "--compress", "zip"}));
    assertTrue(e.getMessage().contains("compression") && e.getMessage().contains("zip"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Main.run(new String[] {"dicom", "export", dir.toString()}));
    assertTrue(e.getMessage().contains("--out is required"), e.getMessage());
    assertThrows(java.nio.file.NoSuchFileException.class,
        () -> Main.run(new String[] {"dicom", "info", dir.resolve("missing").toString()}));
  }
}
