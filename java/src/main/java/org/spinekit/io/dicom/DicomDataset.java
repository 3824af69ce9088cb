package org.spinekit.io.dicom;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed DICOM data set: each element's VR and where its value lies in the buffer it was parsed
 * from, sequence items as nested data sets, and for encapsulated pixel data the fragments. Values
 * are decoded on demand.
 */
final class DicomDataset {
  /**
   * One element; {@code items} for sequences, {@code fragments} ({offset, length} pairs) for
   * encapsulated pixel data (the Basic Offset Table item excluded).
   */
  record Element(
      int tag,
      String vr,
      int offset,
      int length,
      List<DicomDataset> items,
      List<int[]> fragments) {}

  final byte[] buf;
  final boolean bigEndian;
  private final Map<Integer, Element> elements = new HashMap<>();

  DicomDataset(byte[] buf, boolean bigEndian) {
    this.buf = buf;
    this.bigEndian = bigEndian;
  }

  void put(Element e) {
    elements.put(e.tag(), e);
  }

  Element get(int tag) {
    return elements.get(tag);
  }

  boolean has(int tag) {
    return elements.containsKey(tag);
  }

  /** The value as text, trailing spaces and NULs trimmed; null when absent or empty. */
  String string(int tag) {
    Element e = elements.get(tag);
    if (e == null || e.length() <= 0 || e.items() != null) return null;
    int end = e.offset() + e.length();
    while (end > e.offset() && (buf[end - 1] == ' ' || buf[end - 1] == 0)) end--;
    int start = e.offset();
    while (start < end && buf[start] == ' ') start++;
    if (start == end) return null;
    return new String(buf, start, end - start, StandardCharsets.ISO_8859_1);
  }

  /**
   * A backslash-separated decimal string (DS/IS) as numbers; null when absent or empty.
   *
   * @throws NumberFormatException naming nothing: callers add the tag and file
   */
  double[] decimals(int tag) {
    String s = string(tag);
    if (s == null) return null;
    String[] parts = s.split("\\\\");
    double[] v = new double[parts.length];
    for (int i = 0; i < parts.length; i++) {
      v[i] = Double.parseDouble(parts[i].trim());
    }
    return v;
  }

  /** The first value of a US/SS/UL/IS/DS element as an integer, or {@code def}. */
  int integer(int tag, int def) {
    Element e = elements.get(tag);
    if (e == null || e.length() <= 0 || e.items() != null) return def;
    switch (e.vr()) {
      case "US":
        return e.length() >= 2 ? u16(e.offset()) : def;
      case "SS":
        return e.length() >= 2 ? (short) u16(e.offset()) : def;
      case "UL":
      case "SL":
        return e.length() >= 4 ? i32(e.offset()) : def;
      default:
        {
          String s = string(tag);
          if (s == null) return def;
          String first = s.split("\\\\")[0].trim();
          try {
            return Integer.parseInt(first);
          } catch (NumberFormatException ex) {
            double d = Double.parseDouble(first);
            if (d != Math.rint(d)) throw ex;
            return (int) d;
          }
        }
    }
  }

  List<DicomDataset> items(int tag) {
    Element e = elements.get(tag);
    return e == null || e.items() == null ? List.of() : e.items();
  }

  int u16(int off) {
    return bigEndian
        ? ((buf[off] & 0xff) << 8) | (buf[off + 1] & 0xff)
        : (buf[off] & 0xff) | ((buf[off + 1] & 0xff) << 8);
  }

  int i32(int off) {
    return bigEndian
        ? ((buf[off] & 0xff) << 24)
            | ((buf[off + 1] & 0xff) << 16)
            | ((buf[off + 2] & 0xff) << 8)
            | (buf[off + 3] & 0xff)
        : (buf[off] & 0xff)
            | ((buf[off + 1] & 0xff) << 8)
            | ((buf[off + 2] & 0xff) << 16)
            | ((buf[off + 3] & 0xff) << 24);
  }

  static List<DicomDataset> newItems() {
    return new ArrayList<>();
  }
}
