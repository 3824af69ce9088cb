package org.spinekit.cervical;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.cervical.VertebraBoxes.Entry;
import org.spinekit.io.Volume;
import org.spinekit.ops.Window;

/** The overlay PNG of a hand-made label volume: size, panels, tints, boxes, atomic writes. */
class CervicalOverlayTest {
  @TempDir Path tmp;

  static final String UID = "1.2.826.0.1.3680043.4321";
  static final int S = 30, R = 40, C = 40;

  /** 400 HU everywhere (stored 1424, intercept -1024), 1 x 1 mm pixels, 2 mm slices. */
  static Volume ct(boolean headAtLastSlice) {
    short[] stored = new short[S * R * C];
    Arrays.fill(stored, (short) 1424);
    Volume.Builder b = Volume.builder(S, R, C).shorts(stored, true, 1, -1024).spacing(1, 1, 2);
    if (!headAtLastSlice) b.sliceDirection(new double[] {0, 0, -1});
    return b.build();
  }

  /** Thoracic at slices 0..1, C7 at 3..7, C4 at 13..17, C1 at 24..27 (head at the last slice). */
  static short[] labels() {
    VertebraBoxesTest.Grid g = new VertebraBoxesTest.Grid(S, R, C);
    g.block(0, 1, 10, 29, 10, 29, 8);
    g.block(3, 7, 10, 29, 10, 29, 7);
    g.block(13, 17, 10, 29, 10, 29, 4);
    g.block(24, 27, 10, 29, 12, 31, 1);
    return g.v;
  }

  static List<Entry> entries(short[] labels) {
    return VertebraBoxes.boxes(UID, labels, S, R, C, VertebraBoxesTest.sources(S, S, -1));
  }

  static int rgb(BufferedImage img, CervicalOverlay.Panel p, int px, int py) {
    return img.getRGB(p.x() + px, p.y() + py) & 0xffffff;
  }

  /** The panel pixel whose centre falls on voxel {@code i} of {@code n} drawn over {@code size}. */
  static int pixel(int i, int n, int size) {
    return (int) ((i + 0.5) * size / n);
  }

  static int grey(double hu, Window w) {
    return (int) Math.round(255 * Math.max(0, Math.min(1, (hu - w.low()) / w.width())));
  }

  static int tint(int label, int grey) {
    Color k = CervicalOverlay.color(label);
    double a = CervicalOverlay.ALPHA;
    int r = (int) Math.round((1 - a) * grey + a * k.getRed());
    int g = (int) Math.round((1 - a) * grey + a * k.getGreen());
    int b = (int) Math.round((1 - a) * grey + a * k.getBlue());
    return r << 16 | g << 8 | b;
  }

  @Test
  void panelsGoThroughC1C4C7AndTheMiddleColumnAtPhysicalAspect() {
    short[] labels = labels();
    List<CervicalOverlay.Panel> p = CervicalOverlay.layout(ct(true), entries(labels));
    assertEquals(4, p.size());
    assertEquals(List.of(25, 15, 5, 20), p.stream().map(CervicalOverlay.Panel::index).toList());
    assertEquals("axial 25 (C1)", p.get(0).caption());
    assertEquals("sagittal column 20", p.get(3).caption());
    assertEquals(List.of(4, 328, 652, 976), p.stream().map(CervicalOverlay.Panel::x).toList());
    assertEquals(
        List.of(320, 320, 320, 213), p.stream().map(CervicalOverlay.Panel::width).toList());
    // Nothing found: evenly spaced slices, the middle column.
    List<CervicalOverlay.Panel> none =
        CervicalOverlay.layout(ct(true), entries(new short[S * R * C]));
    assertEquals(List.of(7, 15, 22, 20), none.stream().map(CervicalOverlay.Panel::index).toList());
    assertEquals("axial 7", none.get(0).caption());
  }

  @Test
  void writesAPngWithTheLabelsTintedAndTheBoxesOutlined() throws IOException {
    short[] labels = labels();
    List<Entry> entries = entries(labels);
    Path png = tmp.resolve("overlay.png");
    CervicalOverlay.write(png, ct(true), labels, entries, "C1 0.91  C4 0.12");
    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img, "decodes");
    assertEquals(4 + 3 * (320 + 4) + 213 + 4, img.getWidth());
    assertEquals(24 + 320 + 4, img.getHeight());
    List<CervicalOverlay.Panel> p = CervicalOverlay.layout(ct(true), entries);

