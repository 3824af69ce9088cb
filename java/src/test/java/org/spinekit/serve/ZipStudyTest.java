package org.spinekit.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.spinekit.io.Inflate;

/**
 * Zips read from their central directory: the files come out by name, the same through libdeflate
 * and java.util.zip; every refusal (names, sizes, counts, methods, corruption, not a zip) is an
 * {@link HttpError} with its status and the entry named; a bomb is refused by its declared size,
 * and one that lies about it stops inflating there.
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

  /** A bomb (64 MiB of zeros in 64 KiB) is refused by its declared size, before it inflates. */
  @Test
  void refusesABombByItsDeclaredSize() {
    byte[] bomb = Zips.bomb("s/bomb.dcm", 64L << 20);
    assertTrue(bomb.length < 200_000, "the bomb is small: " + bomb.length);
    for (boolean libdeflate : inflaters()) {
      HttpError e = assertThrows(HttpError.class, () -> ZipStudy.read(bomb, SMALL, libdeflate));
      assertEquals(413, e.status());
      assertEquals("s/bomb.dcm", e.file());
      assertTrue(
          e.getMessage().contains("s/bomb.dcm") && e.getMessage().contains("1 MiB"),
          e.getMessage());
    }
  }

  /**
   * A bomb whose central directory claims 1000 bytes inflates into an array of 1000 and stops
   * there; one claiming more than it holds is refused too: the data must fill its declared size.
   */
  @Test
  void entriesMustInflateToTheirDeclaredSizeExactly() {
    byte[] lying = Zips.build("", new Zips.Raw("s/bomb.dcm", new byte[8 << 20]).declare(1000));
    byte[] short_ = Zips.build("", new Zips.Raw("s/a.dcm", noise(1000, 1)).declare(2000));
    for (boolean libdeflate : inflaters()) {
      HttpError e = refusedBy(lying, libdeflate);
      assertEquals(400, e.status());
      assertEquals("s/bomb.dcm", e.file());
      assertTrue(e.getMessage().contains("inflates to more than 1000 bytes"), e.getMessage());
      HttpError s = refusedBy(short_, libdeflate);
      assertEquals("s/a.dcm", s.file());
      assertTrue(s.getMessage().contains("inflates to 1000 bytes, not 2000"), s.getMessage());
    }
  }

  @Test
  void bothInflatersGiveTheSameFiles() throws IOException {
    Map<String, byte[]> in = new LinkedHashMap<>();
    in.put("s/noise.dcm", noise(300_000, 2));
    in.put("s/zeros.dcm", new byte[200_000]);
    in.put("s/empty.dcm", new byte[0]);
    in.put("s/text.txt", "the same line again\n".repeat(1000).getBytes(StandardCharsets.UTF_8));
    byte[] streamed = Zips.zip(in); // data descriptors, as ZipOutputStream writes
    byte[] sized =
        Zips.build(
            "a comment with PK\u0005\u0006 in it",
            new Zips.Raw("s/noise.dcm", in.get("s/noise.dcm")),
            new Zips.Raw("s/zeros.dcm", in.get("s/zeros.dcm")).stored(),
            new Zips.Raw("s/empty.dcm", new byte[0]).zip64(),
            new Zips.Raw("s/text.txt", in.get("s/text.txt")).zip64().stored());
    for (byte[] zip : List.of(streamed, sized)) {
      for (boolean libdeflate : inflaters()) {
        Map<String, byte[]> out = ZipStudy.read(zip, SMALL, libdeflate);
        assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
        for (String name : in.keySet()) assertArrayEquals(in.get(name), out.get(name), name);
      }
    }
  }

  @Test
  void readsZip64EndRecords() {
    Map<String, byte[]> many = new LinkedHashMap<>();
    for (int i = 0; i < 65_536; i++) many.put("s/" + i, new byte[] {(byte) i});
    byte[] zip = Zips.zip(many); // more than 65,535 entries: a Zip64 end of central directory
    Map<String, byte[]> out = ZipStudy.read(zip, SMALL.withEntries(70_000), inflate());
    assertEquals(65_536, out.size());
    assertArrayEquals(new byte[] {(byte) 65_535}, out.get("s/65535"));
  }

  @Test
  void refusesCorruptEncryptedAndUnsupportedEntries() {
    byte[] data = noise(5000, 3);
    String[][] cases = {
      {"CRC-32", "crc"},
      {"encrypted", "flags"},
      {"compression method 12", "method"},
      {"names another file, 's/b.dcm'", "local"},
      {"overlap", "packed"}
    };
    for (String[] c : cases) {
      Zips.Raw e = new Zips.Raw("s/a.dcm", data);
      switch (c[1]) {
        case "crc" -> e.crc(12345);
        case "flags" -> e.flags(1);
        case "method" -> e.method(12);
        case "local" -> e.localName("s/b.dcm");
        default -> e.packed(data.length + 100);
      }
      byte[] zip = Zips.build("", e, new Zips.Raw("s/c.dcm", data));
      for (boolean libdeflate : inflaters()) {
        HttpError r = refusedBy(zip, libdeflate);
        assertEquals(400, r.status(), c[1]);
        assertTrue(r.getMessage().contains(c[0]), c[1] + ": " + r.getMessage());
        if (!c[1].equals("packed")) assertEquals("s/a.dcm", r.file(), c[1]);
      }
    }
  }

  @Test
  void theFirstBadEntryInTheZipsOrderIsNamedWhenEntriesInflateTogether() {
    // Eight entries of 64 KB: above PARALLEL_BYTES, so they inflate on several threads; the
    // third and the last are corrupt, and the third is the one named, every time.
    int size = (int) (ZipStudy.PARALLEL_BYTES / 4);
    for (int round = 0; round < 20; round++) {
      Zips.Raw[] entries = new Zips.Raw[8];
      for (int i = 0; i < entries.length; i++) {
        entries[i] = new Zips.Raw("s/" + i + ".dcm", noise(size, i));
      }
      entries[2].crc(1);
      entries[7].declare(size / 2);
      byte[] zip = Zips.build("", entries);
      for (boolean libdeflate : inflaters()) {
        HttpError e = refusedBy(zip, libdeflate);
        assertEquals("s/2.dcm", e.file(), e.getMessage());
        assertTrue(e.getMessage().contains("CRC-32"), e.getMessage());
      }
    }
    Zips.Raw[] good = new Zips.Raw[8];
    for (int i = 0; i < good.length; i++) good[i] = new Zips.Raw("s/" + i + ".dcm", noise(size, i));
    Map<String, byte[]> out = ZipStudy.read(Zips.build("", good), SMALL, inflate());
    assertEquals(
        List.of(
            "s/0.dcm", "s/1.dcm", "s/2.dcm", "s/3.dcm", "s/4.dcm", "s/5.dcm", "s/6.dcm", "s/7.dcm"),
        List.copyOf(out.keySet()));
    for (int i = 0; i < good.length; i++)
      assertArrayEquals(noise(size, i), out.get("s/" + i + ".dcm"));
  }

  /** libdeflate, when the native codecs have it, and java.util.zip. */
  static List<Boolean> inflaters() {
    return inflate() ? List.of(true, false) : List.of(false);
  }

  private static boolean inflate() {
    return Inflate.libdeflate();
  }

  private static HttpError refusedBy(byte[] zip, boolean libdeflate) {
    return assertThrows(HttpError.class, () -> ZipStudy.read(zip, SMALL, libdeflate));
  }

  /** Bytes like a CT's pixels: 16-bit values with noise in their low bits. */
  static byte[] noise(int n, long seed) {
    java.util.Random r = new java.util.Random(seed);
    byte[] b = new byte[n];
    for (int i = 0; i + 1 < n; i += 2) {
      int v = 1000 + (int) (r.nextGaussian() * 40);
      b[i] = (byte) v;
      b[i + 1] = (byte) (v >> 8);
    }
    return b;
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
