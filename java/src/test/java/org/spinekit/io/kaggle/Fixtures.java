package org.spinekit.io.kaggle;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.function.Executable;

/** Shared helpers of the Kaggle CSV tests. */
final class Fixtures {
  private Fixtures() {}

  /** Writes {@code text} as UTF-8 (no BOM) to {@code dir/name}. */
  static Path write(Path dir, String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.write(p, text.getBytes(UTF_8));
    return p;
  }

  /** Runs {@code call}, expects a {@link CsvFormatException} and checks its whole message. */
  static CsvFormatException assertCsvError(String expectedMessage, Executable call) {
    CsvFormatException e = assertThrows(CsvFormatException.class, call);
    assertEquals(expectedMessage, e.getMessage());
    return e;
  }

  /** Expects a bad value at {@code file:line} in {@code column}; returns the exception. */
  static CsvFormatException assertValueError(
      Path file, int line, String column, String what, String got, Executable call) {
    CsvFormatException e =
        assertCsvError(
            file + ":" + line + ": column '" + column + "': " + what + " (got '" + got + "')",
            call);
    assertEquals(line, e.line());
    assertEquals(column, e.column());
    assertEquals(file, e.file());
    return e;
  }
}
