package org.spinekit.train;

import java.io.PrintStream;

/**
 * The progress of an epoch on a terminal: on a TTY one line redrawn in place ({@code epoch 3/10
 * [#####-----] 50/100 12.3 it/s ETA 0:04 loss 0.4321}) at most ten times a second; otherwise (a log
 * file, CI) plain lines at every tenth of the epoch. Rate and ETA count the batches run since the
 * epoch (or the resumed part of it) started.
 */
public final class ProgressBar {
  private static final int WIDTH = 24;
  private final PrintStream out;
  private final boolean tty;
  private int epoch;
  private int epochs;
  private int total;
  private int first;
  private long start;
  private long lastDraw;
  private int lastLine;
  private boolean drawn;
  private String label;

  /**
   * @param out where to print
   * @param tty redraw one line in place (true for a terminal)
   */
  public ProgressBar(PrintStream out, boolean tty) {
    if (out == null) throw new IllegalArgumentException("out: expected a stream, got null");
    this.out = out;
    this.tty = tty;
  }

  /** A bar on standard output, redrawn in place when it is a terminal. */
  public static ProgressBar console() {
    return new ProgressBar(System.out, System.console() != null);
  }

  public boolean tty() {
    return tty;
  }

  /**
   * Epoch {@code epoch} (from 0) of {@code epochs} starts at batch {@code first} of {@code total}.
   */
  public void start(int epoch, int epochs, int total, int first) {
    this.label = null;
    this.epoch = epoch;
    this.epochs = epochs;
    this.total = total;
    this.first = first;
    this.start = System.nanoTime();
    this.lastDraw = 0;
    this.lastLine = first;
    this.drawn = false;
  }

  /**
   * A task other than an epoch starts: {@code total} items (studies, files), shown after {@code
   * label} in place of the epoch; {@link #update} with a NaN loss prints no loss.
   */
  public void start(String label, int total) {
    start(0, 1, total, 0);
    this.label = label;
  }

  /** {@code done} batches of the epoch are done, the last with this loss. */
  public void update(int done, double loss) {
    long now = System.nanoTime();
    if (tty) {
      if (done < total && now - lastDraw < 100_000_000L && drawn) return;
      lastDraw = now;
      drawn = true;
      out.print("\r" + line(done, loss, now) + "\u001b[K");
      out.flush();
    } else {
      int every = Math.max(1, total / 10);
      if (done - lastLine < every && done < total) return;
      lastLine = done;
      out.println(line(done, loss, now));
    }
  }

  /** Ends the epoch's line and prints {@code summary} under it. */
  public void end(String summary) {
    if (tty && drawn) out.print("\n");
    out.println(summary);
    out.flush();
  }

  String line(int done, double loss, long now) {
    double secs = Math.max(1e-9, (now - start) / 1e9);
    double rate = (done - first) / secs;
    int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * done / total);
    StringBuilder b = new StringBuilder();
    if (label != null) {
      b.append(label).append(" [");
    } else {
      b.append("epoch ").append(epoch + 1).append('/').append(epochs).append(" [");
    }
    for (int i = 0; i < WIDTH; i++) b.append(i < filled ? '#' : '-');
    b.append("] ").append(done).append('/').append(total);
    b.append(String.format(" %.1f it/s", rate));
    b.append(" ETA ").append(rate > 0 ? clock((total - done) / rate) : "?");
    if (!Double.isNaN(loss)) b.append(String.format(" loss %.4f", loss));
    return b.toString();
  }

  /** Seconds as h:mm:ss or m:ss. */
  static String clock(double seconds) {
    long s = Math.round(seconds);
    long h = s / 3600;
    long m = (s % 3600) / 60;
    long r = s % 60;
    return h > 0 ? String.format("%d:%02d:%02d", h, m, r) : String.format("%d:%02d", m, r);
  }
}
