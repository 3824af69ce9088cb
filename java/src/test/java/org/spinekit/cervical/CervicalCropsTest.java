package org.spinekit.cervical;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.ops.CropSample;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.synth.CervicalTruth;
import org.spinekit.tensor.Tensors;
import org.spinekit.train.Batch;
import org.spinekit.train.DataLoader;
import org.spinekit.train.DataLoaderTest;
import org.spinekit.train.LoaderException;

/** The lazy cervical stage-2 data set on a small synthetic RSNA 2022 directory. */
class CervicalCropsTest {
  @TempDir static Path tmp;
  static Path root;
  static final CropSample.Options CROP =
      CropSample.Options.of(48, 48).withMargin(2, 4, 4).withPad(-1000);

  @BeforeAll
  static void generate() throws IOException {
    torch.set_num_threads(2);
    root = tmp.resolve("rsna");
    CervicalSynth.generate(
        root, CervicalSynth.Config.small(2022).withFractureRate(0.7).withThreads(2));
  }

  private static Map<String, CervicalTruth> truthByVertebra() throws IOException {
    Map<String, CervicalTruth> m = new HashMap<>();
    for (CervicalTruth.Row r : CervicalTruth.read(root.resolve(CervicalSynth.TRUTH_CSV))) {
      if (!r.test()) m.put(r.studyUid() + "/" + r.truth().label(), r.truth());
    }
    return m;
  }

  @Test
  void labelsOfEveryBatchMatchTheTruth() throws IOException {
    List<CervicalCrops.Crop> records =
        CervicalCrops.fromBoxes(root, SynthBoxes.read(root), CROP.marginZ());
    Map<String, CervicalTruth> truth = truthByVertebra();
    int present = 0, fractured = 0;
    for (Map.Entry<String, CervicalTruth> e : truth.entrySet()) {
      int l = e.getValue().label();
      if (l >= 1 && l <= 7 && e.getValue().present()) {
        present++;
        if (e.getValue().fracture() != null) fractured++;
      }
    }
    assertEquals(present, records.size(), "one record per vertebra C1..C7 present");
    assertTrue(fractured > 0 && fractured < present, "fractured vertebrae: " + fractured);
    CervicalCrops data = new CervicalCrops(records, CROP, CervicalAugment.pipeline());
    int seen = 0;
    try (DataLoader l = new DataLoader(data, DataLoader.Options.of(4, 2, 7))) {
      for (Batch b : l) {
        try (b) {
          assertArrayEquals(
              new long[] {b.size(), 24, 48, 48},
              new long[] {
                b.inputs().size(0), b.inputs().size(1), b.inputs().size(2), b.inputs().size(3)
              },
              "batch shape");
          float[] t = Tensors.floats(b.targets());
          int[] idx = b.indices();
          for (int i = 0; i < idx.length; i++) {
            CervicalCrops.Crop r = records.get(idx[i]);
            CervicalTruth tr = truth.get(r.studyUid() + "/" + r.vertebra());
            assertEquals(tr.fracture() != null ? 1f : 0f, t[i], r.studyUid() + " C" + r.vertebra());
            assertEquals(
                List.of(tr.rowMin(), tr.rowMax() + 1, tr.columnMin(), tr.columnMax() + 1),
                List.of(
                    (int) r.box().y0(), (int) r.box().y1(), (int) r.box().x0(), (int) r.box().x1()),
                "rows and columns of the box");
            // The box's slices are instance numbers sliceMin + 1 .. sliceMax + 1 (truth order).
            java.util.TreeSet<Integer> inst = new java.util.TreeSet<>();
            for (long z = r.box().z0(); z < r.box().z1(); z++) {
              inst.add(r.slices().get((int) (z - r.first())).instanceNumber());
            }
            assertEquals(tr.sliceMax() - tr.sliceMin() + 1, inst.size(), "slices of the box");
            assertEquals(tr.sliceMin() + 1, inst.first());
            assertEquals(tr.sliceMax() + 1, inst.last());
            seen++;
          }
        }
      }
    }
    assertEquals(records.size(), seen);
  }

