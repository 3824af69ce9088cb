package org.spinekit.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Writes NumPy {@code .npy} files (format 1.0, C order, little endian), atomically. */
public final class Npy {
  private Npy() {}

  /** int16 ({@code <i2}) or uint16 ({@code <u2}) samples. */
  public static void write(Path file, short[] data, boolean signed, long... shape)
      throws IOException {
    check(data.length, shape);
    write(file, signed ? "<i2" : "<u2", shape, data.length * 2L, out -> {
      ByteBuffer bb = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < data.length; ) {
        int n = Math.min(data.length - i, bb.capacity() / 2);
        bb.clear();
        bb.asShortBuffer().put(data, i, n);
        out.write(bb.array(), 0, n * 2);
        i += n;
      }
    });
  }

  /** float32 ({@code <f4}) samples. */
  public static void write(Path file, float[] data, long... shape) throws IOException {
    check(data.length, shape);
    write(file, "<f4", shape, data.length * 4L, out -> {
      ByteBuffer bb = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < data.length; ) {
        int n = Math.min(data.length - i, bb.capacity() / 4);
        bb.clear();
        bb.asFloatBuffer().put(data, i, n);
        out.write(bb.array(), 0, n * 4);
        i += n;
      }
    });
  }

  /** A volume's voxels as {@code [slices, rows, columns]} in its stored type. */
  public static void write(Path file, Volume v) throws IOException {
    long[] shape = {v.slices(), v.rows(), v.columns()};
    if (v.kind() == Volume.Kind.FLOAT32) {
      write(file, v.floats(), shape);
    } else {
      write(file, v.shorts(), v.kind() == Volume.Kind.INT16, shape);
    }
  }

  private static void check(int n, long[] shape) {
    long count = 1;
    for (long s : shape) {
      if (s < 0) throw new IllegalArgumentException("shape: negative size in "
          + java.util.Arrays.toString(shape));
      count *= s;
    }
    if (count != n) {
      throw new IllegalArgumentException("shape: " + java.util.Arrays.toString(shape)
          + " holds " + count + " values, got " + n);
    }
  }

  private static void write(Path file, String descr, long[] shape, long bytes,
      AtomicFiles.Body body) throws IOException {
    StringBuilder sh = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      sh.append(shape[i]);
      if (shape.length == 1 || i + 1 < shape.length) sh.append(", ");
    }
    sh.append(')');
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + sh + ", }";
    int total = 10 + dict.length() + 1;
    int pad = (64 - total % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    byte[] h = header.getBytes(StandardCharsets.US_ASCII);
    AtomicFiles.write(file, out -> {
      out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
      out.write(h.length & 0xff);
      out.write((h.length >>> 8) & 0xff);
      out.write(h);
      body.write(out);
    });
  }
}
