package org.spinekit.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.Volume;
import org.spinekit.io.npy.Npy;
import org.spinekit.testing.Subprocess;

/**
 * The segmentation files as the Kaggle notebooks read them, with nibabel (Debian's python3-nibabel
 * at /usr/bin/python3): uint8, LAS, {@code seg[:, ::-1, ::-1].transpose(2, 1, 0)} gives the labels
 * in instance order, and the affine puts each label voxel at the patient position of its DICOM
 * pixel.
 */
class CervicalNibabelTest {
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  private static final String SCRIPT =
      """
      import sys
      import numpy as np
      import nibabel as nib
      seg = nib.load(sys.argv[1])
      a = np.asarray(seg.dataobj)
      assert a.dtype == np.uint8, a.dtype
      assert nib.aff2axcodes(seg.affine) == ('L', 'A', 'S'), nib.aff2axcodes(seg.affine)
      m = np.load(sys.argv[2])
      t = a[:, ::-1, ::-1].transpose(2, 1, 0)
      assert t.shape == m.shape, (t.shape, m.shape)
      assert (t == m).all(), int((t != m).sum())
      # voxel (slice s, row r, column c) of the series: LPS position from the DICOM geometry
      ox, oy, oz, dxy, dz = map(float, sys.argv[3:8])
      S, R, C = m.shape
      ss, rr, cc = np.nonzero(m)
      pick = np.linspace(0, len(ss) - 1, 50).astype(int)
      for s, r, c in zip(ss[pick], rr[pick], cc[pick]):
          ijk = np.array([c, R - 1 - r, S - 1 - s, 1.0])
          ras = seg.affine @ ijk
          lps = np.array([ox + c * dxy, oy + r * dxy, oz - s * dz])
          assert np.allclose([-ras[0], -ras[1], ras[2]], lps, atol=1e-3), (ras, lps)
      print('labels', ' '.join(str(int(v)) for v in np.unique(a)))
      """;

  @TempDir Path tmp;

  @Test
  void nibabelReadsTheMasksTheKaggleWay() throws IOException {
    if (!Files.isExecutable(PYTHON)) {
      fail(PYTHON + " is missing: install python3-nibabel and python3-numpy");
    }
    CervicalSynth.Config c =
        CervicalSynth.Config.small(13).withStudies(1).withTestStudies(0).withImageSize(96);
    Path root = tmp.resolve("rsna");
    CervicalSynth.generate(root, c);
    CervicalSynth.StudySpec spec = CervicalSynth.plan(c).get(0);
    CervicalPhantom.Rendered r = CervicalSynth.study(c, spec).render();
    Path mask = tmp.resolve("mask.npy");
    Npy.write(mask, r.mask());
    Path script = tmp.resolve("check.py");
    Files.writeString(script, SCRIPT);
    Volume img = r.image();
    double[] o = img.origin();
    String out =
        Subprocess.run(
                List.of(
                    PYTHON.toString(),
                    script.toString(),
                    root.resolve("segmentations").resolve(spec.studyUid() + ".nii").toString(),
                    mask.toString(),
                    num(o[0]),
                    num(o[1]),
                    num(o[2]),
                    num(img.spacing()[0]),
                    num(img.spacing()[2])),
                Duration.ofSeconds(120))
            .succeeded()
            .stdout();
    // background and C1..T1 whole, T2 cut by the end of the series
    assertEquals("labels 0 1 2 3 4 5 6 7 8 9", out.strip());
  }

  private static String num(double x) {
    return String.format(Locale.ROOT, "%.9f", x);
  }
}
