package org.spinekit.lumbar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.lumbar.LumbarOverlay.Kind;
import org.spinekit.lumbar.LumbarOverlay.Layout;
import org.spinekit.lumbar.LumbarOverlay.Mark;
import org.spinekit.lumbar.LumbarOverlay.Panel;
import org.spinekit.lumbar.LumbarOverlay.Tile;

/**
 * The overlay of a synthetic panel: a gradient image (64 x 128) with a bright blob, a heatmap on a
 * stride-4 grid peaked at a known cell, a grade map severe on its right half. Checks the layout,
 * the window, the marks, the heat peak and the grade colours pixel by pixel, atomic writes and the
 * errors.
 */
class LumbarOverlayTest {
  @TempDir Path tmp;

  static final int R = 64, C = 128, HR = 16, HC = 32;

  /** Value = column (0..127); a disc of radius 3 at (x 100, y 20) at 1000. */
  static float[] image() {
    float[] v = new float[R * C];
    for (int r = 0; r < R; r++) {
      for (int c = 0; c < C; c++) {
        boolean blob = (r - 20) * (r - 20) + (c - 100) * (c - 100) <= 9;
        v[r * C + c] = blob ? 1000 : c;
      }
    }
    return v;
  }

  /** A Gaussian (sigma 1.5 cells) at heat cell (row 5, column 10): image (x 41.5, y 21.5). */
  static float[] heat() {
    float[] h = new float[HR * HC];
    for (int r = 0; r < HR; r++) {
      for (int c = 0; c < HC; c++) {
        h[r * HC + c] = (float) Math.exp(-((r - 5) * (r - 5) + (c - 10) * (c - 10)) / 4.5);
      }
    }
    return h;
  }

  /** Normal/Mild 0.9 on heat columns 0..15, Severe 0.9 on 16..31; the others 0.05. */
  static float[] grade() {
    float[] g = new float[3 * HR * HC];
    for (int r = 0; r < HR; r++) {
      for (int c = 0; c < HC; c++) {
        int sure = c < HC / 2 ? 0 : 2;
        for (int k = 0; k < 3; k++) g[(k * HR + r) * HC + c] = k == sure ? 0.9f : 0.05f;
      }
    }
    return g;
  }

  static List<Mark> marks() {
    return List.of(
        new Mark("L4/L5", 40, 30, false),
        new Mark("L4/L5", 46, 36, true),
        new Mark("L5/S1", 40, 50, false),
        new Mark("L5/S1", Double.NaN, Double.NaN, true),
        new Mark("L3/L4", 80, 10, true));
  }

  static Panel full() {
    return new Panel("Sagittal T2 slice 9", image(), R, C, marks(), heat(), HR, HC, grade());
  }

  static int rgb(BufferedImage img, Tile t, int px, int py) {
    return img.getRGB(t.x() + px, t.y() + py) & 0xffffff;
  }

  static int rgb(Color c) {
    return c.getRGB() & 0xffffff;
  }

  static int grey(int v) {
    return v << 16 | v << 8 | v;
  }

  static Tile tile(Layout layout, int panel, Kind kind) {
    return layout.tiles().stream()
        .filter(t -> t.panel() == panel && t.kind() == kind)
        .findFirst()
        .orElseThrow();
  }

  /** Channels of a and b differ by at most 1. */
  static void assertNear(int expected, int actual, String what) {
    for (int shift = 0; shift <= 16; shift += 8) {
      int e = expected >> shift & 0xff, a = actual >> shift & 0xff;
      assertTrue(
          Math.abs(e - a) <= 1,
          what
              + ": expected "
              + Integer.toHexString(expected)
              + ", got "
              + Integer.toHexString(actual));
    }
  }

