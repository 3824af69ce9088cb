package org.spinekit.serve;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.zip.CRC32;
import org.spinekit.io.Inflate;

/**
 * A study uploaded as a zip, read from its central directory once the body is in memory, as unzip
 * does. Every entry is checked before anything inflates: its name (no absolute names, no {@code ..}
 * or {@code .} parts, no backslashes, colons (drive letters) or NUL, no name given twice, the same
 * name in its local header), its method (stored or deflated, not encrypted), its place (inside the
 * body, overlapping no other entry) and its declared size against the {@link Limits}. Each then
 * inflates in one call into an array of exactly its declared size, which it must fill to the byte
 * and not overflow ({@link Inflate}: libdeflate when libspinekit_codecs has it, else zlib), and its
 * CRC-32 must match: a zip bomb costs at most the limits, whatever its headers claim. Folders are
 * skipped, and so is macOS's {@code __MACOSX/} folder of resource forks. Zip64 sizes and offsets
 * are read; split archives are not.
 */
final class ZipStudy {
  private ZipStudy() {}

  /** Longest entry name accepted. */
  static final int MAX_NAME = 1024;

  private static final int LOCAL = 0x04034b50;
  private static final int CENTRAL = 0x02014b50;
  private static final int END = 0x06054b50;
  private static final int END64 = 0x06064b50;
  private static final int END64_LOCATOR = 0x07064b50;

  /** Whether entries inflate through libdeflate (else through java.util.zip). */
  static boolean nativeInflate() {
    return Inflate.libdeflate();
  }

  /**
   * The files of the zip {@code in} holds, by their names in the zip.
   *
   * @param length the body's length when known (Content-Length), else -1
   * @throws HttpError 400 for a body that is not a zip, an empty zip, a malformed or truncated one,
   *     an entry name refused or an entry that is encrypted, compressed otherwise than deflated,
   *     corrupt or not of its declared size (naming it); 413 for too many entries or an entry, or
   *     the whole, larger than the limits once inflated (naming the entry)
   */
  static Map<String, byte[]> read(InputStream in, long length, Limits limits) throws IOException {
    return read(body(in, length, limits.body()), limits, nativeInflate());
  }

  /** {@link #read(InputStream, long, Limits)} of a body of unknown length. */
  static Map<String, byte[]> read(InputStream in, Limits limits) throws IOException {
    return read(in, -1, limits);
  }

  /** Largest body read into an array sized by its Content-Length before its bytes arrive. */
  static final long PRESIZE = 64L << 20;

  /**
   * The whole of {@code in}: one array when its length is known (up to {@link #PRESIZE}: a client
   * claiming a large body and sending none does not get the server to allocate it), read in one
   * loop.
   */
  static byte[] body(InputStream in, long length, long max) throws IOException {
    if (length < 0 || length > PRESIZE || length > max) return in.readAllBytes();
    byte[] b = new byte[(int) length];
    int n = in.readNBytes(b, 0, b.length);
    if (n < b.length) return Arrays.copyOf(b, n);
    int more = in.read();
    if (more < 0) return b;
    // Longer than it said: read the rest the slow way (the limit still holds).
    byte[] rest = in.readAllBytes();
    byte[] all = Arrays.copyOf(b, b.length + 1 + rest.length);
    all[b.length] = (byte) more;
    System.arraycopy(rest, 0, all, b.length + 1, rest.length);
    return all;
  }

  /** An entry accepted from the central directory. */
  private record Entry(
      String name, int method, int crc, long packed, long size, long header, long data) {}

  /** Below this many bytes of files a zip inflates on the calling thread alone. */
  static final long PARALLEL_BYTES = 256 << 10;

  /** The files of the zip {@code zip}; {@code libdeflate} picks the inflater. */
  static Map<String, byte[]> read(byte[] zip, Limits limits, boolean libdeflate) {
    if (zip.length == 0) throw HttpError.bad("not a zip: the body is empty");
    if (zip.length >= 4 && u32(zip, 0) == END) throw HttpError.bad("an empty zip: no files");
    if (zip.length < 4 || u32(zip, 0) != LOCAL) {
      throw HttpError.bad(
          "not a zip: the body starts with "
              + describe(Arrays.copyOf(zip, Math.min(4, zip.length))));
    }
    List<Entry> entries = directory(zip, limits);
    if (entries.isEmpty()) throw HttpError.bad("an empty zip: no files (only folders)");
    // Entries inflate on the common fork-join pool beside this thread once there is enough to
    // share (a study's 1.4 MB took 2.9 ms on one core: most of what the server adds to a
    // prediction); the first bad entry in the zip's order is the one named, as in one pass.
    Object[] out = new Object[entries.size()];
    long total = 0;
    for (Entry e : entries) total += e.size;
    IntStream each = IntStream.range(0, out.length);
    if (out.length > 1 && total >= PARALLEL_BYTES) each = each.parallel();
    each.forEach(
        i -> {
          try {
            out[i] = inflate(zip, entries.get(i), libdeflate);
          } catch (RuntimeException x) {
            out[i] = x;
          }
        });
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (int i = 0; i < out.length; i++) {
      if (out[i] instanceof RuntimeException x) throw x;
      files.put(entries.get(i).name, (byte[]) out[i]);
    }
    return files;
  }

