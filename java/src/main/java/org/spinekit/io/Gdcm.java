package org.spinekit.io;

import java.nio.file.Path;

/**
 * The only class that touches GDCM (Debian's libgdcm-java): decoding encapsulated pixel data
 * and re-encoding files into compressed transfer syntaxes. Each call builds and frees its own
 * GDCM objects, so calls from several threads do not share state; GDCM's {@code toString()}
 * (not thread-safe) is never called.
 */
final class Gdcm {
  private Gdcm() {}

  private static final String JNI = "/usr/lib/x86_64-linux-gnu/jni/libgdcmjni.so";
  private static volatile Throwable loadError;
  private static volatile boolean loaded;

  /** Loads the JNI library once; throws a clear error when GDCM's binding is missing. */
  static void ensureLoaded() {
    if (loaded) return;
    synchronized (Gdcm.class) {
      if (loaded) return;
      if (loadError == null) {
        try {
          try {
            System.loadLibrary("gdcmjni");
          } catch (UnsatisfiedLinkError e) {
            System.load(JNI);
          }
          Class.forName("gdcm.ImageReader");
          loaded = true;
          return;
        } catch (Throwable t) {
          loadError = t;
        }
      }
      throw new IllegalStateException("GDCM's Java binding is not available (" + loadError
          + "); install it with apt-get install libgdcm-java (the jar /usr/share/java/gdcm.jar"
          + " must be on the class path)", loadError);
    }
  }

  /** Decoded pixels: little-endian samples as GDCM produced them, and their format. */
  record Decoded(byte[] bytes, int bitsAllocated, int bitsStored, int highBit, boolean signed,
      int samplesPerPixel) {}

  /** Decodes the pixel data of a file whose structure {@link DicomParser} has checked. */
  static Decoded decode(Path file) throws MalformedFileException {
    ensureLoaded();
    gdcm.ImageReader reader = new gdcm.ImageReader();
    try {
      reader.SetFileName(file.toString());
      if (!reader.Read()) {
        throw new MalformedFileException(file, "GDCM could not read the image");
      }
      gdcm.Image image = reader.GetImage();
      long n = image.GetBufferLength();
      if (n <= 0 || n > Integer.MAX_VALUE - 8) {
        throw new MalformedFileException(file, "decoded pixel data would be " + n + " bytes");
      }
      byte[] out = new byte[(int) n];
      if (!image.GetBuffer(out)) {
        throw new MalformedFileException(file, "the compressed pixel data could not be"
            + " decoded (" + image.GetTransferSyntax().GetString().trim() + ")");
      }
      gdcm.PixelFormat pf = image.GetPixelFormat();
      Decoded d = new Decoded(out, pf.GetBitsAllocated(), pf.GetBitsStored(), pf.GetHighBit(),
          pf.GetPixelRepresentation() == 1, pf.GetSamplesPerPixel());
      pf.delete();
      return d;
    } finally {
      reader.delete();
    }
  }

  /** Re-encodes the uncompressed file {@code src} into {@code dst} with the given syntax. */
  static void transcode(Path src, Path dst, Compression c) throws java.io.IOException {
    ensureLoaded();
    gdcm.TransferSyntax.TSType type = switch (c) {
      case JPEG_LS -> gdcm.TransferSyntax.TSType.JPEGLSLossless;
      case JPEG_LOSSLESS -> gdcm.TransferSyntax.TSType.JPEGLosslessProcess14_1;
      case JPEG2000 -> gdcm.TransferSyntax.TSType.JPEG2000Lossless;
      case RLE -> gdcm.TransferSyntax.TSType.RLELossless;
      case NONE -> throw new IllegalArgumentException("compression: NONE needs no transcoding");
    };
    gdcm.ImageReader reader = new gdcm.ImageReader();
    gdcm.ImageChangeTransferSyntax change = new gdcm.ImageChangeTransferSyntax();
    gdcm.TransferSyntax ts = new gdcm.TransferSyntax(type);
    gdcm.ImageWriter writer = new gdcm.ImageWriter();
    try {
      reader.SetFileName(src.toString());
      if (!reader.Read()) throw new MalformedFileException(src, "GDCM could not read it");
      change.SetTransferSyntax(ts);
      change.SetInput(reader.GetImage());
      if (!change.Change()) {
        throw new java.io.IOException(src + ": GDCM could not encode it as " + c);
      }
      writer.SetFileName(dst.toString());
      writer.SetFile(reader.GetFile());
      writer.SetImage(change.GetOutput());
      if (!writer.Write()) throw new java.io.IOException(dst + ": GDCM could not write it");
    } finally {
      writer.delete();
      ts.delete();
      change.delete();
      reader.delete();
    }
  }
}
