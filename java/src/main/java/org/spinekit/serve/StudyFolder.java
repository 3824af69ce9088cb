package org.spinekit.serve;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.dicom.DicomFile;
import org.spinekit.io.dicom.DicomHeader;

/**
 * A study folder: one on disk, or files received in memory laid out in an in-memory file system, so
 * that the readers that take paths read them without touching the disk. Closing frees the memory.
 */
final class StudyFolder implements AutoCloseable {
  private final Path root;
  private final FileSystem memory;

  private StudyFolder(Path root, FileSystem memory) {
    this.root = root;
    this.memory = memory;
  }

  /** A folder on disk (not closed by {@link #close}). */
  static StudyFolder of(Path dir) throws BadStudyException {
    if (!Files.isDirectory(dir)) {
      throw new BadStudyException(dir.toString(), dir + ": not a directory");
    }
    return new StudyFolder(dir, null);
  }

  /**
   * Files held in memory: relative '/'-separated names to bytes. A single top folder holding
   * everything is the study folder.
   *
   * @throws BadStudyException for no files, or a name that is empty, absolute, has {@code ..} or
   *     {@code .} parts, a backslash, or repeats another
   */
  static StudyFolder of(Map<String, byte[]> files) throws IOException {
    if (files.isEmpty()) throw new BadStudyException(null, "the study has no files");
    Set<String> seen = new HashSet<>();
    for (String name : files.keySet()) check(name, seen);
    FileSystem fs = Jimfs.newFileSystem(Configuration.unix());
    try {
      Path root = fs.getPath("/study");
      Files.createDirectories(root);
      for (var e : files.entrySet()) {
        Path p = root.resolve(e.getKey());
        Files.createDirectories(p.getParent());
        Files.write(p, e.getValue());
      }
      // One top folder and nothing beside it: that folder is the study.
      try (Stream<Path> top = Files.list(root)) {
        List<Path> entries = top.toList();
        if (entries.size() == 1 && Files.isDirectory(entries.get(0))) root = entries.get(0);
      }
      return new StudyFolder(root, fs);
    } catch (IOException | RuntimeException e) {
      fs.close();
      throw e;
    }
  }

  private static void check(String name, Set<String> seen) throws BadStudyException {
    String why = null;
    if (name.isEmpty()) {
      why = "an empty name";
    } else if (name.startsWith("/")) {
      why = "an absolute name";
    } else if (name.indexOf('\\') >= 0 || name.indexOf(':') >= 0 || name.indexOf('\0') >= 0) {
      why = "a backslash, colon or NUL in the name";
    } else if (name.endsWith("/")) {
      why = "a folder, not a file";
    } else {
      for (String part : name.split("/", -1)) {
        if (part.isEmpty() || part.equals(".") || part.equals("..")) {
          why = "an empty, '.' or '..' part in the name";
          break;
        }
      }
    }
    if (why == null && !seen.add(name)) why = "a name given twice";
    if (why != null) throw new BadStudyException(name, "file '" + name + "': " + why);
  }

  Path root() {
    return root;
  }

  /** {@code p} relative to the study folder, for messages. */
  String relative(Path p) {
    return p.startsWith(root) ? root.relativize(p).toString() : p.toString();
  }

  /** The folder's name (null for files in memory without a top folder). */
  String name() {
    Path n = root.getFileName();
    return n == null || (memory != null && root.getNameCount() == 1) ? null : n.toString();
  }

  /**
   * Every regular file under {@code dir} (hidden ones aside) must be DICOM whose header parses: the
   * first that is not is named (the command line skips such files; a client is told).
   *
   * @return the first file's header
   */
  DicomHeader requireDicom(Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> w = Files.walk(dir)) {
      files =
          w.filter(Files::isRegularFile)
              .filter(p -> !p.getFileName().toString().startsWith("."))
              .sorted()
              .toList();
    }
    if (files.isEmpty()) throw new BadStudyException(relative(dir), relative(dir) + ": no files");
    DicomHeader first = null;
    for (Path f : files) {
      try {
        DicomHeader h = DicomFile.readHeader(f);
        if (first == null) first = h;
      } catch (MalformedFileException e) {
        throw new BadStudyException(relative(f), relative(f) + ": " + messageWithoutPath(e, f), e);
      }
    }
    return first;
  }

  private static String messageWithoutPath(Exception e, Path f) {
    String m = String.valueOf(e.getMessage());
    String p = f.toString();
    return m.startsWith(p + ": ") ? m.substring(p.length() + 2) : m;
  }

  @Override
  public void close() throws IOException {
    if (memory != null) memory.close();
  }
}
