package org.spinekit.cervical;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.synth.CervicalTruth;

/** The true boxes of C1..C7 of a synthetic set's training studies, from its truth table. */
public final class SynthBoxes {
  private SynthBoxes() {}

  /**
   * Boxes from {@code synth_truth.csv} beside a layout written by {@link CervicalSynth}: the truth
   * counts slices from 0 at instance number 1.
   */
  public static List<CervicalCrops.InstanceBox> read(Path root) throws IOException {
    List<CervicalCrops.InstanceBox> out = new ArrayList<>();
    for (CervicalTruth.Row row : CervicalTruth.read(root.resolve(CervicalSynth.TRUTH_CSV))) {
      CervicalTruth t = row.truth();
      if (row.test() || t.label() < 1 || t.label() > 7 || !t.present()) continue;
      out.add(
          new CervicalCrops.InstanceBox(
              row.studyUid(),
              t.label(),
              t.sliceMin() + 1,
              t.sliceMax() + 1,
              t.rowMin(),
              t.rowMax(),
              t.columnMin(),
              t.columnMax()));
    }
    return out;
  }
}
