package org.spinekit.benchmarks;

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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.spinekit.cli.Cli;
import org.spinekit.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code spinekit bench plot}: one panel per guarded figure over {@code bench ci} runs, in the
 * order given: the figure of each run (a gap where a run lacks it), the floor it was held against
 * (red, dashed) and the band seen when the floor was chosen (shaded). Runs that failed a guard show
 * a red point.
 */
@Command(
    name = "plot",
    description = {
      "A PNG of each guarded figure over bench ci runs (their ci.json or --out directories, oldest"
          + " first): the figures, their floors and the band the floors were chosen from"
    })
final class PlotBench implements Callable<Integer>, Cli.NoLibtorch {
  @Parameters(
      paramLabel = "RUN",
      arity = "1..*",
      description = "ci.json files or their directories")
  List<Path> runs;

  @Option(
      names = "--out",
      paramLabel = "FILE",
      defaultValue = "bench-plot.png",
      description = "the PNG (default ${DEFAULT-VALUE})")
  Path out;

  static final int PANEL_W = 420;
  static final int PANEL_H = 260;
  static final int COLUMNS = 3;

  @Override
  public Integer call() throws IOException {
    List<CiRun> read = new ArrayList<>();
    for (Path p : runs) read.add(CiRun.read(p));
    BufferedImage img = render(read);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    if (!ImageIO.write(img, "png", bytes)) throw new IOException("no PNG writer in this JVM");
    AtomicFiles.write(out, bytes.toByteArray());
    System.out.println(
        "written: " + out + " (" + names(read).size() + " figures over " + read.size() + " runs)");
    return 0;
  }

  static Set<String> names(List<CiRun> runs) {
    Set<String> names = new LinkedHashSet<>();
    for (CiRun r : runs) names.addAll(r.figures().keySet());
    return names;
  }

  static BufferedImage render(List<CiRun> runs) {
    List<String> names = new ArrayList<>(names(runs));
    int rows = Math.max(1, (names.size() + COLUMNS - 1) / COLUMNS);
    BufferedImage img =
        new BufferedImage(COLUMNS * PANEL_W, rows * PANEL_H + 30, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, img.getWidth(), img.getHeight());
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      g.setColor(Color.BLACK);
      g.drawString(
          "spinekit bench ci: "
              + runs.size()
              + " runs, "
              + FloorsBench.minutes(runs.get(0).date())
              + " .. "
              + FloorsBench.minutes(runs.get(runs.size() - 1).date())
              + " (blue: the figures, red points: below the floor; red dashes: the floor;"
              + " green: the band the floor was chosen from)",
          10,
          20);
      for (int i = 0; i < names.size(); i++) {
        panel(g, (i % COLUMNS) * PANEL_W, 30 + (i / COLUMNS) * PANEL_H, names.get(i), runs);
      }
    } finally {
      g.dispose();
    }
    return img;
  }

  private static void panel(Graphics2D g, int x0, int y0, String name, List<CiRun> runs) {
    int left = x0 + 56;
    int right = x0 + PANEL_W - 14;
    int top = y0 + 28;
    int bottom = y0 + PANEL_H - 34;
    int n = runs.size();
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (CiRun r : runs) {
      CiRun.Figure f = r.figures().get(name);
      if (f == null) continue;
      for (double v : new double[] {f.value(), f.floor(), f.low(), f.high()}) {
        if (Double.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (!(lo <= hi)) {
      lo = 0;
      hi = 1;
    }
    lo = Math.min(lo, 0);
    hi = hi + 0.08 * (hi - lo) + 1e-9;
    final double ymin = lo;
    final double ymax = hi;
    java.util.function.DoubleUnaryOperator py =
        v -> bottom - (v - ymin) / (ymax - ymin) * (bottom - top);
    java.util.function.IntToDoubleFunction px =
        i -> n == 1 ? (left + right) / 2.0 : left + i * (right - left) / (double) (n - 1);
    g.setColor(Color.BLACK);
    g.drawString(name, left, y0 + 18);
    // Band of the latest run that has one.
    for (int i = n - 1; i >= 0; i--) {
      CiRun.Figure f = runs.get(i).figures().get(name);
      if (f != null && Double.isFinite(f.low()) && Double.isFinite(f.high())) {
        g.setColor(new Color(220, 235, 220));
        int a = (int) Math.round(py.applyAsDouble(f.high()));
        int b = (int) Math.round(py.applyAsDouble(f.low()));
        g.fillRect(left, a, right - left, Math.max(1, b - a));
        break;
      }
    }
    g.setColor(new Color(225, 225, 225));
    for (int t = 0; t <= 4; t++) {
      int y = bottom - (bottom - top) * t / 4;
      g.drawLine(left, y, right, y);
    }
    g.setColor(Color.DARK_GRAY);
    g.drawRect(left, top, right - left, bottom - top);
    for (int t = 0; t <= 4; t++) {
      int y = bottom - (bottom - top) * t / 4;
      String label = String.format(Locale.ROOT, "%.3g", ymin + (ymax - ymin) * t / 4);
      g.drawString(label, left - 6 - g.getFontMetrics().stringWidth(label), y + 4);
    }
    String xl = "run 1 .. " + n;
    g.drawString(xl, (left + right - g.getFontMetrics().stringWidth(xl)) / 2, bottom + 18);
    // Floor: a dashed step line through the runs' floors.
    g.setColor(new Color(200, 40, 40));
    g.setStroke(
        new BasicStroke(
            1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
    for (int i = 0; i < n; i++) {
      CiRun.Figure f = runs.get(i).figures().get(name);
      if (f == null || !Double.isFinite(f.floor())) continue;
      double half = n == 1 ? (right - left) / 2.0 : (right - left) / (2.0 * (n - 1));
      double x = px.applyAsDouble(i);
      int y = (int) Math.round(py.applyAsDouble(f.floor()));
      g.drawLine((int) Math.max(left, x - half), y, (int) Math.min(right, x + half), y);
    }
    // Figures.
    g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
    Path2D.Double path = new Path2D.Double();
    boolean pen = false;
    for (int i = 0; i < n; i++) {
      CiRun.Figure f = runs.get(i).figures().get(name);
      if (f == null || !Double.isFinite(f.value())) {
        pen = false;
        continue;
      }
      double x = px.applyAsDouble(i);
      double y = py.applyAsDouble(f.value());
      if (pen) {
        path.lineTo(x, y);
      } else {
        path.moveTo(x, y);
      }
      pen = true;
    }
    g.setColor(new Color(31, 119, 180));
    g.draw(path);
    for (int i = 0; i < n; i++) {
      CiRun.Figure f = runs.get(i).figures().get(name);
      if (f == null || !Double.isFinite(f.value())) continue;
      boolean failed = Double.isFinite(f.floor()) && f.value() < f.floor();
      g.setColor(failed ? new Color(200, 40, 40) : new Color(31, 119, 180));
      int x = (int) Math.round(px.applyAsDouble(i));
      int y = (int) Math.round(py.applyAsDouble(f.value()));
      g.fillOval(x - 3, y - 3, 7, 7);
    }
    g.setStroke(new BasicStroke(1f));
  }
}
