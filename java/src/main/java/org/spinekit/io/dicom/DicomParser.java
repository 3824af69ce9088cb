package org.spinekit.io.dicom;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.spinekit.io.MalformedFileException;

/**
 * Parses the element structure of a DICOM Part 10 file held in memory, checking every length
 * against the bytes that are there, so a truncated or malformed file is reported with the tag and
 * byte offset where it goes wrong. Time is linear in the file size and nesting is bounded. Values
 * are not decoded here (see {@link DicomDataset}).
 */
final class DicomParser {
  /** A parsed file: meta group, data set, transfer syntax and what was odd but readable. */
  record Parsed(
      DicomDataset meta, DicomDataset data, TransferSyntax syntax, List<String> warnings) {}

  /** Thrown in header-only mode when the bytes read so far end before the pixel data. */
  static final class NeedMore extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NeedMore() {
      super(null, null, false, false);
    }
  }

  private static final int MAX_DEPTH = 16;

  /** Deflated data sets larger than this are refused (a guard against deflate bombs). */
  private static final long MAX_INFLATED = 1L << 30;

  private final Path file;
  private final boolean prefix;
  private final boolean headerOnly;
  private final List<String> warnings = new ArrayList<>();
  private byte[] buf;
  private int pos;
  private boolean explicit;
  private boolean big;
  private boolean reachedPixels;

  private DicomParser(Path file, byte[] buf, boolean prefix, boolean headerOnly) {
    this.file = file;
    this.buf = buf;
    this.prefix = prefix;
    this.headerOnly = headerOnly;
  }

  /**
   * Parses {@code bytes}, the whole file ({@code prefix} false) or its first bytes ({@code prefix}
   * true, header-only: throws {@link NeedMore} when they end before the pixel data).
   */
  static Parsed parse(Path file, byte[] bytes, boolean prefix, boolean headerOnly)
      throws MalformedFileException {
    return new DicomParser(file, bytes, prefix, headerOnly).run();
  }

  private MalformedFileException bad(String what) {
    return new MalformedFileException(file, what);
  }

  private Parsed run() throws MalformedFileException {
    int start;
    if (buf.length >= 132
        && buf[128] == 'D'
        && buf[129] == 'I'
        && buf[130] == 'C'
        && buf[131] == 'M') {
      start = 132;
    } else if (buf.length >= 8
        && (buf[0] == 0x02 || buf[0] == 0x08)
        && buf[1] == 0
        && buf[2] >= 0
        && buf[3] == 0) {
      start = 0;
      warnings.add("no 128-byte preamble and DICM prefix; read as a bare data set");
    } else {
      if (prefix && buf.length < 132) throw new NeedMore();
      throw new NotDicomException(
          file,
          "not a DICOM file (no 'DICM' at byte 128"
              + (buf.length < 132 ? ", file is only " + buf.length + " bytes" : "")
              + ")");
    }
    pos = start;
    DicomDataset meta = new DicomDataset(buf, false);
    explicit = true;
    big = false;
    // File meta information: explicit VR little endian, group 0002.
    while (pos + 8 <= buf.length && u16le(pos) == 0x0002) {
      readElement(meta, buf.length, 0);
    }
    if (pos + 8 > buf.length && prefix) throw new NeedMore();
    String tsUid = meta.string(DicomTag.TRANSFER_SYNTAX_UID);
    TransferSyntax ts;
    if (tsUid == null) {
      ts = guessSyntax();
      warnings.add(
          "no Transfer Syntax UID in the file meta information; read as " + ts.description);
    } else {
      ts = TransferSyntax.of(tsUid);
      if (ts == null) {
        throw bad("unsupported transfer syntax " + tsUid);
      }
    }
    if (ts == TransferSyntax.DEFLATED) {
      if (prefix) throw new NeedMore();
      buf = inflate(buf, pos);
      pos = 0;
    }
    explicit = ts.explicitVr;
    big = ts.bigEndian();
    if (explicit && pos + 6 <= buf.length && !isVr(buf[pos + 4], buf[pos + 5])) {
      warnings.add(
          "transfer syntax says explicit VR but the data set is implicit VR; read as"
              + " implicit");
      explicit = false;
    }
    DicomDataset data = new DicomDataset(buf, big);
    readDataset(data, buf.length, 0, false);
    if (prefix && !reachedPixels) throw new NeedMore();
    return new Parsed(meta, data, ts, List.copyOf(warnings));
  }

  private TransferSyntax guessSyntax() {
    if (pos + 6 <= buf.length && isVr(buf[pos + 4], buf[pos + 5])) {
      return TransferSyntax.EXPLICIT_LITTLE;
    }
    return TransferSyntax.IMPLICIT_LITTLE;
  }

  private byte[] inflate(byte[] in, int from) throws MalformedFileException {
    Inflater inf = new Inflater(true);
    try {
      inf.setInput(in, from, in.length - from);
      byte[] out = new byte[Math.max(1024, (in.length - from) * 4)];
      int n = 0;
      while (!inf.finished()) {
        if (n == out.length) {
          if (out.length >= MAX_INFLATED) {
            throw bad("deflated data set inflates to more than " + MAX_INFLATED + " bytes");
          }
          out = java.util.Arrays.copyOf(out, (int) Math.min(MAX_INFLATED, out.length * 2L));
        }
        int k = inf.inflate(out, n, out.length - n);
        if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
          throw bad("deflated data set is truncated (the deflate stream ends early)");
        }
        n += k;
      }
      return java.util.Arrays.copyOf(out, n);
    } catch (DataFormatException e) {
      throw bad("deflated data set is corrupt: " + e.getMessage());
    } finally {
      inf.end();
    }
  }

  /** Every two-capital-letter VR as one shared string: none allocated per element. */
  private static final String[] VR_NAMES = new String[26 * 26];

  static {
    for (int i = 0; i < VR_NAMES.length; i++) {
      VR_NAMES[i] = new String(new char[] {(char) ('A' + i / 26), (char) ('A' + i % 26)}).intern();
    }
  }

  private static boolean isVr(byte a, byte b) {
    return a >= 'A' && a <= 'Z' && b >= 'A' && b <= 'Z';
  }

  private static boolean longVr(String vr) {
    switch (vr) {
      case "OB":
      case "OD":
      case "OF":
      case "OL":
      case "OV":
      case "OW":
      case "SQ":
      case "SV":
      case "UC":
      case "UN":
      case "UR":
      case "UT":
      case "UV":
        return true;
      default:
        return false;
    }
  }

  private int u16le(int off) {
    return (buf[off] & 0xff) | ((buf[off + 1] & 0xff) << 8);
  }

  private int u16(int off) {
    return big ? ((buf[off] & 0xff) << 8) | (buf[off + 1] & 0xff) : u16le(off);
  }

  private long u32(int off) {
    long v =
        big
            ? ((buf[off] & 0xffL) << 24)
                | ((buf[off + 1] & 0xffL) << 16)
                | ((buf[off + 2] & 0xffL) << 8)
                | (buf[off + 3] & 0xffL)
            : (buf[off] & 0xffL)
                | ((buf[off + 1] & 0xffL) << 8)
                | ((buf[off + 2] & 0xffL) << 16)
                | ((buf[off + 3] & 0xffL) << 24);
    return v;
  }

  private int tagAt(int off) {
    return (u16(off) << 16) | u16(off + 2);
  }

  /**
   * {@link #need(int, int, String)} for the header of element {@code tag}, its message built only
   * when it is thrown (formatting the tag of every element cost more than parsing it).
   */
  private void needHeader(int bytes, int limit, int tag) throws MalformedFileException {
    if (pos + (long) bytes > limit)
      need(bytes, limit, "element " + DicomTag.format(tag) + " header");
  }

  private void need(int bytes, int limit, String what) throws MalformedFileException {
    if (pos + (long) bytes > limit) {
      if (prefix && limit == buf.length) throw new NeedMore();
      throw bad(
          "truncated: "
              + what
              + " at byte "
              + pos
              + " needs "
              + bytes
              + " bytes, "
              + Math.max(0, limit - pos)
              + " remain"
              + (limit == buf.length ? " in the file" : " in" + " its enclosing item"));
    }
  }

  /** Reads elements up to {@code limit}, or to an item delimiter when {@code inItem}. */
  private void readDataset(DicomDataset ds, int limit, int depth, boolean inItem)
      throws MalformedFileException {
    while (pos < limit) {
      if (depth == 0 && ds.has(DicomTag.PIXEL_DATA)) {
        readTrailer(ds, limit);
        return;
      }
      need(8, limit, "element header");
      int tag = tagAt(pos);
      if (tag == DicomTag.ITEM_DELIMITATION) {
        if (!inItem) throw bad("item delimitation tag outside an item at byte " + pos);
        pos += 8;
        return;
      }
      if (depth == 0 && (tag >>> 16) == 0xFFFC) {
        return; // data set trailing padding
      }
      readElement(ds, limit, depth);
      if (reachedPixels && headerOnly) return;
    }
    if (inItem && limit == buf.length) {
      throw bad(
          "truncated: item of undefined length has no item delimitation before the end"
              + " of the file");
    }
  }

  /**
   * Elements after the pixel data are read if well formed; otherwise they are junk, ignored with a
   * warning (the pixel data itself is complete).
   */
  private void readTrailer(DicomDataset ds, int limit) {
    int junkStart = pos;
    try {
      while (pos < limit) {
        if (pos + 8 > limit) throw bad("trailing bytes");
        int tag = tagAt(pos);
        if ((tag >>> 16) == 0xFFFC) return;
        if (Integer.compareUnsigned(tag, DicomTag.PIXEL_DATA) <= 0) throw bad("out of order");
        readElement(ds, limit, 0);
      }
    } catch (MalformedFileException | RuntimeException e) {
      warnings.add(
          (limit - junkStart)
              + " bytes after the pixel data that are not DICOM"
              + " elements were ignored");
      pos = limit;
    }
  }

  private void readElement(DicomDataset ds, int limit, int depth) throws MalformedFileException {
    int at = pos;
    int tag = tagAt(pos);
    String vr;
    long len;
    boolean isItemTag = (tag >>> 16) == 0xFFFE;
    if (explicit && !isItemTag) {
      needHeader(8, limit, tag);
      if (!isVr(buf[pos + 4], buf[pos + 5])) {
        throw bad(
            "element "
                + DicomTag.format(tag)
                + " at byte "
                + pos
                + " has no valid VR"
                + String.format(" (bytes %02X %02X)", buf[pos + 4], buf[pos + 5]));
      }
      vr = VR_NAMES[(buf[pos + 4] - 'A') * 26 + (buf[pos + 5] - 'A')];
      if (longVr(vr)) {
        needHeader(12, limit, tag);
        len = u32(pos + 8);
        pos += 12;
      } else {
        len = u16(pos + 6);
        pos += 8;
      }
    } else {
      vr = DicomTag.implicitVr(tag);
      len = u32(pos + 4);
      pos += 8;
    }
    boolean undefined = len == 0xFFFFFFFFL;
    if (tag == DicomTag.PIXEL_DATA) {
      reachedPixels = true;
      if (undefined) {
        List<int[]> frags = readFragments(limit);
        ds.put(new DicomDataset.Element(tag, vr, at, -1, null, frags));
      } else {
        if (headerOnly) {
          ds.put(
              new DicomDataset.Element(
                  tag, vr, pos, (int) Math.min(len, Integer.MAX_VALUE), null, null));
          return;
        }
        checkValue(tag, at, len, limit);
        ds.put(new DicomDataset.Element(tag, vr, pos, (int) len, null, null));
        pos += (int) len;
      }
      return;
    }
    if (undefined) {
      if (!vr.equals("SQ") && !vr.equals("UN") && explicit) {
        throw bad(
            "element "
                + DicomTag.format(tag)
                + " (VR "
                + vr
                + ") at byte "
                + at
                + " has undefined length, allowed only for sequences");
      }
      if (depth >= MAX_DEPTH) throw bad("sequences nested deeper than " + MAX_DEPTH);
      boolean saved = explicit;
      if (vr.equals("UN")) explicit = false; // UN of undefined length holds implicit LE items
      List<DicomDataset> items = readItems(-1, limit, depth + 1);
      explicit = saved;
      ds.put(new DicomDataset.Element(tag, "SQ", at, -1, items, null));
      return;
    }
    checkValue(tag, at, len, limit);
    int vlen = (int) len;
    if (vr.equals("SQ")) {
      if (depth >= MAX_DEPTH) throw bad("sequences nested deeper than " + MAX_DEPTH);
      int end = pos + vlen;
      List<DicomDataset> items = readItems(end, end, depth + 1);
      pos = end;
      ds.put(new DicomDataset.Element(tag, vr, at, vlen, items, null));
    } else {
      ds.put(new DicomDataset.Element(tag, vr, pos, vlen, null, null));
      pos += vlen;
    }
  }

  private void checkValue(int tag, int at, long len, int limit) throws MalformedFileException {
    if (pos + len > limit) {
      if (prefix && limit == buf.length) throw new NeedMore();
      throw bad(
          "truncated: element "
              + DicomTag.format(tag)
              + " at byte "
              + at
              + " declares "
              + len
              + " bytes but "
              + Math.max(0, limit - pos)
              + " remain"
              + (limit == buf.length ? " in the file" : " in its enclosing item"));
    }
  }

  /**
   * Items of a sequence: up to {@code end} when defined ({@code end >= 0}), else to the sequence
   * delimitation.
   */
  private List<DicomDataset> readItems(int end, int limit, int depth)
      throws MalformedFileException {
    List<DicomDataset> items = DicomDataset.newItems();
    while (end < 0 || pos < end) {
      need(8, limit, "sequence item header");
      int tag = tagAt(pos);
      long len = u32(pos + 4);
      if (tag == DicomTag.SEQUENCE_DELIMITATION) {
        pos += 8;
        if (end < 0) return items;
        continue;
      }
      if (tag != DicomTag.ITEM) {
        throw bad(
            "expected a sequence item at byte " + pos + ", found tag " + DicomTag.format(tag));
      }
      pos += 8;
      DicomDataset item = new DicomDataset(buf, big);
      if (len == 0xFFFFFFFFL) {
        readDataset(item, limit, depth, true);
      } else {
        checkValue(DicomTag.ITEM, pos - 8, len, limit);
        int itemEnd = pos + (int) len;
        readDataset(item, itemEnd, depth, false);
        pos = itemEnd;
      }
      items.add(item);
    }
    return items;
  }

  private List<int[]> readFragments(int limit) throws MalformedFileException {
    List<int[]> frags = new ArrayList<>();
    boolean first = true;
    while (true) {
      if (pos + 8 > limit) {
        if (prefix) throw new NeedMore();
        throw bad(
            "truncated: encapsulated pixel data (7FE0,0010) ends at byte "
                + pos
                + " without a sequence delimitation ("
                + frags.size()
                + " fragments read)");
      }
      int tag = tagAt(pos);
      long len = u32(pos + 4);
      if (tag == DicomTag.SEQUENCE_DELIMITATION) {
        pos += 8;
        break;
      }
      if (tag != DicomTag.ITEM) {
        throw bad(
            "encapsulated pixel data: expected a fragment item at byte "
                + pos
                + ", found tag "
                + DicomTag.format(tag));
      }
      pos += 8;
      if (len == 0xFFFFFFFFL)
        throw bad(
            "encapsulated pixel data: fragment of undefined length" + " at byte " + (pos - 8));
      if (pos + len > limit) {
        if (prefix) throw new NeedMore();
        throw bad(
            "truncated: pixel data fragment "
                + frags.size()
                + " at byte "
                + (pos - 8)
                + " declares "
                + len
                + " bytes but "
                + Math.max(0, limit - pos)
                + " remain in the"
                + " file");
      }
      if (!first) frags.add(new int[] {pos, (int) len});
      first = false;
      pos += (int) len;
    }
    if (frags.isEmpty()) throw bad("encapsulated pixel data has no fragments");
    return frags;
  }
}
