package org.spinekit.io.npy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.nifti.NiftiNibabelTest;
import org.spinekit.tensor.Tensors;

/** Reading .npy files that numpy wrote (npy_numpy_write.py), and refusing bad ones. */
class NpyTest {
  @TempDir static Path dir;

  @BeforeAll
  static void writeWithNumpy() throws Exception {
    String out = NiftiNibabelTest.python("npy_numpy_write.py", dir.toString());
    assertTrue(out.startsWith("wrote 20"), out);
  }

  private static Npy.Array read(String name) throws Exception {
    return Npy.read(dir.resolve(name));
  }

  @Test
  void everyDtypeInBothByteOrdersReadsAsNumpyWroteIt() throws Exception {
    float[] f4 = new float[24];
    for (int i = 0; i < 24; i++) f4[i] = i * 0.5f - 3;
    for (String name : new String[] {"f4_le.npy", "f4_be.npy", "f4_v3.npy"}) {
      Npy.Array a = read(name);
      assertEquals(Npy.Dtype.FLOAT32, a.dtype(), name);
      assertArrayEquals(new long[] {2, 3, 4}, a.shape(), name);
      assertArrayEquals(f4, a.floats(), name);
    }
    double[] f8 = new double[10];
    for (int i = 0; i < 10; i++) f8[i] = i / 3.0;
    for (String name : new String[] {"f8_le.npy", "f8_be.npy"}) {
      Npy.Array a = read(name);
      assertArrayEquals(new long[] {2, 5}, a.shape(), name);
      assertArrayEquals(f8, a.doubles(), name);
    }
    for (String name : new String[] {"i2_le.npy", "i2_be.npy"}) {
      Npy.Array a = read(name);
      assertEquals(Npy.Dtype.INT16, a.dtype());
      assertArrayEquals(new short[] {-32768, -1, 0, 1, 32767}, a.shorts(), name);
    }
    for (String name : new String[] {"u2_le.npy", "u2_be.npy"}) {
      Npy.Array a = read(name);
      assertEquals(Npy.Dtype.UINT16, a.dtype());
      assertArrayEquals(new long[] {2, 2}, a.shape());
      assertArrayEquals(new float[] {0, 1, 65535, 40000}, a.toFloats(), name);
    }
    assertArrayEquals(
        new int[] {Integer.MIN_VALUE, 7, Integer.MAX_VALUE}, read("i4_be.npy").ints());
    for (String name : new String[] {"i8_le.npy", "i8_be.npy"}) {
      assertArrayEquals(new long[] {-(1L << 62), -1, 0, 1L << 40}, read(name).longs(), name);
    }
    Npy.Array u1 = read("u1.npy");
    assertArrayEquals(new long[] {16, 16}, u1.shape());
    for (int i = 0; i < 256; i++) assertEquals(i, u1.bytes()[i] & 0xff);
    Npy.Array scalar = read("scalar.npy");
    assertArrayEquals(new long[0], scalar.shape());
    assertArrayEquals(new float[] {3.5f}, scalar.floats());
    Npy.Array empty = read("empty.npy");
    assertArrayEquals(new long[] {0, 3}, empty.shape());
    assertEquals(0, empty.count());
    Npy.Array big = read("big_v2.npy");
    assertArrayEquals(new long[] {3, 70000}, big.shape());
    for (int i = 0; i < big.count(); i += 997) assertEquals(i * 0.25f, big.floats()[i]);
    assertEquals((3 * 70000 - 1) * 0.25f, big.floats()[3 * 70000 - 1]);
    IllegalStateException wrongKind =
        assertThrows(IllegalStateException.class, () -> read("i2_le.npy").floats());
    assertTrue(wrongKind.getMessage().contains("INT16"), wrongKind.getMessage());
  }

  @Test
  void tensorsAreFloat32OfTheFilesShape() throws Exception {
    try (PointerScope scope = new PointerScope()) {
      Tensor t = Npy.readTensor(dir.resolve("f8_be.npy"));
      assertEquals(ScalarType.Float.value, t.scalar_type().value);
      assertArrayEquals(new long[] {2, 5}, t.sizes().vec().get());
      float[] want = new float[10];
      for (int i = 0; i < 10; i++) want[i] = (float) (i / 3.0);
      assertArrayEquals(want, Tensors.floats(t));
      assertArrayEquals(
          new float[] {0, 1, 65535, 40000},
          Tensors.floats(Npy.readTensor(dir.resolve("u2_be.npy"))));
      assertArrayEquals(
          new float[] {-32768, -1, 0, 1, 32767},
          Tensors.floats(Npy.readTensor(dir.resolve("i2_be.npy"))));
      Tensor big = Npy.readTensor(dir.resolve("big_v2.npy"));
      assertArrayEquals(read("big_v2.npy").floats(), Tensors.floats(big));
      Tensor u1 = Npy.readTensor(dir.resolve("u1.npy"));
      assertEquals(255.0, u1.max().item_double());
      assertEquals(0, Npy.readTensor(dir.resolve("empty.npy")).numel());
      assertEquals(0, Npy.readTensor(dir.resolve("scalar.npy")).dim());
    }
  }