  @Test
  void layoutFollowsTheTilesAndKeepsTheAspect() {
    Layout full = LumbarOverlay.layout(List.of(full()));
    assertEquals(4 + 3 * (256 + 4), full.width());
    assertEquals(24 + (18 + 256 + 4) + 20 + 4, full.height(), "one legend line of 6 entries");
    assertEquals(
        List.of(Kind.MARKS, Kind.HEAT, Kind.GRADE), full.tiles().stream().map(Tile::kind).toList());
    // 64 x 128 fitted to 256: 256 wide, 128 high, centred vertically in its square.
    assertEquals(List.of(4, 264, 524), full.tiles().stream().map(Tile::x).toList());
    for (Tile t : full.tiles()) {
      assertEquals(24 + 18 + 64, t.y());
      assertEquals(256, t.width());
      assertEquals(128, t.height());
    }
    BufferedImage img = LumbarOverlay.render("study 4003253", List.of(full()));
    assertEquals(full.width(), img.getWidth());
    assertEquals(full.height(), img.getHeight());

    // Marks only: one tile, a two-entry legend.
    Panel plain = new Panel("Axial T2", new float[128 * 64], 128, 64, marks());
    Layout one = LumbarOverlay.layout(List.of(plain));
    assertEquals(4 + 256 + 4, one.width());
    assertEquals(24 + 278 + 20 + 4, one.height());
    Tile portrait = one.tiles().get(0);
    assertEquals(
        List.of(4 + 64, 24 + 18, 128, 256),
        List.of(portrait.x(), portrait.y(), portrait.width(), portrait.height()));

    // Grade without heat: no heat tile; five legend entries in lines of four.
    Panel noHeat = new Panel("Sagittal T1", image(), R, C, marks(), null, HR, HC, grade());
    Layout two = LumbarOverlay.layout(List.of(noHeat, plain));
    assertEquals(4 + 2 * 260, two.width());
    assertEquals(24 + 2 * 278 + 2 * 20 + 4, two.height());
    assertEquals(
        List.of(Kind.MARKS, Kind.GRADE, Kind.MARKS), two.tiles().stream().map(Tile::kind).toList());
    assertEquals(24 + 278 + 18, two.tiles().get(2).y(), "second row");
    assertEquals(24 + 2 * 278, two.legend().get(4).y() - 20, "Severe on the second legend line");
    BufferedImage img2 = LumbarOverlay.render(null, List.of(noHeat, plain));
    assertEquals(two.width(), img2.getWidth());
    assertEquals(two.height(), img2.getHeight());
  }

  @Test
  void theImageIsWindowedToItsFirstAndNinetyNinthPercentiles() {
    // p1 = 1 and p99 = 127 (the blob is under 1% of the pixels).
    assertArrayEquals(new double[] {1, 127}, LumbarOverlay.window(image()), 1e-9);
    Layout layout = LumbarOverlay.layout(List.of(full()));
    BufferedImage img = LumbarOverlay.render("", List.of(full()));
    Tile t = tile(layout, 0, Kind.MARKS);
    // Display pixel 2c (and 2c + 1) shows image column c.
    assertEquals(grey(0), rgb(img, t, 0, 120), "column 0, below p1");
    assertEquals(grey(0), rgb(img, t, 3, 120), "column 1 = p1");
    assertEquals(grey(128), rgb(img, t, 2 * 64, 120), "column 64, half way");
    assertEquals(grey(255), rgb(img, t, 2 * 127 + 1, 120), "column 127 = p99");
    assertEquals(grey(255), rgb(img, t, 2 * 100, 2 * 20), "the blob, above p99");
    // A constant image: black, without dividing by zero.
    Panel flat = new Panel("", new float[R * C], R, C, List.of());
    assertEquals(grey(0), rgb(LumbarOverlay.render("", List.of(flat)), t, 100, 100));
  }

