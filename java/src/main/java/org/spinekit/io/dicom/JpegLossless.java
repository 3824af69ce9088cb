package org.spinekit.io.dicom;

/**
 * Lossless JPEG (ITU T.81 process 14, SOF3, Huffman coded; predictors 1-7, point transform, restart
 * intervals) decoding of one single-component frame of 2 to 16 bits. Every marker, length and table
 * is checked: corrupt data is an exception, never a read outside the buffer or an endless loop
 * (each sample consumes bits, and the bits are bounded by the buffer).
 */
final class JpegLossless {
  private final byte[] b;
  private final int end;
  private int p;
  // Huffman tables (DC class) 0..3: lookahead by 9 bits, then canonical maxcode search.
  private final int[][] look = new int[4][];
  private final int[][] maxcode = new int[4][];
  private final int[][] valptr = new int[4][];
  private final int[][] mincode = new int[4][];
  private final byte[][] values = new byte[4][];
  private int restartInterval;
  // Bit reader.
  private long bits;
  private int nbits;
  private boolean hitMarker;

  private JpegLossless(byte[] b, int from, int len) {
    this.b = b;
    this.p = from;
    this.end = from + len;
  }

  private static IllegalArgumentException bad(String what) {
    return new IllegalArgumentException(what);
  }

  /** Decodes into {@code out} from {@code off}; returns the precision (bits per sample). */
  static int decode(byte[] b, int from, int len, int rows, int cols, short[] out, int off) {
    return new JpegLossless(b, from, len).run(rows, cols, out, off);
  }

  private int u8() {
    if (p >= end) throw bad("JPEG stream ends inside a marker segment");
    return b[p++] & 0xff;
  }

  private int u16() {
    return (u8() << 8) | u8();
  }

  private int run(int rows, int cols, short[] out, int off) {
    if (u8() != 0xFF || u8() != 0xD8) throw bad("JPEG stream does not start with SOI");
    int precision = -1;
    int width = -1;
    int height = -1;
    int componentId = -1;
    while (true) {
      int m = u8();
      if (m != 0xFF) throw bad("JPEG: expected a marker at byte " + (p - 1));
      int marker = u8();
      while (marker == 0xFF) marker = u8(); // fill bytes
      if (marker == 0xD8 || marker >= 0xD0 && marker <= 0xD7 || marker == 0x01) continue;
      if (marker == 0xD9) throw bad("JPEG stream ends (EOI) before any scan");
      int len = u16();
      if (len < 2 || p - 2 + len > end)
        throw bad(
            "JPEG marker 0xFF" + hex(marker) + " segment of " + len + " bytes overruns the stream");
      int segEnd = p - 2 + len;
      switch (marker) {
        case 0xC3 -> {
          precision = u8();
          height = u16();
          width = u16();
          int nf = u8();
          if (nf != 1) throw bad("JPEG lossless with " + nf + " components; one expected");
          componentId = u8();
          u8();
          u8();
        }
        case 0xC0, 0xC1, 0xC2, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF ->
            throw bad("JPEG frame type SOF" + (marker - 0xC0) + " is not lossless process 14");
        case 0xC4 -> {
          while (p < segEnd) readTable(segEnd);
        }
        case 0xDD -> restartInterval = u16();
        case 0xDA -> {
          if (precision < 0) throw bad("JPEG scan before the SOF3 frame header");
          if (precision < 2 || precision > 16) throw bad("JPEG precision " + precision);
          if (width != cols || height != rows) {
            throw bad(
                "JPEG frame is "
                    + width
                    + "x"
                    + height
                    + "; the DICOM header says "
                    + cols
                    + "x"
                    + rows);
          }
          int ns = u8();
          if (ns != 1) throw bad("JPEG scan with " + ns + " components; one expected");
          int cs = u8();
          if (cs != componentId) throw bad("JPEG scan selects component " + cs);
          int table = u8() >> 4;
          int predictor = u8();
          u8();
          int pt = u8() & 0x0f;
          if (table > 3 || look[table] == null) {
            throw bad("JPEG scan uses Huffman table " + table + ", which is not defined");
          }
          if (predictor < 1 || predictor > 7) throw bad("JPEG predictor " + predictor);
          if (pt >= precision) throw bad("JPEG point transform " + pt);
          p = segEnd;
          scan(rows, cols, precision, table, predictor, pt, out, off);
          return precision;
        }
        default -> {}
      }
      p = segEnd;
    }
  }

  private static String hex(int m) {
    return Integer.toHexString(m).toUpperCase(java.util.Locale.ROOT);
  }

