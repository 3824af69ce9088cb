package org.spinekit.io.nifti;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.MalformedFileException;

/**
 * Reads and writes single-file NIfTI images ({@code .nii}, and gzip-compressed {@code .nii.gz}):
 * NIfTI-1 ({@code "n+1"}) and NIfTI-2 ({@code "n+2"}) headers of either byte order, 3D images and
 * 4D ones holding a single volume. Header extensions are skipped on reading and not written.
 */
public final class Nifti {
  private Nifti() {}

  /** Deflate never expands more than 1032:1; a claim beyond that cannot be in the file. */
  private static final long MAX_DEFLATE_RATIO = 1032;

  /** Largest first buffer for gzip data, grown as data actually arrives. */
  private static final int FIRST_CHUNK = 64 << 20;

  /** gzip level: fastest, as nibabel writes; masks compress well at any level. */
  private static final int GZIP_LEVEL = 1;

  /**
   * Reads a NIfTI-1 or NIfTI-2 single file, gzip-compressed or not (told by its first bytes, not
   * its name).
   *
   * @throws MalformedFileException naming the file and what is wrong: a truncated header, a wrong
   *     {@code sizeof_hdr} or magic, dims that are not positive or describe more than one volume,
   *     an unsupported datatype, voxel data shorter than the dims require, a gzip stream cut short
   *     or corrupt
   */
  public static NiftiImage read(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      ByteBuffer first = ByteBuffer.allocate(2);
      while (first.hasRemaining() && ch.read(first) >= 0) {
        // fill
      }
      ch.position(0);
      boolean gz =
          first.position() == 2 && (first.get(0) & 0xff) == 0x1f && (first.get(1) & 0xff) == 0x8b;
      InputStream raw = Channels.newInputStream(ch);
      if (!gz) return read(file, raw, size, false);
      try (InputStream in =
          new GZIPInputStream(new java.io.BufferedInputStream(raw, 1 << 16), 1 << 16)) {
        return read(file, in, size, true);
      } catch (EOFException e) {
        throw new MalformedFileException(file, "gzip stream ends early (truncated file)", e);
      } catch (ZipException e) {
        throw new MalformedFileException(file, "corrupt gzip stream: " + e.getMessage(), e);
      }
    }
  }

  private static NiftiImage read(Path file, InputStream in, long fileSize, boolean gz)
      throws IOException {
    String where = gz ? " of the uncompressed stream" : "";
    byte[] first4 = in.readNBytes(4);
    if (first4.length < 4) {
      throw new MalformedFileException(
          file, "header truncated: " + first4.length + " of at" + " least 348 bytes" + where);
    }
    ByteOrder order = NiftiHeader.orderOf(first4, file);
    int hdrSize = NiftiHeader.sizeOf(first4, order);
    byte[] hdr = Arrays.copyOf(first4, hdrSize);
    int got = 4 + in.readNBytes(hdr, 4, hdrSize - 4);
    if (got < hdrSize) {
      throw new MalformedFileException(
          file, "header truncated: " + got + " of " + hdrSize + " bytes" + where);
    }
    NiftiHeader h = NiftiHeader.decode(hdr, order, file);

    int ndim = (int) h.dim[0];
    if (ndim < 1 || ndim > 7) {
      throw new MalformedFileException(
          file, "dim[0] (number of dimensions) is " + h.dim[0] + ", expected 1 to 7");
    }
    long[] n = {1, 1, 1};
    for (int i = 1; i <= ndim; i++) {
      if (h.dim[i] <= 0) {
        throw new MalformedFileException(
            file,
            "dim["
                + i
                + "] is "
                + h.dim[i]
                + ", expected a positive size (dim = "
                + Arrays.toString(h.dim)
                + ")");
      }
      if (i <= 3) {
        n[i - 1] = h.dim[i];
      } else if (h.dim[i] != 1) {
        throw new MalformedFileException(
            file,
            "dim["
                + i
                + "] is "
                + h.dim[i]
                + ": only one"
                + " volume per file is supported (dim = "
                + Arrays.toString(h.dim)
                + ")");
      }
    }
    NiftiImage.Datatype type = NiftiImage.Datatype.ofCode(h.datatype);
    if (type == null) {
      throw new MalformedFileException(
          file,
          "unsupported datatype "
              + h.datatype
              + typeName(h.datatype)
              + "; supported: "
              + Arrays.toString(NiftiImage.Datatype.values()));
    }
    long count;
    long nbytes;
    try {
      count = Math.multiplyExact(Math.multiplyExact(n[0], n[1]), n[2]);
      nbytes = Math.multiplyExact(count, type.bytes());
    } catch (ArithmeticException e) {
      throw new MalformedFileException(file, "dims " + Arrays.toString(n) + " overflow");
    }
    if (n[0] > Integer.MAX_VALUE
        || n[1] > Integer.MAX_VALUE
        || n[2] > Integer.MAX_VALUE
        || nbytes > Integer.MAX_VALUE - 8) {
      throw new MalformedFileException(
          file,
          "dims "
              + Arrays.toString(n)
              + " of "
              + type
              + " make "
              + nbytes
              + " bytes, more than the 2 GiB one image holds");
    }
    if (h.sclSlope != 0 && Double.isFinite(h.sclSlope) && !Double.isFinite(h.sclInter)) {
      throw new MalformedFileException(
          file, "scl_slope is " + h.sclSlope + " but scl_inter is " + h.sclInter);
    }
    if (h.sformCode > 0) {
      for (int r = 0; r < 3; r++) {
        for (double x : h.srow[r]) {
          if (!Double.isFinite(x)) {
            throw new MalformedFileException(
                file,
                "sform_code is "
                    + h.sformCode
                    + " but srow_"
                    + "xyz".charAt(r)
                    + " is "
                    + Arrays.toString(h.srow[r]));
          }
        }
      }
    }
    if (h.qformCode > 0) {
      double[] q = {
        h.quaternB,
        h.quaternC,
        h.quaternD,
        h.qoffsetX,
        h.qoffsetY,
        h.qoffsetZ,
        h.pixdim[0],
        h.pixdim[1],
        h.pixdim[2],
        h.pixdim[3]
      };
      for (double x : q) {
        if (!Double.isFinite(x)) {
          throw new MalformedFileException(
              file,
              "qform_code is "
                  + h.qformCode
                  + " but the"
                  + " quaternion, qoffset or pixdim[0..3] "
                  + Arrays.toString(q)
                  + " is not finite");
        }
      }
      try {
        NiftiAffines.qform(h);
      } catch (IllegalArgumentException e) {
        throw new MalformedFileException(file, e.getMessage(), e);
      }
    }
    long voxOffset = h.voxOffset == 0 ? hdrSize + 4 : h.voxOffset;
    if (voxOffset < hdrSize) {
      throw new MalformedFileException(
          file, "vox_offset " + h.voxOffset + " lies inside the " + hdrSize + "-byte header");
    }
    if (!gz && voxOffset + nbytes > fileSize) {
      throw new MalformedFileException(
          file,
          "data shorter than dims: "
              + Arrays.toString(n)
              + " of "
              + type
              + " need "
              + nbytes
              + " bytes from offset "
              + voxOffset
              + ", the file"
              + " has "
              + Math.max(0, fileSize - voxOffset));
    }
    if (gz && voxOffset + nbytes > MAX_DEFLATE_RATIO * fileSize + (1 << 16)) {
      throw new MalformedFileException(
          file,
          "data shorter than dims: "
              + Arrays.toString(n)
              + " of "
              + type
              + " need "
              + nbytes
              + " bytes, more than a "
              + fileSize
              + "-byte gzip file can hold");
    }
    long skip = voxOffset - hdrSize;
    while (skip > 0) {
      long s = in.skip(skip);
      if (s <= 0) {
        if (in.read() < 0) {
          throw new MalformedFileException(
              file,
              "data shorter than dims: the"
                  + (gz ? " uncompressed stream" : " file")
                  + " ends before vox_offset "
                  + voxOffset);
        }
        s = 1;
      }
      skip -= s;
    }
    byte[] buf = new byte[(int) Math.min(nbytes, gz ? FIRST_CHUNK : nbytes)];
    int have = 0;
    while (have < nbytes) {
      if (have == buf.length) buf = Arrays.copyOf(buf, (int) Math.min(nbytes, 2L * buf.length));
      int r = in.read(buf, have, buf.length - have);
      if (r < 0) {
        throw new MalformedFileException(
            file,
            "data shorter than dims: "
                + Arrays.toString(n)
                + " of "
                + type
                + " need "
                + nbytes
                + " bytes from offset "
                + voxOffset
                + ", the"
                + (gz ? " uncompressed stream" : " file")
                + " has "
                + have);
      }
      have += r;
    }
    if (gz) {
      // Read to the end so that the gzip trailer (CRC and length) is checked too.
      byte[] scratch = new byte[1 << 16];
      while (in.read(scratch) >= 0) {
        // drain
      }
    }
    h.version = hdrSize == NiftiHeader.SIZE1 ? 1 : 2;
    return new NiftiImage(
        h, type, (int) n[0], (int) n[1], (int) n[2], ByteBuffer.wrap(buf).order(order));
  }

  private static String typeName(int code) {
    return switch (code) {
      case 0 -> " (unknown)";
      case 1 -> " (binary)";
      case 32 -> " (complex64)";
      case 128 -> " (RGB24)";
      case 1536 -> " (float128)";
      case 1792 -> " (complex128)";
      case 2048 -> " (complex256)";
      case 2304 -> " (RGBA32)";
      default -> "";
    };
  }

  /**
   * Writes {@code image} as a NIfTI-1 single file, gzip-compressed when the name ends in {@code
   * .gz}, little-endian, atomically (through {@link AtomicFiles}).
   *
   * @throws IllegalArgumentException if a dimension exceeds NIfTI-1's 32767 (use {@link #write2})
   */
  public static void write(NiftiImage image, Path file) throws IOException {
    write(image, file, 1);
  }

  /** As {@link #write}, with a NIfTI-2 header (64-bit dims, double precision geometry). */
  public static void write2(NiftiImage image, Path file) throws IOException {
    write(image, file, 2);
  }

  private static void write(NiftiImage image, Path file, int version) throws IOException {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(file, "file");
    NiftiHeader h = image.header();
    if (version == 1) {
      for (int i = 0; i < 8; i++) {
        if (h.dim[i] > Short.MAX_VALUE) {
          throw new IllegalArgumentException(
              "image: dim["
                  + i
                  + "] = "
                  + h.dim[i]
                  + " exceeds"
                  + " NIfTI-1's 32767; write it with write2 (NIfTI-2)");
        }
      }
    }
    h.version = version;
    byte[] header = h.encode(version);
    ByteBuffer data = image.data();
    int elem = image.datatype().bytes();
    boolean gz = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
    AtomicFiles.write(
        file,
        out -> {
          OutputStream o = out;
          LevelGzip z = gz ? new LevelGzip(out, GZIP_LEVEL) : null;
          if (z != null) o = z;
          try {
            o.write(header);
            writeLittleEndian(o, data, elem);
            if (z != null) z.finish();
          } finally {
            if (z != null) z.release();
          }
        });
  }

  private static void writeLittleEndian(OutputStream o, ByteBuffer data, int elem)
      throws IOException {
    if (data.order() == ByteOrder.LITTLE_ENDIAN || elem == 1) {
      byte[] chunk = new byte[1 << 16];
      ByteBuffer d = data.duplicate();
      while (d.hasRemaining()) {
        int len = Math.min(chunk.length, d.remaining());
        d.get(chunk, 0, len);
        o.write(chunk, 0, len);
      }
      return;
    }
    byte[] chunk = new byte[(1 << 16) / elem * elem];
    int total = data.limit();
    for (int at = 0; at < total; ) {
      int len = Math.min(chunk.length, total - at);
      for (int e = 0; e < len; e += elem) {
        for (int b = 0; b < elem; b++) chunk[e + b] = data.get(at + e + elem - 1 - b);
      }
      o.write(chunk, 0, len);
      at += len;
    }
  }

  /** A gzip stream with a chosen level whose deflater can be freed without closing the sink. */
  private static final class LevelGzip extends GZIPOutputStream {
    LevelGzip(OutputStream out, int level) throws IOException {
      super(out, 1 << 16);
      def.setLevel(level);
    }

    void release() {
      def.end();
    }
  }
}
