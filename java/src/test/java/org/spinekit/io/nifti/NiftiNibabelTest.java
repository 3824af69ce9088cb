package org.spinekit.io.nifti;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.Volume;
import org.spinekit.testing.Subprocess;

/**
 * NIfTI files checked against nibabel (Debian's python3-nibabel at /usr/bin/python3): Java reads
 * what nibabel writes, nibabel reads what Java writes, and an RSNA 2022 style mask lines up with
 * its DICOM slices under the Kaggle transform.
 */
public class NiftiNibabelTest {
  public static final Path PYTHON = Path.of("/usr/bin/python3");

  @TempDir Path dir;

  public static Path script(String name) {
    try {
      var url = NiftiNibabelTest.class.getResource("/python/" + name);
      assertNotNull(url, "test resource python/" + name);
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs a script with /usr/bin/python3; fails the test with its output unless it exits 0. */
  public static String python(String script, String... args) throws IOException {
    if (!Files.isExecutable(PYTHON)) {
      fail(PYTHON + " is missing: install python3-nibabel, python3-numpy and python3-torch");
    }
    List<String> cmd = new ArrayList<>(List.of(PYTHON.toString(), script(script).toString()));
    cmd.addAll(List.of(args));
    return Subprocess.run(cmd, Duration.ofSeconds(120)).succeeded().stdout();
  }

  /** The "key values" lines of an expectation file. */
  static Map<String, String> expectation(Path p) throws IOException {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : Files.readAllLines(p)) {
      int sp = line.indexOf(' ');
      m.put(line.substring(0, sp), line.substring(sp + 1));
    }
    return m;
  }

  static double[] numbers(String s) {
    String[] f = s.trim().split(" ");
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) d[i] = Double.parseDouble(f[i]);
    return d;
  }