  @Test
  void cropsEqualTheCropOfTheWholeVolume() throws IOException {
    List<CervicalCrops.Crop> records =
        CervicalCrops.fromBoxes(root, SynthBoxes.read(root), CROP.marginZ());
    CervicalCrops data = new CervicalCrops(records, CROP, null);
    Rsna2022.Dataset d = Rsna2022.open(root);
    Map<String, Volume> volumes = new HashMap<>();
    for (int i = 0; i < records.size(); i++) {
      CervicalCrops.Crop r = records.get(i);
      Volume v =
          volumes.computeIfAbsent(
              r.studyUid(),
              uid -> {
                try {
                  return DicomSeriesReader.read(d.imageDirs().get(uid));
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      assertEquals(v.slices(), r.seriesSlices());
      assertEquals(v.sources().get(r.first()).file(), r.slices().get(0).file());
      try (PointerScope scope = new PointerScope()) {
        float[] lazy = Tensors.floats(data.get(i, new SplittableRandom(1)).input());
        float[] full = Tensors.floats(CropSample.sample(v, r.box(), CROP));
        assertEquals(full.length, lazy.length);
        for (int k = 0; k < full.length; k++) {
          assertEquals(
              full[k],
              lazy[k],
              1e-3f * Math.max(1f, Math.abs(full[k])),
              r.studyUid() + " C" + r.vertebra() + " element " + k);
        }
      }
    }
    // A box over the top of the series and over two image edges: padding there.
    CervicalCrops.Crop r0 = records.get(0);
    Volume v = volumes.get(r0.studyUid());
    CropSample.Box top =
        new CropSample.Box(-5, 7, -6, r0.box().y1(), r0.box().x0(), v.columns() + 5L);
    List<org.spinekit.io.SliceSource> ids = v.sources().subList(0, 9);
    CervicalCrops.Crop edge =
        new CervicalCrops.Crop(
            r0.studyUid(), 1, top, v.slices(), v.rows(), v.columns(), 0, ids, false);
    try (PointerScope scope = new PointerScope()) {
      float[] lazy =
          Tensors.floats(
              new CervicalCrops(List.of(edge), CROP, null).get(0, new SplittableRandom(1)).input());
      float[] full = Tensors.floats(CropSample.sample(v, top, CROP));
      for (int k = 0; k < full.length; k++) {
        assertEquals(full[k], lazy[k], 1e-3f * Math.max(1f, Math.abs(full[k])), "edge " + k);
      }
      assertEquals(-1000f, lazy[0], "first plane is padding");
    }
    // A box wholly outside the image: padding only, as on the whole volume.
    CropSample.Box away = new CropSample.Box(3, 9, -40, -20, 10, 30);
    CervicalCrops.Crop out =
        new CervicalCrops.Crop(
            r0.studyUid(),
            1,
            away,
            v.slices(),
            v.rows(),
            v.columns(),
            1,
            v.sources().subList(1, 11),
            false);
    try (PointerScope scope = new PointerScope()) {
      float[] lazy =
          Tensors.floats(
              new CervicalCrops(List.of(out), CROP, null).get(0, new SplittableRandom(1)).input());
      float[] full = Tensors.floats(CropSample.sample(v, away, CROP));
      assertArrayEquals(full, lazy, "box outside the image");
      for (float f : lazy) assertEquals(-1000f, f);
    }
  }

  @Test
  void masksGiveTheTruthBoxes() throws IOException {
    List<CervicalCrops.Crop> fromTruth = CervicalCrops.fromBoxes(root, SynthBoxes.read(root), 0);
    List<CervicalCrops.Crop> fromMasks = CervicalCrops.fromMasks(root, 0);
    assertEquals(fromTruth.size(), fromMasks.size(), "records");
    for (int i = 0; i < fromTruth.size(); i++) {
      CervicalCrops.Crop t = fromTruth.get(i), m = fromMasks.get(i);
      String what = t.studyUid() + " C" + t.vertebra();
      assertEquals(t.vertebra(), m.vertebra(), what);
      assertEquals(t.box(), m.box(), what);
      assertEquals(t.fractured(), m.fractured(), what);
      assertEquals(t, m, what);
    }
  }

  @Test
  void sameBatchesWithOneAndTwoWorkersAndAcrossRuns() throws IOException {
    CervicalCrops data =
        new CervicalCrops(
            CervicalCrops.fromBoxes(root, SynthBoxes.read(root), CROP.marginZ()),
            CROP,
            CervicalAugment.withBrightnessContrast());
    List<List<Object[]>> runs = new ArrayList<>();
    for (int workers : new int[] {1, 2, 2}) {
      try (DataLoader l = new DataLoader(data, DataLoader.Options.of(3, workers, 5))) {
        List<Object[]> e = new ArrayList<>(DataLoaderTest.epoch(l));
        e.addAll(DataLoaderTest.epoch(l));
        runs.add(e);
      }
    }
    DataLoaderTest.assertSameEpoch(runs.get(0), runs.get(1), "1 vs 2 workers");
    DataLoaderTest.assertSameEpoch(runs.get(1), runs.get(2), "two runs with 2 workers");
    // The augmentation does something: the same sample differs between epochs.
    float[] a = sampleOf(runs.get(0).subList(0, runs.get(0).size() / 2), 0);
    float[] b = sampleOf(runs.get(0).subList(runs.get(0).size() / 2, runs.get(0).size()), 0);
    assertFalse(java.util.Arrays.equals(a, b), "sample 0 identical in epochs 0 and 1");
  }

  private static float[] sampleOf(List<Object[]> epoch, int index) {
    for (Object[] b : epoch) {
      int[] idx = (int[]) b[0];
      float[] in = (float[]) b[1];
      int per = in.length / idx.length;
      for (int i = 0; i < idx.length; i++) {
        if (idx[i] == index) return java.util.Arrays.copyOfRange(in, i * per, (i + 1) * per);
      }
    }
    throw new AssertionError("index " + index + " not in the epoch");
  }

  @Test
  void aMissingSliceFileSurfacesWithTheSampleIndex() throws IOException {
    Path copy = tmp.resolve("broken");
    List<CervicalCrops.Crop> records = CervicalCrops.fromBoxes(root, SynthBoxes.read(root), 0);
    CervicalCrops.Crop r = records.get(3);
    List<org.spinekit.io.SliceSource> ids = new ArrayList<>(r.slices());
    Files.createDirectories(copy);
    ids.set(0, new org.spinekit.io.SliceSource(copy.resolve("gone.dcm"), 0, 1, "1.2"));
    List<CervicalCrops.Crop> broken = new ArrayList<>(records);
    broken.set(
        3,
        new CervicalCrops.Crop(
            r.studyUid(),
            r.vertebra(),
            r.box(),
            r.seriesSlices(),
            r.rows(),
            r.columns(),
            r.first(),
            ids,
            r.fractured()));
    CervicalCrops data = new CervicalCrops(broken, CropSample.Options.of(32, 32), null);
    try (DataLoader l = new DataLoader(data, DataLoader.Options.of(2, 2, 1))) {
      LoaderException e =
          assertThrows(
              LoaderException.class,
              () -> {
                for (Batch b : l) b.close();
              });
      assertEquals(3, e.index());
      assertTrue(e.getMessage().contains("gone.dcm"), e.getMessage());
    }
  }

  @Test
  void recordsInconsistentWithTheMarginAreRefused() throws IOException {
    List<CervicalCrops.Crop> records = CervicalCrops.fromBoxes(root, SynthBoxes.read(root), 0);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new CervicalCrops(
                    records, CropSample.Options.of(32, 32).withMargin(3, 0, 0), null));
    assertTrue(e.getMessage().startsWith("records:"), e.getMessage());
  }
}
