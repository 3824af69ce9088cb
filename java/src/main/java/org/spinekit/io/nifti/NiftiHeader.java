package org.spinekit.io.nifti;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.spinekit.io.MalformedFileException;

/**
 * The fields of a NIfTI-1 (348 bytes) or NIfTI-2 (540 bytes) header, with their byte layout:
 * decoded from either byte order, encoded little-endian. Holds every field that {@link NiftiImage}
 * keeps; {@code data_type}, {@code db_name}, {@code extents}, {@code session_error}, {@code
 * regular}, {@code glmax} and {@code glmin} (unused ANALYZE 7.5 leftovers) are written as zeros.
 */
final class NiftiHeader {
  static final int SIZE1 = 348;
  static final int SIZE2 = 540;

  /** NIfTI-2 magic: "n+2\0" followed by the transfer check bytes "\r\n\032\n". */
  private static final byte[] MAGIC2 = {'n', '+', '2', 0, '\r', '\n', 032, '\n'};

  int version = 1;
  long[] dim = new long[8];
  int datatype;
  int bitpix;
  double[] pixdim = new double[8];
  long voxOffset;
  double sclSlope;
  double sclInter;
  double calMax;
  double calMin;
  double sliceDuration;
  double toffset;
  long sliceStart;
  long sliceEnd;
  int sliceCode;
  int xyztUnits;
  int intentCode;
  double[] intentP = new double[3];
  String intentName = "";
  String descrip = "";
  String auxFile = "";
  int qformCode;
  int sformCode;
  double quaternB;
  double quaternC;
  double quaternD;
  double qoffsetX;
  double qoffsetY;
  double qoffsetZ;
  double[][] srow = new double[3][4];
  int dimInfo;

  NiftiHeader copy() {
    NiftiHeader h = new NiftiHeader();
    h.version = version;
    h.dim = dim.clone();
    h.datatype = datatype;
    h.bitpix = bitpix;
    h.pixdim = pixdim.clone();
    h.voxOffset = voxOffset;
    h.sclSlope = sclSlope;
    h.sclInter = sclInter;
    h.calMax = calMax;
    h.calMin = calMin;
    h.sliceDuration = sliceDuration;
    h.toffset = toffset;
    h.sliceStart = sliceStart;
    h.sliceEnd = sliceEnd;
    h.sliceCode = sliceCode;
    h.xyztUnits = xyztUnits;
    h.intentCode = intentCode;
    h.intentP = intentP.clone();
    h.intentName = intentName;
    h.descrip = descrip;
    h.auxFile = auxFile;
    h.qformCode = qformCode;
    h.sformCode = sformCode;
    h.quaternB = quaternB;
    h.quaternC = quaternC;
    h.quaternD = quaternD;
    h.qoffsetX = qoffsetX;
    h.qoffsetY = qoffsetY;
    h.qoffsetZ = qoffsetZ;
    h.srow = new double[3][];
    for (int r = 0; r < 3; r++) h.srow[r] = srow[r].clone();
    h.dimInfo = dimInfo;
    return h;
  }

  /**
   * The header size and byte order announced by the first four bytes ({@code sizeof_hdr}): 348
   * (NIfTI-1) or 540 (NIfTI-2), little- or big-endian.
   */
  static ByteOrder orderOf(byte[] first4, Path file) throws MalformedFileException {
    int le = ByteBuffer.wrap(first4).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
    int be = ByteBuffer.wrap(first4).order(ByteOrder.BIG_ENDIAN).getInt(0);
    if (le == SIZE1 || le == SIZE2) return ByteOrder.LITTLE_ENDIAN;
    if (be == SIZE1 || be == SIZE2) return ByteOrder.BIG_ENDIAN;
    throw new MalformedFileException(
        file,
        "sizeof_hdr is "
            + le
            + " (little-endian) or "
            + be
            + " (big-endian); expected 348 (NIfTI-1) or 540 (NIfTI-2): not a NIfTI file");
  }

  static int sizeOf(byte[] first4, ByteOrder order) {
    return ByteBuffer.wrap(first4).order(order).getInt(0);
  }

  /** Decodes a whole header ({@link #SIZE1} or {@link #SIZE2} bytes) of the given order. */
  static NiftiHeader decode(byte[] bytes, ByteOrder order, Path file)
      throws MalformedFileException {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(order);
    NiftiHeader h = new NiftiHeader();
    if (bytes.length == SIZE1) {
      decode1(b, h, file);
    } else if (bytes.length == SIZE2) {
      decode2(b, h, file);
    } else {
      throw new IllegalArgumentException("header bytes: expected 348 or 540, got " + bytes.length);
    }
    return h;
  }

