package org.spinekit.io.dicom;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.spinekit.internal.concurrent.DaemonThreads;
import org.spinekit.io.MalformedFileException;

/**
 * Reads one DICOM file: the header ({@link #readHeader}) or the header and the decoded stored pixel
 * values of every frame ({@link #read}). Uncompressed transfer syntaxes (implicit and explicit VR
 * little endian, explicit big endian, deflated) are decoded in Java; encapsulated ones by decoders
 * that fail cleanly on corrupt data, after the file's structure has been checked here: lossless
 * JPEG and RLE in Java, 8-bit JPEG through the JDK, JPEG 2000 and JPEG-LS through
 * libspinekit_codecs (OpenJPEG, CharLS). Only 12-bit lossy JPEG (and the others when
 * libspinekit_codecs lacks a decoder) goes to the {@link ExternalCodec} (GDCM, from spinekit-gdcm),
 * given the checked fragments, never the file; without one those files fail with a {@link
 * MissingCodecException}.
 *
 * <p>Every problem is an {@link MalformedFileException} naming the file: a file that is not DICOM,
 * is truncated, has no pixel data or an unsupported pixel format. Parsing and the decoders of our
 * own are linear in the file size; an external decode is also bounded in time (system property
 * {@code spinekit.dicom.decodeTimeoutSeconds}, default 60) and reported as an error for that file
 * when it overruns. Safe to call from several threads.
 */
public final class DicomFile {
  private DicomFile() {}

  /**
   * Header reads try this many bytes first (most CT/MR headers are 1-3 KB), then 64 KiB, then the
   * whole file.
   */
  private static final int[] HEADER_PREFIXES = {8 * 1024, 64 * 1024};

  private static final long DECODE_TIMEOUT_S =
      Long.getLong("spinekit.dicom.decodeTimeoutSeconds", 60);
  private static final ExecutorService DECODERS =
      Executors.newCachedThreadPool(DaemonThreads.named("spinekit-external-decode"));

  /** The header of a file, reading only as much of it as needed. */
  public static DicomHeader readHeader(Path file) throws IOException {
    return header(file, parseHeader(file));
  }

  private static DicomParser.Parsed parseHeader(Path file) throws IOException {
    for (int n : HEADER_PREFIXES) {
      byte[] prefix = readPrefix(file, n);
      try {
        return DicomParser.parse(file, prefix, prefix.length == n, true);
      } catch (DicomParser.NeedMore e) {
        // read more
      }
    }
    return DicomParser.parse(file, readAll(file), false, true);
  }

  /** The header and the decoded pixel data of a file. */
  public static DicomImage read(Path file) throws IOException {
    byte[] bytes = readAll(file);
    DicomParser.Parsed p = DicomParser.parse(file, bytes, false, false);
    DicomHeader h = header(file, p);
    long count = (long) h.frames() * h.rows() * h.columns();
    if (count > Integer.MAX_VALUE - 8) {
      throw new MalformedFileException(
          file, "pixel data of " + count + " samples is larger" + " than one Java array");
    }
    short[] pixels = new short[(int) count];
    decodeInto(file, p, h, pixels, 0);
    return new DicomImage(h, pixels);
  }

  /**
   * Decodes the pixels of {@code file} into {@code dst} from {@code offset}, after checking that
   * the file still has the size and pixel format of {@code expected} (its header read earlier);
   * returns the header read now.
   */
  static DicomHeader readInto(Path file, DicomHeader expected, short[] dst, int offset)
      throws IOException {
    DicomParser.Parsed hp = parseHeader(file);
    if (!hp.syntax().encapsulated && hp.syntax() != TransferSyntax.DEFLATED) {
      DicomHeader h = header(file, hp);
      check(file, expected, h);
      readMapped(file, hp, h, dst, offset);
      return h;
    }
    byte[] bytes = readAll(file);
    DicomParser.Parsed p = DicomParser.parse(file, bytes, false, false);
    DicomHeader h = header(file, p);
    check(file, expected, h);
    decodeInto(file, p, h, dst, offset);
    return h;
  }

