package org.spinekit.lumbar;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.kaggle.Grade;

/**
 * A picture of one lumbar study for a person to check: per {@link Panel} (a series' shown slice) a
 * row of up to three tiles, under a title line and above a legend.
 *
 * <ol>
 *   <li>The image with its {@link Mark}s: predictions as filled dots, labelled points (truth) as
 *       rings, each named by its label; a prediction and a truth of the same label are joined by a
 *       thin line, so the error shows as its length.
 *   <li>The image under the heatmap (blue, cyan, green, yellow, red from the map's minimum to its
 *       maximum, more opaque where hotter), when the panel has one.
 *   <li>The image under the grade map: each pixel in the colour of its most probable grade (green
 *       Normal/Mild, orange Moderate, red Severe), as opaque as that probability, when the panel
 *       has one.
 * </ol>
 *
 * <p>The image is shown between its 1st and 99th percentiles (numpy's linear interpolation, over
 * its finite values; NaN black), scaled to fit a {@value #TILE} pixel square with its aspect kept
 * and centred in it, nearest-neighbour. Heat and grade maps cover the same field of view as the
 * image on a coarser grid of their own (a net's output stride, say) and are upsampled bilinearly
 * with pixel centres aligned (PyTorch's {@code align_corners=False}). Drawn with java.awt in
 * headless mode (no libtorch), written as PNG atomically.
 */
public final class LumbarOverlay {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** Side of the square each tile's image is fitted into, pixels. */
  static final int TILE = 256;

  /** Space around and between the tiles, pixels. */
  static final int GAP = 4;

  /** Height of the title line, pixels. */
  static final int TITLE = 24;

  /** Height of the caption line above each row of tiles, pixels. */
  static final int CAPTION = 18;

  /** Height of a legend line, pixels. */
  static final int LEGEND = 20;

  /** Width of one legend entry, pixels. */
  static final int SLOT = 128;

  /** Weight of the heat colour over the image grey where the heat is at its maximum. */
  static final double HEAT_ALPHA = 0.6;

  /** Weight of a grade colour over the image grey where its probability is 1. */
  static final double GRADE_ALPHA = 0.6;

  /** Radius of a prediction's dot, pixels. */
  static final double DOT = 3.5;

  /** Radius of a truth's ring (the middle of its two pixel stroke), pixels. */
  static final double RING = 6;

  static final Color PREDICTION = new Color(0, 220, 255);
  static final Color TRUTH = new Color(255, 220, 0);
  static final Color ERROR_LINE = new Color(255, 64, 200);
  static final Color BACKGROUND = new Color(24, 24, 24);

  /** Colours of Normal/Mild, Moderate and Severe, in the order of {@link Grade}. */
  static final Color[] GRADE_COLORS = {
    new Color(40, 200, 60), new Color(255, 150, 0), new Color(230, 20, 20)
  };

  /** Stops of the heat colour map, from 0 to 1 evenly spaced. */
  private static final Color[] HEAT_STOPS = {
    new Color(0, 0, 255),
    new Color(0, 255, 255),
    new Color(0, 255, 0),
    new Color(255, 255, 0),
    new Color(255, 0, 0)
  };

  private static final int GRADES = Grade.values().length;