    int grey = grey(400, Window.BONE);
    assertEquals(128, grey);
    int[] vertebraOfPanel = {1, 4, 7};
    for (int k = 0; k < 3; k++) {
      int v = vertebraOfPanel[k];
      assertEquals(
          tint(v, grey), rgb(img, p.get(k), pixel(21, C, 320), pixel(20, R, 320)), "C" + v);
      assertEquals(grey << 16 | grey << 8 | grey, rgb(img, p.get(k), 292, 292), "background");
    }
    // C4's box, columns 10..29: outlined two pixels wide in C4's colour, tinted just inside.
    int c4 = CervicalOverlay.color(4).getRGB() & 0xffffff;
    assertEquals(c4, rgb(img, p.get(1), 80, 164));
    assertEquals(c4, rgb(img, p.get(1), 81, 164));
    assertEquals(tint(4, grey), rgb(img, p.get(1), 82, 164));
    assertEquals(c4, rgb(img, p.get(1), 239, 164));

    // Sagittal, head up: C1 (slice 25) near the top, thoracic (slice 0) at the bottom.
    CervicalOverlay.Panel sag = p.get(3);
    int py = pixel(S - 1 - 25, S, 320);
    assertEquals(tint(1, grey), rgb(img, sag, pixel(20, R, 213), py));
    assertEquals(tint(8, grey), rgb(img, sag, pixel(28, R, 213), pixel(S - 1, S, 320)));
    assertEquals(grey << 16 | grey << 8 | grey, rgb(img, sag, pixel(38, R, 213), py));

    // Slices running towards the feet: slice 0 on top.
    BufferedImage down = CervicalOverlay.render(ct(false), labels, entries, Window.BONE, null);
    assertEquals(
        tint(8, grey), rgb(down, sag, pixel(28, R, 213), pixel(0, S, 320)), "thoracic on top");
    assertEquals(tint(1, grey), rgb(down, sag, pixel(20, R, 213), pixel(25, S, 320)));
  }

  @Test
  void theWindowSetsTheGrey() {
    short[] labels = labels();
    Window narrow = new Window(0, 100);
    BufferedImage img = CervicalOverlay.render(ct(true), labels, entries(labels), narrow, "");
    CervicalOverlay.Panel p = CervicalOverlay.layout(ct(true), entries(labels)).get(0);
    assertEquals(0xffffff, rgb(img, p, 292, 292), "400 HU above a (0, 100) window: white");
    assertEquals(tint(1, 255), rgb(img, p, pixel(21, C, 320), pixel(20, R, 320)));
  }

  @Test
  void writingOverAFileReplacesItWhole() throws IOException {
    short[] labels = labels();
    Path png = tmp.resolve("out/overlay.png");
    Files.createDirectories(png.getParent());
    Files.writeString(png, "not a png");
    CervicalOverlay.write(png, ct(true), labels, entries(labels), "first");
    byte[] first = Files.readAllBytes(png);
    assertNotNull(ImageIO.read(png.toFile()));
    CervicalOverlay.write(png, ct(true), labels, entries(labels), "second, other title");
    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img);
    assertEquals(1193, img.getWidth());
    assertTrue(!Arrays.equals(first, Files.readAllBytes(png)), "replaced");
    try (Stream<Path> files = Files.list(png.getParent())) {
      assertEquals(List.of(png), files.toList(), "no temporary file left");
    }
  }

  @Test
  void refusesWhatDoesNotFit() {
    short[] labels = labels();
    List<Entry> entries = entries(labels);
    Volume ct = ct(true);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CervicalOverlay.render(ct, new short[5], entries, Window.BONE, null));
    assertEquals(
        "labels: expected 48000 values (the voxels of 30 x 40 x 40), got 5", e.getMessage());
    short[] bad = labels.clone();
    bad[C + 1] = 12;
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CervicalOverlay.render(ct, bad, entries, Window.BONE, null));
    assertTrue(e.getMessage().contains("got 12 at (slice 0, row 1, column 1)"), e.getMessage());
    List<Entry> two = List.of(entries.get(0), Entry.missing("1.2.3", 2));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CervicalOverlay.render(ct, labels, two, Window.BONE, null));
    assertEquals("entries: expected one study, got " + UID + " and 1.2.3", e.getMessage());
    Volume small = Volume.builder(S, 20, 20).floats(new float[S * 20 * 20]).build();
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                CervicalOverlay.render(small, new short[S * 20 * 20], entries, Window.BONE, null));
    assertTrue(
        e.getMessage().contains("reaches outside the volume's 30 x 20 x 20"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> CervicalOverlay.color(0));
    assertArrayEquals(
        new int[] {230, 25, 75},
        new int[] {
          CervicalOverlay.color(1).getRed(),
          CervicalOverlay.color(1).getGreen(),
          CervicalOverlay.color(1).getBlue()
        });
  }
}
