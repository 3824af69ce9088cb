package org.spinekit.io;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.spinekit.testing.Subprocess;

/** Runs Debian's DICOM tools (dcmtk, GDCM's command line) in tests; a failure fails the test. */
public final class ExternalTools {
  private ExternalTools() {}

  public static String run(Path dir, String... cmd) {
    ProcessBuilder pb = new ProcessBuilder(List.of(cmd)).directory(dir.toFile());
    try {
      return Subprocess.run(pb, Duration.ofSeconds(60)).succeeded().stdout();
    } catch (IOException e) {
      fail(
          cmd[0]
              + " could not be started (the set-up script installs dcmtk, libgdcm-tools"
              + " and python3-nibabel): "
              + e.getMessage());
      return null;
    }
  }
}
