package org.spinekit.train;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.spinekit.io.json.Json;

/**
 * One table of metrics appended as CSV (a header, then a line per row) and as JSON lines. Rows are
 * buffered and written out at most every {@link #FLUSH_NANOS} (small appends to a busy disk can
 * stall a training step), and whenever {@link #flush()} is called: before a checkpoint records the
 * files' sizes, at the end of an epoch, on close. A killed run thus leaves whole rows up to its
 * last checkpoint and possibly more, the last one perhaps cut, which {@link #open} removes when the
 * run resumes. Numbers are written so that they read back to the same double; NaN is an empty cell
 * (null in JSON).
 */
final class MetricsLog implements AutoCloseable {
  private final Path csv;
  private final Path jsonl;
  private List<String> columns;
  private OutputStream csvOut;
  private OutputStream jsonOut;
  private long csvBytes;
  private long jsonBytes;
  private long flushed;

  /** The longest rows wait in the buffer. */
  static final long FLUSH_NANOS = 2_000_000_000L;

  MetricsLog(Path csv, Path jsonl) {
    this.csv = csv;
    this.jsonl = jsonl;
  }

  /**
   * Opens the files for appending after cutting them to {@code csvSize} and {@code jsonSize} bytes
   * (0 on a fresh run; files already shorter are kept), and reads the CSV header.
   */
  void open(long csvSize, long jsonSize) throws IOException {
    close();
    Files.createDirectories(csv.toAbsolutePath().getParent());
    csvBytes = cut(csv, csvSize);
    jsonBytes = cut(jsonl, jsonSize);
    columns = null;
    if (csvBytes > 0) {
      String text = Files.readString(csv, StandardCharsets.UTF_8);
      int nl = text.indexOf('\n');
      if (nl > 0) columns = List.of(text.substring(0, nl).split(",", -1));
    }
    csvOut =
        new BufferedOutputStream(
            Files.newOutputStream(csv, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
            1 << 16);
    jsonOut =
        new BufferedOutputStream(
            Files.newOutputStream(jsonl, StandardOpenOption.CREATE, StandardOpenOption.APPEND),
            1 << 16);
    flushed = System.nanoTime();
  }

  private static long cut(Path p, long size) throws IOException {
    if (!Files.exists(p)) return 0;
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      if (ch.size() > size) ch.truncate(size);
      return ch.size();
    }
  }

  long csvBytes() {
    return csvBytes;
  }

  long jsonBytes() {
    return jsonBytes;
  }

  /** Appends a row (values: Integer, Long or Double); its keys must be the table's columns. */
  void append(Map<String, ? extends Number> row) throws IOException {
    if (csvOut == null) throw new IllegalStateException("the log " + csv + " is not open");
    List<String> keys = new ArrayList<>(row.keySet());
    StringBuilder c = new StringBuilder();
    if (columns == null) {
      columns = List.copyOf(keys);
      c.append(String.join(",", columns)).append('\n');
    } else if (!columns.equals(keys)) {
      throw new IllegalStateException(
          csv.getFileName()
              + ": a row has columns "
              + keys
              + ", the log has "
              + columns
              + " (metric names must be the same every step)");
    }
    StringBuilder j = new StringBuilder("{");
    for (int i = 0; i < keys.size(); i++) {
      Number v = row.get(keys.get(i));
      if (i > 0) {
        c.append(',');
        j.append(',');
      }
      c.append(csvValue(v));
      j.append(Json.quote(keys.get(i))).append(':').append(jsonValue(v));
    }
    c.append('\n');
    j.append("}\n");
    byte[] cb = c.toString().getBytes(StandardCharsets.UTF_8);
    byte[] jb = j.toString().getBytes(StandardCharsets.UTF_8);
    csvOut.write(cb);
    jsonOut.write(jb);
    csvBytes += cb.length;
    jsonBytes += jb.length;
    if (System.nanoTime() - flushed > FLUSH_NANOS) flush();
  }

  /** Writes the buffered rows to the files. */
  void flush() throws IOException {
    if (csvOut == null) return;
    csvOut.flush();
    jsonOut.flush();
    flushed = System.nanoTime();
  }

  static String csvValue(Number v) {
    if (!(v instanceof Double d)) return v.toString();
    if (d.isNaN()) return "";
    return format(d);
  }

  private static String jsonValue(Number v) {
    if (!(v instanceof Double d)) return v.toString();
    if (!Double.isFinite(d)) return "null";
    return format(d);
  }

  /** Shortest text that reads back to the same double (integers without a fraction). */
  static String format(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15 && !(d == 0 && 1 / d < 0)) {
      return Long.toString((long) d);
    }
    return Double.toString(d);
  }

  /** The rows of the CSV file as column -> value (empty cells NaN). */
  List<Map<String, Double>> rows() throws IOException {
    List<Map<String, Double>> out = new ArrayList<>();
    if (!Files.exists(csv)) return out;
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    if (lines.isEmpty()) return out;
    String[] head = lines.get(0).split(",", -1);
    for (int i = 1; i < lines.size(); i++) {
      String[] cells = lines.get(i).split(",", -1);
      if (cells.length != head.length) {
        throw new IOException(
            csv
                + ": line "
                + (i + 1)
                + " has "
                + cells.length
                + " cells, the header "
                + head.length
                + " ("
                + Arrays.toString(head)
                + ")");
      }
      Map<String, Double> row = new LinkedHashMap<>();
      for (int k = 0; k < head.length; k++) {
        try {
          row.put(head[k], cells[k].isEmpty() ? Double.NaN : Double.parseDouble(cells[k]));
        } catch (NumberFormatException e) {
          throw new IOException(
              csv
                  + ": line "
                  + (i + 1)
                  + ", column "
                  + head[k]
                  + ": \""
                  + cells[k]
                  + "\" is not a number",
              e);
        }
      }
      out.add(row);
    }
    return out;
  }

  @Override
  public void close() throws IOException {
    try {
      if (csvOut != null) csvOut.close();
    } finally {
      csvOut = null;
      if (jsonOut != null) jsonOut.close();
      jsonOut = null;
    }
  }
}
