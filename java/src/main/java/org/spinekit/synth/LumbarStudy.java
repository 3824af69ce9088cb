package org.spinekit.synth;

import java.util.List;
import java.util.Objects;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Level;

/**
 * One synthetic lumbar study in memory: its study id (the Study Instance UID, a positive integer as
 * in the RSNA 2024 data), whether it belongs to the test split, the Frame of Reference UID its
 * three series share, the phantom they were sampled from, the series (Sagittal T1, Sagittal
 * T2/STIR, Axial T2, in that order) and the 25 truths in (condition, level) order.
 */
public record LumbarStudy(
    long studyId,
    boolean test,
    String frameOfReferenceUid,
    LumbarPhantom phantom,
    List<LumbarSeries> series,
    List<LumbarTruth> truth) {
  public LumbarStudy {
    Objects.requireNonNull(frameOfReferenceUid, "frameOfReferenceUid");
    Objects.requireNonNull(phantom, "phantom");
    series = List.copyOf(series);
    truth = List.copyOf(truth);
  }

  /** The series with this description ("Sagittal T1", "Sagittal T2/STIR", "Axial T2"). */
  public LumbarSeries series(String description) {
    for (LumbarSeries s : series) {
      if (s.description().equals(description)) return s;
    }
    throw new IllegalArgumentException(
        "description: no series '" + description + "' in study " + studyId);
  }

  public LumbarTruth truth(Condition c, Level l) {
    for (LumbarTruth t : truth) {
      if (t.condition() == c && t.level() == l) return t;
    }
    throw new IllegalArgumentException("no truth for " + c + " " + l + " in study " + studyId);
  }
}
