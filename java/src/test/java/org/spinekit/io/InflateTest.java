package org.spinekit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

/**
 * Both inflaters on the same streams: the same bytes out of a stream in the middle of a larger
 * buffer, and the same refusals of streams that inflate to more or less than the array, or are
 * corrupt. Where libspinekit_codecs has no libdeflate (CodecsBuildTest checks that against what the
 * build found) the zlib side runs alone and the native one must say it is missing.
 */
class InflateTest {
  static List<Boolean> sides() {
    return Inflate.libdeflate() ? List.of(true, false) : List.of(false);
  }

  static byte[] deflate(byte[] data) {
    Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    d.setInput(data);
    d.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[1 << 14];
    while (!d.finished()) out.write(buf, 0, d.deflate(buf));
    d.end();
    return out.toByteArray();
  }

  @Test
  void inflatesAStreamInsideABuffer() {
    byte[] data = new byte[300_000];
    Random r = new Random(5);
    for (int i = 0; i < data.length; i++) data[i] = (byte) (r.nextGaussian() * 20);
    byte[] packed = deflate(data);
    byte[] buffer = new byte[packed.length + 100];
    Arrays.fill(buffer, (byte) 0x5a);
    System.arraycopy(packed, 0, buffer, 60, packed.length);
    for (boolean side : sides()) {
      byte[] out = new byte[data.length];
      assertNull(Inflate.into(buffer, 60, packed.length, out, side), "libdeflate " + side);
      assertArrayEquals(data, out, "libdeflate " + side);
      byte[] empty = deflate(new byte[0]);
      assertNull(Inflate.into(empty, 0, empty.length, new byte[0], side));
    }
  }

  @Test
  void refusesStreamsOfAnotherSizeAndCorruptOnes() {
    byte[] packed = deflate(new byte[10_000]);
    byte[] garbage = {(byte) 0xff, (byte) 0xff, 1, 2, 3};
    for (boolean side : sides()) {
      byte[] small = new byte[1000];
      Arrays.fill(small, (byte) 7);
      assertEquals(
          "inflates to more than 1000 bytes", Inflate.into(packed, 0, packed.length, small, side));
      assertEquals(
          "inflates to 10000 bytes, not 20000",
          Inflate.into(packed, 0, packed.length, new byte[20_000], side));
      assertEquals(
          "corrupt or truncated DEFLATE data",
          Inflate.into(garbage, 0, garbage.length, new byte[10], side));
      assertEquals(
          "corrupt or truncated DEFLATE data",
          Inflate.into(packed, 0, packed.length / 2, new byte[10_000], side));
    }
  }

  @Test
  void checksItsArguments() {
    for (boolean side : sides()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Inflate.into(new byte[4], 2, 3, new byte[4], side));
      assertTrue(e.getMessage().contains("offset 2 and length 3 within 4 bytes"), e.getMessage());
    }
    if (!Inflate.libdeflate()) {
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () -> Inflate.into(new byte[4], 0, 4, new byte[4], true));
      assertTrue(e.getMessage().contains("no DEFLATE decoder"), e.getMessage());
    }
  }
}
