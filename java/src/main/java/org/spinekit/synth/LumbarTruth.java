package org.spinekit.synth;

import java.util.Objects;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Level;

/**
 * The ground truth of one (condition, level) of a synthetic lumbar study: its grade, the point in
 * patient space (LPS mm: +x patient left, +y posterior, +z superior), and that point as the RSNA
 * 2024 label coordinates give it: the series it is marked on, the Instance Number of the slice
 * nearest to it, and its column ({@code x}) and row ({@code y}) in pixels, pixel centres at whole
 * numbers.
 *
 * <p>Spinal canal stenosis: the centre of the thecal sac at the disc level, on Sagittal T2/STIR.
 * Foraminal narrowing: the centre of that side's foramen, on Sagittal T1. Subarticular stenosis:
 * the lateral recess where it crosses the Axial T2 slice nearest to the recess at the disc level
 * (so the point lies in that slice's plane).
 */
public record LumbarTruth(
    Condition condition,
    Level level,
    Grade grade,
    double xMm,
    double yMm,
    double zMm,
    long seriesId,
    int instanceNumber,
    double x,
    double y) {
  public LumbarTruth {
    Objects.requireNonNull(condition, "condition");
    Objects.requireNonNull(level, "level");
    Objects.requireNonNull(grade, "grade");
  }

  /** The point in patient space, LPS mm. */
  public double[] point() {
    return new double[] {xMm, yMm, zMm};
  }
}
