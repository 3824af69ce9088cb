package org.spinekit.io.nifti;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.Volume;

/** NIfTI reading, writing, axis layouts and resampling, checked without outside tools. */
class NiftiTest {
  @TempDir Path dir;

  /** An axial volume like a CT series in instance order: slice 0 most superior. */
  static Volume axial(int slices, int rows, int columns, short[] labels) {
    return Volume.builder(slices, rows, columns)
        .shorts(labels, true, 1, 0)
        .spacing(0.75, 0.5, 2.5)
        .origin(-80.5, -60.25, 100.0)
        .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
        .sliceDirection(new double[] {0, 0, -1})
        .build();
  }

  /** Distinct float values: the value of voxel (s, r, c) is its linear index. */
  static Volume indexed(
      int slices, int rows, int columns, double[] rowDir, double[] colDir, double[] sliceDir) {
    float[] v = new float[slices * rows * columns];
    for (int i = 0; i < v.length; i++) v[i] = i;
    return Volume.builder(slices, rows, columns)
        .floats(v)
        .spacing(0.7, 1.3, 2.0)
        .origin(12.5, -7.25, 40.0)
        .orientation(rowDir, colDir)
        .sliceDirection(sliceDir)
        .build();
  }

  static short[] labels(int slices, int rows, int columns) {
    short[] s = new short[slices * rows * columns];
    for (int z = 0, n = 0; z < slices; z++) {
      for (int y = 0; y < rows; y++) {
        for (int x = 0; x < columns; x++, n++) {
          int v = (3 * z + 5 * y + 7 * x + z * x) % 11;
          s[n] = (short) (v > 8 ? 0 : v);
        }
      }
    }
    return s;
  }

  static double[] ras(double[] lps) {
    return new double[] {-lps[0], -lps[1], lps[2]};
  }

  static double[] apply(double[][] a, double i, double j, double k) {
    double[] p = new double[3];
    for (int r = 0; r < 3; r++) p[r] = a[r][0] * i + a[r][1] * j + a[r][2] * k + a[r][3];
    return p;
  }

