package org.spinekit.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.spinekit.io.ExternalTools;

/**
 * Decodes files that Debian's dcmtk and GDCM tools made, in every transfer syntax the RSNA data
 * uses, and compares every pixel with the same tools' own decoding (decompressed by the tool, pixel
 * bytes extracted by gdcmraw). No file here is written by SpineKit.
 */
class DicomCodecsTest {
  @TempDir static Path dir;

  /** A base image made by gdcmimg from raw samples: bits allocated/stored, sign, frames. */
  record Base(String name, int allocated, int stored, boolean signed, int frames) {}

  static final int ROWS = 48;
  static final int COLS = 56;
  static final List<Base> BASES =
      List.of(
          new Base("u8", 8, 8, false, 1),
          new Base("s16", 16, 16, true, 1),
          new Base("u16", 16, 16, false, 1),
          new Base("s12", 16, 12, true, 1),
          new Base("u12", 16, 12, false, 1),
          new Base("s16mf", 16, 16, true, 3));

  @BeforeAll
  static void makeBases() throws IOException {
    for (Base b : BASES) {
      int n = ROWS * COLS * b.frames();
      ByteBuffer raw = ByteBuffer.allocate(n * b.allocated() / 8).order(ByteOrder.LITTLE_ENDIAN);
      long range = 1L << b.stored();
      long min = b.signed() ? -(range / 2) : 0;
      java.util.SplittableRandom rnd = new java.util.SplittableRandom(b.name().hashCode());
      for (int i = 0; i < n; i++) {
        int r = (i / COLS) % ROWS;
        int c = i % COLS;
        // Smooth ramps (so lossy codecs have structure to keep), full-range corners, noise.
        long v =
            min + (long) ((r * 7 + c * 13 + (i / (ROWS * COLS)) * 101) * (range / 1024.0)) % range;
        if (i % 97 == 0) v = min;
        if (i % 89 == 0) v = min + range - 1;
        v += rnd.nextInt(5) - 2;
        v = Math.max(min, Math.min(min + range - 1, v));
        if (b.allocated() == 8) raw.put((byte) v);
        else raw.putShort((short) v);
      }
      Path rawFile = dir.resolve(b.name() + ".raw");
      Files.write(rawFile, raw.array());
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  "gdcmimg",
                  "--depth",
                  Integer.toString(b.allocated()),
                  "--sign",
                  b.signed() ? "1" : "0",
                  "--size",
                  COLS + "," + ROWS + (b.frames() > 1 ? "," + b.frames() : "")));
      if (b.stored() != b.allocated()) {
        cmd.addAll(List.of("--pf", b.allocated() + "," + b.stored() + "," + (b.stored() - 1)));
      }
      if (b.frames() > 1) cmd.addAll(List.of("-C", "1.2.840.10008.5.1.4.1.1.7.3"));
      cmd.addAll(List.of("-i", rawFile.toString(), "-o", b.name() + ".dcm"));
      ExternalTools.run(dir, cmd.toArray(String[]::new));
    }
  }

  /** (base, encoder, decoder, expected transfer syntax) */
  static Stream<Arguments> cases() {
    List<Arguments> a = new ArrayList<>();
    String[][] lossless = {
      {"implicit", "dcmconv +ti", "dcmconv +te", "1.2.840.10008.1.2"},
      {"bigendian", "dcmconv +tb", "dcmconv +te", "1.2.840.10008.1.2.2"},
      {"deflated", "dcmconv +td", "dcmconv +te", "1.2.840.10008.1.2.1.99"},
      {"jpeg-lossless-sv1", "dcmcjpeg +e1", "dcmdjpeg", "1.2.840.10008.1.2.4.70"},
      {"jpeg-lossless-sv6", "dcmcjpeg +el +sv 6", "dcmdjpeg", "1.2.840.10008.1.2.4.57"},
      {"jpegls", "dcmcjpls", "dcmdjpls", "1.2.840.10008.1.2.4.80"},
      {"jpegls-near", "dcmcjpls +en", "dcmdjpls", "1.2.840.10008.1.2.4.81"},
      {"rle", "dcmcrle", "dcmdrle", "1.2.840.10008.1.2.5"},
      {"j2k", "gdcmconv --j2k", "gdcmconv --raw", "1.2.840.10008.1.2.4.90"},
      {"j2k-lossy", "gdcmconv --j2k --lossy -q 30", "gdcmconv --raw", "1.2.840.10008.1.2.4.91"},
    };
    for (Base b : BASES) {
      for (String[] e : lossless) {
        // dcmtk's near-lossless JPEG-LS encoder takes unsigned samples only.
        if (e[0].equals("jpegls-near") && b.signed()) continue;
        a.add(Arguments.of(b.name(), e[0], e[1], e[2], e[3]));
      }
    }
    a.add(
        Arguments.of("u8", "jpeg-baseline", "dcmcjpeg +eb", "dcmdjpeg", "1.2.840.10008.1.2.4.50"));
    // 12-bit lossy JPEG is the one syntax left to the external codec (ExternalCodecAbsentTest
    // checks the error without one).
    if (CodecSupport.EXTERNAL) {
      a.add(
          Arguments.of(
              "u12", "jpeg-extended", "dcmcjpeg +ee", "dcmdjpeg", "1.2.840.10008.1.2.4.51"));
    }
    return a.stream();
  }

  private static String[] cmd(String tool, String in, String out) {
    List<String> c = new ArrayList<>(List.of(tool.split(" ")));
    if (tool.startsWith("gdcm")) {
      c.addAll(List.of("-i", in, "-o", out));
    } else {
      c.addAll(List.of(in, out));
    }
    return c.toArray(String[]::new);
  }

  @ParameterizedTest(name = "{0} {1}")
  @Tag("codec")
  @MethodSource("cases")
  void decodesLikeTheTools(String base, String enc, String encoder, String decoder, String ts)
      throws IOException {
    Base b = BASES.stream().filter(x -> x.name().equals(base)).findFirst().orElseThrow();
    String name = base + "-" + enc;
    ExternalTools.run(dir, cmd(encoder, base + ".dcm", name + ".dcm"));
    ExternalTools.run(dir, cmd(decoder, name + ".dcm", name + ".ref.dcm"));
    ExternalTools.run(
        dir, "gdcmraw", "-t", "7fe0,0010", "-i", name + ".ref.dcm", "-o", name + ".ref.raw");
    byte[] ref = Files.readAllBytes(dir.resolve(name + ".ref.raw"));

    DicomImage img = DicomFile.read(dir.resolve(name + ".dcm"));
    DicomHeader h = img.header();
    assertEquals(ts, h.transferSyntaxUid(), name + ": transfer syntax");
    assertEquals(ROWS, h.rows());
    assertEquals(COLS, h.columns());
    assertEquals(b.frames(), h.frames());
    assertEquals(b.signed(), h.signed(), name + ": signedness");
    int n = ROWS * COLS * b.frames();
    int[] expected = new int[n];
    int mask = (1 << b.stored()) - 1;
    for (int i = 0; i < n; i++) {
      int raw =
          b.allocated() == 8 ? ref[i] & 0xff : (ref[2 * i] & 0xff) | ((ref[2 * i + 1] & 0xff) << 8);
      int v = raw & mask;
      if (b.signed() && (v & (1 << (b.stored() - 1))) != 0) v -= 1 << b.stored();
      expected[i] = v;
    }
    int[] actual = new int[n];
    for (int f = 0; f < b.frames(); f++) {
      for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < COLS; c++) {
          actual[(f * ROWS + r) * COLS + c] = img.stored(f, r, c);
        }
      }
    }
    assertArrayEquals(expected, actual, name + ": pixels differ from " + decoder + "'s decoding");
    // The lossless syntaxes give back the very samples gdcmimg stored.
    if (!enc.contains("lossy")
        && !enc.contains("near")
        && !enc.contains("baseline")
        && !enc.contains("extended")) {
      byte[] orig = Files.readAllBytes(dir.resolve(base + ".raw"));
      for (int i = 0; i < n; i++) {
        int raw =
            b.allocated() == 8
                ? orig[i] & 0xff
                : (short) ((orig[2 * i] & 0xff) | ((orig[2 * i + 1] & 0xff) << 8));
        if (!b.signed()) raw &= 0xffff;
        assertEquals(raw, actual[i], name + ": sample " + i + " of the original");
      }
    }
    boolean encapsulated = ts.startsWith("1.2.840.10008.1.2.4") || ts.equals("1.2.840.10008.1.2.5");
    assertEquals(encapsulated, h.compressed(), name + ": compressed flag");
  }

  /**
   * Without an external codec (never on this module's class path) 12-bit lossy JPEG is the one
   * syntax that cannot be decoded: a {@link MissingCodecException} naming the file and what to
   * install, which a reader that skips bad files does not skip (every such file would fail alike).
   */
  @Test
  void twelveBitLossyJpegWithoutACodecSaysWhatToInstall() throws IOException {
    assertFalse(CodecSupport.EXTERNAL, "this module's tests run without an external codec");
    Path sub = Files.createDirectories(dir.resolve("extended-only"));
    ExternalTools.run(dir, cmd("dcmcjpeg +ee", "u12.dcm", "extended-only/1.dcm"));
    Path f = sub.resolve("1.dcm");
    assertEquals("1.2.840.10008.1.2.4.51", DicomFile.readHeader(f).transferSyntaxUid());
    MissingCodecException e = assertThrows(MissingCodecException.class, () -> DicomFile.read(f));
    assertTrue(e.getMessage().startsWith(f + ": decoding JPEG"), e.getMessage());
    assertTrue(e.getMessage().contains("org.spinekit:spinekit-gdcm"), e.getMessage());
    assertTrue(e.getMessage().contains("apt-get install libgdcm-java"), e.getMessage());
    DicomSeriesReader.Options skip = DicomSeriesReader.Options.defaults().withSkipBadFiles(true);
    assertThrows(MissingCodecException.class, () -> DicomSeriesReader.read(sub, skip));
  }
}
