package org.spinekit.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file that cannot be read as what it claims to be (truncated, malformed, missing a required
 * element or column). The message starts with the file's path, then says what was wrong and where
 * (byte offset, tag, line or column).
 */
public class MalformedFileException extends IOException {
  private static final long serialVersionUID = 1L;
  private final transient Path file;

  public MalformedFileException(Path file, String what) {
    super(file + ": " + what);
    this.file = file;
  }

  public MalformedFileException(Path file, String what, Throwable cause) {
    super(file + ": " + what, cause);
    this.file = file;
  }

  /** The file that was wrong. */
  public Path file() {
    return file;
  }
}
