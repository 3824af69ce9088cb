package org.spinekit.io.dicom;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.Volume;

/**
 * Writes a {@link Volume} of stored integers as a DICOM series, one single-frame file per slice
 * named {@code <instanceNumber>.dcm} (instance numbers 1..N in slice order), with consistent study,
 * series, SOP and frame-of-reference UIDs and the volume's geometry in Image Position / Orientation
 * (Patient), Pixel Spacing and Slice Thickness. Files are Explicit VR Little Endian, or re-encoded
 * losslessly ({@link Compression}) by the {@link ExternalCodec} (spinekit-gdcm), which compression
 * needs. Each file appears atomically (temporary file, then rename).
 */
public final class DicomWriter {
  private DicomWriter() {}

  /** Identity of the series written. {@code modality} "CT" or "MR" selects the SOP class. */
  public record Series(
      String patientId,
      String studyInstanceUid,
      String seriesInstanceUid,
      int seriesNumber,
      String seriesDescription,
      String modality,
      String frameOfReferenceUid) {
    public Series {
      uid(studyInstanceUid, "studyInstanceUid");
      uid(seriesInstanceUid, "seriesInstanceUid");
      uid(frameOfReferenceUid, "frameOfReferenceUid");
      if (patientId == null || patientId.length() > 64) {
        throw new IllegalArgumentException(
            "patientId: expected at most 64 characters, got "
                + (patientId == null ? "none" : "'" + patientId + "'"));
      }
      if (seriesDescription == null || seriesDescription.length() > 64) {
        throw new IllegalArgumentException(
            "seriesDescription: expected at most 64 characters,"
                + " got "
                + (seriesDescription == null ? "none" : "'" + seriesDescription + "'"));
      }
      if (modality == null || !modality.matches("[A-Z]{2,16}")) {
        throw new IllegalArgumentException(
            "modality: expected a code such as CT or MR, got " + modality);
      }
    }
  }

  /** Study, series and content date and time written into every file. */
  static final String STUDY_DATE = "20000101";

  static final String STUDY_TIME = "000000";
  static final String CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2";
  static final String MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4";
  static final String SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7";

  /** Implementation Class UID of files SpineKit writes (a UUID-derived 2.25 UID). */
  static final String IMPLEMENTATION_UID = "2.25.113059749145936325402354257176981405696";

  /** Checks a DICOM UID: 1-64 characters, digits and dots, no empty or zero-led component. */
  public static String uid(String s, String name) {
    if (s == null
        || s.isEmpty()
        || s.length() > 64
        || !s.matches("(0|[1-9][0-9]*)(\\.(0|[1-9][0-9]*))*")) {
      throw new IllegalArgumentException(
          name
              + ": expected a DICOM UID (digits and dots, at most"
              + " 64 characters, no leading zeros), got "
              + (s == null ? "none" : "'" + s + "'"));
    }
    return s;
  }

  /** Writes every slice of {@code v} into {@code dir}; returns the files in slice order. */
  public static List<Path> writeSeries(Volume v, Path dir, Series s, Compression c)
      throws IOException {
    if (v.kind() == Volume.Kind.FLOAT32) {
      throw new IllegalArgumentException(
          "volume: expected stored INT16 or UINT16 voxels with a" + " rescale, got FLOAT32");
    }
    String sopUidMax = s.seriesInstanceUid() + "." + v.slices();
    uid(sopUidMax, "seriesInstanceUid + \".\" + instance number");
    // The codec is looked up before anything is written: without one, nothing is.
    ExternalCodec codec =
        c == Compression.NONE
            ? null
            : ExternalCodecs.require(null, "writing " + c + " compressed DICOM");
    Files.createDirectories(dir);
    List<Path> out = new ArrayList<>(v.slices());
    for (int z = 0; z < v.slices(); z++) {
      out.add(writeSlice(v, z, dir, s, c, codec));
    }
    return out;
  }

