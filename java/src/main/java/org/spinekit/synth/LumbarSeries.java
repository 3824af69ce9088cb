package org.spinekit.synth;

import java.util.Objects;
import org.spinekit.io.Volume;
import org.spinekit.io.kaggle.Rsna2024;

/**
 * One MR series of a synthetic lumbar study, in memory: its Series Instance UID as the RSNA 2024
 * data spell it (a positive integer), Series Number, Series Description ("Sagittal T1", "Sagittal
 * T2/STIR" or "Axial T2"), the grid it was sampled on and its voxels, whose slice {@code k} is the
 * file of Instance Number {@code k + 1}.
 */
public record LumbarSeries(
    long seriesId, int seriesNumber, String description, LumbarScanner.Grid grid, Volume volume) {
  public static final String SAGITTAL_T1 = Rsna2024.SAGITTAL_T1;
  public static final String SAGITTAL_T2 = Rsna2024.SAGITTAL_T2_STIR;
  public static final String AXIAL_T2 = Rsna2024.AXIAL_T2;

  public LumbarSeries {
    if (seriesId <= 0) {
      throw new IllegalArgumentException("seriesId: expected a positive integer, got " + seriesId);
    }
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(grid, "grid");
    Objects.requireNonNull(volume, "volume");
  }
}