  private static void check(Path file, DicomHeader expected, DicomHeader h)
      throws MalformedFileException {
    if (h.rows() != expected.rows()
        || h.columns() != expected.columns()
        || h.frames() != expected.frames()
        || h.signed() != expected.signed()) {
      throw new MalformedFileException(
          file,
          "changed while being read (now "
              + h.frames()
              + " frame(s) of "
              + h.rows()
              + "x"
              + h.columns()
              + ")");
    }
  }

  /** Per-thread direct buffer of the uncompressed path, reused across files. */
  private static final ThreadLocal<ByteBuffer> IO_BUFFER = new ThreadLocal<>();

  private static ByteBuffer ioBuffer(long need) {
    ByteBuffer b = IO_BUFFER.get();
    if (b == null || b.capacity() < need) {
      b = ByteBuffer.allocateDirect((int) Math.max(need, 1 << 20));
      IO_BUFFER.set(b);
    }
    b.clear().limit((int) need);
    return b;
  }

  /**
   * Uncompressed pixel data read from only the pixel data's byte range into a reused per-thread
   * direct buffer, then converted into {@code dst}: no per-file array to allocate and zero, and
   * (unlike a memory map) no page faults serialised on the process's memory map, so several threads
   * read in parallel.
   */
  private static void readMapped(
      Path file, DicomParser.Parsed p, DicomHeader h, short[] dst, int off) throws IOException {
    DicomDataset.Element px = p.data().get(DicomTag.PIXEL_DATA);
    int bytesPer = h.bitsAllocated() / 8;
    int count = h.frames() * h.rows() * h.columns();
    long need = (long) count * bytesPer;
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
      long size = ch.size();
      long have = Math.min(px.length(), size - px.offset());
      if (have < need) {
        throw new MalformedFileException(
            file,
            "truncated pixel data: "
                + Math.max(0, have)
                + " bytes for "
                + h.frames()
                + " frame(s) of "
                + h.rows()
                + "x"
                + h.columns()
                + " at "
                + h.bitsAllocated()
                + " bits need "
                + need);
      }
      ByteBuffer buf = ioBuffer(need);
      buf.order(p.data().bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
      long pos = px.offset();
      while (buf.hasRemaining()) {
        int r = ch.read(buf, pos);
        if (r < 0) {
          throw new MalformedFileException(
              file, "truncated pixel data: the file ended while" + " being read");
        }
        pos += r;
      }
      buf.flip();
      if (bytesPer == 2) {
        buf.asShortBuffer().get(dst, off, count);
      } else {
        byte[] b = new byte[count];
        buf.get(b);
        widen(b, 0, dst, off, count, h.signed());
      }
    }
    fitBits(dst, off, count, h.bitsAllocated(), h.bitsStored(), h.highBit(), h.signed());
  }

  private static void decodeInto(
      Path file, DicomParser.Parsed p, DicomHeader h, short[] dst, int offset) throws IOException {
    DicomDataset.Element px = p.data().get(DicomTag.PIXEL_DATA);
    if (px.fragments() != null) {
      decodeEncapsulated(file, p, px, h, dst, offset);
    } else {
      decodeNative(file, p.data(), px, h, dst, offset);
    }
  }

  static byte[] readAll(Path file) throws IOException {
    try {
      long size = Files.size(file);
      if (size > Integer.MAX_VALUE - 8) {
        throw new MalformedFileException(file, "file of " + size + " bytes is larger than 2 GiB");
      }
      return Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no such file");
    }
  }

