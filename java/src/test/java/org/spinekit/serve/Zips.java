package org.spinekit.serve;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
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
