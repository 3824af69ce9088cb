package org.spinekit.io.kaggle;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;
import org.spinekit.io.AtomicFiles;

/**
 * The CSV dialect of the Kaggle files: RFC 4180 quoting (quoted fields may hold commas, doubled
 * quotes and line breaks), UTF-8 with or without a byte-order mark, CRLF or LF line ends, blank
 * lines skipped. The first line is the header; columns are found by name, in any order, and columns
 * nobody asks for are ignored. Every fault names the file, the line and the column.
 *
 * <p>Public so that the CSV files of other packages (the lumbar points file) are read and written
 * in the same dialect, with the same messages.
 */
public final class Csv {
  private Csv() {}

  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?");
  private static final Pattern DIGITS = Pattern.compile("\\d+");

  /** Reads and parses {@code file}. */
  public static Table read(Path file) throws IOException {
    return parse(file, decode(file, Files.readAllBytes(file)));
  }

  /** Strict UTF-8; a leading byte-order mark is left for {@link #parse} to drop. */
  static String decode(Path file, byte[] bytes) throws CsvFormatException {
    CharsetDecoder decoder =
        UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult r = decoder.decode(in, out, true);
    if (!r.isError()) r = decoder.flush(out);
    if (r.isError()) {
      int at = in.position();
      int line = 1;
      for (int i = 0; i < at; i++) {
        if (bytes[i] == '\n') line++;
      }
      throw new CsvFormatException(
          file, line, null, "not UTF-8 text (bad byte at offset " + at + ")");
    }
    out.flip();
    return out.toString();
  }

  /** Splits {@code text} (the content of {@code file}) into the header and the rows. */
  static Table parse(Path file, String text) throws CsvFormatException {
    int n = text.length();
    int i = n > 0 && text.charAt(0) == '\uFEFF' ? 1 : 0;
    int line = 1;
    String[] header = null;
    int headerLine = 0;
    List<Row> rows = new ArrayList<>();
    List<String> fields = new ArrayList<>();
    StringBuilder f = new StringBuilder();
    while (i < n) {
      char first = text.charAt(i);
      if (first == '\n' || first == '\r') { // a blank line
        i += first == '\r' && i + 1 < n && text.charAt(i + 1) == '\n' ? 2 : 1;
        line++;
        continue;
      }
      int recordLine = line;
      fields.clear();
      while (true) {
        f.setLength(0);
        int field = fields.size();
        if (i < n && text.charAt(i) == '"') {
          int openLine = line;
          i++;
          while (true) {
            if (i >= n) {
              throw fieldError(
                  file,
                  openLine,
                  header,
                  field,
                  "quoted field has no closing quote before the end of the file");
            }
            char c = text.charAt(i);
            if (c == '"') {
              if (i + 1 < n && text.charAt(i + 1) == '"') {
                f.append('"');
                i += 2;
                continue;
              }
              i++;
              break;
            }
            if (c == '\n' || (c == '\r' && !(i + 1 < n && text.charAt(i + 1) == '\n'))) line++;
            f.append(c);
            i++;
          }
          if (i < n) {
            char c = text.charAt(i);
            if (c != ',' && c != '\n' && c != '\r') {
              throw fieldError(
                  file,
                  line,
                  header,
                  field,
                  "unexpected '" + c + "' after the closing quote of a quoted field");
            }
          }
        } else {
          while (i < n) {
            char c = text.charAt(i);
            if (c == ',' || c == '\n' || c == '\r') break;
            if (c == '"') {
              throw fieldError(
                  file,
                  line,
                  header,
                  field,
                  "quote inside an unquoted field (quote the whole field and double the quote)");
            }
            f.append(c);
            i++;
          }
        }
        fields.add(f.toString());
        if (i >= n) break;
        char c = text.charAt(i);
        if (c == ',') {
          i++;
          continue;
        }
        i += c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n' ? 2 : 1;
        line++;
        break;
      }
      String[] record = fields.toArray(new String[0]);
      if (header == null) {
        header = record;
        headerLine = recordLine;
      } else {
        if (record.length != header.length) {
          throw new CsvFormatException(
              file,
              recordLine,
              null,
              record.length + " fields where the header has " + header.length);
        }
        rows.add(new Row(file, recordLine, header, record));
      }
    }
    if (header == null) throw new CsvFormatException(file, "empty file, expected a header line");
    return new Table(file, headerLine, header, rows);
  }

