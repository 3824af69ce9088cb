package org.spinekit.io;

import java.nio.file.Path;

/**
 * Where one slice of a {@link Volume} came from: the file, the frame inside it (0 for single-frame
 * files), its Instance Number (or -1 when the file has none) and SOP Instance UID.
 */
public record SliceSource(Path file, int frame, int instanceNumber, String sopInstanceUid) {}