  @Test
  void writtenFilesReadBack() throws Exception {
    Path f = dir.resolve("roundtrip.npy");
    float[] v = {1.5f, -2, Float.NaN, Float.POSITIVE_INFINITY, 0, 7};
    Npy.write(f, v, 3, 2);
    Npy.Array a = Npy.read(f);
    assertArrayEquals(new long[] {3, 2}, a.shape());
    assertArrayEquals(v, a.floats());
    Npy.write(f, new short[] {-5, 9}, false, 2);
    assertEquals(Npy.Dtype.UINT16, Npy.read(f).dtype());
  }

  private static void assertRefused(String name, String... fragments) {
    MalformedFileException e =
        assertThrows(MalformedFileException.class, () -> Npy.read(dir.resolve(name)));
    assertTrue(e.getMessage().startsWith(dir.resolve(name).toString()), e.getMessage());
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }
    MalformedFileException t =
        assertThrows(MalformedFileException.class, () -> Npy.readTensor(dir.resolve(name)));
    assertEquals(e.getMessage(), t.getMessage());
  }

  @Test
  void unsupportedLayoutsAreRefusedNamingTheFile() {
    assertRefused("fortran.npy", "Fortran-order");
    assertRefused("object.npy", "object arrays", "'|O'");
    assertRefused("structured.npy", "structured dtype");
    assertRefused("f2.npy", "unsupported dtype '<f2'", "float32");
  }

  /** A .npy file with the given header dict and data bytes. */
  private static Path crafted(String name, int major, String dict, byte[] data) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    byte[] h = (dict + "\n").getBytes(StandardCharsets.US_ASCII);
    ByteBuffer len = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
    if (major == 1) len.putShort(0, (short) h.length);
    else len.putInt(0, h.length);
    out.write(len.array());
    out.write(h);
    out.write(data);
    Path p = dir.resolve(name);
    Files.write(p, out.toByteArray());
    return p;
  }

  @Test
  void hostileHeadersAllocateNothingBeyondTheFile() throws Exception {
    crafted(
        "huge.npy",
        1,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }",
        new byte[64]);
    assertRefused("huge.npy", "needs 4000000000000 data bytes", "holds 64", "truncated");
    crafted(
        "huge2d.npy",
        2,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (60000, 60000), }",
        new byte[16]);
    assertRefused("huge2d.npy", "needs 28800000000 data bytes");
    crafted(
        "overflow.npy",
        1,
        "{'descr': '<i8', 'fortran_order': False, 'shape': " + "(4611686018427387904, 4), }",
        new byte[8]);
    assertRefused("overflow.npy", "overflows");
    crafted(
        "short.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (10,), }", new byte[39]);
    assertRefused("short.npy", "needs 40 data bytes", "holds 39");
    crafted(
        "keys.npy",
        1,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
        new byte[4]);
    assertRefused("keys.npy", "header keys");
    crafted(
        "negative.npy",
        1,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
        new byte[4]);
    assertRefused("negative.npy", "non-negative");
    crafted("syntax.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,", new byte[4]);
    assertRefused("syntax.npy", "header");
    // A version 2.0 header length of 4 GiB - 1 in a small file.
    Path longHeader = dir.resolve("longheader.npy");
    byte[] b = new byte[64];
    System.arraycopy(
        new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, -1, -1, -1, -1}, 0, b, 0, 12);
    Files.write(longHeader, b);
    assertRefused("longheader.npy", "header length 4294967295 runs past the end", "64 bytes");
    Files.write(dir.resolve("text.npy"), "not numpy at all".getBytes(StandardCharsets.US_ASCII));
    assertRefused("text.npy", "not a .npy file");
    Files.write(dir.resolve("tiny.npy"), new byte[] {(byte) 0x93, 'N'});
    assertRefused("tiny.npy", "2 bytes");
    crafted("version.npy", 4, "{}", new byte[0]);
    assertRefused("version.npy", "version 4.0");
  }
}
