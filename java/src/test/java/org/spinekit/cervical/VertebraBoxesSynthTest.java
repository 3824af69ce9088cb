package org.spinekit.cervical;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.cervical.VertebraBoxes.Entry;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.io.nifti.Nifti;
import org.spinekit.io.nifti.NiftiImage;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.synth.CervicalTruth;

/**
 * {@link VertebraBoxes} on a small synthetic RSNA 2022 set: the boxes of the remapped, cleaned
 * segmentations equal the generator's truth.
 */
class VertebraBoxesSynthTest {
  @TempDir static Path tmp;
  static Path root;

  @BeforeAll
  static void generate() throws IOException {
    root = tmp.resolve("rsna");
    CervicalSynth.generate(root, CervicalSynth.Config.small(2022).withThreads(2));
  }

  @Test
  void boxesOfTheSegmentationsEqualTheTruth() throws IOException {
    Map<String, CervicalTruth> truth = new HashMap<>();
    for (CervicalTruth.Row r : CervicalTruth.read(root.resolve(CervicalSynth.TRUTH_CSV))) {
      if (!r.test()) truth.put(r.studyUid() + "/" + r.truth().label(), r.truth());
    }
    Rsna2022.Dataset d = Rsna2022.open(root);
    int studies = 0, found = 0;
    for (Rsna2022.CervicalLabel label : d.train()) {
      String uid = label.studyUid();
      Volume ct = DicomSeriesReader.read(d.imageDirs().get(uid));
      Volume mask = Nifti.read(d.segmentations().get(uid)).resampleTo(ct);
      short[] remapped = VertebraBoxes.remap(mask);
      int n = ct.slices();
      short[] cleaned = VertebraBoxes.clean(remapped, n, ct.rows(), ct.columns(), 100);
      // The generator's masks hold one piece per vertebra and no specks: nothing to clean.
      assertArrayEquals(remapped, cleaned, uid + ": clean changed a synthetic mask");

      double[] dice = VertebraBoxes.dice(remapped, remapped, 9);
      for (int l = 0; l < 9; l++) assertEquals(1.0, dice[l], uid + " label " + l);

      List<Entry> entries =
          VertebraBoxes.boxes(uid, cleaned, n, ct.rows(), ct.columns(), ct.sources());
      assertEquals(7, entries.size());
      for (Entry e : entries) {
        CervicalTruth t = truth.get(uid + "/" + e.vertebra());
        String what = uid + " " + e.name();
        assertEquals(t.present(), e.found(), what);
        assertEquals(t.voxels(), e.voxels(), what);
        if (!t.present()) continue;
        found++;
        assertEquals(
            List.of(t.rowMin(), t.rowMax(), t.columnMin(), t.columnMax()),
            List.of(e.rowMin(), e.rowMax(), e.columnMin(), e.columnMax()),
            what + ": rows and columns");
        // The truth counts slices from the top (slice 0 = instance number 1, the most superior);
        // the series reader orders them along the slice normal, feet to head: volume slice k is
        // instance number n - k, so the truth's slices come out mirrored.
        assertEquals(n - 1 - t.sliceMax(), e.sliceMin(), what + ": slice_min");
        assertEquals(n - 1 - t.sliceMin(), e.sliceMax(), what + ": slice_max");
        int[] inst = e.instances();
        assertEquals(t.sliceMax() - t.sliceMin() + 1, inst.length, what);
        for (int k = 0; k < inst.length; k++) {
          assertEquals(t.sliceMax() + 1 - k, inst[k], what + ": instance of its slice " + k);
          assertEquals(
              ct.sources().get(e.sliceMin() + k).instanceNumber(), inst[k], what + ": slice " + k);
        }
      }
      studies++;
    }
    assertEquals(3, studies);
    assertTrue(found >= 3 * 7 - 1, "vertebrae found: " + found);
    assertFalse(truth.isEmpty());
  }

  @Test
  void aMaskThatDoesNotFitItsSeriesIsRefusedNamingTheFile() throws IOException {
    Rsna2022.Dataset d = Rsna2022.open(root);
    String uid = d.train().get(0).studyUid();
    Path seg = d.segmentations().get(uid);
    Volume ct = DicomSeriesReader.read(d.imageDirs().get(uid));
    Volume onGrid = Nifti.read(seg).resampleTo(ct);
    // Its own mask fits: the labels are those of remap.
    assertArrayEquals(VertebraBoxes.remap(onGrid), VertebraBoxes.labelsOnSeries(seg, ct));

    // The same mask, written for a grid shifted by half the series' rows: about half of it lands
    // beside this series; and one shifted beyond the series.
    double[] o = ct.origin();
    double[] col = ct.columnDirection();
    for (double shift : new double[] {0.5 * ct.rows(), 3.0 * ct.rows()}) {
      double mm = shift * ct.spacing()[0];
      Volume moved =
          onGrid.toBuilder()
              .origin(o[0] + mm * col[0], o[1] + mm * col[1], o[2] + mm * col[2])
              .build();
      Path other = tmp.resolve("shifted-" + (int) shift + ".nii");
      Nifti.write(NiftiImage.fromVolume(moved, "LAS"), other);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> VertebraBoxes.labelsOnSeries(other, ct));
      assertTrue(e.getMessage().startsWith(other.toString()), e.getMessage());
      assertTrue(e.getMessage().contains("does not fit its series"), e.getMessage());
    }

    // A mask without a vertebra label.
    Volume empty =
        Volume.builder(ct.slices(), ct.rows(), ct.columns())
            .shorts(new short[(int) ct.voxelCount()], true, 1, 0)
            .build();
    Path blank = tmp.resolve("blank.nii");
    Nifti.write(NiftiImage.fromVolume(empty, "LAS"), blank);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> VertebraBoxes.labelsOnSeries(blank, ct));
    assertTrue(e.getMessage().contains(blank + ": no vertebra label"), e.getMessage());
  }
}
