package org.spinekit.serve;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A {@code multipart/form-data} body (RFC 7578) read as it streams in, for the one file part of an
 * upload: {@link #file} skips the fields before it and returns the file's bytes as a stream that
 * ends at the part's boundary; {@link #finish} reads the rest and refuses a second file. Nothing is
 * buffered beyond a chunk, so a part is as large as the body's limit allows and no larger.
 */
final class Multipart {
  private static final int CHUNK = 64 * 1024;

  /** Most bytes of one part's headers. */
  private static final int MAX_HEADERS = 16 * 1024;

  private final InputStream in;
  private final byte[] delimiter;
  private final byte[] buf;
  private int pos;
  private int lim;
  private boolean eof;

  /** Where the delimiter starts in buf[pos, lim), or -1; valid until the next fill. */
  private int found = -1;

  /** No delimiter starts in buf[0, clean) at or after pos: the search goes on from there. */
  private int clean;

  private boolean inPart;
  private boolean done;
  private String fileName;

  private Multipart(InputStream in, String boundary) {
    this.in = in;
    this.delimiter = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    this.buf = new byte[CHUNK + delimiter.length];
    // The first boundary need not follow a line break: read as if one came first.
    buf[0] = '\r';
    buf[1] = '\n';
    lim = 2;
  }

  /**
   * A reader of {@code in} whose {@code Content-Type} is {@code contentType}.
   *
   * @throws HttpError 400 when the content type has no usable boundary
   */
  static Multipart of(InputStream in, String contentType) {
    String b = parameter(contentType, "boundary");
    if (b == null || b.isEmpty() || b.length() > 70) {
      throw HttpError.bad(
          "multipart/form-data: expected a boundary of 1 to 70 characters in the Content-Type,"
              + " got '"
              + contentType
              + "'");
    }
    return new Multipart(in, b);
  }

  /** Whether {@code contentType} is multipart/form-data. */
  static boolean is(String contentType) {
    return contentType != null
        && contentType.strip().toLowerCase(Locale.ROOT).startsWith("multipart/form-data");
  }

  /**
   * The first file part's content (the fields before it are skipped).
   *
   * @throws HttpError 400 when the body has no file part or is malformed
   */
  InputStream file() throws IOException {
    while (nextPart()) {
      if (fileName != null) return new PartStream();
      drainPart();
    }
    throw HttpError.bad("multipart/form-data: no file part (expected the study's zip as a file)");
  }

  /** The file name the file part gave. */
  String fileName() {
    return fileName;
  }

  /**
   * Reads the rest of the body: the end of the file part, then the other parts.
   *
   * @throws HttpError 400 for a second file part or a malformed body
   */
  void finish() throws IOException {
    String first = fileName;
    drainPart();
    while (nextPart()) {
      if (fileName != null) {
        throw HttpError.bad(
            fileName,
            "multipart/form-data: expected one file part, got a second: '"
                + fileName
                + "' after '"
                + first
                + "'");
      }
      drainPart();
    }
  }

  /** Moves to the next part and reads its headers; false after the closing boundary. */
  private boolean nextPart() throws IOException {
    if (done) return false;
    if (inPart) drainPart();
    if (!skipToDelimiter()) {
      throw HttpError.bad("multipart/form-data: no boundary found (is the body multipart?)");
    }
    // After a delimiter: "--" ends the body; else optional blanks, then a line break.
    if (!ensure(2)) throw truncated();
    if (buf[pos] == '-' && buf[pos + 1] == '-') {
      done = true;
      return false;
    }
    while (true) {
      if (!ensure(1)) throw truncated();
      byte c = buf[pos];
      if (c == ' ' || c == '\t') {
        pos++;
        continue;
      }
      break;
    }
    if (!ensure(2) || buf[pos] != '\r' || buf[pos + 1] != '\n') {
      throw HttpError.bad("multipart/form-data: a boundary line not ended by CRLF");
    }
    pos += 2;
    fileName = null;
    String disposition = null;
    int read = 0;
    while (true) {
      String line = line();
      read += line.length() + 2;
      if (read > MAX_HEADERS) {
        throw HttpError.bad(
            "multipart/form-data: a part's headers exceed " + MAX_HEADERS + " bytes");
      }
      if (line.isEmpty()) break;
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase("Content-Disposition")) {
        disposition = line.substring(colon + 1);
      }
    }
    if (disposition != null) fileName = parameter(disposition, "filename");
    inPart = true;
    found = -1;
    return true;
  }

  /** One header line (ISO-8859-1), CRLF removed. */
  private String line() throws IOException {
    StringBuilder b = new StringBuilder();
    while (true) {
      if (!ensure(2)) throw truncated();
      if (buf[pos] == '\r' && buf[pos + 1] == '\n') {
        pos += 2;
        return b.toString();
      }
      b.append((char) (buf[pos++] & 0xff));
      if (b.length() > MAX_HEADERS) {
        throw HttpError.bad("multipart/form-data: a header line exceeds " + MAX_HEADERS + " bytes");
      }
    }
  }

  /** Discards bytes up to and including the next delimiter; false at the end of the input. */
  private boolean skipToDelimiter() throws IOException {
    while (true) {
      int i = indexOfDelimiter();
      if (i >= 0) {
        pos = i + delimiter.length;
        found = -1;
        return true;
      }
      // Keep what could be the start of a delimiter.
      pos = Math.max(pos, lim - (delimiter.length - 1));
      if (!fill()) return false;
    }
  }

  private void drainPart() throws IOException {
    if (!inPart) return;
    byte[] skip = new byte[CHUNK];
    PartStream s = new PartStream();
    while (s.read(skip, 0, skip.length) >= 0) {
      // discard
    }
  }

  /** Where the delimiter starts in buf[pos, lim), or -1 (cached until the next fill). */
  private int indexOfDelimiter() {
    if (found >= pos) return found;
    int from = Math.max(pos, clean);
    byte first = delimiter[0];
    outer:
    for (int i = from; i + delimiter.length <= lim; i++) {
      if (buf[i] != first) continue;
      for (int j = 1; j < delimiter.length; j++) {
        if (buf[i + j] != delimiter[j]) continue outer;
      }
      found = i;
      return i;
    }
    clean = Math.max(from, lim - delimiter.length + 1);
    found = -1;
    return -1;
  }

  /** At least {@code n} bytes from pos, reading more as needed; false when the input ends first. */
  private boolean ensure(int n) throws IOException {
    while (lim - pos < n) {
      if (!fill()) return false;
    }
    return true;
  }

  /** Moves the unread bytes to the start and reads more; false at the end of the input. */
  private boolean fill() throws IOException {
    if (eof) return false;
    if (pos > 0) {
      System.arraycopy(buf, pos, buf, 0, lim - pos);
      lim -= pos;
      if (found >= 0) found -= pos;
      clean = Math.max(0, clean - pos);
      pos = 0;
    }
    int n = in.read(buf, lim, buf.length - lim);
    if (n < 0) {
      eof = true;
      return false;
    }
    lim += n;
    return true;
  }

  private static HttpError truncated() {
    return HttpError.bad("multipart/form-data: the body ends before its closing boundary");
  }

  /** The current part's content, up to its delimiter. */
  private final class PartStream extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (!inPart) return -1;
      if (len == 0) return 0;
      while (true) {
        int i = indexOfDelimiter();
        if (i == pos) {
          // The part ends here; the delimiter is left for nextPart.
          inPart = false;
          return -1;
        }
        int end = i >= 0 ? i : lim - (delimiter.length - 1);
        if (end > pos) {
          int n = Math.min(len, end - pos);
          System.arraycopy(buf, pos, b, off, n);
          pos += n;
          return n;
        }
        if (!fill()) throw truncated();
      }
    }
  }

  /** A parameter of a header value ({@code name=value} or {@code name="value"}), or null. */
  static String parameter(String header, String name) {
    if (header == null) return null;
    int i = 0;
    int n = header.length();
    while (i < n) {
      // Skip to the next ';' outside quotes.
      boolean quoted = false;
      while (i < n && (quoted || header.charAt(i) != ';')) {
        if (header.charAt(i) == '"') quoted = !quoted;
        i++;
      }
      i++;
      int eq = header.indexOf('=', i);
      if (eq < 0) return null;
      String key = header.substring(i, eq).strip();
      int v = eq + 1;
      while (v < n && header.charAt(v) == ' ') v++;
      String value;
      int end;
      if (v < n && header.charAt(v) == '"') {
        StringBuilder b = new StringBuilder();
        end = v + 1;
        while (end < n && header.charAt(end) != '"') {
          if (header.charAt(end) == '\\' && end + 1 < n) end++;
          b.append(header.charAt(end++));
        }
        value = b.toString();
        end++;
      } else {
        end = v;
        while (end < n && header.charAt(end) != ';') end++;
        value = header.substring(v, end).strip();
      }
      if (key.equalsIgnoreCase(name)) return value;
      i = end;
    }
    return null;
  }
}
