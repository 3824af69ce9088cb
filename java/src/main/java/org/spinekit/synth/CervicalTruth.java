package org.spinekit.synth;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.MalformedFileException;

/**
 * The ground truth of one vertebra of a synthetic study, as written to {@code synth_truth.csv}: its
 * fracture (null for none), how many mask voxels it has (0 when the series does not reach it), the
 * centre of its body (for C1 the centre of the ring) as a continuous voxel index of the series
 * volume (slice 0 = instance number 1, the most superior slice; row; column), and the inclusive
 * index bounds of its mask voxels (-1 when it has none).
 */
public record CervicalTruth(
    int label,
    CervicalFracture.Kind fracture,
    long voxels,
    double centerSlice,
    double centerRow,
    double centerColumn,
    int sliceMin,
    int sliceMax,
    int rowMin,
    int rowMax,
    int columnMin,
    int columnMax) {

  /** The CSV header of {@code synth_truth.csv}. */
  public static final String HEADER =
      "StudyInstanceUID,split,vertebra,label,fracture,voxels,"
          + "center_slice,center_row,center_column,slice_min,slice_max,row_min,row_max,column_min,"
          + "column_max";

  /** One line of {@code synth_truth.csv}: a vertebra of a train or test study. */
  public record Row(String studyUid, boolean test, CervicalTruth truth) {}

  /** The vertebra's name, C1..T12. */
  public String name() {
    return CervicalAnatomy.NAMES[label];
  }

  public boolean present() {
    return voxels > 0;
  }

  /** The truth of every vertebra C1..T12 of an anatomy, counted on its rendered mask. */
  static List<CervicalTruth> of(CervicalAnatomy an, short[] mask) {
    int plane = an.rows * an.columns;
    long[] count = new long[20];
    int[][] bounds = new int[20][];
    for (int l = 0; l < 20; l++) {
      bounds[l] = new int[] {Integer.MAX_VALUE, -1, Integer.MAX_VALUE, -1, Integer.MAX_VALUE, -1};
    }
    for (int k = 0; k < an.slices; k++) {
      for (int r = 0; r < an.rows; r++) {
        int base = k * plane + r * an.columns;
        for (int c = 0; c < an.columns; c++) {
          int l = mask[base + c];
          if (l == 0) continue;
          count[l]++;
          int[] b = bounds[l];
          if (k < b[0]) b[0] = k;
          if (k > b[1]) b[1] = k;
          if (r < b[2]) b[2] = r;
          if (r > b[3]) b[3] = r;
          if (c < b[4]) b[4] = c;
          if (c > b[5]) b[5] = c;
        }
      }
    }
    List<CervicalTruth> out = new ArrayList<>();
    for (CervicalVertebra v : an.vertebrae) {
      double[] p =
          v.type == CervicalVertebra.Type.ATLAS ? v.toPatient(0, v.d.vc, 0) : v.toPatient(0, 0, 0);
      int[] b = bounds[v.label];
      boolean any = count[v.label] > 0;
      out.add(
          new CervicalTruth(
              v.label,
              v.fracture == null ? null : v.fracture.kind(),
              count[v.label],
              (an.zTop - p[2]) / an.sliceSpacing,
              (p[1] - an.y0) / an.pixel,
              (p[0] - an.x0) / an.pixel,
              any ? b[0] : -1,
              any ? b[1] : -1,
              any ? b[2] : -1,
              any ? b[3] : -1,
              any ? b[4] : -1,
              any ? b[5] : -1));
    }
    return out;
  }

  /** Writes {@code synth_truth.csv} (atomically). */
  public static void write(Path file, List<Row> rows) throws IOException {
    AtomicFiles.write(
        file,
        out -> {
          Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
          w.write(HEADER);
          w.write('\n');
          for (Row row : rows) {
            CervicalTruth t = row.truth();
            w.write(
                String.format(
                    Locale.ROOT,
                    "%s,%s,%s,%d,%s,%d,%.3f,%.3f,%.3f,%d,%d,%d,%d,%d,%d%n",
                    row.studyUid(),
                    row.test() ? "test" : "train",
                    t.name(),
                    t.label(),
                    t.fracture() == null ? "none" : t.fracture().csvName(),
                    t.voxels(),
                    t.centerSlice(),
                    t.centerRow(),
                    t.centerColumn(),
                    t.sliceMin(),
                    t.sliceMax(),
                    t.rowMin(),
                    t.rowMax(),
                    t.columnMin(),
                    t.columnMax()));
          }
          w.flush();
        });
  }

  /** Reads {@code synth_truth.csv}; a malformed line gives an error naming file and line. */
  public static List<Row> read(Path file) throws IOException {
    List<Row> rows = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String header = r.readLine();
      if (header == null || !header.strip().equals(HEADER)) {
        throw new MalformedFileException(
            file, "line 1: expected header '" + HEADER + "', got '" + header + "'");
      }
      String line;
      int n = 1;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank()) continue;
        String[] f = line.strip().split(",", -1);
        if (f.length != 15) {
          throw new MalformedFileException(
              file, "line " + n + ": expected 15 fields, got " + f.length);
        }
        try {
          if (!f[1].equals("train") && !f[1].equals("test")) {
            throw new IllegalArgumentException("split: expected train or test, got '" + f[1] + "'");
          }
          int label = Integer.parseInt(f[3]);
          if (label < 1 || label > 19 || !CervicalAnatomy.NAMES[label].equals(f[2])) {
            throw new IllegalArgumentException(
                "vertebra " + f[2] + " and label " + f[3] + " do not match");
          }
          rows.add(
              new Row(
                  f[0],
                  f[1].equals("test"),
                  new CervicalTruth(
                      label,
                      CervicalFracture.Kind.parse(f[4]),
                      Long.parseLong(f[5]),
                      Double.parseDouble(f[6]),
                      Double.parseDouble(f[7]),
                      Double.parseDouble(f[8]),
                      Integer.parseInt(f[9]),
                      Integer.parseInt(f[10]),
                      Integer.parseInt(f[11]),
                      Integer.parseInt(f[12]),
                      Integer.parseInt(f[13]),
                      Integer.parseInt(f[14]))));
        } catch (IllegalArgumentException e) {
          throw new MalformedFileException(file, "line " + n + ": " + e.getMessage(), e);
        }
      }
    }
    return rows;
  }
}
