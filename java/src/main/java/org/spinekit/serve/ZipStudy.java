package org.spinekit.serve;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * A study uploaded as a zip, read as it streams in: entry by entry, each inflated into memory while
 * its bytes are counted, so that a zip bomb is refused once it passes a {@link Limits} bound and
 * not after (the sizes in the zip's headers are never trusted). Entry names are checked before
 * their data is read: no absolute names, no {@code ..} or {@code .} parts, no backslashes, colons
 * (drive letters) or NUL, no name given twice. Folders are skipped, and so is macOS's {@code
 * __MACOSX/} folder of resource forks.
 */
final class ZipStudy {
  private ZipStudy() {}

  private static final int CHUNK = 64 * 1024;

  /** Longest entry name accepted. */
  static final int MAX_NAME = 1024;

  /**
   * The files of the zip {@code in} streams, by their names in the zip.
   *
   * @throws HttpError 400 for a body that is not a zip, an empty zip, a malformed or truncated one,
   *     or an entry name refused (naming it); 413 for too many entries or an entry, or the whole,
   *     inflating beyond the limits (naming the entry)
   */
  static Map<String, byte[]> read(InputStream in, Limits limits) throws IOException {
    PushbackInputStream body = new PushbackInputStream(in, 4);
    byte[] magic = body.readNBytes(4);
    body.unread(magic);
    if (magic.length == 0) throw HttpError.bad("not a zip: the body is empty");
    if (magic.length == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 5 && magic[3] == 6) {
      throw HttpError.bad("an empty zip: no files");
    }
    if (magic.length < 4 || magic[0] != 'P' || magic[1] != 'K' || magic[2] != 3 || magic[3] != 4) {
      throw HttpError.bad("not a zip: the body starts with " + describe(magic));
    }
    Map<String, byte[]> files = new LinkedHashMap<>();
    long total = 0;
    int count = 0;
    String current = null;
    try (ZipInputStream zip = new ZipInputStream(body, StandardCharsets.UTF_8)) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        String name = e.getName();
        current = name;
        if (++count > limits.entries()) {
          throw HttpError.tooLarge(
              name, "the zip holds more than " + limits.entries() + " entries (at '" + name + "')");
        }
        String why = refusal(name);
        if (why != null) throw HttpError.bad(name, "zip entry '" + printable(name) + "': " + why);
        if (e.isDirectory() || name.startsWith("__MACOSX/")) continue;
        if (files.containsKey(name)) {
          throw HttpError.bad(name, "zip entry '" + name + "': the name is given twice");
        }
        // A size in the header only refuses early; the count below is what holds.
        if (e.getSize() > limits.entry()) throw entryTooLarge(name, limits);
        byte[] data = inflate(zip, name, limits, total);
        total += data.length;
        files.put(name, data);
      }
    } catch (ZipException | EOFException | IllegalArgumentException e) {
      // IllegalArgumentException: an entry name that is not UTF-8.
      String at = current == null ? "" : " after entry '" + printable(current) + "'";
      throw HttpError.bad(
          current, "a malformed or truncated zip" + at + ": " + String.valueOf(e.getMessage()));
    }
    if (files.isEmpty()) throw HttpError.bad("an empty zip: no files (only folders)");
    return files;
  }

  /** The entry's bytes, counted as they inflate: at most one chunk past a limit is inflated. */
  private static byte[] inflate(ZipInputStream zip, String name, Limits limits, long before)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[CHUNK];
    long n = 0;
    for (int r; (r = zip.read(buf)) > 0; ) {
      n += r;
      if (n > limits.entry()) throw entryTooLarge(name, limits);
      if (before + n > limits.unzipped()) {
        throw HttpError.tooLarge(
            name,
            "the zip inflates to more than "
                + Limits.bytes(limits.unzipped())
                + " (at entry '"
                + name
                + "')");
      }
      out.write(buf, 0, r);
    }
    return out.toByteArray();
  }

  private static HttpError entryTooLarge(String name, Limits limits) {
    return HttpError.tooLarge(
        name, "zip entry '" + name + "' inflates to more than " + Limits.bytes(limits.entry()));
  }

  /** Why an entry name is refused, or null. */
  static String refusal(String name) {
    if (name.isEmpty()) return "an empty name";
    if (name.length() > MAX_NAME) return "a name longer than " + MAX_NAME + " characters";
    if (name.startsWith("/")) return "an absolute name";
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '\\') return "a backslash in the name";
      if (c == ':') return "a colon (a drive letter?) in the name";
      if (c < 0x20 || c == 0x7f) return "a control character in the name";
    }
    String path = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
    for (String part : path.split("/", -1)) {
      if (part.equals("..")) return "a '..' part (outside the study)";
      if (part.isEmpty() || part.equals(".")) return "an empty or '.' part in the name";
    }
    return null;
  }

  /** A name for a message: control characters escaped. */
  static String printable(String name) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < name.length() && i < 200; i++) {
      char c = name.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        b.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (name.length() > 200) b.append("...");
    return b.toString();
  }

  private static String describe(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) s.append(String.format(Locale.ROOT, "%02x", x & 0xff));
    boolean text = true;
    for (byte x : b) text &= x >= 0x20 && x < 0x7f;
    return "0x" + s + (text ? " ('" + new String(b, StandardCharsets.US_ASCII) + "')" : "");
  }

  /**
   * {@code in} that throws {@link HttpError} 413 once more than {@code max} bytes are read from it.
   */
  static InputStream limited(InputStream in, long max, String what) {
    return new FilterInputStream(in) {
      private long count;

      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b >= 0) count(1);
        return b;
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n > 0) count(n);
        return n;
      }

      @Override
      public long skip(long n) throws IOException {
        long s = super.skip(n);
        if (s > 0) count(s);
        return s;
      }

      private void count(long n) {
        count += n;
        if (count > max) {
          throw HttpError.tooLarge(null, what + " is larger than " + Limits.bytes(max));
        }
      }

      @Override
      public boolean markSupported() {
        return false;
      }
    };
  }
}
