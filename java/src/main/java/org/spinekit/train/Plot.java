package org.spinekit.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.spinekit.io.AtomicFiles;

/**
 * The curves of a {@link History} as a PNG: on the left the loss of every batch (faint), its
 * running mean and the epochs' {@code *_loss} values; on the right the other epoch metrics (or the
 * learning rate when there are none). The x axis counts epochs. Drawn with java.awt in headless
 * mode, written atomically.
 */
public final class Plot {
  static {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }

  /** Colour of the batch losses. */
  public static final Color RAW = new Color(170, 200, 235);

  /** Colour of the running mean of the batch losses. */
  public static final Color SMOOTH = new Color(31, 119, 180);

  /** Colours of the epoch series, in order. */
  public static final Color[] SERIES = {
    new Color(255, 127, 14),
    new Color(44, 160, 44),
    new Color(214, 39, 40),
    new Color(148, 103, 189),
    new Color(140, 86, 75),
    new Color(227, 119, 194),
    new Color(127, 127, 127),
    new Color(188, 189, 34)
  };

  private static final int MARGIN_LEFT = 70;
  private static final int MARGIN_RIGHT = 20;
  private static final int MARGIN_TOP = 34;
  private static final int MARGIN_BOTTOM = 46;

  private Plot() {}

  /** Writes the plot of {@code history} to {@code file} (1200 x 480). */
  public static void write(Path file, History history) throws IOException {
    BufferedImage img = render(history, 1200, 480);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    if (!ImageIO.write(img, "png", bytes)) throw new IOException("no PNG writer in this JVM");
    AtomicFiles.write(file, bytes.toByteArray());
  }

  /** A named series of (x, y) points. */
  record Series(String name, double[] x, double[] y, Color color, float width) {}

