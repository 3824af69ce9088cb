package org.spinekit.cervical;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.spinekit.cervical.VertebraBoxes.Entry;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.Volume;
import org.spinekit.ops.Window;

/**
 * A picture of a cervical label volume for a person to check: three axial slices (through the
 * centres of C1, C4 and C7 when they are found, else at a quarter, half and three quarters of the
 * series) and a sagittal reconstruction through the middle column of the found vertebrae's boxes
 * (head up, anterior left, scaled to the volume's physical aspect), side by side under a title
 * line. The CT is shown in a window (bone, centre 400 width 1800, by default), labels 1..8 tinted
 * in the colours of {@link #color}, each found vertebra's box outlined in its colour with its name.
 * Drawn with java.awt in headless mode (no libtorch), written as PNG atomically.
 */
public final class CervicalOverlay {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** Height of every panel, pixels. */
  static final int PANEL = 320;

  /** Space around and between the panels, pixels. */
  static final int GAP = 4;

  /** Height of the title line, pixels. */
  static final int TITLE = 24;

  /** Weight of a label's colour over the CT grey. */
  static final double ALPHA = 0.45;

  private static final Color[] COLORS = {
    null,
    new Color(230, 25, 75), // C1 red
    new Color(245, 130, 48), // C2 orange
    new Color(255, 225, 25), // C3 yellow
    new Color(60, 180, 75), // C4 green
    new Color(70, 240, 240), // C5 cyan
    new Color(0, 130, 200), // C6 blue
    new Color(145, 30, 180), // C7 purple
    new Color(240, 50, 230) // thoracic magenta
  };

  private CervicalOverlay() {}

  /** The colour of label 1..7 (C1..C7) or 8 (thoracic). */
  public static Color color(int label) {
    if (label < 1 || label > VertebraBoxes.THORACIC) {
      throw new IllegalArgumentException("label: expected 1..8, got " + label);
    }
    return COLORS[label];
  }

  /** {@link #write(Path, Volume, short[], List, Window, String)} in the bone window. */
  public static void write(Path png, Volume ct, short[] labels, List<Entry> entries, String text)
      throws IOException {
    write(png, ct, labels, entries, Window.BONE, text);
  }

