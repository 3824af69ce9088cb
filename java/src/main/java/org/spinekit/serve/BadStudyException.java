package org.spinekit.serve;

import java.io.IOException;

/**
 * A study that cannot be predicted as given: no readable series, a file that is not DICOM, a folder
 * not laid out as the system expects. The server answers it with 400 and the file it names.
 */
public final class BadStudyException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String file;

  /**
   * @param file the file or folder at fault, relative to the study (null when none in particular)
   */
  public BadStudyException(String file, String message, Throwable cause) {
    super(message, cause);
    this.file = file;
  }

  public BadStudyException(String file, String message) {
    this(file, message, null);
  }

  /** The file or folder at fault, relative to the study, or null. */
  public String file() {
    return file;
  }
}
