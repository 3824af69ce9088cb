package org.spinekit.serve;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Zips and multipart bodies built in memory for the tests. */
final class Zips {
  private Zips() {}

  /** A zip of {@code files} in order (a name ending in '/' is a folder). */
  static byte[] zip(Map<String, byte[]> files) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      for (var e : files.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A zip of one file. */
  static byte[] zip(String name, byte[] data) {
    Map<String, byte[]> m = new LinkedHashMap<>();
    m.put(name, data);
    return zip(m);
  }

  /** A zip of a study folder 12345/ with two DICOM-looking files. */
  static byte[] study() {
    Map<String, byte[]> m = new LinkedHashMap<>();
    m.put("12345/", new byte[0]);
    m.put("12345/1.dcm", FakePredictor.dicom("one"));
    m.put("12345/2.dcm", FakePredictor.dicom("two"));
    return zip(m);
  }

  /**
   * A bomb: one entry of {@code bytes} zeros, deflated at the highest level (about a thousandth of
   * its size).
   */
  static byte[] bomb(String name, long bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      z.setLevel(9);
      z.putNextEntry(new ZipEntry(name));
      byte[] zeros = new byte[1 << 20];
      for (long n = 0; n < bytes; n += zeros.length) {
        z.write(zeros, 0, (int) Math.min(zeros.length, bytes - n));
      }
      z.closeEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** {@code zip} with every occurrence of {@code from} replaced by {@code to} (same length). */
  static byte[] rename(byte[] zip, String from, String to) {
    byte[] f = from.getBytes(StandardCharsets.UTF_8);
    byte[] t = to.getBytes(StandardCharsets.UTF_8);
    if (f.length != t.length) throw new IllegalArgumentException("same length only");
    byte[] out = zip.clone();
    for (int i = 0; i + f.length <= out.length; i++) {
      boolean match = true;
      for (int j = 0; j < f.length && match; j++) match = out[i + j] == f[j];
      if (match) System.arraycopy(t, 0, out, i, t.length);
    }
    return out;
  }

  /**
   * An entry for {@link #build}, written with its sizes in its local header (as zip and Python's
   * zipfile write them; ZipOutputStream writes data descriptors instead). What its headers say may
   * be set apart from its data, for the refusals.
   */
  static final class Raw {
    final String name;
    final byte[] data;
    boolean deflate = true;
    boolean zip64;
    long size = -1;
    int method = -1;
    int flags;
    Integer crc;
    String localName;
    long packedSize = -1;

    Raw(String name, byte[] data) {
      this.name = name;
      this.data = data;
    }

    /** Stored, not deflated. */
    Raw stored() {
      deflate = false;
      return this;
    }

    /** Sizes and offset in a Zip64 extra field of the central directory. */
    Raw zip64() {
      zip64 = true;
      return this;
    }

    /** The size the central directory declares. */
    Raw declare(long bytes) {
      size = bytes;
      return this;
    }

    Raw method(int m) {
      method = m;
      return this;
    }

    Raw flags(int f) {
      flags = f;
      return this;
    }

    Raw crc(int c) {
      crc = c;
      return this;
    }

    /** The compressed size the central directory declares. */
    Raw packed(long bytes) {
      packedSize = bytes;
      return this;
    }

    /** The name its local header gives (the central directory gives {@link #name}). */
    Raw localName(String n) {
      localName = n;
      return this;
    }
  }

  /** A zip of {@code entries}, written byte by byte, ending with {@code comment}. */
  static byte[] build(String comment, Raw... entries) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream central = new ByteArrayOutputStream();
    for (Raw e : entries) {
      byte[] packed = e.data;
      if (e.deflate) {
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        d.setInput(e.data);
        d.finish();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        while (!d.finished()) b.write(buf, 0, d.deflate(buf));
        d.end();
        packed = b.toByteArray();
      }
      CRC32 c = new CRC32();
      c.update(e.data);
      int crc = e.crc != null ? e.crc : (int) c.getValue();
      int method = e.method >= 0 ? e.method : e.deflate ? 8 : 0;
      long size = e.size >= 0 ? e.size : e.data.length;
      byte[] name = e.name.getBytes(StandardCharsets.UTF_8);
      byte[] local = (e.localName != null ? e.localName : e.name).getBytes(StandardCharsets.UTF_8);
      int offset = out.size();
      le(out, 0x04034b50, 4);
      le(out, 20, 2);
      le(out, e.flags | 0x800, 2);
      le(out, method, 2);
      le(out, 0, 4); // time, date
      le(out, crc, 4);
      le(out, packed.length, 4);
      le(out, size, 4);
      le(out, local.length, 2);
      le(out, 0, 2);
      out.writeBytes(local);
      out.writeBytes(packed);
      le(central, 0x02014b50, 4);
      le(central, 45, 2);
      le(central, 45, 2);
      le(central, e.flags | 0x800, 2);
      le(central, method, 2);
      le(central, 0, 4);
      le(central, crc, 4);
      long declaredPacked = e.packedSize >= 0 ? e.packedSize : packed.length;
      le(central, e.zip64 ? 0xffffffffL : declaredPacked, 4);
      le(central, e.zip64 ? 0xffffffffL : size, 4);
      le(central, name.length, 2);
      le(central, e.zip64 ? 28 : 0, 2);
      le(central, 0, 2); // comment
      le(central, 0, 2); // disk
      le(central, 0, 2); // internal attributes
      le(central, 0, 4); // external attributes
      le(central, e.zip64 ? 0xffffffffL : offset, 4);
      central.writeBytes(name);
      if (e.zip64) {
        le(central, 1, 2);
        le(central, 24, 2);
        le(central, size, 8);
        le(central, declaredPacked, 8);
        le(central, offset, 8);
      }
    }
    int at = out.size();
    out.writeBytes(central.toByteArray());
    byte[] note = comment.getBytes(StandardCharsets.UTF_8);
    le(out, 0x06054b50, 4);
    le(out, 0, 4); // disks
    le(out, entries.length, 2);
    le(out, entries.length, 2);
    le(out, central.size(), 4);
    le(out, at, 4);
    le(out, note.length, 2);
    out.writeBytes(note);
    return out.toByteArray();
  }

  private static void le(ByteArrayOutputStream out, long v, int bytes) {
    for (int i = 0; i < bytes; i++) out.write((int) (v >>> (8 * i)) & 0xff);
  }

  static final String BOUNDARY = "----spinekit-test-boundary-7MA4YWxkTrZu0gW";

  /** The Content-Type of {@link #form}. */
  static String formType() {
    return "multipart/form-data; boundary=" + BOUNDARY;
  }

  /** A multipart/form-data body: each part is {name, filename or null, content}. */
  static byte[] form(Object[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      out.write("preamble to be ignored\r\n".getBytes(StandardCharsets.US_ASCII));
      for (Object[] p : parts) {
        StringBuilder h = new StringBuilder("--" + BOUNDARY + "\r\n");
        h.append("Content-Disposition: form-data; name=\"").append(p[0]).append('"');
        if (p[1] != null) h.append("; filename=\"").append(p[1]).append('"');
        h.append("\r\n");
        if (p[1] != null) h.append("Content-Type: application/zip\r\n");
        h.append("\r\n");
        out.write(h.toString().getBytes(StandardCharsets.US_ASCII));
        out.write((byte[]) p[2]);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      out.write(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
