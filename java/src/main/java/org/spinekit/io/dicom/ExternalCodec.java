package org.spinekit.io.dicom;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A pixel codec for what SpineKit's own decoders and encoders do not cover: 12-bit lossy JPEG (JPEG
 * Extended), and the compressed transfer syntaxes {@link DicomWriter} writes. The artifact {@code
 * org.spinekit:spinekit-gdcm} provides one over GDCM (Debian's {@code libgdcm-java}); without it
 * those two features fail with {@link MissingCodecException} and everything else works.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} ({@code
 * META-INF/services/org.spinekit.io.dicom.ExternalCodec}) and must be safe to call from several
 * threads.
 */
public interface ExternalCodec {
  /** What it is, for messages: a name and where its native code comes from. */
  String name();

  /**
   * Decodes one encapsulated pixel data element whose structure SpineKit has already checked.
   *
   * @param file the file, for messages only (implementations must not read it)
   * @param buf the file's bytes
   * @param fragments each fragment as {offset into buf, length}, basic offset table excluded
   * @param header size, frames, pixel format and transfer syntax of the image
   * @return little-endian samples, all frames in order, and their format
   * @throws IOException naming the file when the data cannot be decoded
   */
  DecodedPixels decode(Path file, byte[] buf, List<int[]> fragments, DicomHeader header)
      throws IOException;

  /**
   * Writes the uncompressed (Explicit VR Little Endian) file {@code src} to {@code dst} with its
   * pixel data encoded as {@code compression}; {@code dst} exists and is overwritten.
   */
  void transcode(Path src, Path dst, Compression compression) throws IOException;

  /** Decoded pixel samples: little endian, {@code bitsAllocated} bits each. */
  record DecodedPixels(
      byte[] bytes,
      int bitsAllocated,
      int bitsStored,
      int highBit,
      boolean signed,
      int samplesPerPixel) {}

  /**
   * The codec on the class path, if any (the first that loads; looked up once, through the context
   * class loader, then this interface's).
   */
  static Optional<ExternalCodec> installed() {
    return ExternalCodecs.installed();
  }
}