  private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 13);
  private static final Font TEXT_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 12);
  private static final Font MARK_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 11);

  private LumbarOverlay() {}

  /**
   * One point on a panel's image. A mark whose x or y is NaN or infinite is not drawn (a level
   * without a label or without a prediction); a finite mark outside the image is drawn only as far
   * as it reaches into it.
   *
   * @param label its short name, shown beside it ("L4/L5", "L4/L5 R"); a prediction and a truth
   *     with the same label are joined by a line
   * @param x column, in pixels of the panel's image (pixel centres at integers)
   * @param y row, in pixels of the panel's image
   * @param truth whether this is the labelled point; else a prediction
   */
  public record Mark(String label, double x, double y, boolean truth) {
    public Mark {
      if (label == null) throw new IllegalArgumentException("label: expected a string, got null");
    }

    /** Whether it is drawn: x and y are finite. */
    public boolean shown() {
      return Double.isFinite(x) && Double.isFinite(y);
    }
  }

  /**
   * One shown slice of a series with what the pipeline made of it. The arrays are read, neither
   * kept beyond {@link #render} nor changed.
   *
   * @param title what the slice is ("Sagittal T2 slice 9"); null or empty for none
   * @param image {@code rows x columns} values, row-major, any range
   * @param rows rows of the image, >= 1
   * @param columns columns of the image, >= 1
   * @param marks points to draw on the image; null or empty for none
   * @param heat one map over the image ({@code heatRows x heatColumns}, row-major; e.g. the max or
   *     sum of the level heatmaps on this slice), any range; null for no heat tile. NaN shows as no
   *     heat.
   * @param heatRows rows of the heat and grade grid, >= 1 when either map is given (else ignored)
   * @param heatColumns columns of the heat and grade grid, >= 1 when either map is given
   * @param grade probabilities of Normal/Mild, Moderate and Severe per pixel of the heat grid,
   *     {@code 3 x heatRows x heatColumns}, class-major; null for no grade tile. Values are clamped
   *     to [0, 1], NaN read as 0.
   */
  @SuppressWarnings("ArrayRecordComponent") // read while rendering, never copied nor changed
  public record Panel(
      String title,
      float[] image,
      int rows,
      int columns,
      List<Mark> marks,
      float[] heat,
      int heatRows,
      int heatColumns,
      float[] grade) {
    public Panel {
      title = title == null ? "" : title;
      if (rows < 1) throw new IllegalArgumentException("rows: expected >= 1, got " + rows);
      if (columns < 1) throw new IllegalArgumentException("columns: expected >= 1, got " + columns);
      long pixels = (long) rows * columns;
      if (image == null || image.length != pixels) {
        throw new IllegalArgumentException(
            "image: expected "
                + pixels
                + " values (rows "
                + rows
                + " x columns "
                + columns
                + "), got "
                + (image == null ? "null" : image.length));
      }
      if (marks == null) {
        marks = List.of();
      } else {
        for (int k = 0; k < marks.size(); k++) {
          if (marks.get(k) == null) {
            throw new IllegalArgumentException("marks: mark " + k + " is null");
          }
        }
        marks = List.copyOf(marks);
      }
      if (heat != null || grade != null) {
        if (heatRows < 1) {
          throw new IllegalArgumentException("heatRows: expected >= 1, got " + heatRows);
        }
        if (heatColumns < 1) {
          throw new IllegalArgumentException("heatColumns: expected >= 1, got " + heatColumns);
        }
        long cells = (long) heatRows * heatColumns;
        if (heat != null && heat.length != cells) {
          throw new IllegalArgumentException(
              "heat: expected "
                  + cells
                  + " values (heatRows "
                  + heatRows
                  + " x heatColumns "
                  + heatColumns
                  + "), got "
                  + heat.length);
        }
        if (grade != null && grade.length != GRADES * cells) {
          throw new IllegalArgumentException(
              "grade: expected "
                  + GRADES * cells
                  + " values (3 grades x heatRows "
                  + heatRows
                  + " x heatColumns "
                  + heatColumns
                  + "), got "
                  + grade.length);
        }
      }
    }

    /** A panel with marks only: no heat, no grade tile. */
    public Panel(String title, float[] image, int rows, int columns, List<Mark> marks) {
      this(title, image, rows, columns, marks, null, 0, 0, null);
    }

    /** Its tiles, left to right. */
    List<Kind> kinds() {
      List<Kind> k = new ArrayList<>(3);
      k.add(Kind.MARKS);
      if (heat != null) k.add(Kind.HEAT);
      if (grade != null) k.add(Kind.GRADE);
      return k;
    }
  }

  /** What a tile shows. */
  enum Kind {
    MARKS("points"),
    HEAT("heatmap"),
    GRADE("grade");

    final String caption;

    Kind(String caption) {
      this.caption = caption;
    }
  }

  /**
   * One tile: {@code panel}'s image drawn at (x, y) in the picture, {@code width x height} pixels
   * (the image's aspect in a {@value #TILE} square, centred), its caption at (captionX, captionY).
   */
  record Tile(
      int panel, Kind kind, int x, int y, int width, int height, int captionX, int captionY) {
    /**
     * The picture's column of the image's column coordinate {@code column} (centres at integers).
     */
    double pictureX(double column, int columns) {
      return x + (column + 0.5) * width / columns;
    }

    double pictureY(double row, int rows) {
      return y + (row + 0.5) * height / rows;
    }
  }

  /** What a legend entry explains. */
  enum Key {
    PREDICTION,
    TRUTH,
    HEAT,
    GRADE
  }

  /**
   * One legend entry at (x, y), the top left of its {@value #SLOT} x {@value #LEGEND} slot; {@code
   * swatch} is the grade's colour, null unless {@code key} is {@link Key#GRADE}.
   */
  record Legend(Key key, Color swatch, String text, int x, int y) {}

  /** Where everything goes in a picture of {@code width x height} pixels. */
  record Layout(int width, int height, List<Tile> tiles, List<Legend> legend) {}

  /**
   * The layout: one row per panel, {@value #CAPTION} pixels of captions over {@value #TILE} pixel
   * tiles, {@value #GAP} pixels apart and around; the picture as wide as the widest row, under a
   * {@value #TITLE} pixel title line; then the legend, as many {@value #LEGEND} pixel lines of
   * {@value #SLOT} pixel entries as it takes: prediction and truth, then the heat scale when a
   * panel has heat, then the three grades when a panel has grade.
   */
  static Layout layout(List<Panel> panels) {
    int most = 1;
    boolean anyHeat = false, anyGrade = false;
    for (Panel p : panels) {
      most = Math.max(most, p.kinds().size());
      anyHeat |= p.heat() != null;
      anyGrade |= p.grade() != null;
    }
    int width = GAP + most * (TILE + GAP);
    List<Tile> tiles = new ArrayList<>();
    int y = TITLE;
    for (int i = 0; i < panels.size(); i++) {
      Panel p = panels.get(i);
      double scale = (double) TILE / Math.max(p.rows(), p.columns());
      int w = Math.max(1, (int) Math.round(p.columns() * scale));
      int h = Math.max(1, (int) Math.round(p.rows() * scale));
      int cellY = y + CAPTION;
      List<Kind> kinds = p.kinds();
      for (int k = 0; k < kinds.size(); k++) {
        int cellX = GAP + k * (TILE + GAP);
        tiles.add(
            new Tile(
                i,
                kinds.get(k),
                cellX + (TILE - w) / 2,
                cellY + (TILE - h) / 2,
                w,
                h,
                cellX + 2,
                y + CAPTION - 5));
      }
      y += CAPTION + TILE + GAP;
    }
    List<Legend> entries = new ArrayList<>();
    entries.add(new Legend(Key.PREDICTION, null, "prediction", 0, 0));
    entries.add(new Legend(Key.TRUTH, null, "truth", 0, 0));
    if (anyHeat) entries.add(new Legend(Key.HEAT, null, "heat low..high", 0, 0));
    if (anyGrade) {
      Grade[] grades = Grade.values();
      for (int k = 0; k < GRADES; k++) {
        entries.add(new Legend(Key.GRADE, GRADE_COLORS[k], grades[k].label, 0, 0));
      }
    }
    int perLine = Math.max(1, (width - GAP) / SLOT);
    List<Legend> legend = new ArrayList<>(entries.size());
    for (int k = 0; k < entries.size(); k++) {
      Legend e = entries.get(k);
      int x = GAP + (k % perLine) * SLOT;
      legend.add(new Legend(e.key(), e.swatch(), e.text(), x, y + (k / perLine) * LEGEND));
    }
    int lines = (entries.size() + perLine - 1) / perLine;
    return new Layout(width, y + lines * LEGEND + GAP, List.copyOf(tiles), List.copyOf(legend));
  }

  /**
   * Writes the picture of {@link #render} to {@code png}, atomically: readers see the old file or
   * the whole new one, and a failed write leaves no temporary file.
   */
  public static void write(Path png, String title, List<Panel> panels) throws IOException {
    if (png == null) throw new IllegalArgumentException("png: expected a path, got null");
    BufferedImage img = render(title, panels);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 18);
    if (!ImageIO.write(img, "png", bytes)) throw new IOException("no PNG writer in this JVM");
    AtomicFiles.write(png, bytes.toByteArray());
  }

  /**
   * The picture of {@code panels} (see the class comment and {@link #layout}).
   *
   * @param title the study, say, and anything else for the top line; null or empty for none
   * @param panels at least one
   */
  public static BufferedImage render(String title, List<Panel> panels) {
    if (panels == null || panels.isEmpty()) {
      throw new IllegalArgumentException(
          "panels: expected at least one panel, got " + (panels == null ? "null" : "none"));
    }
    for (int i = 0; i < panels.size(); i++) {
      if (panels.get(i) == null) {
        throw new IllegalArgumentException("panels: panel " + i + " is null");
      }
    }
    Layout layout = layout(panels);
    BufferedImage img =
        new BufferedImage(layout.width(), layout.height(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setColor(BACKGROUND);
      g.fillRect(0, 0, layout.width(), layout.height());
      int[] grey = null;
      int greyOf = -1;
      for (Tile t : layout.tiles()) {
        Panel p = panels.get(t.panel());
        if (greyOf != t.panel()) {
          grey = grey(p, t.width(), t.height());
          greyOf = t.panel();
        }
        switch (t.kind()) {
          case MARKS -> {
            paint(img, t, grey, null, null);
            marks(g, p, t);
          }
          case HEAT -> paint(img, t, grey, heat(p, t.width(), t.height()), null);
          case GRADE -> paint(img, t, grey, null, grade(p, t.width(), t.height()));
        }
        String caption =
            p.title().isEmpty() ? t.kind().caption : p.title() + " - " + t.kind().caption;
        g.setClip(t.captionX() - 2, t.captionY() + 5 - CAPTION, TILE, CAPTION);
        label(g, TEXT_FONT, caption, t.captionX(), t.captionY(), Color.WHITE);
        g.setClip(null);
      }
      legend(g, layout.legend());
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setFont(TITLE_FONT);
      g.setColor(Color.WHITE);
      if (title != null && !title.isEmpty()) g.drawString(title, GAP + 2, TITLE - 7);
    } finally {
      g.dispose();
    }
    return img;
  }

  /**
   * The image's grey (0..255) under each of the {@code width x height} tile pixels: the pixel
   * nearest to its centre, windowed between the 1st and 99th percentiles.
   */
  static int[] grey(Panel p, int width, int height) {
    double[] window = window(p.image());
    double lo = window[0], hi = window[1];
    int[] out = new int[width * height];
    for (int py = 0; py < height; py++) {
      int r = nearest(py, p.rows(), height);
      for (int px = 0; px < width; px++) {
        float v = p.image()[r * p.columns() + nearest(px, p.columns(), width)];
        int grey;
        if (Float.isNaN(v)) {
          grey = 0;
        } else if (hi > lo) {
          grey = (int) Math.round(255 * Math.max(0, Math.min(1, (v - lo) / (hi - lo))));
        } else {
          grey = v > hi ? 255 : 0;
        }
        out[py * width + px] = grey;
      }
    }
    return out;
  }

  /**
   * The 1st and 99th percentiles of the finite values of {@code image} (numpy's linear
   * interpolation); (0, 0) when none is finite.
   */
  static double[] window(float[] image) {
    float[] finite = new float[image.length];
    int n = 0;
    for (float v : image) {
      if (Float.isFinite(v)) finite[n++] = v;
    }
    if (n == 0) return new double[] {0, 0};
    Arrays.sort(finite, 0, n);
    return new double[] {percentile(finite, n, 1), percentile(finite, n, 99)};
  }

  private static double percentile(float[] sorted, int n, double q) {
    double rank = q / 100 * (n - 1);
    int below = (int) Math.floor(rank);
    int above = Math.min(n - 1, below + 1);
    double f = rank - below;
    return sorted[below] + f * ((double) sorted[above] - sorted[below]);
  }

  /** The source pixel nearest to the centre of display pixel {@code p} of {@code size}. */
  private static int nearest(int p, int n, int size) {
    return Math.min(n - 1, (int) ((p + 0.5) * n / size));
  }

  /** The panel's heat, scaled from its finite minimum..maximum to 0..1, under each tile pixel. */
  static double[] heat(Panel p, int width, int height) {
    float[] heat = p.heat();
    double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    for (float v : heat) {
      if (Float.isFinite(v)) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    double[] scaled = new double[heat.length];
    if (max > min) {
      for (int i = 0; i < heat.length; i++) {
        scaled[i] = Float.isFinite(heat[i]) ? (heat[i] - min) / (max - min) : 0;
      }
    }
    return upsample(scaled, 0, p.heatRows(), p.heatColumns(), width, height);
  }

  /** The panel's three grade probabilities (clamped, NaN 0) under each tile pixel, class-major. */
  static double[] grade(Panel p, int width, int height) {
    float[] grade = p.grade();
    double[] clamped = new double[grade.length];
    for (int i = 0; i < grade.length; i++) {
      float v = grade[i];
      clamped[i] = Float.isNaN(v) ? 0 : Math.max(0, Math.min(1, v));
    }
    int cells = p.heatRows() * p.heatColumns();
    double[] out = new double[GRADES * width * height];
    for (int k = 0; k < GRADES; k++) {
      double[] one = upsample(clamped, k * cells, p.heatRows(), p.heatColumns(), width, height);
      System.arraycopy(one, 0, out, k * width * height, one.length);
    }
    return out;
  }

  /**
   * Bilinear upsampling of the {@code rows x columns} map at {@code offset} to {@code width x
   * height}, pixel centres aligned, edges repeated.
   */
  private static double[] upsample(
      double[] map, int offset, int rows, int columns, int width, int height) {
    double[] out = new double[width * height];
    for (int py = 0; py < height; py++) {
      double r = Math.max(0, Math.min(rows - 1, (py + 0.5) * rows / height - 0.5));
      int r0 = (int) r, r1 = Math.min(rows - 1, r0 + 1);
      double fr = r - r0;
      for (int px = 0; px < width; px++) {
        double c = Math.max(0, Math.min(columns - 1, (px + 0.5) * columns / width - 0.5));
        int c0 = (int) c, c1 = Math.min(columns - 1, c0 + 1);
        double fc = c - c0;
        double top =
            map[offset + r0 * columns + c0] * (1 - fc) + map[offset + r0 * columns + c1] * fc;
        double bottom =
            map[offset + r1 * columns + c0] * (1 - fc) + map[offset + r1 * columns + c1] * fc;
        out[py * width + px] = top * (1 - fr) + bottom * fr;
      }
    }
    return out;
  }

  /** The heat colour map at {@code v} in [0, 1]. */
  static Color heatColor(double v) {
    double s = Math.max(0, Math.min(1, v)) * (HEAT_STOPS.length - 1);
    int i = Math.min(HEAT_STOPS.length - 2, (int) s);
    double f = s - i;
    Color a = HEAT_STOPS[i], b = HEAT_STOPS[i + 1];
    return new Color(
        (int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
        (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
        (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
  }

  /** {@code colour} over {@code grey} with weight {@code alpha}, as RGB. */
  static int blend(int grey, Color colour, double alpha) {
    return mix(grey, colour.getRed(), alpha) << 16
        | mix(grey, colour.getGreen(), alpha) << 8
        | mix(grey, colour.getBlue(), alpha);
  }

  private static int mix(int grey, int c, double alpha) {
    return (int) Math.round((1 - alpha) * grey + alpha * c);
  }

  /**
   * The tile's pixels: the grey, under the heat or under the most probable grade when given (one of
   * the two at most).
   */
  private static void paint(BufferedImage img, Tile t, int[] grey, double[] heat, double[] grade) {
    int n = t.width() * t.height();
    for (int py = 0; py < t.height(); py++) {
      for (int px = 0; px < t.width(); px++) {
        int i = py * t.width() + px;
        int v = grey[i];
        int rgb = v << 16 | v << 8 | v;
        if (heat != null && heat[i] > 0) {
          rgb = blend(v, heatColor(heat[i]), HEAT_ALPHA * heat[i]);
        } else if (grade != null) {
          int best = 0;
          for (int k = 1; k < GRADES; k++) {
            if (grade[k * n + i] > grade[best * n + i]) best = k;
          }
          double prob = grade[best * n + i];
          if (prob > 0) rgb = blend(v, GRADE_COLORS[best], GRADE_ALPHA * prob);
        }
        img.setRGB(t.x() + px, t.y() + py, rgb);
      }
    }
  }

  /**
   * The panel's marks on its tile, clipped to the image: lines from each prediction to each truth
   * of the same label, the labels (at the prediction, or at the truth when no prediction has its
   * label), the truth rings, the prediction dots on top.
   */
  private static void marks(Graphics2D g, Panel p, Tile t) {
    List<Mark> shown = p.marks().stream().filter(Mark::shown).toList();
    g.setClip(t.x(), t.y(), t.width(), t.height());
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
    g.setStroke(new BasicStroke(1f));
    g.setColor(ERROR_LINE);
    for (Mark a : shown) {
      if (a.truth()) continue;
      for (Mark b : shown) {
        if (b.truth() && b.label().equals(a.label())) {
          g.draw(new Line2D.Double(x(t, p, a), y(t, p, a), x(t, p, b), y(t, p, b)));
        }
      }
    }
    for (Mark m : shown) {
      if (m.label().isEmpty()) continue;
      if (m.truth() && shown.stream().anyMatch(o -> !o.truth() && o.label().equals(m.label()))) {
        continue;
      }
      int textWidth = g.getFontMetrics(MARK_FONT).stringWidth(m.label());
      double x = x(t, p, m);
      int tx = (int) Math.round(x + RING + 3);
      if (tx + textWidth > t.x() + t.width()) tx = (int) Math.round(x - RING - 3 - textWidth);
      label(
          g,
          MARK_FONT,
          m.label(),
          tx,
          (int) Math.round(y(t, p, m) + 4),
          m.truth() ? TRUTH : PREDICTION);
    }
    g.setStroke(new BasicStroke(2f));
    g.setColor(TRUTH);
    for (Mark m : shown) {
      if (m.truth()) {
        g.draw(new Ellipse2D.Double(x(t, p, m) - RING, y(t, p, m) - RING, 2 * RING, 2 * RING));
      }
    }
    g.setColor(PREDICTION);
    for (Mark m : shown) {
      if (!m.truth()) {
        g.fill(new Ellipse2D.Double(x(t, p, m) - DOT, y(t, p, m) - DOT, 2 * DOT, 2 * DOT));
      }
    }
    g.setStroke(new BasicStroke(1f));
    g.setClip(null);
  }

  private static double x(Tile t, Panel p, Mark m) {
    return t.pictureX(m.x(), p.columns());
  }

  private static double y(Tile t, Panel p, Mark m) {
    return t.pictureY(m.y(), p.rows());
  }

  /** The legend: a dot, a ring, the heat scale and the grade colours, each with its name. */
  private static void legend(Graphics2D g, List<Legend> entries) {
    for (Legend e : entries) {
      int x = e.x() + 2, cy = e.y() + LEGEND / 2;
      switch (e.key()) {
        case PREDICTION -> {
          g.setColor(PREDICTION);
          g.fill(new Ellipse2D.Double(x + 7 - DOT, cy - DOT, 2 * DOT, 2 * DOT));
        }
        case TRUTH -> {
          g.setStroke(new BasicStroke(2f));
          g.setColor(TRUTH);
          g.draw(new Ellipse2D.Double(x + 7 - RING, cy - RING, 2 * RING, 2 * RING));
          g.setStroke(new BasicStroke(1f));
        }
        case HEAT -> {
          for (int i = 0; i < 14; i++) {
            g.setColor(heatColor(i / 13.0));
            g.fillRect(x + i, cy - 6, 1, 12);
          }
        }
        case GRADE -> {
          g.setColor(e.swatch());
          g.fillRect(x, cy - 6, 14, 12);
        }
      }
      g.setClip(e.x(), e.y(), SLOT - 4, LEGEND);
      label(g, TEXT_FONT, e.text(), x + 20, cy + 5, Color.WHITE);
      g.setClip(null);
    }
  }

  /** Text with a dark shadow, legible on any background. */
  private static void label(Graphics2D g, Font font, String s, int x, int y, Color c) {
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(font);
    g.setColor(Color.BLACK);
    g.drawString(s, x + 1, y + 1);
    g.setColor(c);
    g.drawString(s, x, y);
  }
}