  /** The files' entries, every check but their contents' done. */
  private static List<Entry> directory(byte[] zip, Limits limits) {
    int end = -1;
    for (int i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
      if (u32(zip, i) == END && i + 22 + u16(zip, i + 20) == zip.length) {
        end = i;
        break;
      }
    }
    if (end < 0) {
      throw malformed(null, "no end of central directory record (a truncated zip?)");
    }
    if (u16(zip, end + 4) != 0 || u16(zip, end + 6) != 0) {
      throw HttpError.bad("a split (multi-part) zip: not supported, send it as one zip");
    }
    long count = u16(zip, end + 10);
    long size = u32(zip, end + 12) & 0xffffffffL;
    long offset = u32(zip, end + 16) & 0xffffffffL;
    long limit = end; // the central directory ends before this
    if (count == 0xffff || size == 0xffffffffL || offset == 0xffffffffL) {
      int locator = end - 20;
      if (locator < 0 || u32(zip, locator) != END64_LOCATOR) {
        throw malformed(null, "a Zip64 end of central directory without its locator");
      }
      long at = u64(zip, locator + 8);
      if (at < 0 || at > locator - 56 || u32(zip, (int) at) != END64) {
        throw malformed(null, "a Zip64 end of central directory record out of place");
      }
      count = u64(zip, (int) at + 32);
      size = u64(zip, (int) at + 40);
      offset = u64(zip, (int) at + 48);
      limit = at;
    }
    if (offset < 0 || size < 0 || offset > limit || size > limit - offset) {
      throw malformed(null, "a central directory outside the zip (a truncated zip?)");
    }
    List<Entry> files = new ArrayList<>();
    List<long[]> spans = new ArrayList<>();
    Set<String> names = new HashSet<>();
    long total = 0;
    int p = (int) offset;
    int stop = (int) (offset + size);
    for (long n = 0; n < count; n++) {
      int at = p;
      if (p > stop - 46 || u32(zip, p) != CENTRAL) {
        throw malformed(
            null, "central directory entry " + (n + 1) + " of " + count + " is cut off");
      }
      int flags = u16(zip, p + 8);
      int method = u16(zip, p + 10);
      int crc = u32(zip, p + 16);
      long packed = u32(zip, p + 20) & 0xffffffffL;
      long bytes = u32(zip, p + 24) & 0xffffffffL;
      int nameLength = u16(zip, p + 28);
      int extraLength = u16(zip, p + 30);
      int commentLength = u16(zip, p + 32);
      long header = u32(zip, p + 42) & 0xffffffffL;
      int next = p + 46 + nameLength + extraLength + commentLength;
      if (next > stop || next < 0) {
        throw malformed(
            null, "central directory entry " + (n + 1) + " of " + count + " is cut off");
      }
      String name = utf8(zip, p + 46, nameLength);
      if (n + 1 > limits.entries()) {
        throw HttpError.tooLarge(
            name, "the zip holds more than " + limits.entries() + " entries (at '" + name + "')");
      }
      String why = refusal(name);
      if (why != null) throw HttpError.bad(name, "zip entry '" + printable(name) + "': " + why);
      if (packed == 0xffffffffL || bytes == 0xffffffffL || header == 0xffffffffL) {
        long[] v = zip64(zip, p + 46 + nameLength, extraLength, name, bytes, packed, header);
        bytes = v[0];
        packed = v[1];
        header = v[2];
      }
      p = next;
      if (name.endsWith("/") || name.startsWith("__MACOSX/")) continue;
      if (!names.add(name)) {
        throw HttpError.bad(name, "zip entry '" + name + "': the name is given twice");
      }
      if ((flags & 0x41) != 0) {
        throw HttpError.bad(
            name, "zip entry '" + name + "' is encrypted: send the study unencrypted");
      }
      if (method != 0 && method != 8) {
        throw HttpError.bad(
            name,
            "zip entry '"
                + name
                + "': compression method "
                + method
                + " is not supported (only stored, 0, and deflated, 8)");
      }
      if (bytes > limits.entry()) throw entryTooLarge(name, limits);
      total += bytes;
      if (total > limits.unzipped()) {
        throw HttpError.tooLarge(
            name,
            "the zip inflates to more than "
                + Limits.bytes(limits.unzipped())
                + " (at entry '"
                + name
                + "')");
      }
      if (method == 0 && packed != bytes) {
        throw malformed(name, "a stored entry of " + packed + " bytes that says it holds " + bytes);
      }
      if (header < 0 || header > offset - 30 || u32(zip, (int) header) != LOCAL) {
        throw malformed(name, "its local header is not where the central directory says");
      }
      int h = (int) header;
      int localName = u16(zip, h + 26);
      long data = header + 30 + localName + u16(zip, h + 28);
      if (data > offset) throw malformed(name, "its local header runs into the central directory");
      if (!Arrays.equals(zip, h + 30, h + 30 + localName, zip, at + 46, at + 46 + nameLength)) {
        throw malformed(
            name,
            "its local header names another file, '"
                + printable(new String(zip, h + 30, localName, StandardCharsets.UTF_8))
                + "'");
      }
      files.add(new Entry(name, method, crc, packed, bytes, header, data));
      spans.add(new long[] {header, data + packed});
    }
    if (p != stop) {
      throw malformed(null, "the central directory holds more than its " + count + " entries");
    }
    spans.sort(Comparator.comparingLong(s -> s[0]));
    for (int i = 0; i < spans.size(); i++) {
      long endOf = i + 1 < spans.size() ? spans.get(i + 1)[0] : offset;
      if (spans.get(i)[1] > endOf) {
        throw malformed(null, "entries overlap or run into the central directory (a zip bomb?)");
      }
    }
    return files;
  }

