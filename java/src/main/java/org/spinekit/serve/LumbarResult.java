package org.spinekit.serve;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.lumbar.LumbarPredictor;

/**
 * A lumbar study's prediction.
 *
 * @param studyId the study id as given
 * @param rows the 25 grade distributions (normal/mild, moderate, severe), condition-major as the
 *     sample submission
 * @param points the level points found, in pixels of the series each is on, with its instance
 * @param seconds read, prepare, forward, crops, other, total (for a served call also wait: time
 *     waiting for a free lane, and total is the whole call)
 * @param notes what was missing or refused (rows that got the training prior say so)
 */
public record LumbarResult(
    String studyId,
    List<Rsna2024.Prediction> rows,
    List<LumbarPredictor.Point> points,
    Map<String, Double> seconds,
    List<String> notes)
    implements Predictor.Result {
  public LumbarResult {
    rows = List.copyOf(rows);
    points = List.copyOf(points);
    seconds = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(seconds));
    notes = List.copyOf(notes);
  }

  /** The result of a prediction, with {@code extra} seconds (wait, total) over its own. */
  public static LumbarResult of(LumbarPredictor.Result r, Map<String, Double> extra) {
    Map<String, Double> s = new LinkedHashMap<>(r.seconds());
    s.putAll(extra);
    return new LumbarResult(Long.toString(r.studyId()), r.rows(), r.points(), s, r.notes());
  }

  @Override
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("study_id", Long.parseLong(studyId));
    List<Object> pts = new ArrayList<>();
    for (LumbarPredictor.Point p : points) {
      Map<String, Object> q = new LinkedHashMap<>();
      q.put("condition", p.condition().label);
      q.put("level", p.level().label);
      q.put("series_id", p.seriesId());
      q.put("x", p.x());
      q.put("y", p.y());
      q.put("instance_number", (long) p.instanceNumber());
      pts.add(q);
    }
    m.put("points", pts);
    Map<String, Object> grades = new LinkedHashMap<>();
    for (Rsna2024.Prediction p : rows) {
      grades.put(p.rowId(), List.of(p.normalMild(), p.moderate(), p.severe()));
    }
    m.put("grades", grades);
    m.put("seconds", new LinkedHashMap<>(seconds));
    m.put("notes", new ArrayList<Object>(notes));
    return m;
  }
}
