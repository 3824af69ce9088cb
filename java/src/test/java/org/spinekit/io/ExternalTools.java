package org.spinekit.io;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs Debian's DICOM tools (dcmtk, GDCM's command line) in tests; a failure fails the test. */
public final class ExternalTools {
  private ExternalTools() {}

  public static String run(Path dir, String... cmd) {
    ProcessBuilder pb = new ProcessBuilder(List.of(cmd)).directory(dir.toFile())
        .redirectErrorStream(true);
    try {
      Process p = pb.start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail(String.join(" ", cmd) + ": timed out");
      }
      String text = new String(out, java.nio.charset.StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        fail(String.join(" ", cmd) + ": exit " + p.exitValue() + "\n" + text);
      }
      return text;
    } catch (IOException e) {
      fail(cmd[0] + " could not be started (the set-up script installs dcmtk, libgdcm-tools"
          + " and python3-nibabel): " + e.getMessage());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail("interrupted");
      return null;
    }
  }
}