  private static byte[] readPrefix(Path file, int n) throws IOException {
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
      ByteBuffer bb = ByteBuffer.allocate((int) Math.min(n, ch.size()));
      while (bb.hasRemaining() && ch.read(bb) >= 0) {
        // fill
      }
      return bb.position() == bb.capacity() ? bb.array() : Arrays.copyOf(bb.array(), bb.position());
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file.toString(), null, "no such file");
    }
  }

  // ---------------------------------------------------------------- header

  private static double[] decimals(Path file, DicomDataset ds, int tag, int count)
      throws MalformedFileException {
    if (ds == null) return null;
    double[] v;
    try {
      v = ds.decimals(tag);
    } catch (NumberFormatException e) {
      throw new MalformedFileException(
          file, DicomTag.format(tag) + " holds '" + ds.string(tag) + "', expected decimal numbers");
    }
    if (v == null) return null;
    if (count > 0 && v.length != count) {
      throw new MalformedFileException(
          file,
          DicomTag.format(tag)
              + " holds "
              + v.length
              + " values ('"
              + ds.string(tag)
              + "'), expected "
              + count);
    }
    for (double x : v) {
      if (!Double.isFinite(x)) {
        throw new MalformedFileException(
            file,
            DicomTag.format(tag) + " holds a non-finite" + " value ('" + ds.string(tag) + "')");
      }
    }
    return v;
  }

  private static int integer(Path file, DicomDataset ds, int tag, int def)
      throws MalformedFileException {
    try {
      return ds.integer(tag, def);
    } catch (NumberFormatException e) {
      throw new MalformedFileException(
          file, DicomTag.format(tag) + " holds '" + ds.string(tag) + "', expected an integer");
    }
  }

  /** The first item of a functional-group macro sequence, or null. */
  private static DicomDataset macro(DicomDataset group, int sequence) {
    if (group == null) return null;
    List<DicomDataset> items = group.items(sequence);
    return items.isEmpty() ? null : items.get(0);
  }

  /** A value from the top level, else the shared functional groups, else the first frame's. */
  private static double[] lookup(
      Path file,
      DicomDataset top,
      DicomDataset shared,
      DicomDataset frame0,
      int sequence,
      int tag,
      int count)
      throws MalformedFileException {
    double[] v = decimals(file, top, tag, count);
    if (v == null) v = decimals(file, macro(shared, sequence), tag, count);
    if (v == null) v = decimals(file, macro(frame0, sequence), tag, count);
    return v;
  }

  private static DicomHeader header(Path file, DicomParser.Parsed p) throws MalformedFileException {
    DicomDataset ds = p.data();
    List<String> warnings = new ArrayList<>(p.warnings());
    int rows = integer(file, ds, DicomTag.ROWS, 0);
    int cols = integer(file, ds, DicomTag.COLUMNS, 0);
    DicomDataset.Element px = ds.get(DicomTag.PIXEL_DATA);
    if (px == null) {
      throw new MalformedFileException(file, "no pixel data (7FE0,0010): not an image");
    }
    if (rows <= 0 || cols <= 0) {
      throw new MalformedFileException(
          file,
          "Rows (0028,0010) and Columns (0028,0011) must be"
              + " positive, got "
              + rows
              + " x "
              + cols);
    }
    int frames = integer(file, ds, DicomTag.NUMBER_OF_FRAMES, 1);
    if (frames <= 0) {
      throw new MalformedFileException(file, "Number of Frames (0028,0008) is " + frames);
    }
    int samples = integer(file, ds, DicomTag.SAMPLES_PER_PIXEL, 1);
    int bitsAllocated = integer(file, ds, DicomTag.BITS_ALLOCATED, 0);
    int bitsStored = integer(file, ds, DicomTag.BITS_STORED, bitsAllocated);
    int highBit = integer(file, ds, DicomTag.HIGH_BIT, bitsStored - 1);
    boolean signed = integer(file, ds, DicomTag.PIXEL_REPRESENTATION, 0) == 1;
    if (bitsAllocated != 8 && bitsAllocated != 16) {
      throw new MalformedFileException(
          file,
          "Bits Allocated (0028,0100) is "
              + bitsAllocated
              + "; SpineKit reads 8- and 16-bit pixel data");
    }
    if (bitsStored < 1 || bitsStored > bitsAllocated) {
      throw new MalformedFileException(
          file,
          "Bits Stored (0028,0101) is " + bitsStored + " with Bits Allocated " + bitsAllocated);
    }
    if (highBit < bitsStored - 1 || highBit >= bitsAllocated) {
      warnings.add(
          "High Bit "
              + highBit
              + " is inconsistent with Bits Stored "
              + bitsStored
              + "; using "
              + (bitsStored - 1));
      highBit = bitsStored - 1;
    }
    String photometric = ds.string(DicomTag.PHOTOMETRIC_INTERPRETATION);
    if (samples != 1) {
      throw new MalformedFileException(
          file,
          "Samples per Pixel (0028,0002) is "
              + samples
              + (photometric == null ? "" : " (" + photometric + ")")
              + "; SpineKit reads single-channel (MONOCHROME) CT and MR images");
    }
    List<DicomDataset> shared = ds.items(DicomTag.SHARED_FUNCTIONAL_GROUPS_SEQUENCE);
    List<DicomDataset> perFrame = ds.items(DicomTag.PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    DicomDataset sh = shared.isEmpty() ? null : shared.get(0);
    DicomDataset f0 = perFrame.isEmpty() ? null : perFrame.get(0);
    double[] spacing =
        lookup(file, ds, sh, f0, DicomTag.PIXEL_MEASURES_SEQUENCE, DicomTag.PIXEL_SPACING, 2);
    if (spacing != null && !(spacing[0] > 0 && spacing[1] > 0)) {
      throw new MalformedFileException(
          file, "Pixel Spacing (0028,0030) must be positive, got " + Arrays.toString(spacing));
    }
    double[] orientation =
        lookup(
            file,
            ds,
            sh,
            f0,
            DicomTag.PLANE_ORIENTATION_SEQUENCE,
            DicomTag.IMAGE_ORIENTATION_PATIENT,
            6);
    double[] position =
        lookup(
            file,
            ds,
            null,
            f0,
            DicomTag.PLANE_POSITION_SEQUENCE,
            DicomTag.IMAGE_POSITION_PATIENT,
            3);
    double[] thickness =
        lookup(file, ds, sh, f0, DicomTag.PIXEL_MEASURES_SEQUENCE, DicomTag.SLICE_THICKNESS, 1);
    double[] between =
        lookup(
            file, ds, sh, f0, DicomTag.PIXEL_MEASURES_SEQUENCE, DicomTag.SPACING_BETWEEN_SLICES, 1);
    double[] slope =
        lookup(
            file,
            ds,
            sh,
            f0,
            DicomTag.PIXEL_VALUE_TRANSFORMATION_SEQUENCE,
            DicomTag.RESCALE_SLOPE,
            1);
    double[] intercept =
        lookup(
            file,
            ds,
            sh,
            f0,
            DicomTag.PIXEL_VALUE_TRANSFORMATION_SEQUENCE,
            DicomTag.RESCALE_INTERCEPT,
            1);
    if (slope != null && slope[0] == 0) {
      warnings.add("Rescale Slope (0028,1053) is 0; using 1");
      slope = null;
    }
    List<double[]> framePositions = new ArrayList<>();
    if (frames > 1 && perFrame.size() == frames) {
      for (int i = 0; i < frames; i++) {
        double[] ipp =
            decimals(
                file,
                macro(perFrame.get(i), DicomTag.PLANE_POSITION_SEQUENCE),
                DicomTag.IMAGE_POSITION_PATIENT,
                3);
        if (ipp == null) {
          framePositions.clear();
          break;
        }
        framePositions.add(ipp);
      }
    }
    return new DicomHeader(
        file,
        p.syntax().uid,
        p.syntax().description,
        ds.string(DicomTag.STUDY_INSTANCE_UID),
        ds.string(DicomTag.SERIES_INSTANCE_UID),
        ds.string(DicomTag.SOP_INSTANCE_UID),
        ds.string(DicomTag.FRAME_OF_REFERENCE_UID),
        ds.string(DicomTag.SERIES_DESCRIPTION),
        ds.string(DicomTag.MODALITY),
        ds.string(DicomTag.PATIENT_ID),
        integer(file, ds, DicomTag.SERIES_NUMBER, -1),
        integer(file, ds, DicomTag.INSTANCE_NUMBER, -1),
        rows,
        cols,
        frames,
        samples,
        photometric,
        bitsAllocated,
        bitsStored,
        highBit,
        signed,
        slope == null ? 1 : slope[0],
        intercept == null ? 0 : intercept[0],
        spacing,
        position,
        orientation,
        thickness == null ? Double.NaN : thickness[0],
        between == null ? Double.NaN : between[0],
        List.copyOf(framePositions),
        p.syntax().encapsulated,
        List.copyOf(warnings));
  }

  // ---------------------------------------------------------------- pixels

  private static void decodeNative(
      Path file, DicomDataset ds, DicomDataset.Element px, DicomHeader h, short[] out, int off)
      throws MalformedFileException {
    int bytesPer = h.bitsAllocated() / 8;
    int count = h.frames() * h.rows() * h.columns();
    long need = (long) count * bytesPer;
    if (px.length() < need) {
      throw new MalformedFileException(
          file,
          "truncated pixel data: "
              + px.length()
              + " bytes for "
              + h.frames()
              + " frame(s) of "
              + h.rows()
              + "x"
              + h.columns()
              + " at "
              + h.bitsAllocated()
              + " bits need "
              + need);
    }
    if (bytesPer == 2) {
      ByteBuffer.wrap(ds.buf, px.offset(), (int) need)
          .order(ds.bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN)
          .asShortBuffer()
          .get(out, off, count);
    } else {
      widen(ds.buf, px.offset(), out, off, count, h.signed());
    }
    fitBits(out, off, count, h.bitsAllocated(), h.bitsStored(), h.highBit(), h.signed());
  }

  private static void widen(byte[] b, int from, short[] out, int off, int count, boolean signed) {
    if (signed) {
      for (int i = 0; i < count; i++) out[off + i] = b[from + i];
    } else {
      for (int i = 0; i < count; i++) out[off + i] = (short) (b[from + i] & 0xff);
    }
  }

  /**
   * Keeps bits (highBit - bitsStored + 1 .. highBit) of each sample, sign-extended when signed:
   * data outside Bits Stored (overlays, garbage) must not leak into the values.
   */
  static void fitBits(
      short[] v, int off, int count, int allocated, int stored, int highBit, boolean signed) {
    int shift = highBit + 1 - stored;
    if (stored == allocated && shift == 0) return; // already widened by the reader
    int mask = (1 << stored) - 1;
    int sign = 1 << (stored - 1);
    for (int i = off; i < off + count; i++) {
      int x = ((v[i] & 0xffff) >>> shift) & mask;
      if (signed && (x & sign) != 0) x -= 1 << stored;
      v[i] = (short) x;
    }
  }

  /**
   * Decoders that never take the process down on corrupt data: lossless JPEG and RLE in Java, 8-bit
   * JPEG through the JDK's image I/O, JPEG 2000 and JPEG-LS through libspinekit_codecs (OpenJPEG,
   * CharLS). Only 12-bit lossy JPEG goes to the {@link ExternalCodec} (and the others when
   * libspinekit_codecs was built without OpenJPEG or CharLS). Returns false when none applies.
   */
  private static boolean decodeOwn(
      Path file,
      TransferSyntax ts,
      byte[] buf,
      List<int[]> fragments,
      DicomHeader h,
      short[] out,
      int off)
      throws MalformedFileException {
    int plane = h.rows() * h.columns();
    int bytesPer = h.bitsAllocated() / 8;
    switch (ts) {
      case JPEG_LOSSLESS, JPEG_LOSSLESS_SV1 -> {
        List<byte[]> frames = frames(file, buf, fragments, h.frames(), 0xD8);
        for (int f = 0; f < frames.size(); f++) {
          byte[] c = frames.get(f);
          try {
            JpegLossless.decode(c, 0, c.length, h.rows(), h.columns(), out, off + f * plane);
          } catch (IllegalArgumentException e) {
            throw new MalformedFileException(
                file, "lossless JPEG frame " + (f + 1) + ": " + e.getMessage());
          }
        }
      }
      case RLE -> {
        if (fragments.size() != h.frames()) {
          throw new MalformedFileException(
              file,
              "RLE pixel data has "
                  + fragments.size()
                  + " fragments for "
                  + h.frames()
                  + " frames (one each expected)");
        }
        for (int f = 0; f < fragments.size(); f++) {
          int[] fr = fragments.get(f);
          try {
            Rle.decode(buf, fr[0], fr[1], h.rows(), h.columns(), bytesPer, out, off + f * plane);
          } catch (IllegalArgumentException e) {
            throw new MalformedFileException(file, "RLE frame " + (f + 1) + ": " + e.getMessage());
          }
        }
        if (bytesPer == 1 && h.signed()) {
          for (int i = off; i < off + h.frames() * plane; i++) out[i] = (byte) out[i];
        }
      }
      case JPEG_BASELINE, JPEG_EXTENDED -> {
        if (h.bitsStored() > 8) return false;
        List<byte[]> frames = frames(file, buf, fragments, h.frames(), 0xD8);
        for (int f = 0; f < frames.size(); f++) {
          jdkJpeg(file, frames.get(f), f, h, out, off + f * plane);
        }
        return true; // 8-bit samples are final: no bit fitting
      }
      case JPEG2000, JPEG2000_LOSSLESS, JPEG_LS_LOSSLESS, JPEG_LS_NEAR_LOSSLESS -> {
        boolean j2k = ts == TransferSyntax.JPEG2000 || ts == TransferSyntax.JPEG2000_LOSSLESS;
        if (j2k
            ? !org.spinekit.internal.jni.Codecs.j2kAvailable()
            : !org.spinekit.internal.jni.Codecs.jpeglsAvailable()) {
          return false;
        }
        List<byte[]> frames = frames(file, buf, fragments, h.frames(), j2k ? 0x4F : 0xD8);
        short[] tmp = new short[plane];
        for (int f = 0; f < frames.size(); f++) {
          org.spinekit.internal.jni.Codecs.Result r =
              j2k
                  ? org.spinekit.internal.jni.Codecs.j2kDecode(
                      frames.get(f), h.rows(), h.columns(), tmp)
                  : org.spinekit.internal.jni.Codecs.jpeglsDecode(
                      frames.get(f), h.rows(), h.columns(), tmp);
          if (!r.ok()) {
            throw new MalformedFileException(
                file, ts.description + " frame " + (f + 1) + " could not be decoded: " + r.error());
          }
          System.arraycopy(tmp, 0, out, off + f * plane, plane);
        }
      }
      default -> {
        return false;
      }
    }
    fitBits(out, off, h.frames() * plane, 16, h.bitsStored(), h.bitsStored() - 1, h.signed());
    return true;
  }

  private static void jdkJpeg(
      Path file, byte[] codestream, int frame, DicomHeader h, short[] out, int off)
      throws MalformedFileException {
    javax.imageio.ImageReader reader =
        javax.imageio.ImageIO.getImageReadersByFormatName("jpeg").next();
    try (javax.imageio.stream.ImageInputStream in =
        javax.imageio.ImageIO.createImageInputStream(
            new java.io.ByteArrayInputStream(codestream))) {
      reader.setInput(in, true, true);
      java.awt.image.Raster r = reader.readRaster(0, null);
      if (r.getWidth() != h.columns() || r.getHeight() != h.rows() || r.getNumBands() != 1) {
        throw new MalformedFileException(
            file,
            "JPEG frame "
                + (frame + 1)
                + " is "
                + r.getWidth()
                + "x"
                + r.getHeight()
                + " with "
                + r.getNumBands()
                + " band(s); the"
                + " header says "
                + h.columns()
                + "x"
                + h.rows()
                + " grayscale");
      }
      int[] px = r.getSamples(0, 0, h.columns(), h.rows(), 0, (int[]) null);
      for (int i = 0; i < px.length; i++) {
        out[off + i] = (short) (h.signed() ? (byte) px[i] : px[i] & 0xff);
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof MalformedFileException m) throw m;
      throw new MalformedFileException(
          file, "JPEG frame " + (frame + 1) + " could not be" + " decoded: " + e.getMessage());
    } finally {
      reader.dispose();
    }
  }

  /**
   * The codestream of each frame: all fragments for one frame, one fragment per frame, or fragments
   * grouped at each start marker (0xFFD8 JPEG SOI, 0xFF4F JPEG 2000 SOC).
   */
  private static List<byte[]> frames(
      Path file, byte[] buf, List<int[]> fragments, int frames, int startMarker)
      throws MalformedFileException {
    List<List<int[]>> groups = new ArrayList<>();
    if (frames == 1) {
      groups.add(fragments);
    } else if (fragments.size() == frames) {
      for (int[] f : fragments) groups.add(List.of(f));
    } else {
      for (int[] f : fragments) {
        boolean start =
            f[1] >= 2 && (buf[f[0]] & 0xff) == 0xFF && (buf[f[0] + 1] & 0xff) == startMarker
                || startMarker == 0x4F
                    && f[1] >= 12
                    && buf[f[0] + 4] == 'j'
                    && buf[f[0] + 5] == 'P';
        if (start || groups.isEmpty()) groups.add(new ArrayList<>());
        groups.get(groups.size() - 1).add(f);
      }
      if (groups.size() != frames) {
        throw new MalformedFileException(
            file,
            "encapsulated pixel data holds "
                + groups.size()
                + " codestreams in "
                + fragments.size()
                + " fragments for "
                + frames
                + " frames");
      }
    }
    List<byte[]> out = new ArrayList<>(groups.size());
    for (List<int[]> g : groups) {
      int len = 0;
      for (int[] f : g) len += f[1];
      byte[] b = new byte[len];
      int at = 0;
      for (int[] f : g) {
        System.arraycopy(buf, f[0], b, at, f[1]);
        at += f[1];
      }
      out.add(b);
    }
    return out;
  }

  private static void decodeEncapsulated(
      Path file, DicomParser.Parsed p, DicomDataset.Element px, DicomHeader h, short[] out, int off)
      throws IOException {
    if (decodeOwn(file, p.syntax(), p.data().buf, px.fragments(), h, out, off)) return;
    ExternalCodec codec =
        ExternalCodecs.require(file, "decoding " + p.syntax().description + " pixel data");
    Future<ExternalCodec.DecodedPixels> f =
        DECODERS.submit(() -> codec.decode(file, p.data().buf, px.fragments(), h));
    ExternalCodec.DecodedPixels d;
    try {
      d = f.get(DECODE_TIMEOUT_S, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new MalformedFileException(
          file,
          "decoding the "
              + h.transferSyntaxName()
              + " pixel data took longer than "
              + DECODE_TIMEOUT_S
              + " s; abandoned");
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException(file + ": interrupted while decoding");
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException io) throw io;
      if (c instanceof RuntimeException re) throw re;
      throw new MalformedFileException(file, "decoding failed: " + c, c);
    }
    if (d.samplesPerPixel() != 1) {
      throw new MalformedFileException(
          file,
          "decoded to "
              + d.samplesPerPixel()
              + " samples per pixel; SpineKit reads single-channel images");
    }
    int bytesPer = d.bitsAllocated() / 8;
    long count = (long) h.frames() * h.rows() * h.columns();
    if (bytesPer != 1 && bytesPer != 2 || d.bytes().length < count * bytesPer) {
      throw new MalformedFileException(
          file,
          "the decoded pixel data has "
              + d.bytes().length
              + " bytes at "
              + d.bitsAllocated()
              + " bits; "
              + h.frames()
              + " frame(s) of "
              + h.rows()
              + "x"
              + h.columns()
              + " need "
              + count * Math.max(1, bytesPer));
    }
    int n = (int) count;
    if (bytesPer == 2) {
      ByteBuffer.wrap(d.bytes(), 0, n * 2)
          .order(ByteOrder.LITTLE_ENDIAN)
          .asShortBuffer()
          .get(out, off, n);
    } else {
      widen(d.bytes(), 0, out, off, n, h.signed());
    }
    fitBits(out, off, n, d.bitsAllocated(), h.bitsStored(), h.bitsStored() - 1, h.signed());
  }
}
