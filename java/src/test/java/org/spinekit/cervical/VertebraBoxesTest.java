package org.spinekit.cervical;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.cervical.VertebraBoxes.Entry;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.SliceSource;
import org.spinekit.io.Volume;

/** Components, boxes, Dice, the CSV table and the remap of {@link VertebraBoxes}, by hand. */
class VertebraBoxesTest {
  @TempDir Path tmp;

  static final String UID = "1.2.826.0.1.3680043.1234";

  /** A label volume of {@code s x r x c} voxels with a setter. */
  static final class Grid {
    final int s;
    final int r;
    final int c;
    final short[] v;

    Grid(int s, int r, int c) {
      this.s = s;
      this.r = r;
      this.c = c;
      this.v = new short[s * r * c];
    }

    Grid set(int slice, int row, int column, int label) {
      v[(slice * r + row) * c + column] = (short) label;
      return this;
    }

    Grid block(int s0, int s1, int r0, int r1, int c0, int c1, int label) {
      for (int a = s0; a <= s1; a++) {
        for (int b = r0; b <= r1; b++) {
          for (int k = c0; k <= c1; k++) set(a, b, k, label);
        }
      }
      return this;
    }

    int at(short[] x, int slice, int row, int column) {
      return x[(slice * r + row) * c + column];
    }

    short[] clean(long minVoxels) {
      return VertebraBoxes.clean(v, s, r, c, minVoxels);
    }
  }

  static List<SliceSource> sources(int slices, int firstInstance, int step) {
    List<SliceSource> out = new ArrayList<>();
    for (int k = 0; k < slices; k++) {
      int n = firstInstance + step * k;
      out.add(new SliceSource(Path.of(n + ".dcm"), 0, n, "1.2.3." + n));
    }
    return out;
  }

  // ------------------------------------------------------------------ clean

  @Test
  void cleanKeepsTheLargestComponentOfEachVertebraAndLeavesTheInputAlone() {
    Grid g = new Grid(6, 8, 8);
    g.block(0, 1, 0, 1, 0, 1, 3); // C3: 8 voxels
    g.set(5, 7, 7, 3); // C3 island, 1 voxel
    g.set(4, 0, 7, 3); // C3 island, 1 voxel
    g.block(3, 3, 4, 5, 4, 5, 8); // thoracic: 4 voxels
    g.set(0, 7, 0, 8); // thoracic: 1 voxel
    g.set(5, 0, 0, 5); // C5: its only component, 1 voxel
    short[] before = g.v.clone();

    short[] a = g.clean(0);
    assertArrayEquals(before, g.v, "input unchanged");
    assertEquals(3, g.at(a, 1, 1, 1));
    assertEquals(0, g.at(a, 5, 7, 7), "C3 island dropped");
    assertEquals(0, g.at(a, 4, 0, 7), "C3 island dropped");
    assertEquals(8, g.at(a, 0, 7, 0), "thoracic components all kept with minVoxels 0");
    assertEquals(5, g.at(a, 5, 0, 0), "C5's largest component kept");
    assertEquals(8 + 4 + 1 + 1, count(a));

    short[] b = g.clean(2);
    assertEquals(0, g.at(b, 0, 7, 0), "thoracic speck below minVoxels dropped");
    assertEquals(8, g.at(b, 3, 4, 4), "thoracic body kept");
    assertEquals(0, g.at(b, 5, 0, 0), "C5 below minVoxels dropped even though largest");
    assertEquals(8 + 4, count(b));

    assertEquals(0, count(g.clean(9)), "minVoxels above every component");
  }

  @Test
  void separateThoracicBodiesAreAllKept() {
    Grid g = new Grid(10, 4, 4);
    g.block(0, 2, 0, 3, 0, 3, 8); // T1
    g.block(4, 6, 0, 3, 0, 3, 8); // T2, a disc (slice 3) between
    g.block(8, 9, 1, 2, 1, 2, 8); // T3, small
    short[] out = g.clean(9);
    assertEquals(48 + 48, count(out), "T3 (8 voxels) below 9 dropped, T1 and T2 kept");
    assertEquals(8, g.at(out, 5, 0, 0));
  }

