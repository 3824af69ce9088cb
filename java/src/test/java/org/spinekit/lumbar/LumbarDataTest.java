package org.spinekit.lumbar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Level;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.lumbar.LumbarInputs.Kind;
import org.spinekit.lumbar.LumbarInputs.Series;
import org.spinekit.synth.LumbarSynth;
import org.spinekit.tensor.Tensors;
import org.spinekit.train.Example;

/**
 * The lumbar training data on synthetic studies: series chosen by description and prepared to the
 * configured sizes, label points mapped onto the heatmap grid and the stacks, the cache round trip,
 * the flip that swaps left and right with their labels, and label points that do not fit their
 * series refused with a message naming study, series and directory.
 */
class LumbarDataTest {
  @TempDir static Path dir;
  static Rsna2024.Dataset data;
  static final int SIZE = 64, DEPTH = 10, GRID = SIZE / 4;

  @BeforeAll
  static void generate() throws Exception {
    LumbarSynth.generate(
        dir.resolve("d"), LumbarSynth.Config.small(21).withStudies(2).withTestStudies(0));
    data = Rsna2024.open(dir.resolve("d"));
  }

  static Series series(long study, Kind k) throws Exception {
    Path sd = data.studyDirs().get(study);
    LumbarInputs.Selection sel = LumbarInputs.select(study, sd, data.series());
    long id = sel.series().get(k);
    return LumbarInputs.prepare(
        k,
        id,
        LumbarInputs.read(sd.resolve(Long.toString(id)), study, id, s -> {}),
        DEPTH,
        SIZE,
        1,
        99.5);
  }

  static Rsna2024.LumbarLabel label(long study) {
    return data.train().stream().filter(l -> l.studyId() == study).findFirst().orElseThrow();
  }

  @Test
  void preparesStacksOfTheConfiguredSizeInZeroToOne() throws Exception {
    long study = data.train().get(0).studyId();
    Series t1 = series(study, Kind.T1), ax = series(study, Kind.AXIAL);
    assertEquals(DEPTH, t1.depth());
    assertEquals(SIZE, t1.size());
    assertEquals(ax.slices(), ax.depth(), "axial series keep their slices");
    float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
    for (float v : t1.stack()) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    // Percentiles to 0..1, clamped, then trilinear resampling (which averages).
    assertTrue(min >= 0 && min < 0.05, "min " + min);
    assertTrue(max <= 1 && max > 0.95, "max " + max);
    Path cache = dir.resolve("cache.safetensors");
    LumbarData.save(cache, t1);
    Series back = LumbarData.load(cache);
    assertArrayEquals(t1.stack(), back.stack());
    assertArrayEquals(t1.instances(), back.instances());
    assertEquals(t1.seriesId(), back.seriesId());
    assertEquals(t1.rows(), back.rows());
  }

  @Test
  void mapsLabelPointsOntoTheGridAndBack() throws Exception {
    long study = data.train().get(0).studyId();
    Series t2 = series(study, Kind.T2);
    float[] t =
        LumbarData.sagittalTargets(study, t2, data.coordinates(), label(study), GRID, dir, s -> {});
    assertEquals(5 * 4, t.length);
    for (Rsna2024.LabelCoordinate c : data.coordinates()) {
      if (c.studyId() != study || c.condition() != Condition.SPINAL_CANAL_STENOSIS) continue;
      int k = c.level().ordinal();
      assertEquals(c.x(), t2.fromGridX(t[4 * k], GRID), 1e-4);
      assertEquals(c.y(), t2.fromGridY(t[4 * k + 1], GRID), 1e-4);
      assertEquals(c.instanceNumber(), t2.instances()[t2.fromStackZ(t[4 * k + 2])]);
      assertEquals(label(study).grade(c.condition(), c.level()).ordinal(), (int) t[4 * k + 3]);
    }
  }

  @Test
  void flipSwapsLeftAndRightForaminaWithTheirGrades() throws Exception {
    long study = data.train().get(0).studyId();
    Series t1 = series(study, Kind.T1);
    float[] t =
        LumbarData.sagittalTargets(study, t1, data.coordinates(), label(study), GRID, dir, s -> {});
    assertEquals(10 * 4, t.length);
    // The left foramina lie on one side of the stack, the right ones on the other.
    float side = Math.signum(t[2] - t[4 * 5 + 2]);
    assertTrue(side != 0);
    for (int l = 0; l < 5; l++) {
      assertEquals(side, Math.signum(t[4 * l + 2] - t[4 * (l + 5) + 2]), "level " + l);
    }
    float[] x = t1.stack(), flipped = x.clone(), ft = t.clone();
    LumbarData.flip(flipped, new int[] {DEPTH, SIZE, SIZE}, 0, ft, DEPTH, 2, true);
    int plane = SIZE * SIZE;
    for (int z = 0; z < DEPTH; z++) {
      assertEquals(x[z * plane + 17], flipped[(DEPTH - 1 - z) * plane + 17]);
    }
    for (int l = 0; l < 5; l++) {
      int left = 4 * l, right = 4 * (l + 5);
      // The new left targets are the old right ones, mirrored; so are their grades.
      assertEquals(t[right], ft[left]);
      assertEquals(t[right + 1], ft[left + 1]);
      assertEquals(DEPTH - 1 - t[right + 2], ft[left + 2], 1e-6);
      assertEquals(t[right + 3], ft[left + 3]);
      assertEquals(t[left + 3], ft[right + 3]);
      // ... and still lie on the same side of the flipped stack as the left ones did.
      assertEquals(side, Math.signum(ft[left + 2] - ft[right + 2]), "level " + l);
    }
    // The data set's flip does the same: over many draws both orders appear, each consistent.
    Path cache = dir.resolve("t1.safetensors");
    LumbarData.save(cache, t1);
    var ds = LumbarData.sagittal(List.of(new LumbarData.SagittalItem(study, cache, t)), true, true);
    int swapped = 0;
    for (int i = 0; i < 16; i++) {
      Example e = ds.get(0, new SplittableRandom(i));
      float[] y = e.target();
      for (int l = 0; l < 5; l++)
        assertEquals(side, Math.signum(y[4 * l + 2] - y[4 * (l + 5) + 2]));
      if (y[3] != t[3] || y[2] != t[2]) swapped++;
      assertArrayEquals(new long[] {1, DEPTH, SIZE, SIZE}, e.input().sizes().vec().get());
    }
    assertTrue(swapped > 0 && swapped < 16, "flips: " + swapped + " of 16");
  }