  private static void decode1(ByteBuffer b, NiftiHeader h, Path file)
      throws MalformedFileException {
    byte[] magic = new byte[4];
    b.get(344, magic);
    if (magic[0] == 'n' && magic[1] == 'i' && magic[2] == '1' && magic[3] == 0) {
      throw new MalformedFileException(
          file,
          "magic \"ni1\": the header of a .hdr/.img pair;"
              + " only single-file NIfTI (magic \"n+1\") is supported");
    }
    if (!(magic[0] == 'n' && magic[1] == '+' && magic[2] == '1' && magic[3] == 0)) {
      throw new MalformedFileException(
          file,
          "magic at byte 344 is "
              + quote(magic)
              + ", expected \"n+1\\0\" (an ANALYZE 7.5 header is not NIfTI)");
    }
    h.version = 1;
    h.dimInfo = b.get(39) & 0xff;
    for (int i = 0; i < 8; i++) h.dim[i] = b.getShort(40 + 2 * i);
    for (int i = 0; i < 3; i++) h.intentP[i] = b.getFloat(56 + 4 * i);
    h.intentCode = b.getShort(68);
    h.datatype = b.getShort(70);
    h.bitpix = b.getShort(72);
    h.sliceStart = b.getShort(74);
    for (int i = 0; i < 8; i++) h.pixdim[i] = b.getFloat(76 + 4 * i);
    float off = b.getFloat(108);
    if (!(off >= 0) || off != Math.rint(off) || off > Integer.MAX_VALUE) {
      throw new MalformedFileException(
          file, "vox_offset is " + off + ", expected a non-negative whole number of bytes");
    }
    h.voxOffset = (long) off;
    h.sclSlope = b.getFloat(112);
    h.sclInter = b.getFloat(116);
    h.sliceEnd = b.getShort(120);
    h.sliceCode = b.get(122) & 0xff;
    h.xyztUnits = b.get(123) & 0xff;
    h.calMax = b.getFloat(124);
    h.calMin = b.getFloat(128);
    h.sliceDuration = b.getFloat(132);
    h.toffset = b.getFloat(136);
    h.descrip = text(b, 148, 80);
    h.auxFile = text(b, 228, 24);
    h.qformCode = b.getShort(252);
    h.sformCode = b.getShort(254);
    h.quaternB = b.getFloat(256);
    h.quaternC = b.getFloat(260);
    h.quaternD = b.getFloat(264);
    h.qoffsetX = b.getFloat(268);
    h.qoffsetY = b.getFloat(272);
    h.qoffsetZ = b.getFloat(276);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) h.srow[r][c] = b.getFloat(280 + 16 * r + 4 * c);
    }
    h.intentName = text(b, 328, 16);
  }

  private static void decode2(ByteBuffer b, NiftiHeader h, Path file)
      throws MalformedFileException {
    byte[] magic = new byte[8];
    b.get(4, magic);
    if (magic[0] == 'n' && magic[1] == 'i' && magic[2] == '2' && magic[3] == 0) {
      throw new MalformedFileException(
          file,
          "magic \"ni2\": the header of a .hdr/.img pair;"
              + " only single-file NIfTI-2 (magic \"n+2\") is supported");
    }
    if (!(magic[0] == 'n' && magic[1] == '+' && magic[2] == '2' && magic[3] == 0)) {
      throw new MalformedFileException(
          file, "magic at byte 4 is " + quote(magic) + ", expected \"n+2\\0\"");
    }
    if (!Arrays.equals(magic, MAGIC2)) {
      throw new MalformedFileException(
          file,
          "NIfTI-2 transfer check bytes 8-11 are "
              + Arrays.toString(Arrays.copyOfRange(magic, 4, 8))
              + ", expected [13, 10, 26, 10]:"
              + " the file was altered by a text-mode transfer");
    }
    h.version = 2;
    h.datatype = b.getShort(12);
    h.bitpix = b.getShort(14);
    for (int i = 0; i < 8; i++) h.dim[i] = b.getLong(16 + 8 * i);
    for (int i = 0; i < 3; i++) h.intentP[i] = b.getDouble(80 + 8 * i);
    for (int i = 0; i < 8; i++) h.pixdim[i] = b.getDouble(104 + 8 * i);
    h.voxOffset = b.getLong(168);
    if (h.voxOffset < 0) {
      throw new MalformedFileException(
          file, "vox_offset is " + h.voxOffset + ", expected a non-negative number of bytes");
    }
    h.sclSlope = b.getDouble(176);
    h.sclInter = b.getDouble(184);
    h.calMax = b.getDouble(192);
    h.calMin = b.getDouble(200);
    h.sliceDuration = b.getDouble(208);
    h.toffset = b.getDouble(216);
    h.sliceStart = b.getLong(224);
    h.sliceEnd = b.getLong(232);
    h.descrip = text(b, 240, 80);
    h.auxFile = text(b, 320, 24);
    h.qformCode = b.getInt(344);
    h.sformCode = b.getInt(348);
    h.quaternB = b.getDouble(352);
    h.quaternC = b.getDouble(360);
    h.quaternD = b.getDouble(368);
    h.qoffsetX = b.getDouble(376);
    h.qoffsetY = b.getDouble(384);
    h.qoffsetZ = b.getDouble(392);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) h.srow[r][c] = b.getDouble(400 + 32 * r + 8 * c);
    }
    h.sliceCode = b.getInt(496);
    h.xyztUnits = b.getInt(500);
    h.intentCode = b.getInt(504);
    h.intentName = text(b, 508, 16);
    h.dimInfo = b.get(524) & 0xff;
  }

  /**
   * This header as NIfTI-1 (version 1) or NIfTI-2 (version 2) bytes, little-endian, followed by the
   * four-byte extension flag (no extensions): 352 or 544 bytes, {@code vox_offset} pointing just
   * past them.
   */
  byte[] encode(int version) {
    int size = version == 1 ? SIZE1 : SIZE2;
    ByteBuffer b = ByteBuffer.allocate(size + 4).order(ByteOrder.LITTLE_ENDIAN);
    if (version == 1) {
      encode1(b);
    } else {
      encode2(b);
    }
    return b.array();
  }

  private void encode1(ByteBuffer b) {
    b.putInt(0, SIZE1);
    b.put(38, (byte) 'r');
    b.put(39, (byte) dimInfo);
    for (int i = 0; i < 8; i++) b.putShort(40 + 2 * i, (short) dim[i]);
    for (int i = 0; i < 3; i++) b.putFloat(56 + 4 * i, (float) intentP[i]);
    b.putShort(68, (short) intentCode);
    b.putShort(70, (short) datatype);
    b.putShort(72, (short) bitpix);
    b.putShort(74, (short) sliceStart);
    for (int i = 0; i < 8; i++) b.putFloat(76 + 4 * i, (float) pixdim[i]);
    b.putFloat(108, SIZE1 + 4);
    b.putFloat(112, (float) sclSlope);
    b.putFloat(116, (float) sclInter);
    b.putShort(120, (short) sliceEnd);
    b.put(122, (byte) sliceCode);
    b.put(123, (byte) xyztUnits);
    b.putFloat(124, (float) calMax);
    b.putFloat(128, (float) calMin);
    b.putFloat(132, (float) sliceDuration);
    b.putFloat(136, (float) toffset);
    putText(b, 148, 80, descrip);
    putText(b, 228, 24, auxFile);
    b.putShort(252, (short) qformCode);
    b.putShort(254, (short) sformCode);
    b.putFloat(256, (float) quaternB);
    b.putFloat(260, (float) quaternC);
    b.putFloat(264, (float) quaternD);
    b.putFloat(268, (float) qoffsetX);
    b.putFloat(272, (float) qoffsetY);
    b.putFloat(276, (float) qoffsetZ);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) b.putFloat(280 + 16 * r + 4 * c, (float) srow[r][c]);
    }
    putText(b, 328, 16, intentName);
    b.put(344, (byte) 'n').put(345, (byte) '+').put(346, (byte) '1').put(347, (byte) 0);
  }

  private void encode2(ByteBuffer b) {
    b.putInt(0, SIZE2);
    b.put(4, MAGIC2);
    b.putShort(12, (short) datatype);
    b.putShort(14, (short) bitpix);
    for (int i = 0; i < 8; i++) b.putLong(16 + 8 * i, dim[i]);
    for (int i = 0; i < 3; i++) b.putDouble(80 + 8 * i, intentP[i]);
    for (int i = 0; i < 8; i++) b.putDouble(104 + 8 * i, pixdim[i]);
    b.putLong(168, SIZE2 + 4);
    b.putDouble(176, sclSlope);
    b.putDouble(184, sclInter);
    b.putDouble(192, calMax);
    b.putDouble(200, calMin);
    b.putDouble(208, sliceDuration);
    b.putDouble(216, toffset);
    b.putLong(224, sliceStart);
    b.putLong(232, sliceEnd);
    putText(b, 240, 80, descrip);
    putText(b, 320, 24, auxFile);
    b.putInt(344, qformCode);
    b.putInt(348, sformCode);
    b.putDouble(352, quaternB);
    b.putDouble(360, quaternC);
    b.putDouble(368, quaternD);
    b.putDouble(376, qoffsetX);
    b.putDouble(384, qoffsetY);
    b.putDouble(392, qoffsetZ);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) b.putDouble(400 + 32 * r + 8 * c, srow[r][c]);
    }
    b.putInt(496, sliceCode);
    b.putInt(500, xyztUnits);
    b.putInt(504, intentCode);
    putText(b, 508, 16, intentName);
    b.put(524, (byte) dimInfo);
  }

  /** A NUL-terminated field, bytes as ISO-8859-1 so that any byte survives a round trip. */
  private static String text(ByteBuffer b, int at, int len) {
    int n = 0;
    while (n < len && b.get(at + n) != 0) n++;
    byte[] s = new byte[n];
    b.get(at, s);
    return new String(s, StandardCharsets.ISO_8859_1);
  }

  private static void putText(ByteBuffer b, int at, int len, String s) {
    byte[] v = s.getBytes(StandardCharsets.ISO_8859_1);
    b.put(at, v, 0, Math.min(v.length, len - 1));
  }

  private static String quote(byte[] magic) {
    StringBuilder s = new StringBuilder("\"");
    for (byte x : magic) {
      int c = x & 0xff;
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        s.append((char) c);
      } else {
        s.append(String.format("\\x%02x", c));
      }
    }
    return s.append('"').toString();
  }
}
