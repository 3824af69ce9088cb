package org.spinekit.io.dicom;

import java.nio.file.Path;
import org.spinekit.io.MalformedFileException;

/**
 * The only class that touches GDCM (Debian's libgdcm-java): decoding encapsulated pixel data and
 * re-encoding files into compressed transfer syntaxes. Each call builds and frees its own GDCM
 * objects, so calls from several threads do not share state; GDCM's {@code toString()} (not
 * thread-safe) is never called.
 */
final class Gdcm {
  private Gdcm() {}

  private static final String JNI = "/usr/lib/x86_64-linux-gnu/jni/libgdcmjni.so";
  // The load failure, kept as the cause of every later refusal (the load is tried once).
  private static volatile Throwable loadError;
  private static volatile boolean loaded;

  /** Loads the JNI library once; throws a clear error when GDCM's binding is missing. */
  @SuppressWarnings("StaticAssignmentOfThrowable") // the first failure is every refusal's cause
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
      throw new IllegalStateException(
          "GDCM's Java binding is not available ("
              + loadError
              + "); install it with apt-get install libgdcm-java (the jar /usr/share/java/gdcm.jar"
              + " must be on the class path)",
          loadError);
    }
  }

  /** Decoded pixels: little-endian samples as GDCM produced them, and their format. */
  record Decoded(
      byte[] bytes,
      int bitsAllocated,
      int bitsStored,
      int highBit,
      boolean signed,
      int samplesPerPixel) {}

  /**
   * Decodes encapsulated pixel data that {@link DicomParser} has already split into fragments. GDCM
   * gets only an image built here in memory (size, pixel format, transfer syntax and the fragments'
   * bytes), never the file: its own file parser asserts (aborting the process) on some malformed
   * headers.
   */
  static Decoded decode(
      Path file, byte[] buf, java.util.List<int[]> fragments, TransferSyntax syntax, DicomHeader h)
      throws MalformedFileException {
    ensureLoaded();
    gdcm.TransferSyntax.TSType type = gdcm.TransferSyntax.GetTSType(syntax.uid);
    gdcm.TransferSyntax ts = new gdcm.TransferSyntax(type);
    gdcm.Image image = new gdcm.Image();
    gdcm.PixelFormat pf =
        new gdcm.PixelFormat(1, h.bitsAllocated(), h.bitsStored(), h.highBit(), h.signed() ? 1 : 0);
    gdcm.PhotometricInterpretation pi =
        new gdcm.PhotometricInterpretation(gdcm.PhotometricInterpretation.PIType.MONOCHROME2);
    gdcm.SmartPtrFrag sq = gdcm.SequenceOfFragments.New();
    gdcm.Tag pixelTag = new gdcm.Tag(0x7fe0, 0x0010);
    gdcm.DataElement pixels = new gdcm.DataElement(pixelTag);
    java.util.List<gdcm.Fragment> frags = new java.util.ArrayList<>();
    try {
      image.SetNumberOfDimensions(h.frames() > 1 ? 3 : 2);
      image.SetDimension(0, h.columns());
      image.SetDimension(1, h.rows());
      if (h.frames() > 1) image.SetDimension(2, h.frames());
      image.SetPixelFormat(pf);
      image.SetPhotometricInterpretation(pi);
      image.SetTransferSyntax(ts);
      for (int[] f : fragments) {
        gdcm.Fragment frag = new gdcm.Fragment();
        frags.add(frag);
        byte[] bytes = java.util.Arrays.copyOfRange(buf, f[0], f[0] + f[1]);
        frag.SetArray(bytes, bytes.length);
        sq.AddFragment(frag);
      }
      pixels.SetVLToUndefined();
      pixels.SetValue(sq.__ref__());
      image.SetDataElement(pixels);
      long n = image.GetBufferLength();
      if (n <= 0 || n > Integer.MAX_VALUE - 8) {
        throw new MalformedFileException(file, "decoded pixel data would be " + n + " bytes");
      }
      byte[] out = new byte[(int) n];
      if (!image.GetBuffer(out)) {
        throw new MalformedFileException(
            file,
            "the "
                + syntax.description
                + " pixel data could"
                + " not be decoded (corrupt codestream)");
      }
      gdcm.PixelFormat got = image.GetPixelFormat();
      Decoded d =
          new Decoded(
              out,
              got.GetBitsAllocated(),
              got.GetBitsStored(),
              got.GetHighBit(),
              got.GetPixelRepresentation() == 1,
              got.GetSamplesPerPixel());
      got.delete();
      return d;
    } finally {
      for (gdcm.Fragment f : frags) f.delete();
      pixels.delete();
      pixelTag.delete();
      sq.delete();
      pi.delete();
      pf.delete();
      image.delete();
      ts.delete();
    }
  }

  /** Re-encodes the uncompressed file {@code src} into {@code dst} with the given syntax. */
  static void transcode(Path src, Path dst, Compression c) throws java.io.IOException {
    ensureLoaded();
    gdcm.TransferSyntax.TSType type =
        switch (c) {
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