  @Test
  void componentsAre26Connected() {
    Grid g = new Grid(4, 5, 5);
    g.set(0, 0, 0, 2).set(1, 1, 1, 2).set(2, 2, 2, 2); // corners only: one component of 3
    g.set(3, 4, 0, 2).set(3, 4, 1, 2); // 2 voxels, apart
    g.set(0, 3, 3, 4).set(0, 4, 4, 4); // an edge in one slice: one component of 2
    g.set(2, 0, 4, 4); // apart
    short[] out = g.clean(0);
    assertEquals(2, g.at(out, 2, 2, 2));
    assertEquals(0, g.at(out, 3, 4, 0));
    assertEquals(4, g.at(out, 0, 4, 4));
    assertEquals(0, g.at(out, 2, 0, 4));
    assertEquals(5, count(out));
  }

  @Test
  void differentLabelsThatTouchAreDifferentComponents() {
    Grid g = new Grid(1, 1, 6);
    g.set(0, 0, 0, 1).set(0, 0, 1, 1).set(0, 0, 2, 2).set(0, 0, 3, 2).set(0, 0, 4, 2);
    short[] out = g.clean(0);
    assertArrayEquals(g.v, out, "C1 and C2 side by side: each its own largest component");
  }

  @Test
  void aShapeJoinedOnlyFurtherDownIsOneComponent() {
    // Two bars that meet only in the last row: one U of 15 voxels, which beats a lone bar of 6.
    Grid g = new Grid(1, 7, 7);
    g.block(0, 0, 0, 5, 0, 0, 6).block(0, 0, 0, 5, 4, 4, 6).block(0, 0, 6, 6, 1, 3, 6);
    g.block(0, 0, 0, 5, 6, 6, 6);
    short[] out = g.clean(0);
    assertEquals(6, g.at(out, 0, 0, 0));
    assertEquals(6, g.at(out, 0, 0, 4));
    assertEquals(0, g.at(out, 0, 0, 6), "the lone bar is smaller");
    assertEquals(15, count(out));
  }

  @Test
  void equalLargestComponentsKeepTheFirstInVolumeOrder() {
    Grid g = new Grid(3, 3, 3);
    g.set(2, 0, 0, 7).set(0, 2, 2, 7);
    short[] out = g.clean(0);
    assertEquals(7, g.at(out, 0, 2, 2));
    assertEquals(0, g.at(out, 2, 0, 0));
  }

