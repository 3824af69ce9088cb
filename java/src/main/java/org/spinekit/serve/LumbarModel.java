package org.spinekit.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Device;
import org.spinekit.io.dicom.DicomHeader;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.lumbar.LumbarBundle;
import org.spinekit.lumbar.LumbarConfig;
import org.spinekit.lumbar.LumbarPredictor;

/**
 * The lumbar grading system served: a study (one folder per series, named by its numeric series id,
 * each series' type taken from its DICOM SeriesDescription) to the 25 grade distributions and the
 * level points. Networks for {@link #infer}: those the mode loads ({@code scs} [N, 1, slices, size,
 * size], {@code nfn} likewise on the T1 stack, {@code axial} [N, 3, size, size], {@code cls_scs},
 * {@code cls_nfn}, {@code cls_sa} [N, slices, crop, crop]); outputs are their logits (heat and
 * grade maps concatenated for the heatmap nets).
 */
public final class LumbarModel extends Served<LumbarResult> {
  private final LumbarPredictor predictor;

  private LumbarModel(Path run, Predictors.Options o, Device device, LumbarPredictor p)
      throws IOException {
    super(o.name(), run, o.parallel(), device);
    this.predictor = p;
    LumbarConfig c = p.bundle().config();
    for (var e : p.networks().entrySet()) {
      long[] in =
          switch (e.getKey()) {
            case LumbarBundle.SCS -> new long[] {-1, 1, c.t2Slices(), c.size(), c.size()};
            case LumbarBundle.NFN -> new long[] {-1, 1, c.t1Slices(), c.size(), c.size()};
            case LumbarBundle.AXIAL -> new long[] {-1, 3, c.axialSize(), c.axialSize()};
            default -> new long[] {-1, c.cropSlices(), c.cropSize(), c.cropSize()};
          };
      // The batches the pipeline gives them: one stack or slice; a crop per point.
      int batch =
          switch (e.getKey()) {
            case LumbarBundle.CLS_SCS -> 5;
            case LumbarBundle.CLS_NFN, LumbarBundle.CLS_SA -> 10;
            default -> 1;
          };
      network(e.getKey(), in, e.getValue(), batch);
    }
  }

  /** Loads the lumbar bundle at {@code run} for {@code o.lumbarMode()} and warms it up. */
  static LumbarModel load(Path run, Predictors.Options o, Device device) throws IOException {
    LumbarPredictor p =
        LumbarPredictor.load(run, LumbarPredictor.Mode.parse(o.lumbarMode()), device);
    try {
      return new LumbarModel(run, o, device, p);
    } catch (IOException | RuntimeException e) {
      p.close();
      throw e;
    }
  }

  @Override
  public String system() {
    return "lumbar";
  }

  /** The predictor underneath (its bundle, mode). */
  public LumbarPredictor predictor() {
    return predictor;
  }

  @Override
  LumbarResult predict(String studyId, StudyFolder f, double wait, long start) throws IOException {
    long id = studyId(studyId, f);
    List<Rsna2024.SeriesDescription> desc = new ArrayList<>();
    List<Path> entries;
    try (Stream<Path> s = Files.list(f.root())) {
      entries = s.filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
    }
    for (Path p : entries) {
      String n = p.getFileName().toString();
      if (!Files.isDirectory(p)) {
        throw new BadStudyException(
            f.relative(p),
            f.relative(p) + ": a lumbar study holds one folder per series, not files beside them");
      }
      long series;
      try {
        series = Long.parseLong(n);
      } catch (NumberFormatException e) {
        throw new BadStudyException(
            n, "folder '" + n + "': series folders are named by their numeric series id");
      }
      DicomHeader h = f.requireDicom(p);
      String d = h.seriesDescription() == null ? "" : h.seriesDescription().trim();
      desc.add(new Rsna2024.SeriesDescription(id, series, d));
    }
    if (desc.isEmpty()) throw new BadStudyException(null, "study " + id + ": no series folders");
    LumbarPredictor.Prepared pr = predictor.prepare(id, f.root(), desc);
    LumbarPredictor.Result r = predictor.predict(pr, s -> {});
    Map<String, Double> extra = new LinkedHashMap<>();
    extra.put("wait", wait);
    extra.put("total", secs(start));
    return LumbarResult.of(r, extra);
  }

  private static long studyId(String given, StudyFolder f) throws BadStudyException {
    String s = given != null ? given : f.name();
    if (s == null) return 0;
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new BadStudyException(
          null, "study id: expected a number (the Kaggle study_id), got '" + s + "'");
    }
  }

  @Override
  void free() {
    predictor.close();
  }
}
