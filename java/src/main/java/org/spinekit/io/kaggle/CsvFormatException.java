package org.spinekit.io.kaggle;

import java.nio.file.Path;
import org.spinekit.io.MalformedFileException;

/**
 * A Kaggle CSV file that breaks its layout. The message is {@code <path>:<line>: column '<name>':
 * <what> (got '<value>')} for a bad value, {@code <path>:<line>: <what>} for a bad line, and {@code
 * <path>: <what>} for the file as a whole (a missing column, say).
 */
public final class CsvFormatException extends MalformedFileException {
  private static final long serialVersionUID = 1L;
  private static final int MAX_SHOWN = 80;

  private final int line;
  private final String column;
  private final String message;

  /** A fault of the whole file (no line). */
  CsvFormatException(Path file, String what) {
    this(file, 0, null, what);
  }

  /** A fault of one line, or with {@code column} non-null, of one value of that line. */
  CsvFormatException(Path file, int line, String column, String what) {
    super(file, what);
    this.line = line;
    this.column = column;
    StringBuilder m = new StringBuilder().append(file);
    if (line > 0) m.append(':').append(line);
    m.append(": ");
    if (column != null) m.append("column '").append(column).append("': ");
    m.append(what);
    this.message = m.toString();
  }

  /** A bad value: {@code what} is followed by the value as it stands in the file. */
  static CsvFormatException value(Path file, int line, String column, String what, String got) {
    return new CsvFormatException(file, line, column, what + " (got '" + shown(got) + "')");
  }

  /** The 1-based line of the fault, or 0 for a fault of the whole file. */
  public int line() {
    return line;
  }

  /** The header name of the column at fault, or null. */
  public String column() {
    return column;
  }

  @Override
  public String getMessage() {
    return message;
  }

  /** A value as it is quoted in a message: line breaks spelled out, long values cut. */
  static String shown(String value) {
    String s = value.replace("\r", "\\r").replace("\n", "\\n");
    return s.length() <= MAX_SHOWN ? s : s.substring(0, MAX_SHOWN) + "...";
  }
}
