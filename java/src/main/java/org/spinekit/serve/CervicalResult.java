package org.spinekit.serve;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.spinekit.cervical.CervicalPredictor;
import org.spinekit.cervical.VertebraBoxes;

/**
 * A cervical study's prediction.
 *
 * @param studyId the StudyInstanceUID as given
 * @param vertebrae fracture probabilities of C1..C7 (the training prevalence where a vertebra was
 *     not found, and a note says so)
 * @param patient patient_overall by the bundle's rule
 * @param boxes C1..C7 as found (or not) on the series' grid: slices, rows, columns, instances
 * @param seconds decode, stack, seg_forward, labels, crop, cls_forward, and total (for a served
 *     call also wait: time waiting for a free lane, and total is the whole call)
 * @param notes what was odd (skipped files, vertebrae not found)
 */
public record CervicalResult(
    String studyId,
    double[] vertebrae,
    double patient,
    List<VertebraBoxes.Entry> boxes,
    Map<String, Double> seconds,
    List<String> notes)
    implements Predictor.Result {
  public CervicalResult {
    vertebrae = vertebrae.clone();
    boxes = List.copyOf(boxes);
    seconds = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(seconds));
    notes = List.copyOf(notes);
  }

  @Override
  public double[] vertebrae() {
    return vertebrae.clone();
  }

  /** The result of a prediction, with {@code extra} seconds (wait, total) over its own. */
  public static CervicalResult of(CervicalPredictor.StudyPrediction p, Map<String, Double> extra) {
    CervicalPredictor.Timings t = p.timings();
    Map<String, Double> s = new LinkedHashMap<>();
    s.put("decode", t.decode());
    s.put("stack", t.stack());
    s.put("seg_forward", t.segForward());
    s.put("labels", t.labels());
    s.put("crop", t.crop());
    s.put("cls_forward", t.clsForward());
    s.put("total", t.total());
    s.putAll(extra);
    return new CervicalResult(p.studyUid(), p.vertebrae(), p.patient(), p.boxes(), s, p.notes());
  }

  @Override
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("StudyInstanceUID", studyId);
    Map<String, Object> probs = new LinkedHashMap<>();
    for (int i = 0; i < 7; i++) probs.put("C" + (i + 1), vertebrae[i]);
    probs.put("patient_overall", patient);
    m.put("probabilities", probs);
    List<Object> out = new ArrayList<>();
    for (VertebraBoxes.Entry e : boxes) {
      Map<String, Object> b = new LinkedHashMap<>();
      b.put("vertebra", "C" + e.vertebra());
      b.put("found", e.found());
      if (e.found()) {
        b.put("slices", List.of(e.sliceMin(), e.sliceMax()));
        b.put("rows", List.of(e.rowMin(), e.rowMax()));
        b.put("columns", List.of(e.columnMin(), e.columnMax()));
        b.put("voxels", e.voxels());
        List<Object> inst = new ArrayList<>();
        for (int i : e.instances()) inst.add(i);
        b.put("instances", inst);
      }
      out.add(b);
    }
    m.put("boxes", out);
    m.put("seconds", new LinkedHashMap<>(seconds));
    m.put("notes", new ArrayList<Object>(notes));
    return m;
  }
}