  @Test
  void predictionsAreDotsTruthsAreRingsJoinedByALine() {
    Layout layout = LumbarOverlay.layout(List.of(full()));
    BufferedImage img = LumbarOverlay.render("study", List.of(full()));
    Tile t = tile(layout, 0, Kind.MARKS);
    int prediction = rgb(LumbarOverlay.PREDICTION), truth = rgb(LumbarOverlay.TRUTH);

    // Prediction L4/L5 at image (40, 30): picture (t.x + 81, t.y + 61), a filled dot.
    double px = t.pictureX(40, C), py = t.pictureY(30, R);
    assertEquals(t.x() + 81, px, 1e-9);
    assertEquals(t.y() + 61, py, 1e-9);
    for (int dy = -1; dy <= 1; dy++) {
      for (int dx = -1; dx <= 1; dx++) {
        assertEquals(prediction, img.getRGB((int) px + dx, (int) py + dy) & 0xffffff, "dot");
      }
    }
    assertEquals(
        prediction,
        img.getRGB((int) t.pictureX(40, C), (int) t.pictureY(50, R)) & 0xffffff,
        "L5/S1, whose truth is missing");

    // Truth L4/L5 at image (46, 36): a ring around an unpainted centre.
    double tx = t.pictureX(46, C), ty = t.pictureY(36, R);
    int[] quadrants = ring(img, tx, ty, truth);
    for (int q = 0; q < 4; q++)
      assertTrue(quadrants[q] >= 8, "ring quadrant " + q + ": " + quadrants[q]);
    assertNotEquals(truth, img.getRGB((int) tx, (int) ty) & 0xffffff, "hollow");
    int[] alone = ring(img, t.pictureX(80, C), t.pictureY(10, R), truth);
    assertTrue(Arrays.stream(alone).allMatch(n -> n >= 8), "L3/L4, truth only");

    // The error line: drawn at the middle of prediction and truth.
    int mx = (int) ((px + tx) / 2), my = (int) ((py + ty) / 2);
    assertTrue(near(img, mx, my, rgb(LumbarOverlay.ERROR_LINE), 1), "the error line");

    // The label beside the prediction, in its colour.
    int named = 0;
    for (int y = (int) py - 10; y <= py + 6; y++) {
      for (int x = (int) px + 9; x < px + 60; x++) {
        if ((img.getRGB(x, y) & 0xffffff) == prediction) named++;
      }
    }
    assertTrue(named > 5, "label L4/L5: " + named + " pixels");

    // A mark that is not finite is skipped: the picture is the same without it.
    List<Mark> fewer = new ArrayList<>(marks());
    fewer.remove(3);
    Panel without = new Panel("Sagittal T2 slice 9", image(), R, C, fewer, heat(), HR, HC, grade());
    assertArrayEquals(pixels(img), pixels(LumbarOverlay.render("study", List.of(without))));
  }

  /** Pixels of {@code colour} 4..8 pixels from (x, y), per quadrant. */
  static int[] ring(BufferedImage img, double x, double y, int colour) {
    int[] q = new int[4];
    for (int yy = (int) y - 9; yy <= y + 9; yy++) {
      for (int xx = (int) x - 9; xx <= x + 9; xx++) {
        double d = Math.hypot(xx + 0.5 - x, yy + 0.5 - y);
        if (d >= 4 && d <= 8 && (img.getRGB(xx, yy) & 0xffffff) == colour) {
          q[(xx + 0.5 >= x ? 0 : 1) + (yy + 0.5 >= y ? 0 : 2)]++;
        }
      }
    }
    return q;
  }

  static boolean near(BufferedImage img, int x, int y, int colour, int radius) {
    for (int dy = -radius; dy <= radius; dy++) {
      for (int dx = -radius; dx <= radius; dx++) {
        if ((img.getRGB(x + dx, y + dy) & 0xffffff) == colour) return true;
      }
    }
    return false;
  }

  static int[] pixels(BufferedImage img) {
    return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
  }

  @Test
  void theHeatTileIsHottestAtThePeak() {
    Layout layout = LumbarOverlay.layout(List.of(full()));
    BufferedImage img = LumbarOverlay.render("study", List.of(full()));
    Tile heat = tile(layout, 0, Kind.HEAT), marks = tile(layout, 0, Kind.MARKS);
    // Redness (red over the larger of green and blue) comes from the heat alone: grey adds none.
    int bestX = -1, bestY = -1, best = Integer.MIN_VALUE;
    for (int y = 0; y < heat.height(); y++) {
      for (int x = 0; x < heat.width(); x++) {
        int v = rgb(img, heat, x, y);
        int red = (v >> 16 & 0xff) - Math.max(v >> 8 & 0xff, v & 0xff);
        if (red > best) {
          best = red;
          bestX = x;
          bestY = y;
        }
      }
    }
    // Heat cell (5, 10) is image (41.5, 21.5): tile pixels 83.5, 43.5 at scale 2.
    assertTrue(Math.abs(bestX - 83.5) <= 2 && Math.abs(bestY - 43.5) <= 2, bestX + ", " + bestY);
    // Nearly the maximum there (bilinear between cells): red, at close to full weight.
    int peak = rgb(img, heat, bestX, bestY);
    assertTrue(best > 120, "red at the peak: " + Integer.toHexString(peak));
    // Far from the peak: the image itself.
    assertEquals(rgb(img, marks, 250, 120), rgb(img, heat, 250, 120));
    assertEquals(rgb(img, marks, 2, 2), rgb(img, heat, 2, 2));
  }

  static int grey(BufferedImage img, Tile t, int x, int y) {
    int v = rgb(img, t, x, y);
    assertEquals(grey(v & 0xff), v, "grey under the marks tile");
    return v & 0xff;
  }

