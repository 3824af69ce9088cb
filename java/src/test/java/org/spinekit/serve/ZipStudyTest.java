package org.spinekit.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Zips read as they stream in: the files come out by name; every refusal (names, sizes, counts, not
 * a zip) is an {@link HttpError} with its status and the entry named; a bomb is refused having read
 * only a small part of it.
 */
class ZipStudyTest {
  static final Limits SMALL =
      Limits.defaults().withEntries(20).withEntry(1 << 20).withUnzipped(3 << 20);

  static HttpError refused(byte[] zip, Limits limits) {
    return assertThrows(
        HttpError.class, () -> ZipStudy.read(new ByteArrayInputStream(zip), limits));
  }

  @Test
  void readsTheFilesAndSkipsFolders() throws IOException {
    Map<String, byte[]> in = new LinkedHashMap<>();
    in.put("s/", new byte[0]);
    in.put("s/a.dcm", "aaa".getBytes(StandardCharsets.US_ASCII));
    in.put("s/b/c.dcm", new byte[100_000]);
    in.put("__MACOSX/s/._a.dcm", new byte[3]);
    Map<String, byte[]> out = ZipStudy.read(new ByteArrayInputStream(Zips.zip(in)), SMALL);
    assertEquals(List.of("s/a.dcm", "s/b/c.dcm"), List.copyOf(out.keySet()));
    assertArrayEquals(in.get("s/b/c.dcm"), out.get("s/b/c.dcm"));
  }

  @Test
  void refusesNamesOutsideTheStudy() {
    String[][] cases = {
      {"../x.dcm", "'..'"},
      {"a/../../x.dcm", "'..'"},
      {"/etc/x", "absolute"},
      {"a\\b.dcm", "backslash"},
      {"C:/x.dcm", "colon"},
      {"a//b.dcm", "empty"},
      {"./a.dcm", "'.'"},
    };
    for (String[] c : cases) {
      HttpError e = refused(Zips.zip(c[0], new byte[1]), SMALL);
      assertEquals(400, e.status(), c[0]);
      assertEquals(c[0], e.file());
      assertTrue(e.getMessage().contains(c[0]) && e.getMessage().contains(c[1]), e.getMessage());
    }
  }

  @Test
  void refusesANameGivenTwice() {
    Map<String, byte[]> in = new LinkedHashMap<>();
    in.put("s/x.dcm", new byte[1]);
    in.put("s/y.dcm", new byte[1]);
    byte[] zip = Zips.rename(Zips.zip(in), "s/y.dcm", "s/x.dcm");
    HttpError e = refused(zip, SMALL);
    assertEquals(400, e.status());
    assertEquals("s/x.dcm", e.file());
    assertTrue(e.getMessage().contains("twice"), e.getMessage());
  }

  @Test
  void refusesNotAZipAndEmptyZips() {
    HttpError e = refused("hello, world".getBytes(StandardCharsets.US_ASCII), SMALL);
    assertEquals(400, e.status());
    assertTrue(
        e.getMessage().startsWith("not a zip") && e.getMessage().contains("'hell'"),
        e.getMessage());
    assertTrue(refused(new byte[0], SMALL).getMessage().contains("empty"));
    assertTrue(refused(Zips.zip(Map.of()), SMALL).getMessage().contains("empty zip"));
    assertTrue(refused(Zips.zip("a/", new byte[0]), SMALL).getMessage().contains("only folders"));
    byte[] zip = Zips.study();
    HttpError t = refused(Arrays.copyOf(zip, zip.length / 2), SMALL);
    assertEquals(400, t.status());
    assertTrue(t.getMessage().contains("truncated"), t.getMessage());
  }

  /** A bomb (64 MiB of zeros in 64 KiB) is refused once 1 MiB has inflated, most of it unread. */
  @Test
  void refusesABombWhileInflating() {
    byte[] bomb = Zips.bomb("s/bomb.dcm", 64L << 20);
    assertTrue(bomb.length < 200_000, "the bomb is small: " + bomb.length);
    long[] read = {0};
    InputStream counting =
        new FilterInputStream(new ByteArrayInputStream(bomb)) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) read[0] += n;
            return n;
          }
        };
    HttpError e = assertThrows(HttpError.class, () -> ZipStudy.read(counting, SMALL));
    assertEquals(413, e.status());
    assertEquals("s/bomb.dcm", e.file());
    assertTrue(
        e.getMessage().contains("s/bomb.dcm") && e.getMessage().contains("1 MiB"), e.getMessage());
    assertTrue(read[0] < bomb.length / 8, "read " + read[0] + " of " + bomb.length + " bytes");
  }

  @Test
  void refusesTooManyEntriesAndTooMuchInAll() {
    Map<String, byte[]> many = new LinkedHashMap<>();
    for (int i = 0; i < 21; i++) many.put("s/" + i + ".dcm", new byte[1]);
    HttpError e = refused(Zips.zip(many), SMALL);
    assertEquals(413, e.status());
    assertEquals("s/20.dcm", e.file());
    assertTrue(e.getMessage().contains("more than 20 entries"), e.getMessage());
    Map<String, byte[]> big = new LinkedHashMap<>();
    for (int i = 0; i < 4; i++) big.put("s/" + i + ".dcm", new byte[900_000]);
    HttpError all = refused(Zips.zip(big), SMALL);
    assertEquals(413, all.status());
    assertEquals("s/3.dcm", all.file());
    assertTrue(all.getMessage().contains("3 MiB"), all.getMessage());
  }

  @Test
  void limitedStreamsCountWhatTheyRead() throws IOException {
    InputStream in = ZipStudy.limited(new ByteArrayInputStream(new byte[100]), 99, "the body");
    HttpError e = assertThrows(HttpError.class, in::readAllBytes);
    assertEquals(413, e.status());
    assertNull(e.file());
    assertEquals("the body is larger than 99 bytes", e.getMessage());
    assertEquals(
        100,
        ZipStudy.limited(new ByteArrayInputStream(new byte[100]), 100, "b").readAllBytes().length);
  }
}
