package org.spinekit.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.spinekit.io.SliceSource;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.io.nifti.Nifti;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.synth.LumbarSynth;

/**
 * The data part of {@code spinekit demo}: generates the synthetic cervical CT and lumbar MR sets,
 * reads them back through the Kaggle layouts, the DICOM series reader and the NIfTI reader, and
 * shows that labels land on the anatomy they name.
 */
final class DataDemo {
  private DataDemo() {}

  static void run(Path root, boolean small, long seed, int threads) throws IOException {
    Path cervical = root.resolve("rsna2022");
    Path lumbar = root.resolve("rsna2024");
    CervicalSynth.Config cc =
        (small ? CervicalSynth.Config.small(seed) : CervicalSynth.Config.demo(seed))
            .withThreads(threads);
    CervicalSynth.Summary cs = CervicalSynth.generate(cervical, cc);
    System.out.printf(
        Locale.ROOT,
        "cervical CT: %d studies (%d with fractures), %d files, %.1f MB"
            + " written in %.1f s -> %s%n",
        cs.studies(),
        cs.fracturedStudies(),
        cs.files(),
        cs.bytes() / 1e6,
        cs.seconds(),
        cervical);
    LumbarSynth.Config lc =
        (small ? LumbarSynth.Config.small(seed) : LumbarSynth.Config.demo(seed))
            .withThreads(threads);
    LumbarSynth.Summary ls = LumbarSynth.generate(lumbar, lc);
    System.out.printf(
        Locale.ROOT,
        "lumbar MR:   %d studies, %d series, %d files, %.1f MB written" + " in %.1f s -> %s%n",
        ls.studies(),
        ls.series(),
        ls.files(),
        ls.bytes() / 1e6,
        ls.seconds(),
        lumbar);

    DicomSeriesReader.Options ro = DicomSeriesReader.Options.defaults().withThreads(threads);
    Rsna2022.Dataset d22 = Rsna2022.open(cervical);
    String uid = d22.segmentations().keySet().iterator().next();
    long t0 = System.nanoTime();
    Volume ct = DicomSeriesReader.read(d22.imageDirs().get(uid), ro);
    double secs = (System.nanoTime() - t0) / 1e9;
    Volume mask = Nifti.read(d22.segmentations().get(uid)).resampleTo(ct);
    System.out.printf(
        Locale.ROOT,
        "study %s: %d slices of %dx%d read in %.3f s (%.0f slices/s);"
            + " mask aligned through the NIfTI affine%n",
        uid,
        ct.slices(),
        ct.rows(),
        ct.columns(),
        secs,
        ct.slices() / secs);
    double[] sum = new double[20];
    long[] n = new long[20];
    short[] m = mask.shorts();
    for (int i = 0; i < m.length; i++) {
      int z = i / (ct.rows() * ct.columns());
      int r = (i / ct.columns()) % ct.rows();
      int c = i % ct.columns();
      int label = Math.max(0, Math.min(19, m[i]));
      sum[label] += ct.value(z, r, c);
      n[label]++;
    }
    StringBuilder b = new StringBuilder("  mean HU under each label:");
    for (int l = 0; l < 20; l++) {
      if (n[l] == 0) continue;
      b.append(
          String.format(
              Locale.ROOT,
              " %s %.0f",
              l == 0 ? "background" : l <= 7 ? "C" + l : "T" + (l - 7),
              sum[l] / n[l]));
    }
    System.out.println(b);

    Rsna2024.Dataset d24 = Rsna2024.open(lumbar);
    long study = d24.train().get(0).studyId();
    List<Volume> series = DicomSeriesReader.readAll(d24.studyDirs().get(study), ro);
    Map<Long, Volume> byId = new HashMap<>();
    for (Volume v : series) byId.put(Long.parseLong(v.series().seriesInstanceUid()), v);
    double[] at = new double[Condition.values().length];
    double[] mean = new double[Condition.values().length];
    int[] count = new int[Condition.values().length];
    for (Rsna2024.LabelCoordinate p : d24.coordinates()) {
      if (p.studyId() != study) continue;
      Volume v = byId.get(p.seriesId());
      int slice = sliceOf(v, p.instanceNumber());
      int k = p.condition().ordinal();
      at[k] += v.value(slice, (int) Math.round(p.y()), (int) Math.round(p.x()));
      mean[k] += sliceMean(v, slice);
      count[k]++;
    }
    System.out.printf(
        Locale.ROOT,
        "study %d: %d series; signal at the labelled points / mean" + " of their slice:%n",
        study,
        series.size());
    for (Condition c : Condition.values()) {
      int k = c.ordinal();
      if (count[k] == 0) continue;
      System.out.printf(
          Locale.ROOT, "  %-33s %6.0f / %6.0f%n", c.label, at[k] / count[k], mean[k] / count[k]);
    }
  }

  private static int sliceOf(Volume v, int instance) {
    List<SliceSource> s = v.sources();
    for (int i = 0; i < s.size(); i++) if (s.get(i).instanceNumber() == instance) return i;
    throw new IllegalStateException(
        "instance " + instance + " is not in series " + v.series().seriesInstanceUid());
  }

  private static double sliceMean(Volume v, int slice) {
    double s = 0;
    for (int r = 0; r < v.rows(); r++) {
      for (int c = 0; c < v.columns(); c++) s += v.value(slice, r, c);
    }
    return s / ((double) v.rows() * v.columns());
  }
}
