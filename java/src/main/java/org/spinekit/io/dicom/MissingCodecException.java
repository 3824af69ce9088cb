package org.spinekit.io.dicom;

import java.io.IOException;

/**
 * A DICOM feature needs an {@link ExternalCodec} (12-bit lossy JPEG, the writer's compression) and
 * none is installed. Not a bad file: every file of that kind fails the same way until the codec is
 * added, so readers that skip bad files do not skip these.
 */
public final class MissingCodecException extends IOException {
  private static final long serialVersionUID = 1L;

  public MissingCodecException(String message) {
    super(message);
  }
}