  private static CsvFormatException fieldError(
      Path file, int line, String[] header, int field, String what) {
    if (header != null && field < header.length) {
      return new CsvFormatException(file, line, header[field], what);
    }
    return new CsvFormatException(file, line, null, "field " + (field + 1) + ": " + what);
  }

  /** The header and rows of one file. */
  public static final class Table {
    final Path file;
    final int headerLine;
    final List<String> header;
    final List<Row> rows;

    Table(Path file, int headerLine, String[] header, List<Row> rows) {
      this.file = file;
      this.headerLine = headerLine;
      this.header = List.of(header);
      this.rows = Collections.unmodifiableList(rows);
    }

    /** The data lines, in file order. */
    public List<Row> rows() {
      return rows;
    }

    /** The column named {@code name}; an error if the header lacks it or has it twice. */
    public Column column(String name) throws CsvFormatException {
      int at = header.indexOf(name);
      if (at < 0) {
        throw new CsvFormatException(
            file, "missing column '" + name + "' (header has: " + String.join(", ", header) + ")");
      }
      if (header.lastIndexOf(name) != at) {
        throw new CsvFormatException(file, headerLine, name, "appears twice in the header");
      }
      return new Column(name, at);
    }

    public boolean has(String name) {
      return header.contains(name);
    }
  }

  /** A column of a {@link Table}, found by name. */
  public record Column(String name, int index) {}

  /** One data line, with typed accessors that fail naming file, line and column. */
  public static final class Row {
    final Path file;
    final int line;
    private final String[] header;
    private final String[] fields;

    Row(Path file, int line, String[] header, String[] fields) {
      this.file = file;
      this.line = line;
      this.header = header;
      this.fields = fields;
    }

    /** The 1-based line of the file this row starts on. */
    public int line() {
      return line;
    }

    /** The raw text of {@code c}, possibly empty. */
    public String get(Column c) {
      return fields[c.index()];
    }

    /** An error about the value in column {@code c}; {@code what} says what is wrong. */
    public CsvFormatException error(Column c, String what) {
      return CsvFormatException.value(file, line, c.name(), what, get(c));
    }

    public String nonEmpty(Column c) throws CsvFormatException {
      String s = get(c);
      if (s.isEmpty()) throw error(c, "empty value");
      return s;
    }

    /** A non-negative integer id (digits only) that fits a long. */
    public long id(Column c) throws CsvFormatException {
      String s = nonEmpty(c);
      if (!DIGITS.matcher(s).matches()) throw error(c, "not a non-negative integer id");
      try {
        return Long.parseLong(s);
      } catch (NumberFormatException e) {
        throw error(c, "integer id out of range");
      }
    }

    /** A non-negative integer (digits only) that fits an int. */
    public int count(Column c) throws CsvFormatException {
      String s = nonEmpty(c);
      if (!DIGITS.matcher(s).matches()) throw error(c, "not a non-negative integer");
      try {
        return Integer.parseInt(s);
      } catch (NumberFormatException e) {
        throw error(c, "integer out of range");
      }
    }

    /** A finite decimal number ("322.83", "-1", "1e-05"). */
    public double real(Column c) throws CsvFormatException {
      String s = nonEmpty(c);
      if (!DECIMAL.matcher(s).matches()) throw error(c, "not a decimal number");
      double v = Double.parseDouble(s);
      if (!Double.isFinite(v)) throw error(c, "number out of range");
      return v;
    }

    /** 0 or 1. */
    public boolean bit(Column c) throws CsvFormatException {
      String s = get(c);
      if (s.equals("1")) return true;
      if (s.equals("0")) return false;
      throw error(c, "expected 0 or 1");
    }

    /** A DICOM UID: dot-separated numbers, at most 64 characters. */
    public String uid(Column c) throws CsvFormatException {
      String s = nonEmpty(c);
      if (!isDicomUid(s)) {
        throw error(
            c,
            "not a DICOM UID (digits and dots, no empty or zero-led component, at most"
                + " 64 characters)");
      }
      return s;
    }

    @Override
    public String toString() {
      return file + ":" + line + " " + List.of(header) + " = " + List.of(fields);
    }
  }

  /**
   * Whether {@code s} is a DICOM UID (PS3.5 9.1): 1 to 64 characters, components of digits
   * separated by single dots, no component with a leading zero unless it is "0".
   */
  static boolean isDicomUid(String s) {
    if (s == null || s.isEmpty() || s.length() > 64) return false;
    int start = 0;
    while (true) {
      int end = s.indexOf('.', start);
      if (end < 0) end = s.length();
      if (end == start) return false;
      for (int k = start; k < end; k++) {
        char ch = s.charAt(k);
        if (ch < '0' || ch > '9') return false;
      }
      if (s.charAt(start) == '0' && end - start > 1) return false;
      if (end == s.length()) return true;
      start = end + 1;
    }
  }