  @Test
  void theGradeTileIsGreenWhereNormalAndRedWhereSevere() {
    Layout layout = LumbarOverlay.layout(List.of(full()));
    BufferedImage img = LumbarOverlay.render("study", List.of(full()));
    Tile grade = tile(layout, 0, Kind.GRADE), marks = tile(layout, 0, Kind.MARKS);
    double alpha = LumbarOverlay.GRADE_ALPHA * 0.9;
    int[][] normal = {{40, 100}, {10, 10}, {30, 120}}, severe = {{140, 64}, {220, 110}, {250, 120}};
    for (int[] p : normal) {
      int v = rgb(img, grade, p[0], p[1]);
      int g = grey(img, marks, p[0], p[1]);
      assertNear(LumbarOverlay.blend(g, LumbarOverlay.GRADE_COLORS[0], alpha), v, "normal");
      assertTrue((v >> 8 & 0xff) > (v >> 16 & 0xff) + 60, "green: " + Integer.toHexString(v));
    }
    for (int[] p : severe) {
      int v = rgb(img, grade, p[0], p[1]);
      int g = grey(img, marks, p[0], p[1]);
      assertNear(LumbarOverlay.blend(g, LumbarOverlay.GRADE_COLORS[2], alpha), v, "severe");
      assertTrue((v >> 16 & 0xff) > (v >> 8 & 0xff) + 60, "red: " + Integer.toHexString(v));
    }
  }

  @Test
  void writeReplacesTheFileWholeAndLeavesNoTemporaryFile() throws IOException {
    Path png = tmp.resolve("out/4003253.png");
    Files.createDirectories(png.getParent());
    Files.writeString(png, "not a png");
    LumbarOverlay.write(png, "study 4003253", List.of(full()));
    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img, "decodes");
    assertArrayEquals(pixels(LumbarOverlay.render("study 4003253", List.of(full()))), pixels(img));
    try (Stream<Path> files = Files.list(png.getParent())) {
      assertEquals(List.of(png), files.toList(), "no temporary file left");
    }
    // A failed render writes nothing and keeps the old file.
    byte[] before = Files.readAllBytes(png);
    assertThrows(IllegalArgumentException.class, () -> LumbarOverlay.write(png, "x", List.of()));
    assertArrayEquals(before, Files.readAllBytes(png));
  }

  @Test
  void badSizesNameTheField() {
    float[] image = image();
    expect(
        "image: expected 8192 values (rows 64 x columns 128), got 5",
        () -> new Panel("t", new float[5], R, C, List.of()));
    expect(
        "image: expected 8192 values (rows 64 x columns 128), got null",
        () -> new Panel("t", null, R, C, List.of()));
    expect("rows: expected >= 1, got 0", () -> new Panel("t", image, 0, C, List.of()));
    expect("columns: expected >= 1, got -2", () -> new Panel("t", image, R, -2, List.of()));
    expect(
        "heat: expected 512 values (heatRows 16 x heatColumns 32), got 7",
        () -> new Panel("t", image, R, C, List.of(), new float[7], HR, HC, null));
    expect(
        "grade: expected 1536 values (3 grades x heatRows 16 x heatColumns 32), got 512",
        () -> new Panel("t", image, R, C, List.of(), heat(), HR, HC, new float[512]));
    expect(
        "heatRows: expected >= 1, got 0",
        () -> new Panel("t", image, R, C, List.of(), null, 0, HC, grade()));
    expect(
        "heatColumns: expected >= 1, got 0",
        () -> new Panel("t", image, R, C, List.of(), heat(), HR, 0, null));
    expect(
        "marks: mark 1 is null",
        () -> new Panel("t", image, R, C, Arrays.asList(marks().get(0), null)));
    expect("label: expected a string, got null", () -> new Mark(null, 1, 2, false));
    expect(
        "panels: expected at least one panel, got none",
        () -> LumbarOverlay.render("t", List.of()));
    expect("panels: expected at least one panel, got null", () -> LumbarOverlay.render("t", null));
    expect("panels: panel 1 is null", () -> LumbarOverlay.render("t", Arrays.asList(full(), null)));
    expect("png: expected a path, got null", () -> LumbarOverlay.write(null, "t", List.of(full())));
    // Without heat and grade their grid is not looked at.
    new Panel("t", image, R, C, null, null, 0, 0, null);
  }

  static void expect(String message, Executable e) {
    assertEquals(message, assertThrows(IllegalArgumentException.class, e).getMessage());
  }
}
