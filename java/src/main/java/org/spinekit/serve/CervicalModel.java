package org.spinekit.serve;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.spinekit.cervical.CervicalConfig;
import org.spinekit.cervical.CervicalPredictor;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.dicom.DicomHeader;

/**
 * The cervical fracture system served: a study's CT series (its slices in one folder) to the seven
 * vertebra probabilities, patient_overall and the vertebra boxes. Networks for {@link #infer}:
 * {@code seg} (the Unets, input [N, 3, size, size], output the 8-class logits) and {@code cls} (the
 * classifiers, input [N, slices, size, size], output the fracture logit).
 */
public final class CervicalModel extends Served<CervicalResult> {
  private final CervicalPredictor predictor;

  private CervicalModel(Path run, Predictors.Options o, Device device, CervicalPredictor p)
      throws IOException {
    super(o.name(), run, o.parallel(), device);
    this.predictor = p;
    CervicalConfig c = p.config();
    Map<String, List<? extends org.spinekit.nn.Net>> nets = p.networks();
    network("seg", new long[] {-1, 3, c.segSize(), c.segSize()}, nets.get("seg"), c.segBatch());
    network(
        "cls",
        new long[] {-1, c.clsSlices(), c.clsSize(), c.clsSize()},
        nets.get("cls"),
        Math.min(7, Math.max(1, c.clsBatch())));
  }

  /** Loads the cervical bundle at {@code run} and warms its networks up. */
  static CervicalModel load(Path run, Predictors.Options o, Device device) throws IOException {
    CervicalPredictor p = CervicalPredictor.load(run, device);
    try {
      return new CervicalModel(run, o, device, p);
    } catch (IOException | RuntimeException e) {
      p.close();
      throw e;
    }
  }

  @Override
  public String system() {
    return "cervical";
  }

  /** The predictor underneath (its configuration, priors, rule). */
  public CervicalPredictor predictor() {
    return predictor;
  }

  @Override
  CervicalResult predict(String studyId, StudyFolder f, double wait, long start)
      throws IOException {
    DicomHeader first = f.requireDicom(f.root());
    String id = studyId != null ? studyId : f.name() != null ? f.name() : first.studyInstanceUid();
    if (id == null || id.isEmpty()) id = "study";
    CervicalPredictor.StudyPrediction r;
    try {
      r = predictor.predict(id, f.root());
    } catch (MalformedFileException e) {
      throw new BadStudyException(f.relative(e.file()), "study " + id + ": " + e.getMessage(), e);
    }
    Map<String, Double> extra = new LinkedHashMap<>();
    extra.put("wait", wait);
    extra.put("total", secs(start));
    return CervicalResult.of(r, extra);
  }

  @Override
  void free() {
    predictor.close();
  }
}