  @Test
  void cleanAgreesWithABreadthFirstReferenceOnRandomVolumes() {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int trial = 0; trial < 40; trial++) {
      int s = 1 + rnd.nextInt(9);
      int r = 1 + rnd.nextInt(12);
      int c = 1 + rnd.nextInt(12);
      short[] v = new short[s * r * c];
      double density = 0.15 + 0.5 * rnd.nextDouble();
      int[] palette = trial % 2 == 0 ? new int[] {1, 8} : new int[] {1, 2, 3, 4, 5, 6, 7, 8};
      for (int i = 0; i < v.length; i++) {
        if (rnd.nextDouble() < density) v[i] = (short) palette[rnd.nextInt(palette.length)];
      }
      long min = rnd.nextInt(4);
      assertArrayEquals(
          reference(v, s, r, c, min),
          VertebraBoxes.clean(v, s, r, c, min),
          "trial " + trial + " (" + s + " x " + r + " x " + c + ", minVoxels " + min + ")");
    }
  }

  /** Breadth-first 26-connected labelling, then the documented rule. */
  static short[] reference(short[] v, int s, int r, int c, long min) {
    int[] comp = new int[v.length];
    java.util.Arrays.fill(comp, -1);
    List<Integer> sizes = new ArrayList<>();
    List<Integer> labelOf = new ArrayList<>();
    for (int i = 0; i < v.length; i++) {
      if (v[i] == 0 || comp[i] >= 0) continue;
      int id = sizes.size();
      int size = 0;
      ArrayDeque<Integer> q = new ArrayDeque<>();
      q.add(i);
      comp[i] = id;
      while (!q.isEmpty()) {
        int x = q.poll();
        size++;
        int zs = x / (r * c);
        int ys = (x / c) % r;
        int xs = x % c;
        for (int dz = -1; dz <= 1; dz++) {
          for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
              int z = zs + dz, y = ys + dy, w = xs + dx;
              if (z < 0 || z >= s || y < 0 || y >= r || w < 0 || w >= c) continue;
              int j = (z * r + y) * c + w;
              if (v[j] == v[i] && comp[j] < 0) {
                comp[j] = id;
                q.add(j);
              }
            }
          }
        }
      }
      sizes.add(size);
      labelOf.add((int) v[i]);
    }
    int[] best = new int[9];
    java.util.Arrays.fill(best, -1);
    for (int k = 0; k < sizes.size(); k++) {
      int l = labelOf.get(k);
      if (l != 8 && (best[l] < 0 || sizes.get(k) > sizes.get(best[l]))) best[l] = k;
    }
    short[] out = v.clone();
    for (int i = 0; i < v.length; i++) {
      if (comp[i] < 0) continue;
      int k = comp[i];
      int l = labelOf.get(k);
      if (sizes.get(k) < min || (l != 8 && best[l] != k)) out[i] = 0;
    }
    return out;
  }

  @Test
  void cleanRefusesWrongSizesAndLabels() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> VertebraBoxes.clean(new short[23], 2, 3, 4, 0));
    assertEquals("labels: expected 2 x 3 x 4 = 24 values, got 23", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> VertebraBoxes.clean(new short[0], 0, 3, 4, 0));
    assertTrue(e.getMessage().startsWith("size: expected positive"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> VertebraBoxes.clean(new short[24], 2, 3, 4, -1));
    assertEquals("minVoxels: expected 0 or more, got -1", e.getMessage());
    Grid g = new Grid(2, 3, 4).set(1, 2, 3, 12);
    e = assertThrows(IllegalArgumentException.class, () -> g.clean(0));
    assertTrue(
        e.getMessage()
            .startsWith("labels: expected labels 0..8, got 12 at (slice 1, row 2, column 3)"),
        e.getMessage());
    Grid h = new Grid(2, 3, 4).set(0, 1, 0, -1);
    e = assertThrows(IllegalArgumentException.class, () -> h.clean(0));
    assertTrue(e.getMessage().contains("got -1 at (slice 0, row 1, column 0)"), e.getMessage());
  }

  // ------------------------------------------------------------------ boxes

  @Test
  void boxesGiveBoundsVoxelsAndInstanceNumbersInVolumeOrder() {
    Grid g = new Grid(6, 7, 8);
    g.block(1, 3, 2, 4, 1, 5, 2); // C2
    g.set(3, 6, 7, 2); // widens C2's box
    g.block(4, 5, 0, 0, 0, 0, 7); // C7
    g.block(0, 5, 6, 6, 0, 3, 8); // thoracic: in no entry
    List<SliceSource> src = sources(6, 60, -10); // instances 60, 50, ..., 10 in volume order
    List<Entry> e = VertebraBoxes.boxes(UID, g.v, 6, 7, 8, src);
    assertEquals(7, e.size());
    for (int v = 1; v <= 7; v++) {
      assertEquals(v, e.get(v - 1).vertebra());
      assertEquals(UID, e.get(v - 1).studyUid());
    }
    assertEquals(
        new Entry(UID, 2, true, 1, 3, 2, 6, 1, 7, 3 * 3 * 5 + 1, new int[] {50, 40, 30}), e.get(1));
    assertEquals(new Entry(UID, 7, true, 4, 5, 0, 0, 0, 0, 2, new int[] {20, 10}), e.get(6));
    for (int v : new int[] {1, 3, 4, 5, 6}) {
      Entry m = e.get(v - 1);
      assertFalse(m.found(), m.name());
      assertEquals(Entry.missing(UID, v), m);
      assertEquals(-1, m.sliceMin());
      assertEquals(-1, m.columnMax());
      assertEquals(0, m.voxels());
      assertEquals(0, m.instances().length);
    }
  }

  @Test
  void anEmptyVolumeHasNoVertebra() {
    List<Entry> e = VertebraBoxes.boxes(UID, new short[2 * 2 * 2], 2, 2, 2, sources(2, 1, 1));
    assertEquals(7, e.size());
    for (Entry x : e) assertFalse(x.found(), x.toString());
  }

  @Test
  void boxesRefuseWrongSizesAndLabels() {
    short[] v = new short[2 * 3 * 4];
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> VertebraBoxes.boxes(UID, v, 2, 3, 5, sources(2, 1, 1)));
    assertEquals("labels: expected 2 x 3 x 5 = 30 values, got 24", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> VertebraBoxes.boxes(UID, v, 2, 3, 4, sources(3, 1, 1)));
    assertEquals("sources: expected one per slice (2), got 3", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> VertebraBoxes.boxes(UID, v, 2, 3, 4, null));
    assertEquals("sources: expected one per slice (2), got null", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> VertebraBoxes.boxes("1.2,3", v, 2, 3, 4, sources(2, 1, 1)));
    assertTrue(e.getMessage().startsWith("studyUid:"), e.getMessage());
    short[] w = v.clone();
    w[13] = 9;
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> VertebraBoxes.boxes(UID, w, 2, 3, 4, sources(2, 1, 1)));
    assertTrue(e.getMessage().contains("got 9 at (slice 1, row 0, column 1)"), e.getMessage());
  }

  // ------------------------------------------------------------------ Entry

  @Test
  void entriesCheckTheirFieldsAndCopyTheirInstances() {
    int[] inst = {4, 5};
    Entry e = new Entry(UID, 1, true, 3, 4, 0, 1, 0, 1, 8, inst);
    inst[0] = 99;
    assertArrayEquals(new int[] {4, 5}, e.instances(), "copied in");
    e.instances()[1] = 99;
    assertArrayEquals(new int[] {4, 5}, e.instances(), "copied out");
    assertEquals(e, new Entry(UID, 1, true, 3, 4, 0, 1, 0, 1, 8, new int[] {4, 5}));
    assertEquals(
        e.hashCode(), new Entry(UID, 1, true, 3, 4, 0, 1, 0, 1, 8, new int[] {4, 5}).hashCode());
    assertNotEquals(e, new Entry(UID, 1, true, 3, 4, 0, 1, 0, 1, 8, new int[] {4, 6}));
    assertEquals("C1", e.name());

    assertEquals(
        "vertebra: expected 1..7 (C1..C7), got 8",
        assertThrows(IllegalArgumentException.class, () -> Entry.missing(UID, 8)).getMessage());
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> new Entry(UID, 2, false, 0, -1, -1, -1, -1, -1, 0, new int[0]))
            .getMessage()
            .startsWith(UID + " C2 not found: expected bounds -1"));
    assertEquals(
        UID + " C2: instances: expected one per slice 3..4 (2), got 1",
        assertThrows(
                IllegalArgumentException.class,
                () -> new Entry(UID, 2, true, 3, 4, 0, 1, 0, 1, 8, new int[] {4}))
            .getMessage());
    assertEquals(
        UID + " C2: voxels: expected 1..8 (the box's volume), got 9",
        assertThrows(
                IllegalArgumentException.class,
                () -> new Entry(UID, 2, true, 3, 4, 0, 1, 0, 1, 9, new int[] {4, 5}))
            .getMessage());
    assertEquals(
        UID + " C2: row bounds: expected 0 <= row_min <= row_max, got 2..1",
        assertThrows(
                IllegalArgumentException.class,
                () -> new Entry(UID, 2, true, 3, 4, 2, 1, 0, 1, 1, new int[] {4, 5}))
            .getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> new Entry(UID, 2, true, 3, 4, 0, 1, 0, 1, 1, null));
    assertThrows(IllegalArgumentException.class, () -> Entry.missing("", 2));
    assertThrows(IllegalArgumentException.class, () -> Entry.missing("a\nb", 2));
  }

  // ------------------------------------------------------------------ dice

  @Test
  void diceIsTwiceTheOverlapOverTheSizes() {
    short[] pred = {0, 1, 1, 2, 2, 0};
    short[] truth = {0, 1, 2, 2, 0, 0};
    double[] d = VertebraBoxes.dice(pred, truth, 4);
    assertEquals(4, d.length);
    assertEquals(2.0 * 2 / (2 + 3), d[0], 1e-12);
    assertEquals(2.0 * 1 / (2 + 1), d[1], 1e-12);
    assertEquals(2.0 * 1 / (2 + 2), d[2], 1e-12);
    assertTrue(Double.isNaN(d[3]), "label in neither: NaN");
    double[] same = VertebraBoxes.dice(pred, pred, 3);
    assertArrayEquals(new double[] {1, 1, 1}, same);
    short[] none = {0, 0};
    short[] all = {1, 1};
    assertArrayEquals(new double[] {0, 0}, VertebraBoxes.dice(none, all, 2));
  }

  @Test
  void diceRefusesUnequalLengthsAndLabelsOutOfRange() {
    assertEquals(
        "truth: expected 3 values (as pred), got 2",
        assertThrows(
                IllegalArgumentException.class,
                () -> VertebraBoxes.dice(new short[3], new short[2], 9))
            .getMessage());
    assertEquals(
        "pred[1]: expected a label 0..8, got 9",
        assertThrows(
                IllegalArgumentException.class,
                () -> VertebraBoxes.dice(new short[] {0, 9}, new short[2], 9))
            .getMessage());
    assertEquals(
        "truth[0]: expected a label 0..1, got -3",
        assertThrows(
                IllegalArgumentException.class,
                () -> VertebraBoxes.dice(new short[1], new short[] {-3}, 2))
            .getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> VertebraBoxes.dice(new short[1], new short[1], 0));
    assertThrows(IllegalArgumentException.class, () -> VertebraBoxes.dice(null, new short[1], 2));
  }

  // ------------------------------------------------------------------ remap

  @Test
  void remapKeepsTheVertebraeAndMergesTheThoracicOnes() {
    short[] stored = {0, 1, 7, 8, 12, 19, 20, 255, -1, 3};
    short[] want = {0, 1, 7, 8, 8, 8, 0, 0, 0, 3};
    Volume int16 = Volume.builder(1, 2, 5).shorts(stored, true, 1, 0).build();
    assertArrayEquals(want, VertebraBoxes.remap(int16));
    // UINT16: -1 is 65535; a rescale is applied before the mapping.
    assertArrayEquals(
        want, VertebraBoxes.remap(Volume.builder(1, 2, 5).shorts(stored, false, 1, 0).build()));
    short[] halves = {0, 2, 14, 16, 24, 38, 40, 510, 100, 6};
    assertArrayEquals(
        want, VertebraBoxes.remap(Volume.builder(1, 2, 5).shorts(halves, true, 0.5, 0).build()));
    float[] f = {0, 1, 7, 8, 12, 19, 20, 2.5f, Float.NaN, 3};
    assertArrayEquals(want, VertebraBoxes.remap(Volume.builder(1, 2, 5).floats(f).build()));
    assertThrows(IllegalArgumentException.class, () -> VertebraBoxes.remap(null));
  }

  // ------------------------------------------------------------------ CSV

  static List<Entry> someEntries() {
    Grid g = new Grid(5, 4, 4);
    g.block(0, 1, 0, 1, 0, 1, 1).block(2, 4, 1, 3, 2, 3, 4).set(4, 0, 0, 7);
    List<Entry> out = new ArrayList<>(VertebraBoxes.boxes(UID, g.v, 5, 4, 4, sources(5, 5, -1)));
    out.addAll(
        VertebraBoxes.boxes(
            "1.2.826.0.1.3680043.99", g.v, 5, 4, 4, sources(5, 1, 1))); // a second study
    return out;
  }

  @Test
  void csvRoundTrip() throws IOException {
    List<Entry> entries = someEntries();
    Path csv = tmp.resolve("sub/boxes.csv");
    VertebraBoxes.write(csv, entries);
    List<String> lines = Files.readAllLines(csv, UTF_8);
    assertEquals(VertebraBoxes.HEADER, lines.get(0));
    assertEquals(
        List.of(
            UID + ",C1,1,0,1,0,1,0,1,8,5 4",
            UID + ",C2,0,-1,-1,-1,-1,-1,-1,0,",
            UID + ",C4,1,2,4,1,3,2,3,18,3 2 1"),
        List.of(lines.get(1), lines.get(2), lines.get(4)));
    assertEquals(entries, VertebraBoxes.read(csv));

    // Written over atomically: the new content, no temporary file left.
    VertebraBoxes.write(csv, entries.subList(0, 7));
    assertEquals(entries.subList(0, 7), VertebraBoxes.read(csv));
    try (Stream<Path> files = Files.list(csv.getParent())) {
      assertEquals(List.of(csv), files.toList());
    }

    // CRLF line ends, a byte-order mark and blank lines are read too; so is an empty table.
    String crlf = "\uFEFF" + String.join("\r\n", Files.readAllLines(csv, UTF_8)) + "\r\n\r\n";
    Files.writeString(csv, crlf, UTF_8);
    assertEquals(entries.subList(0, 7), VertebraBoxes.read(csv));
    VertebraBoxes.write(csv, List.of());
    assertEquals(List.of(), VertebraBoxes.read(csv));
  }

  private MalformedFileException malformed(String... lines) throws IOException {
    Path csv = tmp.resolve("bad.csv");
    Files.writeString(csv, String.join("\n", lines) + "\n", UTF_8);
    return assertThrows(MalformedFileException.class, () -> VertebraBoxes.read(csv));
  }

  @Test
  void malformedCsvErrorsNameTheFileLineAndColumn() throws IOException {
    Path csv = tmp.resolve("bad.csv");
    String h = VertebraBoxes.HEADER;
    String ok = UID + ",C1,1,0,1,0,1,0,1,8,5 4";
    MalformedFileException e = malformed(h, ok, UID + ",C2,1,x,1,0,1,0,1,8,5 4");
    assertEquals(csv, e.file());
    assertEquals(
        csv + ": line 3, column 'slice_min': expected an integer (got 'x')", e.getMessage());

    e = malformed(h, UID + ",C8,0,-1,-1,-1,-1,-1,-1,0,");
    assertEquals(csv + ": line 2, column 'vertebra': expected C1..C7 (got 'C8')", e.getMessage());
    e = malformed(h, UID + ",C2,yes,-1,-1,-1,-1,-1,-1,0,");
    assertEquals(csv + ": line 2, column 'found': expected 0 or 1 (got 'yes')", e.getMessage());
    e = malformed(h, UID + ",C2,1,0,1,0,1,0,1,-8,5 4");
    assertEquals(
        csv + ": line 2, column 'voxels': expected a non-negative integer (got '-8')",
        e.getMessage());
    e = malformed(h, "", ok, UID + ",C2,1,0,1,0,1,0,1,8,5  4");
    assertEquals(
        csv
            + ": line 4, column 'instances': expected integers separated by single spaces (got '5"
            + "  4')",
        e.getMessage());
    e = malformed(h, ",C2,1,0,1,0,1,0,1,8,5 4");
    assertEquals(
        csv + ": line 2, column 'StudyInstanceUID': expected a UID (got '')", e.getMessage());
    e = malformed(h, UID + ",C2,1,0,1,0,1,0,1,8");
    assertEquals(csv + ": line 2: 10 fields where the header has 11", e.getMessage());
    e = malformed(h, UID + ",C2,1,0,1,0,1,0,1,8,5 4 3");
    assertEquals(
        csv + ": line 2: " + UID + " C2: instances: expected one per slice 0..1 (2), got 3",
        e.getMessage());
    e = malformed(h, ok, ok);
    assertEquals(csv + ": line 3: " + UID + " C1 repeats line 2", e.getMessage());
    e = malformed("StudyInstanceUID,vertebra", ok);
    assertTrue(e.getMessage().startsWith(csv + ": line 1: expected the header"), e.getMessage());
    e = malformed("");
    assertTrue(e.getMessage().startsWith(csv + ": empty file"), e.getMessage());
    Files.write(csv, new byte[] {'S', (byte) 0xff, '\n'});
    e = assertThrows(MalformedFileException.class, () -> VertebraBoxes.read(csv));
    assertEquals(csv + ": not UTF-8 text", e.getMessage());
  }

  private static long count(short[] v) {
    long n = 0;
    for (short x : v) if (x != 0) n++;
    return n;
  }
}