  /** The entry's bytes: exactly its declared size, checked against its CRC-32. */
  private static byte[] inflate(byte[] zip, Entry e, boolean libdeflate) {
    byte[] out = new byte[(int) e.size];
    int from = (int) e.data;
    int length = (int) e.packed;
    if (e.method == 0) {
      System.arraycopy(zip, from, out, 0, out.length);
    } else {
      String why = Inflate.into(zip, from, length, out, libdeflate);
      if (why != null) throw malformed(e.name, "it " + why + " (its declared size)");
    }
    CRC32 crc = new CRC32();
    crc.update(out);
    if ((int) crc.getValue() != e.crc) {
      throw malformed(e.name, "its CRC-32 does not match its contents (a corrupt zip)");
    }
    return out;
  }

  /** {usize, csize, offset} from an entry's Zip64 extra field, for those at 0xffffffff. */
  private static long[] zip64(
      byte[] zip, int from, int length, String name, long usize, long csize, long offset) {
    int end = from + length;
    for (int p = from; p + 4 <= end; ) {
      int id = u16(zip, p);
      int n = u16(zip, p + 2);
      if (p + 4 + n > end) break;
      if (id == 1) {
        long[] v = {usize, csize, offset};
        int q = p + 4;
        for (int i = 0; i < 3; i++) {
          if (v[i] != 0xffffffffL) continue;
          if (q + 8 > p + 4 + n) throw malformed(name, "its Zip64 extra field is cut off");
          v[i] = u64(zip, q);
          if (v[i] < 0) throw malformed(name, "a Zip64 size or offset beyond 2^63");
          q += 8;
        }
        return v;
      }
      p += 4 + n;
    }
    throw malformed(name, "a size or offset of 0xffffffff without a Zip64 extra field");
  }

  private static HttpError entryTooLarge(String name, Limits limits) {
    return HttpError.tooLarge(
        name, "zip entry '" + name + "' inflates to more than " + Limits.bytes(limits.entry()));
  }

  private static HttpError malformed(String name, String why) {
    return HttpError.bad(
        name,
        "a malformed or truncated zip: "
            + (name == null ? "" : "entry '" + printable(name) + "': ")
            + why);
  }

  private static String utf8(byte[] b, int from, int length) {
    try {
      CharBuffer c =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(b, from, length));
      return c.toString();
    } catch (CharacterCodingException e) {
      byte[] head = Arrays.copyOfRange(b, from, from + Math.min(length, 16));
      throw malformed(null, "an entry name that is not UTF-8 (" + describe(head) + ")");
    }
  }

  private static int u16(byte[] b, int i) {
    return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8;
  }

  private static int u32(byte[] b, int i) {
    return u16(b, i) | u16(b, i + 2) << 16;
  }

  private static long u64(byte[] b, int i) {
    return (u32(b, i) & 0xffffffffL) | (long) u32(b, i + 4) << 32;
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
