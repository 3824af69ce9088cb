package org.spinekit.io.dicom;

import java.nio.file.Path;
import org.spinekit.io.MalformedFileException;

/**
 * A file that is not DICOM at all (no DICM prefix and no bare data set). Directory scans skip such
 * files with a note; reading one by name is an error.
 */
public class NotDicomException extends MalformedFileException {
  private static final long serialVersionUID = 1L;

  public NotDicomException(Path file, String what) {
    super(file, what);
  }
}
