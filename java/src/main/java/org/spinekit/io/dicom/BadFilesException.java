package org.spinekit.io.dicom;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.spinekit.io.MalformedFileException;

/**
 * Files of a series that could not be used, all of them: the series reader parses (and decodes)
 * every file of a directory before it throws this, so one run names every bad file rather than the
 * first. Each failure is the file's own {@link MalformedFileException} (truncated, undecodable, a
 * second slice at one position, a size or orientation the rest of the series does not have).
 *
 * <p>With one failure, {@link #file()} and the message are that failure's own; with several, {@link
 * #file()} is the file or directory that was read and the message counts the bad files and lists
 * them, one a line, each with its reason ({@value #LISTED} at most, then how many more). {@link
 * DicomSeriesReader.Options#skipBadFiles()} leaves such files out instead.
 */
public class BadFilesException extends MalformedFileException {
  private static final long serialVersionUID = 1L;

  /** How many failures the message lists; {@link #failures()} holds them all. */
  public static final int LISTED = 20;

  private final transient List<MalformedFileException> failures;

  /**
   * @param where the file or directory that was read
   * @param failures what was wrong, one per bad file (or slice), at least one
   */
  public BadFilesException(Path where, List<? extends MalformedFileException> failures) {
    this(where, failures, null);
  }

  /**
   * @param note a last line for the message (what to do about it), or null
   */
  public BadFilesException(
      Path where, List<? extends MalformedFileException> failures, String note) {
    super(
        failures.size() == 1 ? failures.get(0).file() : where,
        what(failures, note),
        failures.size() == 1 ? failures.get(0) : null);
    this.failures = List.copyOf(failures);
  }

  /**
   * Every failure, in file order: each names its file ({@link #file()}) and says what was wrong.
   */
  public List<MalformedFileException> failures() {
    return failures;
  }

  /** The distinct bad files, in file order. */
  public List<Path> files() {
    Set<Path> s = new LinkedHashSet<>();
    for (MalformedFileException e : failures) s.add(e.file());
    return List.copyOf(s);
  }

  private static String what(List<? extends MalformedFileException> failures, String note) {
    if (failures.isEmpty()) {
      throw new IllegalArgumentException("failures: expected at least one, got none");
    }
    String tail = note == null ? "" : "\n" + note;
    if (failures.size() == 1) {
      MalformedFileException e = failures.get(0);
      String m = String.valueOf(e.getMessage());
      String prefix = e.file() + ": ";
      return (m.startsWith(prefix) ? m.substring(prefix.length()) : m) + tail;
    }
    Set<Path> files = new LinkedHashSet<>();
    for (MalformedFileException e : failures) files.add(e.file());
    List<String> lines = new ArrayList<>();
    lines.add(files.size() + (files.size() == 1 ? " file is bad:" : " files are bad:"));
    for (int i = 0; i < Math.min(LISTED, failures.size()); i++) {
      lines.add("  " + failures.get(i).getMessage());
    }
    if (failures.size() > LISTED) lines.add("  ... and " + (failures.size() - LISTED) + " more");
    return String.join("\n", lines) + tail;
  }
}