  private void readTable(int segEnd) {
    int tc = u8();
    int id = tc & 0x0f;
    if (id > 3) throw bad("JPEG Huffman table id " + id);
    int[] counts = new int[17];
    int total = 0;
    for (int i = 1; i <= 16; i++) {
      counts[i] = u8();
      total += counts[i];
    }
    if (total > 256 || p + total > segEnd)
      throw bad("JPEG Huffman table of " + total + " symbols overruns its segment");
    byte[] vals = new byte[total];
    System.arraycopy(b, p, vals, 0, total);
    p += total;
    if ((tc >> 4) != 0) return; // AC tables are not used by lossless scans
    int[] max = new int[18];
    int[] min = new int[17];
    int[] ptr = new int[17];
    int[] lk = new int[1 << 9];
    java.util.Arrays.fill(lk, -1);
    int code = 0;
    int k = 0;
    for (int l = 1; l <= 16; l++) {
      ptr[l] = k;
      min[l] = code;
      for (int i = 0; i < counts[l]; i++) {
        if (l <= 9) {
          int shift = 9 - l;
          for (int f = 0; f < (1 << shift); f++) {
            lk[(code << shift) | f] = (l << 8) | (vals[k] & 0xff);
          }
        }
        code++;
        k++;
      }
      max[l] = counts[l] == 0 ? -1 : code - 1;
      if (code > (1 << l)) throw bad("JPEG Huffman table " + id + " is over-subscribed");
      code <<= 1;
    }
    max[17] = Integer.MAX_VALUE;
    look[id] = lk;
    maxcode[id] = max;
    mincode[id] = min;
    valptr[id] = ptr;
    values[id] = vals;
  }

  /** Tops the bit buffer up to at least 25 bits (zeros past a marker or the end). */
  private void fill() {
    while (nbits <= 56) {
      int v = 0;
      if (!hitMarker && p < end) {
        v = b[p] & 0xff;
        if (v == 0xFF) {
          int next = p + 1 < end ? b[p + 1] & 0xff : -1;
          if (next == 0x00) {
            p += 2;
          } else {
            hitMarker = true;
            v = 0;
          }
        } else {
          p++;
        }
      } else {
        if (nbits >= 25) return;
        overrun += 8;
        if (overrun > 1 << 16)
          throw bad("JPEG scan data ends early (no more entropy-coded" + " data)");
      }
      bits |= (long) v << (56 - nbits);
      nbits += 8;
    }
  }

  private int overrun;

  private int getBits(int n) {
    if (n == 0) return 0;
    if (nbits < n) fill();
    int v = (int) (bits >>> (64 - n));
    bits <<= n;
    nbits -= n;
    return v;
  }

  private int decodeSymbol(int t) {
    if (nbits < 16) fill();
    int peek = (int) (bits >>> (64 - 9));
    int e = look[t][peek];
    if (e >= 0) {
      int l = e >>> 8;
      bits <<= l;
      nbits -= l;
      return e & 0xff;
    }
    int[] max = maxcode[t];
    int code = 0;
    for (int l = 1; l <= 16; l++) {
      code = (code << 1) | (int) (bits >>> 63);
      bits <<= 1;
      nbits--;
      if (code <= max[l] && max[l] >= 0) {
        int idx = valptr[t][l] + code - mincode[t][l];
        if (idx >= values[t].length) break;
        return values[t][idx] & 0xff;
      }
    }
    throw bad("JPEG scan holds an invalid Huffman code");
  }

  private void restart() {
    // Discard the remaining bits of the byte and expect RSTn.
    bits = 0;
    nbits = 0;
    overrun = 0;
    if (hitMarker && p + 1 < end && (b[p + 1] & 0xff) >= 0xD0 && (b[p + 1] & 0xff) <= 0xD7) {
      p += 2;
      hitMarker = false;
      return;
    }
    throw bad("JPEG restart marker missing at byte " + p);
  }

  private void scan(
      int rows, int cols, int precision, int t, int predictor, int pt, short[] out, int off) {
    int mask = 0xffff; // prediction and reconstruction are modulo 2^16 (T.81 H.2.1)
    int initial = 1 << (precision - pt - 1);
    int[] prev = new int[cols];
    int[] cur = new int[cols];
    int restartLeft = restartInterval;
    boolean firstLineOfInterval = true;
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        if (restartInterval > 0) {
          if (restartLeft == 0) {
            restart();
            restartLeft = restartInterval;
            firstLineOfInterval = true;
          }
          restartLeft--;
        }
        int s = decodeSymbol(t);
        int diff;
        if (s == 0) {
          diff = 0;
        } else if (s == 16) {
          diff = 32768;
        } else if (s > 16) {
          throw bad("JPEG difference category " + s);
        } else {
          int v = getBits(s);
          diff = v < (1 << (s - 1)) ? v - (1 << s) + 1 : v;
        }
        int pred;
        boolean startOfInterval = restartInterval > 0 && restartLeft == restartInterval - 1;
        if (r == 0 && c == 0 || startOfInterval) {
          pred = initial;
        } else if (r == 0 || firstLineOfInterval && !(c == 0)) {
          pred = cur[c - 1];
        } else if (c == 0) {
          pred = prev[0];
        } else {
          int ra = cur[c - 1];
          int rb = prev[c];
          int rc = prev[c - 1];
          pred =
              switch (predictor) {
                case 1 -> ra;
                case 2 -> rb;
                case 3 -> rc;
                case 4 -> ra + rb - rc;
                case 5 -> ra + ((rb - rc) >> 1);
                case 6 -> rb + ((ra - rc) >> 1);
                default -> (ra + rb) >> 1;
              };
        }
        int v = (pred + diff) & mask;
        cur[c] = v;
        out[off + r * cols + c] = (short) (v << pt);
      }
      firstLineOfInterval = false;
      int[] tmp = prev;
      prev = cur;
      cur = tmp;
    }
  }
}