  @Test
  void axialFlipSwapsLeftAndRightSubarticularPoints() throws Exception {
    long study = data.train().get(1).studyId();
    Series ax = series(study, Kind.AXIAL);
    List<LumbarData.AxialLevel> levels =
        LumbarData.axialTargets(study, ax, data.coordinates(), label(study), GRID, dir, s -> {});
    assertEquals(5, levels.size());
    for (LumbarData.AxialLevel a : levels) {
      float[] t = a.target();
      // Axial rows run towards the patient's left: the left point has the larger x.
      assertTrue(t[0] > t[4], a.level() + ": " + t[0] + " vs " + t[4]);
      float[] in = LumbarData.axialInput(ax, a.slice()), ft = t.clone();
      LumbarData.flip(in, new int[] {3, SIZE, SIZE}, 2, ft, GRID, 0, true);
      assertEquals(GRID - 1 - t[4], ft[0], 1e-6);
      assertEquals(t[7], ft[3]);
      assertTrue(ft[0] > ft[4]);
    }
  }

  @Test
  void refusesLabelPointsThatDoNotFitTheirSeries() throws Exception {
    long study = data.train().get(0).studyId();
    Series t2 = series(study, Kind.T2);
    List<String> log = new ArrayList<>();
    Rsna2024.LabelCoordinate missing =
        new Rsna2024.LabelCoordinate(
            study, t2.seriesId(), 999, Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2, 10, 10);
    assertNull(LumbarData.point(t2, missing, Path.of("/data/s"), log::add));
    assertTrue(
        log.get(0).contains("study " + study) && log.get(0).contains("series " + t2.seriesId()),
        log.toString());
    assertTrue(
        log.get(0).contains("instance 999") && log.get(0).contains("/data/s"), log.toString());
    Rsna2024.LabelCoordinate outside =
        new Rsna2024.LabelCoordinate(
            study,
            t2.seriesId(),
            t2.instances()[0],
            Condition.SPINAL_CANAL_STENOSIS,
            Level.L1_L2,
            t2.columns() + 5,
            10);
    assertNull(LumbarData.point(t2, outside, Path.of("/data/s"), log::add));
    assertTrue(log.get(1).contains("outside"), log.toString());
    Rsna2024.LabelCoordinate other =
        new Rsna2024.LabelCoordinate(
            study, 12345, 1, Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2, 10, 10);
    assertNull(LumbarData.point(t2, other, Path.of("/data/s"), log::add));
    assertTrue(log.get(2).contains("another series"), log.toString());
    // The targets leave such points out (NaN) and keep the grade.
    List<Rsna2024.LabelCoordinate> coords = new ArrayList<>(List.of(missing));
    float[] t = LumbarData.sagittalTargets(study, t2, coords, label(study), GRID, dir, s -> {});
    assertTrue(Float.isNaN(t[0]));
    assertEquals(
        label(study).grade(Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2).ordinal(), (int) t[3]);
  }

  @Test
  void cropsHaveTheirPhysicalSize() throws Exception {
    long study = data.train().get(0).studyId();
    Series t2 = series(study, Kind.T2);
    float[] c = LumbarData.crop(t2, SIZE / 2.0, SIZE / 2.0, DEPTH / 2, 3, 40, 16);
    assertEquals(3 * 16 * 16, c.length);
    // A crop far outside the image is zero.
    float[] out = LumbarData.crop(t2, -1000, -1000, 0, 3, 40, 16);
    for (float v : out) assertEquals(0f, v);
    // A crop centred on a pixel with a width of 16 stack pixels reproduces them (same spacing).
    double mmPerPx = t2.stackMm()[0];
    float[] same = LumbarData.crop(t2, 20, 20, 4, 1, 16 * mmPerPx, 16);
    float[] stack = t2.stack();
    // crop pixel (0, 0) samples the stack at (12.5, 12.5): the mean of its four neighbours
    int b = 4 * SIZE * SIZE;
    float mean =
        (stack[b + 12 * SIZE + 12]
                + stack[b + 12 * SIZE + 13]
                + stack[b + 13 * SIZE + 12]
                + stack[b + 13 * SIZE + 13])
            / 4;
    if (Math.abs(t2.stackMm()[1] - mmPerPx) < 1e-9) assertEquals(mean, same[0], 1e-5f);
    assertEquals(3 * 16 * 16, Tensors.floats(Tensors.of(c, 3, 16, 16)).length);
  }
}