  /** Builds a CSV file in memory (LF line ends, no byte-order mark) and writes it atomically. */
  public static final class Writer {
    private final StringBuilder out = new StringBuilder(1 << 12);
    private final int width;

    public Writer(String... header) {
      width = header.length;
      row(header);
    }

    public Writer(List<String> header) {
      this(header.toArray(new String[0]));
    }

    public Writer row(String... fields) {
      if (fields.length != width) {
        throw new IllegalStateException("row of " + fields.length + " fields, header of " + width);
      }
      for (int k = 0; k < fields.length; k++) {
        if (k > 0) out.append(',');
        appendField(out, fields[k]);
      }
      out.append('\n');
      return this;
    }

    public void writeTo(Path file) throws IOException {
      AtomicFiles.write(file, out.toString().getBytes(UTF_8));
    }

    private static void appendField(StringBuilder out, String s) {
      boolean quote = false;
      for (int k = 0; k < s.length() && !quote; k++) {
        char c = s.charAt(k);
        quote = c == ',' || c == '"' || c == '\n' || c == '\r';
      }
      if (!quote) {
        out.append(s);
        return;
      }
      out.append('"').append(s.replace("\"", "\"\"")).append('"');
    }
  }

  /**
   * A finite double as the shortest decimal that parses back to exactly the same double, and of
   * those the nearest, spelled as Python's {@code repr} (and so pandas) spells it:
   * "322.8316831683169", "309.0", "1e-05", "1.5e+16". Java 17's {@code Double.toString} also
   * round-trips but sometimes prints a longer or a different last digit than the real files.
   */
  public static String number(double v) {
    if (!Double.isFinite(v)) throw new IllegalArgumentException("v: not finite: " + v);
    if (v == 0) return (1 / v < 0) ? "-0.0" : "0.0";
    BigDecimal exact = new BigDecimal(v);
    // Double.toString round-trips with at most 17 digits; search below it for the fewest.
    // Fewer digits round-trip only if more do (the nearest n+1 digit decimal is at least as
    // near as the nearest n digit one), so a bisection finds the least.
    BigDecimal best = new BigDecimal(Double.toString(v));
    int lo = 1;
    int hi = best.stripTrailingZeros().precision();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      BigDecimal d = exact.round(new MathContext(mid, RoundingMode.HALF_EVEN));
      if (d.doubleValue() == v) {
        best = d;
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    BigDecimal nearest = exact.round(new MathContext(lo, RoundingMode.HALF_EVEN));
    if (nearest.doubleValue() == v) best = nearest;
    return pythonRepr(best.stripTrailingZeros());
  }

  private static String pythonRepr(BigDecimal d) {
    String digits = d.unscaledValue().abs().toString();
    int n = digits.length();
    int exp = n - 1 - d.scale(); // decimal exponent of the leading digit
    StringBuilder s = new StringBuilder(24);
    if (d.signum() < 0) s.append('-');
    if (exp < -4 || exp >= 16) {
      s.append(digits.charAt(0));
      if (n > 1) s.append('.').append(digits, 1, n);
      s.append('e').append(exp < 0 ? '-' : '+');
      int a = Math.abs(exp);
      if (a < 10) s.append('0');
      s.append(a);
    } else if (exp < 0) {
      s.append("0.");
      for (int k = 0; k < -exp - 1; k++) s.append('0');
      s.append(digits);
    } else if (n <= exp + 1) {
      s.append(digits);
      for (int k = n; k < exp + 1; k++) s.append('0');
      s.append(".0");
    } else {
      s.append(digits, 0, exp + 1).append('.').append(digits, exp + 1, n);
    }
    return s.toString();
  }

  /** Rows with the line each came from. */
  static final class Lined<T> {
    final List<T> values = new ArrayList<>();
    final List<Integer> lines = new ArrayList<>();

    void add(T value, int line) {
      values.add(value);
      lines.add(line);
    }
  }

  static void checkFinite(String at, double v) {
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException(at + ": expected a finite number, got " + v);
    }
  }

  static void checkNonNegative(String at, double v) {
    if (!(Double.isFinite(v) && v >= 0)) {
      throw new IllegalArgumentException(at + ": expected a finite number >= 0, got " + v);
    }
  }
}