  private static Path writeSlice(
      Volume v, int z, Path dir, Series s, Compression c, ExternalCodec codec) throws IOException {
    int instance = z + 1;
    Path target = dir.resolve(instance + ".dcm");
    byte[] bytes = encode(v, z, s, instance);
    if (c == Compression.NONE) {
      AtomicFiles.write(target, bytes);
      return target;
    }
    Path raw = Files.createTempFile(dir, "." + instance + ".", ".raw.dcm");
    Path enc = Files.createTempFile(dir, "." + instance + ".", ".enc.dcm");
    try {
      Files.write(raw, bytes);
      codec.transcode(raw, enc, c);
      Files.move(enc, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(raw);
      Files.deleteIfExists(enc);
    }
    return target;
  }

  private static String sopClass(String modality) {
    return switch (modality) {
      case "CT" -> CT_IMAGE_STORAGE;
      case "MR" -> MR_IMAGE_STORAGE;
      default -> SECONDARY_CAPTURE;
    };
  }

  /** The Explicit VR Little Endian file of slice {@code z}. */
  static byte[] encode(Volume v, int z, Series s, int instance) {
    String sopClass = sopClass(s.modality());
    String sopUid = s.seriesInstanceUid() + "." + instance;
    Encoder meta = new Encoder();
    meta.bytes(0x00020001, "OB", new byte[] {0, 1});
    meta.string(0x00020002, "UI", sopClass);
    meta.string(0x00020003, "UI", sopUid);
    meta.string(0x00020010, "UI", Compression.NONE.transferSyntaxUid);
    meta.string(0x00020012, "UI", IMPLEMENTATION_UID);
    meta.string(0x00020013, "SH", "SPINEKIT_010");
    byte[] metaBytes = meta.toByteArray();

    double[] sp = v.spacing();
    double[] pos = v.toPatient(z, 0, 0);
    double[] r = v.rowDirection();
    double[] c = v.columnDirection();
    Encoder ds = new Encoder();
    ds.string(0x00080008, "CS", "ORIGINAL\\PRIMARY\\AXIAL");
    ds.string(0x00080016, "UI", sopClass);
    ds.string(0x00080018, "UI", sopUid);
    // Fixed dates and times: output depends on the input only (GDCM would fill in the clock).
    ds.string(0x00080020, "DA", STUDY_DATE);
    ds.string(0x00080021, "DA", STUDY_DATE);
    ds.string(0x00080023, "DA", STUDY_DATE);
    ds.string(0x00080030, "TM", STUDY_TIME);
    ds.string(0x00080031, "TM", STUDY_TIME);
    ds.string(0x00080033, "TM", STUDY_TIME);
    ds.string(0x00080050, "SH", "");
    ds.string(0x00080060, "CS", s.modality());
    ds.string(0x0008103E, "LO", s.seriesDescription());
    ds.string(0x00100010, "PN", s.patientId());
    ds.string(0x00100020, "LO", s.patientId());
    ds.string(0x00100030, "DA", "");
    ds.string(0x00100040, "CS", "");
    ds.string(0x00180050, "DS", ds(sp[2]));
    ds.string(0x00180088, "DS", ds(sp[2]));
    ds.string(0x0020000D, "UI", s.studyInstanceUid());
    ds.string(0x0020000E, "UI", s.seriesInstanceUid());
    ds.string(0x00200010, "SH", "");
    ds.string(0x00200011, "IS", Integer.toString(s.seriesNumber()));
    ds.string(0x00200013, "IS", Integer.toString(instance));
    ds.string(0x00200032, "DS", ds(pos[0]) + "\\" + ds(pos[1]) + "\\" + ds(pos[2]));
    ds.string(
        0x00200037,
        "DS",
        ds(r[0]) + "\\" + ds(r[1]) + "\\" + ds(r[2]) + "\\" + ds(c[0]) + "\\" + ds(c[1]) + "\\"
            + ds(c[2]));
    ds.string(0x00200052, "UI", s.frameOfReferenceUid());
    ds.us(0x00280002, 1);
    ds.string(0x00280004, "CS", "MONOCHROME2");
    ds.us(0x00280010, v.rows());
    ds.us(0x00280011, v.columns());
    ds.string(0x00280030, "DS", ds(sp[0]) + "\\" + ds(sp[1]));
    ds.us(0x00280100, 16);
    ds.us(0x00280101, 16);
    ds.us(0x00280102, 15);
    ds.us(0x00280103, v.kind() == Volume.Kind.INT16 ? 1 : 0);
    ds.string(0x00281052, "DS", ds(v.intercept()));
    ds.string(0x00281053, "DS", ds(v.slope()));
    int n = v.rows() * v.columns();
    byte[] px = new byte[n * 2];
    java.nio.ByteBuffer.wrap(px)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .asShortBuffer()
        .put(v.shorts(), z * n, n);
    ds.bytes(0x7FE00010, "OW", px);
    byte[] dsBytes = ds.toByteArray();

    ByteArrayOutputStream out =
        new ByteArrayOutputStream(132 + 12 + metaBytes.length + dsBytes.length);
    out.write(new byte[128], 0, 128);
    out.write('D');
    out.write('I');
    out.write('C');
    out.write('M');
    Encoder len = new Encoder();
    len.ul(0x00020000, metaBytes.length);
    out.writeBytes(len.toByteArray());
    out.writeBytes(metaBytes);
    out.writeBytes(dsBytes);
    return out.toByteArray();
  }

  /** A decimal string of at most 16 characters holding {@code x} as exactly as fits. */
  static String ds(double x) {
    if (!Double.isFinite(x)) throw new IllegalArgumentException("DS value: not finite: " + x);
    if (x == 0) return "0";
    String s = BigDecimal.valueOf(x).stripTrailingZeros().toPlainString();
    for (int digits = 16; s.length() > 16 && digits > 1; digits--) {
      BigDecimal b = new BigDecimal(x).round(new MathContext(digits)).stripTrailingZeros();
      s = b.toPlainString();
      if (s.length() > 16) s = b.toString().toUpperCase(Locale.ROOT);
    }
    return s;
  }

  /** Explicit VR little-endian element encoder. */
  private static final class Encoder {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(1024);

    void header(int tag, String vr, int len) {
      u16(tag >>> 16);
      u16(tag & 0xffff);
      out.write(vr.charAt(0));
      out.write(vr.charAt(1));
      if (vr.equals("OB")
          || vr.equals("OW")
          || vr.equals("SQ")
          || vr.equals("UN")
          || vr.equals("UT")) {
        u16(0);
        u32(len);
      } else {
        u16(len);
      }
    }

    void string(int tag, String vr, String value) {
      byte[] b = value.getBytes(StandardCharsets.ISO_8859_1);
      int len = b.length + (b.length & 1);
      header(tag, vr, len);
      out.writeBytes(b);
      if ((b.length & 1) != 0) out.write(vr.equals("UI") ? 0 : ' ');
    }

    void us(int tag, int value) {
      header(tag, "US", 2);
      u16(value);
    }

    void ul(int tag, int value) {
      header(tag, "UL", 4);
      u32(value);
    }

    void bytes(int tag, String vr, byte[] b) {
      int len = b.length + (b.length & 1);
      header(tag, vr, len);
      out.writeBytes(b);
      if ((b.length & 1) != 0) out.write(0);
    }

    private void u16(int v) {
      out.write(v & 0xff);
      out.write((v >>> 8) & 0xff);
    }

    private void u32(int v) {
      u16(v & 0xffff);
      u16(v >>> 16);
    }

    byte[] toByteArray() {
      return out.toByteArray();
    }
  }
}
