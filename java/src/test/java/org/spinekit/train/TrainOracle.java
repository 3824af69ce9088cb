package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.io.safetensors.SafeTensors;
import org.spinekit.testing.Subprocess;

/**
 * Runs {@code train_oracle.py} (Debian's python3-torch) once per JVM and reads its reference
 * optimiser and scheduler values.
 */
final class TrainOracle {
  static final Path PYTHON = Path.of("/usr/bin/python3");
  private static Path file;

  private TrainOracle() {}

  /** The oracle's output file (made on first use). */
  static synchronized Path file() {
    if (file != null) return file;
    try {
      var url = TrainOracle.class.getResource("/python/train_oracle.py");
      assertNotNull(url, "test resource python/train_oracle.py");
      Path script = Path.of(url.toURI());
      if (!Files.isExecutable(PYTHON)) fail(PYTHON + " is missing: install python3-torch");
      Path dir = Files.createTempDirectory("spinekit-train-oracle");
      Path out = dir.resolve("oracle.safetensors");
      ProcessBuilder pb =
          new ProcessBuilder(List.of(PYTHON.toString(), script.toString(), out.toString()));
      pb.environment().put("OMP_NUM_THREADS", "2");
      pb.environment().put("PYTHONWARNINGS", "ignore");
      Subprocess.run(pb, Duration.ofSeconds(120)).succeeded();
      file = out;
      return file;
    } catch (IOException | URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every tensor of the oracle's file, attached to the caller's scope. */
  static Map<String, Tensor> read() throws IOException {
    return SafeTensors.read(file());
  }
}