  static List<String> allAxcodes() {
    List<String> out = new ArrayList<>();
    String[] pairs = {"RL", "AP", "SI"};
    int[][] perms = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int[] p : perms) {
      for (int flips = 0; flips < 8; flips++) {
        StringBuilder s = new StringBuilder();
        for (int a = 0; a < 3; a++) s.append(pairs[p[a]].charAt((flips >> a) & 1));
        out.add(s.toString());
      }
    }
    return out;
  }

  @Test
  void everyAxisLayoutPutsEachVoxelAtItsPatientPosition() {
    double[][][] orientations = {
      {{1, 0, 0}, {0, 1, 0}, {0, 0, -1}},
      {{0, 1, 0}, {0, 0, -1}, {1, 0, 0}},
      {{-1, 0, 0}, {0, 0, -1}, {0, -1, 0}},
    };
    for (double[][] o : orientations) {
      Volume v = indexed(4, 5, 6, o[0], o[1], o[2]);
      for (String codes : allAxcodes()) {
        NiftiImage img = NiftiImage.fromVolume(v, codes);
        assertEquals(codes, img.axcodes(), "axcodes of fromVolume(v, " + codes + ")");
        assertEquals(NiftiImage.Datatype.FLOAT32, img.datatype());
        double[][] aff = img.affineRas();
        for (int k = 0; k < img.nz(); k++) {
          for (int j = 0; j < img.ny(); j++) {
            for (int i = 0; i < img.nx(); i++) {
              int n = (int) img.value(i, j, k);
              int c = n % 6;
              int r = (n / 6) % 5;
              int s = n / 30;
              double[] want = ras(v.toPatient(s, r, c));
              double[] got = apply(aff, i, j, k);
              for (int a = 0; a < 3; a++) {
                assertEquals(
                    want[a],
                    got[a],
                    1e-9,
                    codes
                        + ": voxel ("
                        + i
                        + ","
                        + j
                        + ","
                        + k
                        + ") holds volume voxel ("
                        + s
                        + ","
                        + r
                        + ","
                        + c
                        + ")");
              }
            }
          }
        }
        // The qform says the same as the sform.
        double[][] q = img.qformAffine();
        for (int r = 0; r < 3; r++) {
          assertArrayEquals(aff[r], q[r], 1e-9, codes + ": qform row " + r);
        }
        // Back onto the volume's own grid: an exact reindex, every value in place.
        assertNotNull(
            NiftiResampler.reindex(NiftiResampler.voxelMap(img, v), new int[] {4, 5, 6}),
            codes + ": the map should be a reindex");
        Volume back = img.resampleTo(v);
        assertEquals(Volume.Kind.FLOAT32, back.kind());
        assertArrayEquals(v.floats(), back.floats(), codes + ": resampleTo(v)");
      }
    }
  }

  @Test
  void toVolumeFollowsTheFileAxes() {
    Volume v = axial(5, 4, 3, labels(5, 4, 3));
    NiftiImage img = NiftiImage.fromVolume(v, "LAS");
    Volume f = img.toVolume();
    assertEquals(img.nz(), f.slices());
    assertEquals(img.ny(), f.rows());
    assertEquals(img.nx(), f.columns());
    assertEquals(Volume.Kind.INT16, f.kind());
    double[][] aff = img.affineRas();
    for (int k = 0; k < img.nz(); k++) {
      for (int j = 0; j < img.ny(); j++) {
        for (int i = 0; i < img.nx(); i++) {
          assertEquals(img.value(i, j, k), f.value(k, j, i));
          assertArrayEquals(apply(aff, i, j, k), ras(f.toPatient(k, j, i)), 1e-9);
        }
      }
    }
    // LAS of an axial series: columns still run to the patient's left, rows anterior,
    // slices superior.
    assertArrayEquals(new double[] {1, 0, 0}, f.rowDirection(), 1e-12);
    assertArrayEquals(new double[] {0, -1, 0}, f.columnDirection(), 1e-12);
    assertArrayEquals(new double[] {0, 0, 1}, f.sliceDirection(), 1e-12);
    assertArrayEquals(new double[] {0.75, 0.5, 2.5}, f.spacing(), 1e-12);
  }

  @Test
  void toVolumeKeepsRescaledIntegersAndFallsBackToFloat() throws IOException {
    short[] stored = {-1000, 0, 1000, 2000, 3000, 4000};
    Volume ct = Volume.builder(1, 2, 3).shorts(stored, true, 0.5, -1024).build();
    NiftiImage img = NiftiImage.fromVolume(ct, "LPS");
    assertEquals(NiftiImage.Datatype.INT16, img.datatype());
    assertTrue(img.isScaled());
    assertEquals(0.5, img.sclSlope());
    assertEquals(-1024, img.sclInter());
    Path p = dir.resolve("ct.nii");
    Nifti.write(img, p);
    NiftiImage back = Nifti.read(p);
    // (-1000 * 0.5 - 1024) etc.: whole numbers within int16, so INT16 labels-style.
    Volume v = back.toVolume();
    for (int c = 0; c < 3; c++) {
      for (int r = 0; r < 2; r++) assertEquals(ct.value(0, r, c), v.value(0, r, c));
    }
    // A slope that makes fractions keeps the stored integers with the rescale.
    Volume frac = Volume.builder(1, 2, 3).shorts(stored, true, 0.3, 1.5).build();
    Volume fv = NiftiImage.fromVolume(frac, "LPS").toVolume();
    assertEquals(Volume.Kind.INT16, fv.kind());
    assertEquals((float) 0.3, (float) fv.slope());
    assertArrayEquals(stored, fv.shorts());
    // Large uint16 values: UINT16 stored values.
    short[] big = {(short) 60000, 1, 2, 3, 4, 5};
    Volume u = Volume.builder(1, 2, 3).shorts(big, false, 1, 0).build();
    Volume uv = NiftiImage.fromVolume(u, "LPS").toVolume();
    assertEquals(Volume.Kind.UINT16, uv.kind());
    assertEquals(60000, uv.value(0, 0, 0));
    // Float data: FLOAT32.
    Volume fl = Volume.builder(1, 2, 3).floats(new float[] {1, 2, 3, 4, 5, 6}).build();
    assertEquals(Volume.Kind.FLOAT32, NiftiImage.fromVolume(fl, "RAS").toVolume().kind());
  }

  @Test
  void everyDatatypeRoundTripsThroughNifti1Nifti2AndGzip() throws IOException {
    float[] vals = new float[4 * 3 * 2];
    for (int i = 0; i < vals.length; i++) vals[i] = (i * 7) % 23 + 100;
    Volume v =
        Volume.builder(2, 3, 4)
            .floats(vals)
            .spacing(0.5, 0.25, 3.0)
            .origin(-10.5, 20.25, -30.125)
            .build();
    for (NiftiImage.Datatype t : NiftiImage.Datatype.values()) {
      NiftiImage img = NiftiImage.fromVolume(v, "LPI", t);
      assertEquals(t, img.datatype());
      assertEquals(t.code(), img.datatypeCode());
      for (String name : new String[] {t + ".nii", t + ".nii.gz", t + "-2.nii", t + "-2.nii.gz"}) {
        Path p = dir.resolve(name);
        if (name.contains("-2")) {
          Nifti.write2(img, p);
        } else {
          Nifti.write(img, p);
        }
        NiftiImage r = Nifti.read(p);
        assertEquals(name.contains("-2") ? 2 : 1, r.version(), name);
        assertEquals(t, r.datatype(), name);
        assertEquals("LPI", r.axcodes(), name);
        assertEquals(4, r.nx());
        assertEquals(3, r.ny());
        assertEquals(2, r.nz());
        double[][] a = img.affineRas();
        double[][] b = r.affineRas();
        for (int i = 0; i < 3; i++) assertArrayEquals(a[i], b[i], 0, name + " affine");
        for (int k = 0; k < 2; k++) {
          for (int j = 0; j < 3; j++) {
            for (int i = 0; i < 4; i++) {
              assertEquals(img.value(i, j, k), r.value(i, j, k), name);
            }
          }
        }
      }
      byte[] raw = Files.readAllBytes(dir.resolve(t + ".nii"));
      assertEquals(352 + 24 * t.bytes(), raw.length, t + ": header, extension flag, data");
    }
  }

  @Test
  void gzipIsToldByContentNotName() throws IOException {
    Volume v = axial(3, 4, 5, labels(3, 4, 5));
    NiftiImage img = NiftiImage.fromVolume(v, "LAS");
    Path gz = dir.resolve("a.nii.gz");
    Nifti.write(img, gz);
    byte[] bytes = Files.readAllBytes(gz);
    assertEquals(0x1f, bytes[0] & 0xff);
    assertEquals(0x8b, bytes[1] & 0xff);
    Path renamed = dir.resolve("gzipped-but-named.nii");
    Files.write(renamed, bytes);
    assertEquals(img.value(4, 3, 2), Nifti.read(renamed).value(4, 3, 2));
  }

  @Test
  void scalingFollowsTheStandard() throws IOException {
    Volume v = Volume.builder(1, 1, 3).shorts(new short[] {-2, 0, 7}, true, 1, 0).build();
    Path p = dir.resolve("s.nii");
    Nifti.write(NiftiImage.fromVolume(v, "LPS"), p);
    float[][] cases = {{2, 3}, {0, 5}, {Float.NaN, 5}, {-0.5f, 0}};
    for (float[] c : cases) {
      byte[] b = Files.readAllBytes(p);
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(112, c[0]).putFloat(116, c[1]);
      Path q = dir.resolve("s" + c[0] + ".nii");
      Files.write(q, b);
      NiftiImage img = Nifti.read(q);
      boolean scaled = c[0] != 0 && !Float.isNaN(c[0]);
      assertEquals(scaled, img.isScaled(), Arrays.toString(c));
      for (int i = 0; i < 3; i++) {
        double stored = new double[] {-2, 0, 7}[i];
        assertEquals(stored, img.storedValue(i, 0, 0));
        assertEquals(
            scaled ? stored * c[0] + c[1] : stored, img.value(i, 0, 0), Arrays.toString(c));
      }
    }
  }

  @Test
  void fromVolumeChecksItsArguments() {
    Volume v = axial(2, 2, 2, labels(2, 2, 2));
    for (String bad : new String[] {"LAX", "LLS", "LA", "RASR", "PAS", ""}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> NiftiImage.fromVolume(v, bad));
      assertTrue(e.getMessage().startsWith("axcodes"), e.getMessage());
    }
    assertEquals("LAS", NiftiImage.fromVolume(v, "las").axcodes());
    double c = Math.cos(0.1);
    double s = Math.sin(0.1);
    Volume oblique =
        Volume.builder(2, 2, 2)
            .shorts(labels(2, 2, 2), true, 1, 0)
            .orientation(new double[] {c, s, 0}, new double[] {-s, c, 0})
            .build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> NiftiImage.fromVolume(oblique, "LAS"));
    assertTrue(e.getMessage().contains("rowDirection [" + c + ", " + s + ", 0.0]"), e.getMessage());
    // Within 1e-3 is aligned enough; the affine keeps the true directions.
    double tiny = 5e-4;
    Volume nearly =
        Volume.builder(2, 2, 2)
            .shorts(labels(2, 2, 2), true, 1, 0)
            .orientation(
                new double[] {Math.sqrt(1 - tiny * tiny), tiny, 0},
                new double[] {-tiny, Math.sqrt(1 - tiny * tiny), 0})
            .build();
    NiftiImage img = NiftiImage.fromVolume(nearly, "LPS");
    assertEquals(-tiny, img.affineRas()[1][0], 1e-12);
    Volume big = Volume.builder(1, 1, 2).shorts(new short[] {3, 300}, true, 1, 0).build();
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NiftiImage.fromVolume(big, "RAS", NiftiImage.Datatype.UINT8));
    assertTrue(
        e.getMessage().contains("300") && e.getMessage().contains("[0, 0, 1]"), e.getMessage());
    Volume frac = Volume.builder(1, 1, 2).floats(new float[] {1, 2.5f}).build();
    assertThrows(
        IllegalArgumentException.class,
        () -> NiftiImage.fromVolume(frac, "RAS", NiftiImage.Datatype.INT16));
    Volume neg = Volume.builder(1, 1, 2).shorts(new short[] {-1, 3}, true, 1, 0).build();
    assertThrows(
        IllegalArgumentException.class,
        () -> NiftiImage.fromVolume(neg, "RAS", NiftiImage.Datatype.UINT16));
  }

  @Test
  void resampleToAPermutedGridIsAnExactReindex() throws IOException {
    short[] lab = labels(7, 9, 8);
    Volume v = axial(7, 9, 8, lab);
    Path p = dir.resolve("mask.nii.gz");
    Nifti.write(NiftiImage.fromVolume(v, "LAS", NiftiImage.Datatype.UINT8), p);
    NiftiImage mask = Nifti.read(p);
    assertEquals(NiftiImage.Datatype.UINT8, mask.datatype());
    assertNotNull(NiftiResampler.reindex(NiftiResampler.voxelMap(mask, v), new int[] {7, 9, 8}));
    Volume back = mask.resampleTo(v);
    assertEquals(Volume.Kind.INT16, back.kind());
    assertArrayEquals(lab, back.shorts());
    assertArrayEquals(v.spacing(), back.spacing());
    assertArrayEquals(v.origin(), back.origin());
    // A reference grid larger than the mask: outside voxels are 0, the rest shift by whole
    // voxels.
    Volume wider =
        Volume.builder(9, 11, 10)
            .shorts(new short[9 * 11 * 10], true, 1, 0)
            .spacing(0.75, 0.5, 2.5)
            .origin(-80.5 - 0.5, -60.25 - 0.75, 100.0 + 2.5)
            .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
            .sliceDirection(new double[] {0, 0, -1})
            .build();
    assertNotNull(
        NiftiResampler.reindex(NiftiResampler.voxelMap(mask, wider), new int[] {9, 11, 10}));
    Volume w = mask.resampleTo(wider);
    for (int s = 0; s < 9; s++) {
      for (int r = 0; r < 11; r++) {
        for (int c = 0; c < 10; c++) {
          boolean inside = s >= 1 && s <= 7 && r >= 1 && r <= 9 && c >= 1 && c <= 8;
          double want = inside ? v.value(s - 1, r - 1, c - 1) : 0;
          assertEquals(want, w.value(s, r, c), "(" + s + "," + r + "," + c + ")");
        }
      }
    }
  }

  /** Nearest neighbour computed from the source volume's own axis-aligned geometry. */
  private static double nearest(Volume src, double[] lps) {
    double[] o = src.origin();
    double[] sp = src.spacing();
    long c = Math.round((lps[0] - o[0]) / sp[1]);
    long r = Math.round((lps[1] - o[1]) / sp[0]);
    long s = Math.round((o[2] - lps[2]) / sp[2]);
    if (c < 0 || c >= src.columns() || r < 0 || r >= src.rows() || s < 0 || s >= src.slices()) {
      return 0;
    }
    return src.value((int) s, (int) r, (int) c);
  }

  @Test
  void resampleToAnotherGridIsNearestNeighbour() throws IOException {
    short[] lab = labels(12, 14, 16);
    Volume src = axial(12, 14, 16, lab);
    Path p = dir.resolve("m.nii");
    Nifti.write(NiftiImage.fromVolume(src, "LAS"), p);
    NiftiImage mask = Nifti.read(p);
    double c = Math.cos(0.3);
    double s = Math.sin(0.3);
    Volume[] refs = {
      // Axial, finer and coarser spacing, shifted by a fraction of a voxel.
      Volume.builder(20, 9, 11)
          .shorts(new short[20 * 9 * 11], true, 1, 0)
          .spacing(1.1, 0.33, 1.3)
          .origin(-81.13, -61.07, 101.9)
          .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
          .sliceDirection(new double[] {0, 0, -1})
          .build(),
      // Sagittal.
      Volume.builder(10, 13, 15)
          .shorts(new short[10 * 13 * 15], true, 1, 0)
          .spacing(1.9, 0.77, 0.61)
          .origin(-79.93, -61.11, 98.03)
          .orientation(new double[] {0, 1, 0}, new double[] {0, 0, -1})
          .sliceDirection(new double[] {1, 0, 0})
          .build(),
      // Oblique: rotated about z.
      Volume.builder(8, 12, 12)
          .shorts(new short[8 * 12 * 12], true, 1, 0)
          .spacing(0.61, 0.59, 3.1)
          .origin(-78.07, -59.93, 99.11)
          .orientation(new double[] {c, s, 0}, new double[] {-s, c, 0})
          .sliceDirection(new double[] {0, 0, -1})
          .build(),
    };
    for (Volume ref : refs) {
      assertNull(
          NiftiResampler.reindex(
              NiftiResampler.voxelMap(mask, ref),
              new int[] {ref.slices(), ref.rows(), ref.columns()}),
          "not a reindex: " + ref);
      Volume out = mask.resampleTo(ref);
      assertEquals(Volume.Kind.INT16, out.kind());
      int inside = 0;
      int nonzero = 0;
      for (int z = 0; z < ref.slices(); z++) {
        for (int y = 0; y < ref.rows(); y++) {
          for (int x = 0; x < ref.columns(); x++) {
            double want = nearest(src, ref.toPatient(z, y, x));
            assertEquals(want, out.value(z, y, x), ref + " at (" + z + "," + y + "," + x + ")");
            if (want != 0) nonzero++;
            inside++;
          }
        }
      }
      assertTrue(nonzero > inside / 10, "the reference grid overlaps the mask: " + nonzero);
    }
  }

  // ---------------------------------------------------------------- bad files

  private Path valid(String name) throws IOException {
    Path p = dir.resolve(name);
    Volume v = axial(3, 4, 5, labels(3, 4, 5));
    if (name.contains("-2")) {
      Nifti.write2(NiftiImage.fromVolume(v, "LAS"), p);
    } else {
      Nifti.write(NiftiImage.fromVolume(v, "LAS"), p);
    }
    return p;
  }

  private static MalformedFileException malformed(Path p, String... expected) {
    MalformedFileException e = assertThrows(MalformedFileException.class, () -> Nifti.read(p));
    assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
    assertEquals(p, e.file());
    for (String x : expected) {
      assertTrue(e.getMessage().contains(x), "expected \"" + x + "\" in: " + e.getMessage());
    }
    return e;
  }

  private Path patched(Path src, String name, int offset, byte[] bytes) throws IOException {
    byte[] b = Files.readAllBytes(src);
    System.arraycopy(bytes, 0, b, offset, bytes.length);
    Path p = dir.resolve(name);
    Files.write(p, b);
    return p;
  }

  private static byte[] le16(int v) {
    return ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array();
  }

  private static byte[] le64(long v) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
  }

  private static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (OutputStream o = new GZIPOutputStream(bos)) {
      o.write(raw);
    }
    return bos.toByteArray();
  }

  @Test
  void badHeadersAreMalformedFilesNamingTheProblem() throws IOException {
    Path ok = valid("ok.nii");
    byte[] all = Files.readAllBytes(ok);
    Path empty = dir.resolve("empty.nii");
    Files.write(empty, new byte[0]);
    malformed(empty, "header truncated");
    Path shortHdr = dir.resolve("short.nii");
    Files.write(shortHdr, Arrays.copyOf(all, 200));
    malformed(shortHdr, "header truncated: 200 of 348");
    malformed(patched(ok, "sizeof.nii", 0, new byte[] {1, 2, 3, 4}), "sizeof_hdr");
    malformed(patched(ok, "magic.nii", 344, new byte[] {'x', '+', '1', 0}), "magic");
    malformed(patched(ok, "pair.nii", 344, new byte[] {'n', 'i', '1', 0}), "ni1");
    malformed(patched(ok, "dtype.nii", 70, le16(128)), "unsupported datatype 128 (RGB24)");
    malformed(patched(ok, "dtype0.nii", 70, le16(0)), "unsupported datatype 0");
    malformed(patched(ok, "dim0.nii", 40 + 2 * 2, le16(0)), "dim[2] is 0");
    malformed(patched(ok, "dimneg.nii", 40 + 2 * 1, le16(-5)), "dim[1] is -5");
    malformed(patched(ok, "ndim.nii", 40, le16(9)), "dim[0]");
    Path fourD = patched(ok, "4d.nii", 40, le16(4));
    malformed(patched(fourD, "4d3.nii", 40 + 2 * 4, le16(3)), "dim[4] is 3", "only one volume");
    // dim[4] = 1: a 4D file with one volume reads like the 3D one.
    NiftiImage one = Nifti.read(patched(fourD, "4d1.nii", 40 + 2 * 4, le16(1)));
    assertEquals(Nifti.read(ok).value(4, 3, 2), one.value(4, 3, 2));
    Path cut = dir.resolve("cut.nii");
    Files.write(cut, Arrays.copyOf(all, all.length - 10));
    malformed(cut, "data shorter than dims", "need 120 bytes", "the file has 110");
    malformed(
        patched(
            ok,
            "offset.nii",
            108,
            ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(100).array()),
        "vox_offset");
    malformed(
        patched(
            ok,
            "offsetfrac.nii",
            108,
            ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(352.5f).array()),
        "vox_offset");
    byte[] nan = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN).array();
    malformed(patched(ok, "srow.nii", 296 + 12, nan), "srow_y");
    malformed(patched(ok, "qoffset.nii", 268, nan), "qform_code is 1");
    byte[] bcd =
        ByteBuffer.allocate(12)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putFloat(0.8f)
            .putFloat(0.8f)
            .putFloat(0)
            .array();
    malformed(patched(ok, "quatern.nii", 256, bcd), "b^2 + c^2 + d^2");
    Path ok2 = valid("ok-2.nii");
    malformed(patched(ok2, "magic2.nii", 8, new byte[] {'\n', '\n', 032, '\n'}), "transfer check");
    malformed(patched(ok2, "dim2.nii", 16 + 8 * 3, le64(-1)), "dim[3] is -1");
  }

  @Test
  void hostileDimsFailBeforeAllocating() throws IOException {
    Path ok = valid("ok.nii");
    // 30000^3 int16 voxels from a file of a few hundred bytes.
    Path p = patched(ok, "huge.nii", 40, concat(le16(3), le16(30000), le16(30000), le16(30000)));
    malformed(p, "2 GiB");
    Path q = patched(ok, "large.nii", 40, concat(le16(3), le16(30000), le16(30000), le16(1)));
    malformed(q, "data shorter than dims");
    Path ok2 = valid("ok-2.nii");
    malformed(
        patched(
            ok2, "huge2.nii", 16, concat(le64(3), le64(1L << 40), le64(1L << 40), le64(1L << 40))),
        "overflow");
    // gzip: the claim exceeds what the compressed size can expand to.
    byte[] raw = Files.readAllBytes(q);
    Path gz = dir.resolve("large.nii.gz");
    Files.write(gz, gzip(raw));
    malformed(gz, "data shorter than dims", "gzip file can hold");
    // A claim the compressed size could hold, but the stream ends early: no 1.8 GB buffer.
    byte[] raw2 =
        Files.readAllBytes(
            patched(ok, "l2.nii", 40, concat(le16(3), le16(30000), le16(30000), le16(1))));
    byte[] noise = new byte[2_000_000];
    new java.util.Random(1).nextBytes(noise);
    byte[] padded = concat(raw2, noise);
    Path gz2 = dir.resolve("l2.nii.gz");
    Files.write(gz2, gzip(padded));
    malformed(gz2, "data shorter than dims", "has 2000120");
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (byte[] x : parts) b.writeBytes(x);
    return b.toByteArray();
  }

  @Test
  void gzipCutShortOrCorruptIsMalformed() throws IOException {
    Volume v = axial(20, 30, 40, labels(20, 30, 40));
    Path ok = dir.resolve("ok.nii.gz");
    Nifti.write(NiftiImage.fromVolume(v, "LAS"), ok);
    byte[] all = Files.readAllBytes(ok);
    for (int keep : new int[] {10, 200, all.length / 2, all.length - 5}) {
      Path p = dir.resolve("cut" + keep + ".nii.gz");
      Files.write(p, Arrays.copyOf(all, keep));
      malformed(p, "gzip");
    }
    byte[] bad = all.clone();
    for (int i = all.length / 3; i < all.length / 3 + 40; i++) bad[i] ^= 0x5a;
    Path p = dir.resolve("corrupt.nii.gz");
    Files.write(p, bad);
    MalformedFileException e = malformed(p);
    assertTrue(
        e.getMessage().contains("gzip") || e.getMessage().contains("data shorter"), e.getMessage());
  }

  @Test
  void writesAreAtomicAndLeaveNoTemporaryFiles() throws IOException {
    Path p = dir.resolve("w.nii.gz");
    Nifti.write(NiftiImage.fromVolume(axial(2, 3, 4, labels(2, 3, 4)), "LAS"), p);
    Nifti.write(NiftiImage.fromVolume(axial(3, 3, 4, labels(3, 3, 4)), "LAS"), p);
    assertEquals(3, Nifti.read(p).nz());
    try (var s = Files.list(dir)) {
      assertEquals(List.of(p), s.toList());
    }
    // A NIfTI-1 header cannot hold a size over 32767.
    Volume wide = Volume.builder(1, 1, 40000).shorts(new short[40000], true, 1, 0).build();
    NiftiImage img = NiftiImage.fromVolume(wide, "RAS");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Nifti.write(img, dir.resolve("wide.nii")));
    assertTrue(e.getMessage().contains("write2"), e.getMessage());
    Nifti.write2(img, dir.resolve("wide.nii"));
    assertEquals(40000, Nifti.read(dir.resolve("wide.nii")).nx());
  }

  @Test
  void gzipTrailerIsCheckedAndHeaderExtensionsAreSkipped() throws IOException {
    Path ok = valid("ok.nii");
    byte[] raw = Files.readAllBytes(ok);
    // An extension of 16 bytes between the header and the data, vox_offset moved past it.
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(raw, 0, 348);
    b.write(new byte[] {1, 0, 0, 0});
    b.write(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(16).putInt(6).array());
    b.write(raw, 352, raw.length - 352);
    byte[] ext = b.toByteArray();
    ByteBuffer.wrap(ext).order(ByteOrder.LITTLE_ENDIAN).putFloat(108, 368);
    Path pe = dir.resolve("ext.nii.gz");
    Files.write(pe, gzip(ext));
    NiftiImage a = Nifti.read(ok);
    NiftiImage e = Nifti.read(pe);
    for (int k = 0; k < 3; k++) {
      for (int j = 0; j < 4; j++) {
        for (int i = 0; i < 5; i++) assertEquals(a.value(i, j, k), e.value(i, j, k));
      }
    }
    // A wrong CRC in the trailer.
    byte[] gz = gzip(raw);
    gz[gz.length - 8] ^= 1;
    Path crc = dir.resolve("crc.nii.gz");
    Files.write(crc, gz);
    malformed(crc, "gzip");
  }

  @Test
  void largeGzipReadsInBulk() throws IOException {
    int s = 160;
    int r = 512;
    int c = 512;
    short[] lab = new short[s * r * c];
    for (int z = 0; z < s; z++) {
      for (int y = 100; y < 400; y++) {
        for (int x = 150 + z % 7; x < 350; x++) lab[(z * r + y) * c + x] = (short) (1 + z / 23);
      }
    }
    Volume v = axial(s, r, c, lab);
    Path p = dir.resolve("big.nii.gz");
    Nifti.write(NiftiImage.fromVolume(v, "LAS", NiftiImage.Datatype.UINT8), p);
    // Against plain bulk decompression of the same file, each warmed up once.
    Nifti.read(p);
    inflate(p);
    long t0 = System.nanoTime();
    long bytes = inflate(p);
    double base = (System.nanoTime() - t0) / 1e9;
    t0 = System.nanoTime();
    NiftiImage img = Nifti.read(p);
    double sec = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        "read %d MB of uint8 voxels from a %d kB .nii.gz in %.3f s (bulk"
            + " decompression alone %.3f s)%n",
        img.voxelCount() >> 20, Files.size(p) >> 10, sec, base);
    assertEquals(352 + img.voxelCount(), bytes);
    assertEquals(c, img.nx());
    assertEquals(7, img.value(512 - 1 - 200, 512 - 1 - 200, 0));
    assertTrue(sec < 4 * base + 0.25, "reading took " + sec + " s, decompressing " + base + " s");
    Volume back = img.resampleTo(v);
    assertArrayEquals(lab, back.shorts());
  }

  private static long inflate(Path p) throws IOException {
    try (var in = new java.util.zip.GZIPInputStream(Files.newInputStream(p), 1 << 16)) {
      byte[] buf = new byte[1 << 20];
      long n = 0;
      for (int r; (r = in.read(buf)) >= 0; ) n += r;
      return n;
    }
  }

  @Test
  void valueChecksItsIndices() {
    NiftiImage img = NiftiImage.fromVolume(axial(2, 3, 4, labels(2, 3, 4)), "LAS");
    assertThrows(IndexOutOfBoundsException.class, () -> img.value(4, 0, 0));
    assertThrows(IndexOutOfBoundsException.class, () -> img.value(0, -1, 0));
    assertThrows(IndexOutOfBoundsException.class, () -> img.value(0, 0, 2));
  }
}