  /** The plot as an image. */
  public static BufferedImage render(History history, int width, int height) {
    if (history == null) throw new IllegalArgumentException("history: expected one, got null");
    if (width < 200 || height < 120) {
      throw new IllegalArgumentException(
          "size: expected at least 200 x 120, got " + width + " x " + height);
    }
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      int half = width / 2;
      panel(g, 0, 0, half, height, "loss", lossSeries(history));
      List<Series> right = metricSeries(history);
      panel(
          g,
          half,
          0,
          width - half,
          height,
          right.isEmpty() ? "learning rate" : "metrics",
          right.isEmpty() ? lrSeries(history) : right);
    } finally {
      g.dispose();
    }
    return img;
  }

  /** x of every batch row: epoch + (batch + 1) / batches of that epoch. */
  private static double[] stepX(History h) {
    Map<Integer, Integer> perEpoch = new HashMap<>();
    for (History.StepRow r : h.steps()) perEpoch.merge(r.epoch(), r.batch() + 1, Math::max);
    double[] x = new double[h.steps().size()];
    for (int i = 0; i < x.length; i++) {
      History.StepRow r = h.steps().get(i);
      x[i] = r.epoch() + (r.batch() + 1.0) / perEpoch.get(r.epoch());
    }
    return x;
  }

  private static List<Series> lossSeries(History h) {
    List<Series> out = new ArrayList<>();
    double[] x = stepX(h);
    double[] raw = h.losses();
    if (raw.length > 0) {
      out.add(new Series("batch loss", x, raw, RAW, 1f));
      double[] smooth = new double[raw.length];
      double m = Double.NaN;
      double a = 2.0 / (1 + Math.max(1, Math.min(50, raw.length / 10)));
      for (int i = 0; i < raw.length; i++) {
        if (Double.isFinite(raw[i])) m = Double.isNaN(m) ? raw[i] : m + a * (raw[i] - m);
        smooth[i] = m;
      }
      out.add(new Series("running mean", x, smooth, SMOOTH, 2.5f));
    }
    int c = 0;
    for (Map.Entry<String, double[]> e : epochColumns(h, true).entrySet()) {
      out.add(new Series(e.getKey(), epochX(h), e.getValue(), SERIES[c++ % SERIES.length], 2f));
    }
    return out;
  }

  private static List<Series> metricSeries(History h) {
    List<Series> out = new ArrayList<>();
    int c = 2;
    for (Map.Entry<String, double[]> e : epochColumns(h, false).entrySet()) {
      out.add(new Series(e.getKey(), epochX(h), e.getValue(), SERIES[c++ % SERIES.length], 2f));
    }
    return out;
  }

  private static List<Series> lrSeries(History h) {
    double[] lr = h.steps().stream().mapToDouble(History.StepRow::lr).toArray();
    return lr.length == 0 ? List.of() : List.of(new Series("lr", stepX(h), lr, SERIES[4], 2f));
  }

  private static double[] epochX(History h) {
    return h.epochs().stream().mapToDouble(r -> r.epoch() + 1.0).toArray();
  }

  /** Epoch metrics ending in "loss" (or the others), by name, NaN where a row lacks one. */
  private static Map<String, double[]> epochColumns(History h, boolean losses) {
    Map<String, double[]> out = new LinkedHashMap<>();
    List<History.EpochRow> rows = h.epochs();
    for (int i = 0; i < rows.size(); i++) {
      for (Map.Entry<String, Double> e : rows.get(i).metrics().entrySet()) {
        if (e.getKey().endsWith("loss") != losses) continue;
        double[] col =
            out.computeIfAbsent(
                e.getKey(),
                k -> {
                  double[] d = new double[rows.size()];
                  java.util.Arrays.fill(d, Double.NaN);
                  return d;
                });
        col[i] = e.getValue();
      }
    }
    return out;
  }

  private static void panel(
      Graphics2D g, int x0, int y0, int w, int h, String title, List<Series> series) {
    int left = x0 + MARGIN_LEFT;
    int right = x0 + w - MARGIN_RIGHT;
    int top = y0 + MARGIN_TOP;
    int bottom = y0 + h - MARGIN_BOTTOM;
    double xmin = Double.POSITIVE_INFINITY;
    double xmax = Double.NEGATIVE_INFINITY;
    double ymin = Double.POSITIVE_INFINITY;
    double ymax = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (!Double.isFinite(s.y()[i])) continue;
        xmin = Math.min(xmin, s.x()[i]);
        xmax = Math.max(xmax, s.x()[i]);
        ymin = Math.min(ymin, s.y()[i]);
        ymax = Math.max(ymax, s.y()[i]);
      }
    }
    if (!(xmin <= xmax)) {
      xmin = 0;
      xmax = 1;
      ymin = 0;
      ymax = 1;
    }
    xmin = Math.min(xmin, 0);
    if (xmax - xmin < 1e-12) xmax = xmin + 1;
    if (ymax - ymin < 1e-12 * Math.max(1, Math.abs(ymax))) {
      ymin -= 0.5;
      ymax += 0.5;
    }
    double pad = (ymax - ymin) * 0.05;
    ymin -= pad;
    ymax += pad;
    g.setColor(Color.BLACK);
    g.drawString(title, left, y0 + 20);
    g.setColor(new Color(225, 225, 225));
    for (int t = 0; t <= 4; t++) {
      int y = bottom - (bottom - top) * t / 4;
      g.drawLine(left, y, right, y);
    }
    g.setColor(Color.DARK_GRAY);
    g.drawRect(left, top, right - left, bottom - top);
    for (int t = 0; t <= 4; t++) {
      int y = bottom - (bottom - top) * t / 4;
      String label = String.format("%.3g", ymin + (ymax - ymin) * t / 4);
      g.drawString(label, left - 6 - g.getFontMetrics().stringWidth(label), y + 4);
      int x = left + (right - left) * t / 4;
      String xl = String.format("%.3g", xmin + (xmax - xmin) * t / 4);
      g.drawString(xl, x - g.getFontMetrics().stringWidth(xl) / 2, bottom + 16);
    }
    g.drawString("epoch", (left + right) / 2 - 15, bottom + 34);
    java.awt.Shape clip = g.getClip();
    g.clipRect(left + 1, top + 1, right - left - 1, bottom - top - 1);
    for (Series s : series) {
      g.setColor(s.color());
      g.setStroke(new BasicStroke(s.width(), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
      Path2D.Double path = new Path2D.Double();
      boolean pen = false;
      int points = 0;
      for (int i = 0; i < s.x().length; i++) {
        if (!Double.isFinite(s.y()[i])) {
          pen = false;
          continue;
        }
        double px = left + (s.x()[i] - xmin) / (xmax - xmin) * (right - left);
        double py = bottom - (s.y()[i] - ymin) / (ymax - ymin) * (bottom - top);
        if (pen) {
          path.lineTo(px, py);
        } else {
          path.moveTo(px, py);
        }
        pen = true;
        points++;
        if (s.x().length <= 200 && s.width() >= 2f && !SMOOTH.equals(s.color())) {
          g.fillOval((int) Math.round(px) - 3, (int) Math.round(py) - 3, 7, 7);
        }
      }
      if (points > 0) g.draw(path);
    }
    g.setClip(clip);
    int ly = top + 14;
    for (Series s : series) {
      g.setColor(s.color());
      g.fillRect(right - 150, ly - 9, 14, 10);
      g.setColor(Color.BLACK);
      g.drawString(s.name(), right - 130, ly);
      ly += 16;
    }
  }
}
