package org.spinekit.serve;

import java.util.Locale;

/**
 * What one request may bring: the server refuses anything larger with 413 (and a malformed body
 * with 400) before it costs more than the limit, whatever the request's headers claim.
 *
 * @param body bytes of a request body (a zip, a multipart form, an inference request)
 * @param json bytes of the JSON part of an inference request (its whole body, or the part before
 *     the binary tensors)
 * @param entries entries of an uploaded zip (folders included)
 * @param entry bytes of one zip entry once inflated
 * @param unzipped bytes of all of a zip's entries once inflated
 */
public record Limits(long body, long json, int entries, long entry, long unzipped) {
  /** The largest array Java allocates. */
  static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

  public Limits {
    positive("body", body);
    positive("json", json);
    positive("entries", entries);
    positive("entry", entry);
    positive("unzipped", unzipped);
    if (json > MAX_ARRAY) {
      throw new IllegalArgumentException("json: expected at most " + MAX_ARRAY + ", got " + json);
    }
    if (entry > MAX_ARRAY) {
      throw new IllegalArgumentException(
          "entry: expected at most " + MAX_ARRAY + " (one Java array), got " + entry);
    }
  }

  private static void positive(String what, long v) {
    if (v < 1) throw new IllegalArgumentException(what + ": expected at least 1, got " + v);
  }

  /**
   * The defaults: a body of 512 MiB, 64 MiB of JSON, 10,000 zip entries of at most 256 MiB each and
   * 2 GiB in all. A CT study (a few hundred slices of half a MiB) or an MR study (three series of
   * tens of slices) is far below each.
   */
  public static Limits defaults() {
    return new Limits(512L << 20, 64L << 20, 10_000, 256L << 20, 2L << 30);
  }

  public Limits withBody(long v) {
    return new Limits(v, json, entries, entry, unzipped);
  }

  public Limits withJson(long v) {
    return new Limits(body, v, entries, entry, unzipped);
  }

  public Limits withEntries(int v) {
    return new Limits(body, json, v, entry, unzipped);
  }

  public Limits withEntry(long v) {
    return new Limits(body, json, entries, v, unzipped);
  }

  public Limits withUnzipped(long v) {
    return new Limits(body, json, entries, entry, v);
  }

  /** {@code bytes} for a message: {@code 512 MiB}, {@code 1.5 GiB}, {@code 100 bytes}. */
  public static String bytes(long bytes) {
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) return bytes + " bytes";
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    String n = v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.1f", v);
    return n + " " + units[u];
  }
}
