package org.spinekit.io.dicom;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * What the tests can write and decode here. The tests tagged {@code codec} run twice in a full
 * build: in this module, whose class path never has an {@link ExternalCodec}, with uncompressed
 * files only; and again in spinekit-gdcm (built where GDCM is installed), with every compression.
 */
public final class CodecSupport {
  private CodecSupport() {}

  /** Whether an external codec (spinekit-gdcm) is on the class path. */
  public static final boolean EXTERNAL = ExternalCodec.installed().isPresent();

  /** Every compression with an external codec, else {@link Compression#NONE} only. */
  public static Stream<Compression> writable() {
    return EXTERNAL ? Arrays.stream(Compression.values()) : Stream.of(Compression.NONE);
  }

  /** The compressions that need an external codec. */
  public static List<Compression> needingCodec() {
    return Arrays.stream(Compression.values()).filter(c -> c != Compression.NONE).toList();
  }

  /** JPEG-LS with an external codec, else {@link Compression#NONE}. */
  public static Compression compressedIfPossible() {
    return EXTERNAL ? Compression.JPEG_LS : Compression.NONE;
  }
}
