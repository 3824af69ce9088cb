package org.spinekit.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * multipart/form-data read as a stream: the file part's bytes exactly, whatever the chunks the
 * network delivers; fields before it skipped; a second file, no file and a truncated body refused.
 */
class MultipartTest {
  /** {@code b} delivered 1 to 7 bytes at a time, as a slow network might. */
  static InputStream trickle(byte[] b) {
    SplittableRandom r = new SplittableRandom(7);
    return new ByteArrayInputStream(b) {
      @Override
      public synchronized int read(byte[] buf, int off, int len) {
        return super.read(buf, off, Math.min(len, 1 + r.nextInt(7)));
      }
    };
  }

  @Test
  void theFilePartComesOutExactly() throws IOException {
    byte[] content = new byte[300_000];
    new SplittableRandom(3).nextBytes(content);
    // Bytes that look like the start of a boundary inside the content.
    byte[] fake = ("\r\n--" + Zips.BOUNDARY.substring(0, 20)).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(fake, 0, content, 1000, fake.length);
    byte[] body =
        Zips.form(
            new Object[] {"note", null, "a field".getBytes(StandardCharsets.US_ASCII)},
            new Object[] {"file", "study.zip", content},
            new Object[] {"after", null, new byte[10]});
    for (InputStream in : new InputStream[] {new ByteArrayInputStream(body), trickle(body)}) {
      Multipart m = Multipart.of(in, Zips.formType());
      byte[] got = m.file().readAllBytes();
      assertEquals("study.zip", m.fileName());
      assertArrayEquals(content, got);
      m.finish();
    }
  }

  @Test
  void refusesASecondFileNoFileAndTruncation() throws IOException {
    byte[] two =
        Zips.form(
            new Object[] {"a", "a.zip", new byte[5]}, new Object[] {"b", "b.zip", new byte[5]});
    Multipart m = Multipart.of(new ByteArrayInputStream(two), Zips.formType());
    m.file().readAllBytes();
    HttpError e = assertThrows(HttpError.class, m::finish);
    assertEquals(400, e.status());
    assertTrue(
        e.getMessage().contains("second") && e.getMessage().contains("b.zip"), e.getMessage());

    byte[] none = Zips.form(new Object[] {"a", null, new byte[5]});
    HttpError n =
        assertThrows(
            HttpError.class,
            () -> Multipart.of(new ByteArrayInputStream(none), Zips.formType()).file());
    assertTrue(n.getMessage().contains("no file part"), n.getMessage());

    byte[] one = Zips.form(new Object[] {"a", "a.zip", new byte[5000]});
    byte[] cut = Arrays.copyOf(one, one.length - 2000);
    Multipart c = Multipart.of(new ByteArrayInputStream(cut), Zips.formType());
    HttpError t = assertThrows(HttpError.class, () -> c.file().readAllBytes());
    assertTrue(t.getMessage().contains("ends before"), t.getMessage());

    HttpError b =
        assertThrows(
            HttpError.class,
            () -> Multipart.of(new ByteArrayInputStream(one), "multipart/form-data"));
    assertTrue(b.getMessage().contains("boundary"), b.getMessage());
  }

  @Test
  void readsHeaderParameters() {
    assertEquals(
        "x;y.zip",
        Multipart.parameter("form-data; name=\"file\"; filename=\"x;y.zip\"", "filename"));
    assertEquals("abc", Multipart.parameter("multipart/form-data; boundary=abc", "boundary"));
    assertEquals(
        "a b",
        Multipart.parameter("multipart/form-data; charset=utf-8; BOUNDARY=\"a b\"", "boundary"));
    assertEquals(null, Multipart.parameter("form-data; name=\"file\"", "filename"));
  }
}