  /**
   * Writes the picture of {@link #render} to {@code png}, atomically: readers see the old file or
   * the whole new one.
   */
  public static void write(
      Path png, Volume ct, short[] labels, List<Entry> entries, Window window, String text)
      throws IOException {
    if (png == null) throw new IllegalArgumentException("png: expected a path, got null");
    BufferedImage img = render(ct, labels, entries, window, text);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 18);
    if (!ImageIO.write(img, "png", bytes)) throw new IOException("no PNG writer in this JVM");
    AtomicFiles.write(png, bytes.toByteArray());
  }

  /**
   * The picture: panels 320 pixels high (each as wide as its physical aspect asks, kept within 1/8
   * and 4 times its height), 4 pixels apart, under a 24 pixel title line with the study UID and
   * {@code text}.
   *
   * @param ct the series, {@code [slice, row, column]}
   * @param labels 0..8 on the series grid, as many as {@code ct} has voxels
   * @param entries the boxes of {@code labels} (any of C1..C7, one study, within the grid)
   * @param window the intensity window of the CT
   * @param text shown after the study UID (probabilities, say); null or empty for none
   */
  public static BufferedImage render(
      Volume ct, short[] labels, List<Entry> entries, Window window, String text) {
    if (ct == null) throw new IllegalArgumentException("ct: expected a volume, got null");
    if (window == null) throw new IllegalArgumentException("window: expected a window, got null");
    if (labels == null || labels.length != ct.voxelCount()) {
      throw new IllegalArgumentException(
          "labels: expected "
              + ct.voxelCount()
              + " values (the voxels of "
              + ct.slices()
              + " x "
              + ct.rows()
              + " x "
              + ct.columns()
              + "), got "
              + (labels == null ? "null" : labels.length));
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] > VertebraBoxes.THORACIC) {
        throw VertebraBoxes.badLabel("labels", labels, i, ct.rows(), ct.columns());
      }
    }
    String uid = studyOf(ct, entries);
    List<Panel> panels = layout(ct, entries);
    Panel last = panels.get(panels.size() - 1);
    int width = last.x() + last.width() + GAP;
    int height = TITLE + PANEL + GAP;
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setColor(new Color(24, 24, 24));
      g.fillRect(0, 0, width, height);
      for (Panel p : panels) {
        paint(img, ct, labels, p, window);
        g.setClip(p.x(), p.y(), p.width(), p.height());
        for (Entry e : entries) {
          if (e.found()) outline(g, ct, p, e);
        }
        g.setClip(null);
        label(g, p.caption(), p.x() + 4, p.y() + 14, Color.WHITE);
      }
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
      g.setColor(Color.WHITE);
      String title = text == null || text.isEmpty() ? uid : uid + "    " + text;
      g.drawString(title, GAP + 2, TITLE - 7);
    } finally {
      g.dispose();
    }
    return img;
  }

  /**
   * One panel: an axial slice ({@code index} the slice) or the sagittal reconstruction ({@code
   * index} the column), at (x, y) in the picture.
   */
  record Panel(String caption, boolean axial, int index, int x, int y, int width, int height) {}

  /** The panels of the picture of {@code ct} with {@code entries}, left to right. */
  static List<Panel> layout(Volume ct, List<Entry> entries) {
    double[] sp = ct.spacing(); // (row, column, slice)
    int slices = ct.slices(), rows = ct.rows(), columns = ct.columns();
    Entry[] byVertebra = new Entry[8];
    int cMin = Integer.MAX_VALUE, cMax = -1;
    for (Entry e : entries) {
      if (!e.found()) continue;
      byVertebra[e.vertebra()] = e;
      cMin = Math.min(cMin, e.columnMin());
      cMax = Math.max(cMax, e.columnMax());
    }
    List<Panel> out = new ArrayList<>(4);
    int x = GAP;
    int axialWidth = clampWidth(PANEL * (columns * sp[1]) / (rows * sp[0]));
    int[] vertebrae = {1, 4, 7};
    for (int k = 0; k < 3; k++) {
      Entry e = byVertebra[vertebrae[k]];
      int slice;
      String caption;
      if (e != null) {
        slice = (e.sliceMin() + e.sliceMax()) / 2;
        caption = "axial " + slice + " (" + e.name() + ")";
      } else {
        slice = (int) Math.round((k + 1) / 4.0 * (slices - 1));
        caption = "axial " + slice;
      }
      out.add(new Panel(caption, true, slice, x, TITLE, axialWidth, PANEL));
      x += axialWidth + GAP;
    }
    int column = cMax >= 0 ? (cMin + cMax) / 2 : columns / 2;
    int sagittalWidth = clampWidth(PANEL * (rows * sp[0]) / (slices * sp[2]));
    out.add(new Panel("sagittal column " + column, false, column, x, TITLE, sagittalWidth, PANEL));
    return out;
  }

  private static int clampWidth(double w) {
    return (int) Math.max(PANEL / 8, Math.min(4L * PANEL, Math.round(w)));
  }

  /**
   * Whether the sagittal panel shows the last slice on top: the slice index runs towards the head
   * (+z of patient LPS coordinates).
   */
  private static boolean lastSliceUp(Volume ct) {
    return ct.sliceDirection()[2] > 0;
  }

  /**
   * The voxel under panel pixel {@code p} along an axis of {@code n} voxels drawn over {@code size}
   * pixels.
   */
  private static int voxel(int p, int n, int size) {
    return Math.min(n - 1, (int) ((p + 0.5) * n / size));
  }

  private static void paint(BufferedImage img, Volume ct, short[] labels, Panel p, Window w) {
    int slices = ct.slices(), rows = ct.rows(), columns = ct.columns();
    boolean up = lastSliceUp(ct);
    double low = w.low(), width = w.width();
    for (int py = 0; py < p.height(); py++) {
      for (int px = 0; px < p.width(); px++) {
        int s, r, c;
        if (p.axial()) {
          s = p.index();
          r = voxel(py, rows, p.height());
          c = voxel(px, columns, p.width());
        } else {
          int t = voxel(py, slices, p.height());
          s = up ? slices - 1 - t : t;
          r = voxel(px, rows, p.width());
          c = p.index();
        }
        double v = (ct.value(s, r, c) - low) / width;
        int grey = (int) Math.round(255 * Math.max(0, Math.min(1, v)));
        int l = labels[(s * rows + r) * columns + c];
        int rgb;
        if (l == 0) {
          rgb = grey << 16 | grey << 8 | grey;
        } else {
          Color k = COLORS[l];
          rgb =
              blend(grey, k.getRed()) << 16
                  | blend(grey, k.getGreen()) << 8
                  | blend(grey, k.getBlue());
        }
        img.setRGB(p.x() + px, p.y() + py, rgb);
      }
    }
  }

  private static int blend(int grey, int colour) {
    return (int) Math.round((1 - ALPHA) * grey + ALPHA * colour);
  }

  /** Outlines the box of {@code e} where it crosses panel {@code p}, two pixels wide, named. */
  private static void outline(Graphics2D g, Volume ct, Panel p, Entry e) {
    int x0, x1, y0, y1;
    if (p.axial()) {
      if (p.index() < e.sliceMin() || p.index() > e.sliceMax()) return;
      x0 = e.columnMin() * p.width() / ct.columns();
      x1 = (e.columnMax() + 1) * p.width() / ct.columns();
      y0 = e.rowMin() * p.height() / ct.rows();
      y1 = (e.rowMax() + 1) * p.height() / ct.rows();
    } else {
      int n = ct.slices();
      int top = lastSliceUp(ct) ? n - 1 - e.sliceMax() : e.sliceMin();
      int bottom = top + e.sliceMax() - e.sliceMin() + 1;
      x0 = e.rowMin() * p.width() / ct.rows();
      x1 = (e.rowMax() + 1) * p.width() / ct.rows();
      y0 = top * p.height() / n;
      y1 = bottom * p.height() / n;
    }
    x0 += p.x();
    x1 += p.x();
    y0 += p.y();
    y1 += p.y();
    Color k = COLORS[e.vertebra()];
    g.setColor(k);
    g.drawRect(x0, y0, Math.max(0, x1 - x0 - 1), Math.max(0, y1 - y0 - 1));
    if (x1 - x0 > 2 && y1 - y0 > 2) g.drawRect(x0 + 1, y0 + 1, x1 - x0 - 3, y1 - y0 - 3);
    if (p.axial()) {
      int ty = y0 - 4 >= p.y() + 28 ? y0 - 4 : y0 + 15;
      label(g, e.name(), x0 + 3, ty, k);
    } else {
      label(g, e.name(), x1 + 3, (y0 + y1) / 2 + 5, k); // beside the box: the boxes stack up
    }
  }

  /** Text with a dark shadow, legible on any background. */
  private static void label(Graphics2D g, String s, int x, int y, Color c) {
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
    g.setColor(Color.BLACK);
    g.drawString(s, x + 1, y + 1);
    g.setColor(c);
    g.drawString(s, x, y);
  }

  /** The one study of {@code entries} (else of the series); checks they fit the grid. */
  private static String studyOf(Volume ct, List<Entry> entries) {
    if (entries == null) {
      throw new IllegalArgumentException("entries: expected a list, got null");
    }
    String series = ct.series().studyInstanceUid();
    String uid = null;
    for (int k = 0; k < entries.size(); k++) {
      Entry e = entries.get(k);
      if (e == null) throw new IllegalArgumentException("entries: entry " + k + " is null");
      if (uid == null) {
        uid = e.studyUid();
      } else if (!uid.equals(e.studyUid())) {
        throw new IllegalArgumentException(
            "entries: expected one study, got " + uid + " and " + e.studyUid());
      }
      if (e.found()
          && (e.sliceMax() >= ct.slices()
              || e.rowMax() >= ct.rows()
              || e.columnMax() >= ct.columns())) {
        throw new IllegalArgumentException(
            "entries: "
                + e
                + " reaches outside the volume's "
                + ct.slices()
                + " x "
                + ct.rows()
                + " x "
                + ct.columns()
                + " voxels");
      }
    }
    if (uid != null && !series.isEmpty() && !series.equals(uid)) {
      throw new IllegalArgumentException(
          "entries: study " + uid + ", but the volume is of study " + series);
    }
    if (uid != null) return uid;
    return series.isEmpty() ? "(no study UID)" : series;
  }
}
