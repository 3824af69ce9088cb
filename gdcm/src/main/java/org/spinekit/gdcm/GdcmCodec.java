package org.spinekit.gdcm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.dicom.Compression;
import org.spinekit.io.dicom.DicomHeader;
import org.spinekit.io.dicom.ExternalCodec;
import org.spinekit.io.dicom.MissingCodecException;

/**
 * SpineKit's {@link ExternalCodec} over GDCM (Debian's libgdcm-java): decoding encapsulated pixel
 * data that SpineKit's own decoders leave (12-bit lossy JPEG) and re-encoding files into compressed
 * transfer syntaxes for {@code DicomWriter}. Found through {@link java.util.ServiceLoader}; GDCM's
 * JNI library is loaded on first use, and its absence is a clear error naming the package. Each
 * call builds and frees its own GDCM objects, so calls from several threads do not share state;
 * GDCM's {@code toString()} (not thread-safe) is never called.
 */
public final class GdcmCodec implements ExternalCodec {
  /** For {@link java.util.ServiceLoader}. */
  public GdcmCodec() {}

  @Override
  public String name() {
    return "GDCM (libgdcm-java)";
  }

  private static final String JNI = "/usr/lib/x86_64-linux-gnu/jni/libgdcmjni.so";
  // The load failure, kept as the cause of every later refusal (the load is tried once).
  private static volatile Throwable loadError;
  private static volatile boolean loaded;

  /** Loads the JNI library once; a clear error when GDCM's binding is missing. */
  @SuppressWarnings("StaticAssignmentOfThrowable") // the first failure is every refusal's cause
  private static void ensureLoaded() throws MissingCodecException {
    if (loaded) return;
    synchronized (GdcmCodec.class) {
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
      MissingCodecException e =
          new MissingCodecException(
              "GDCM's Java binding is not available ("
                  + loadError
                  + "); install it with apt-get install libgdcm-java (the jar"
                  + " /usr/share/java/gdcm.jar must be on the class path)");
      e.initCause(loadError);
      throw e;
    }
  }

  /**
   * Decodes encapsulated pixel data that SpineKit's parser has already split into fragments. GDCM
   * gets only an image built here in memory (size, pixel format, transfer syntax and the fragments'
   * bytes), never the file: its own file parser asserts (aborting the process) on some malformed
   * headers.
   */
  @Override
  public DecodedPixels decode(Path file, byte[] buf, List<int[]> fragments, DicomHeader h)
      throws IOException {
    ensureLoaded();
    gdcm.TransferSyntax.TSType type = gdcm.TransferSyntax.GetTSType(h.transferSyntaxUid());
    gdcm.TransferSyntax ts = new gdcm.TransferSyntax(type);
    gdcm.Image image = new gdcm.Image();
    gdcm.PixelFormat pf =
        new gdcm.PixelFormat(1, h.bitsAllocated(), h.bitsStored(), h.highBit(), h.signed() ? 1 : 0);
    gdcm.PhotometricInterpretation pi =
        new gdcm.PhotometricInterpretation(gdcm.PhotometricInterpretation.PIType.MONOCHROME2);
    gdcm.SmartPtrFrag sq = gdcm.SequenceOfFragments.New();
    gdcm.Tag pixelTag = new gdcm.Tag(0x7fe0, 0x0010);
    gdcm.DataElement pixels = new gdcm.DataElement(pixelTag);
    List<gdcm.Fragment> frags = new ArrayList<>();
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
        byte[] bytes = Arrays.copyOfRange(buf, f[0], f[0] + f[1]);
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
                + h.transferSyntaxName()
                + " pixel data could"
                + " not be decoded (corrupt codestream)");
      }
      gdcm.PixelFormat got = image.GetPixelFormat();
      DecodedPixels d =
          new DecodedPixels(
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
  @Override
  public void transcode(Path src, Path dst, Compression c) throws IOException {
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
        throw new IOException(src + ": GDCM could not encode it as " + c);
      }
      writer.SetFileName(dst.toString());
      writer.SetFile(reader.GetFile());
      writer.SetImage(change.GetOutput());
      if (!writer.Write()) throw new IOException(dst + ": GDCM could not write it");
    } finally {
      writer.delete();
      ts.delete();
      change.delete();
      reader.delete();
    }
  }
}