  static double[] float64s(Path p) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
    double[] d = new double[b.capacity() / 8];
    b.asDoubleBuffer().get(d);
    return d;
  }

  static void same(double want, double got, String what) {
    if (Double.isNaN(want)
        ? !Double.isNaN(got)
        : Double.doubleToLongBits(want) != Double.doubleToLongBits(got) && want != got) {
      fail(what + ": " + got + ", expected " + want);
    }
  }

  @Test
  void javaReadsWhatNibabelWrites() throws Exception {
    String out = python("nifti_nibabel_cases.py", dir.toString());
    assertTrue(out.contains("wrote 11 cases"), out);
    List<Path> expects;
    try (var s = Files.list(dir)) {
      expects = s.filter(p -> p.toString().endsWith(".expect")).sorted().toList();
    }
    assertEquals(11, expects.size());
    for (Path e : expects) {
      Map<String, String> x = expectation(e);
      String name = e.getFileName().toString();
      NiftiImage img = Nifti.read(dir.resolve(x.get("file")));
      double[] dims = numbers(x.get("dims"));
      assertArrayEquals(dims, new double[] {img.nx(), img.ny(), img.nz()}, name + " dims");
      double[] aff = numbers(x.get("affine"));
      double[][] a = img.affineRas();
      for (int r = 0; r < 4; r++) {
        for (int c = 0; c < 4; c++) {
          assertEquals(aff[4 * r + c], a[r][c], 1e-5, name + " affine[" + r + "][" + c + "]");
        }
      }
      assertEquals(x.get("axcodes"), img.axcodes(), name + " axcodes");
      assertEquals(x.get("dtype"), img.datatype().name().toLowerCase(Locale.ROOT), name);
      assertEquals(name.contains("nifti2") ? 2 : 1, img.version(), name + " version");
      double[] want = float64s(dir.resolve(x.get("values")));
      assertEquals(want.length, img.voxelCount(), name);
      int n = 0;
      for (int k = 0; k < img.nz(); k++) {
        for (int j = 0; j < img.ny(); j++) {
          for (int i = 0; i < img.nx(); i++, n++) {
            same(want[n], img.value(i, j, k), name + " voxel (" + i + "," + j + "," + k + ")");
          }
        }
      }
      if (name.startsWith("int16_scaled")) assertTrue(img.isScaled(), name);
    }
  }

  /** Writes the image and what nibabel should read from it. */
  static void expectWritten(
      Path dir,
      String name,
      NiftiImage img,
      String fileName,
      boolean nifti2,
      boolean qformMatchesSform)
      throws IOException {
    Path f = dir.resolve(fileName);
    if (nifti2) {
      Nifti.write2(img, f);
    } else {
      Nifti.write(img, f);
    }
    StringBuilder s = new StringBuilder();
    s.append("file ").append(fileName).append('\n');
    s.append("dims ")
        .append(img.nx())
        .append(' ')
        .append(img.ny())
        .append(' ')
        .append(img.nz())
        .append('\n');
    s.append("affine");
    for (double[] row : img.affineRas()) {
      for (double v : row) s.append(' ').append(v);
    }
    s.append('\n');
    s.append("axcodes ").append(img.axcodes()).append('\n');
    s.append("dtype ").append(img.datatype().name().toLowerCase(Locale.ROOT)).append('\n');
    s.append("codes ").append(img.qformCode()).append(' ').append(img.sformCode()).append('\n');
    if (qformMatchesSform) s.append("qform_matches_sform yes\n");
    s.append("values ").append(name).append(".f64\n");
    Files.writeString(dir.resolve(name + ".expect"), s);
    ByteBuffer b = ByteBuffer.allocate((int) img.voxelCount() * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int k = 0; k < img.nz(); k++) {
      for (int j = 0; j < img.ny(); j++) {
        for (int i = 0; i < img.nx(); i++) b.putDouble(img.value(i, j, k));
      }
    }
    Files.write(dir.resolve(name + ".f64"), b.array());
  }

  @Test
  void nibabelReadsWhatJavaWrites() throws Exception {
    Path out = Files.createDirectories(dir.resolve("java"));
    int cases = 0;
    short[] lab = NiftiTest.labels(6, 7, 8);
    Volume axial = NiftiTest.axial(6, 7, 8, lab);
    for (String codes : new String[] {"LAS", "RAS", "LPS", "PIR", "SAL"}) {
      NiftiImage img = NiftiImage.fromVolume(axial, codes);
      assertEquals(codes, img.axcodes());
      expectWritten(out, "int16_" + codes, img, "int16_" + codes + ".nii", false, true);
      cases++;
    }
    expectWritten(
        out,
        "uint8_gz",
        NiftiImage.fromVolume(axial, "LAS", NiftiImage.Datatype.UINT8),
        "uint8_gz.nii.gz",
        false,
        true);
    cases++;
    short[] big = new short[6 * 7 * 8];
    for (int i = 0; i < big.length; i++) big[i] = (short) (i * 1237);
    Volume u16 =
        Volume.builder(6, 7, 8)
            .shorts(big, false, 1, 0)
            .spacing(0.4, 0.6, 1.2)
            .origin(3.5, -4.25, 17.0)
            .orientation(new double[] {0, 1, 0}, new double[] {0, 0, -1})
            .build();
    expectWritten(
        out,
        "uint16_sagittal_gz",
        NiftiImage.fromVolume(u16, "PIR"),
        "uint16_sagittal_gz.nii.gz",
        false,
        true);
    cases++;
    Volume ct =
        Volume.builder(6, 7, 8)
            .shorts(big, true, 0.5, -1024)
            .spacing(0.5, 0.5, 1.0)
            .origin(-120.5, -130.25, -400.0)
            .build();
    NiftiImage scaled = NiftiImage.fromVolume(ct, "LPS");
    assertTrue(scaled.isScaled());
    expectWritten(out, "int16_scaled", scaled, "int16_scaled.nii", false, true);
    cases++;
    float[] f = new float[6 * 7 * 8];
    for (int i = 0; i < f.length; i++) f[i] = (float) Math.sin(i) * 1000;
    f[3] = Float.NaN;
    f[4] = Float.NEGATIVE_INFINITY;
    f[5] = -0.0f;
    f[6] = Float.MIN_VALUE;
    Volume fv = ct.toBuilder().floats(f).build();
    expectWritten(out, "float32", NiftiImage.fromVolume(fv, "LAS"), "float32.nii", false, true);
    expectWritten(
        out,
        "float64_nifti2",
        NiftiImage.fromVolume(fv, "RPI", NiftiImage.Datatype.FLOAT64),
        "float64_nifti2.nii.gz",
        true,
        true);
    expectWritten(
        out,
        "int32_nifti2",
        NiftiImage.fromVolume(ct, "ILA", NiftiImage.Datatype.INT32),
        "int32_nifti2.nii",
        true,
        true);
    cases += 3;

    // What nibabel wrote, rewritten by Java: sheared sform, qform only, both, big-endian, 4D,
    // NIfTI-2. Each keeps its codes, geometry and values.
    Path nib = Files.createDirectories(dir.resolve("nib"));
    python("nifti_nibabel_cases.py", nib.toString());
    try (var s = Files.list(nib)) {
      for (Path p : s.filter(x -> x.toString().endsWith(".expect")).sorted().toList()) {
        String name = p.getFileName().toString().replace(".expect", "");
        NiftiImage img = Nifti.read(nib.resolve(expectation(p).get("file")));
        boolean two = name.contains("nifti2");
        expectWritten(
            out, "re_" + name, img, "re_" + name + (two ? ".nii" : ".nii.gz"), two, false);
        cases++;
      }
    }
    String text = python("nifti_nibabel_check.py", out.toString());
    long ok = text.lines().filter(l -> l.startsWith("OK ")).count();
    assertEquals(cases, ok, text);
    assertEquals(22, cases);
  }

  @Test
  void rsnaMaskLinesUpWithItsDicomSlices() throws Exception {
    // An axial CT series in instance order: slice 0 (instance 1) the most superior, so the
    // slice direction is -z (LPS), rows run posterior, columns to the patient's left.
    int s = 9;
    int r = 12;
    int c = 10;
    short[] lab = NiftiTest.labels(s, r, c);
    Volume v =
        Volume.builder(s, r, c)
            .shorts(lab, true, 1, 0)
            .spacing(0.7, 0.8, 1.25)
            .origin(-80.5, -60.25, 100.0)
            .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
            .sliceDirection(new double[] {0, 0, -1})
            .build();
    NiftiImage mask = NiftiImage.fromVolume(v, "LAS", NiftiImage.Datatype.UINT8);
    assertEquals("LAS", mask.axcodes());
    assertEquals(c, mask.nx());
    assertEquals(r, mask.ny());
    assertEquals(s, mask.nz());
    Path file = dir.resolve("1.2.826.0.1.3680043.12345.nii.gz");
    Nifti.write(mask, file);
    ByteBuffer b = ByteBuffer.allocate(lab.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short x : lab) b.putShort(x);
    Path labels = dir.resolve("labels.i16");
    Files.write(labels, b.array());
    String out =
        python(
            "nifti_rsna_check.py",
            file.toString(),
            labels.toString(),
            String.valueOf(s),
            String.valueOf(r),
            String.valueOf(c));
    assertTrue(out.startsWith("OK LAS"), out);

    NiftiImage read = Nifti.read(file);
    assertNotNull(
        NiftiResampler.reindex(NiftiResampler.voxelMap(read, v), new int[] {s, r, c}),
        "mask to series should be an exact reindex");
    Volume back = read.resampleTo(v);
    assertEquals(Volume.Kind.INT16, back.kind());
    assertArrayEquals(lab, back.shorts());
  }

  @Test
  void pythonFailuresFailTheTest() {
    // The helper must not pass when a script reports a mismatch.
    Path empty = dir.resolve("nothing");
    try {
      Files.createDirectories(empty);
      python("nifti_nibabel_check.py", empty.toString());
    } catch (AssertionError e) {
      assertTrue(e.getMessage().contains("no .expect files"), e.getMessage());
      return;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    fail("a failing script passed");
  }
}
