package org.spinekit.io.dicom;

import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/** Finds the {@link ExternalCodec} once and words the error when there is none. */
final class ExternalCodecs {
  private ExternalCodecs() {}

  /** What a user must add for the features that need an external codec. */
  static final String HOW_TO_INSTALL =
      "add the dependency org.spinekit:spinekit-gdcm and install GDCM's Java binding"
          + " (Debian: apt-get install libgdcm-java)";

  private static final class Holder {
    static final Found FOUND = find();
  }

  private record Found(Optional<ExternalCodec> codec, String problem) {}

  static Optional<ExternalCodec> installed() {
    return Holder.FOUND.codec();
  }

  /** The codec, or a {@link MissingCodecException} saying {@code what} needs one. */
  static ExternalCodec require(java.nio.file.Path file, String what) throws MissingCodecException {
    Found f = Holder.FOUND;
    if (f.codec().isPresent()) return f.codec().get();
    throw new MissingCodecException(
        (file == null ? "" : file + ": ")
            + what
            + " needs an external codec, and none is installed"
            + (f.problem() == null ? "" : " (" + f.problem() + ")")
            + ": "
            + HOW_TO_INSTALL);
  }

  private static Found find() {
    String problem = null;
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    for (ClassLoader cl : new ClassLoader[] {context, ExternalCodec.class.getClassLoader()}) {
      if (cl == null) continue;
      try {
        for (ExternalCodec c : ServiceLoader.load(ExternalCodec.class, cl)) {
          return new Found(Optional.of(c), null);
        }
      } catch (ServiceConfigurationError | LinkageError e) {
        // A provider that is listed but cannot load (its own dependencies missing).
        problem = "a provider failed to load: " + e;
      }
    }
    return new Found(Optional.empty(), problem);
  }
}
