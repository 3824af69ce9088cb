package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The progress bar on a terminal (redrawn in place) and off one (plain lines). */
class ProgressBarTest {
  @Test
  void terminalRedrawsOneLineWithRateAndEta() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    ProgressBar p = new ProgressBar(new PrintStream(b, true, StandardCharsets.UTF_8), true);
    p.start(1, 5, 40, 0);
    for (int i = 1; i <= 40; i++) p.update(i, 0.5);
    p.end("epoch 2/5 train_loss 0.5");
    String out = b.toString(StandardCharsets.UTF_8);
    String[] draws = out.split("\r", -1);
    // Drawn at the first batch and the last; between them at most every 100 ms.
    assertTrue(
        draws.length >= 3 && draws.length <= 8,
        "redrawn " + (draws.length - 1) + " times in\n" + out);
    String lastDraw = draws[draws.length - 1];
    assertTrue(lastDraw.startsWith("epoch 2/5 [########################] 40/40 "), lastDraw);
    assertTrue(lastDraw.contains(" it/s ETA 0:00 loss 0.5000"), lastDraw);
    assertTrue(
        lastDraw.endsWith("\u001b[K\nepoch 2/5 train_loss 0.5" + System.lineSeparator()), lastDraw);
  }

  @Test
  void plainLinesEveryTenthOfTheEpoch() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    ProgressBar p = new ProgressBar(new PrintStream(b, true, StandardCharsets.UTF_8), false);
    p.start(0, 1, 100, 30);
    for (int i = 31; i <= 100; i++) p.update(i, 1.25);
    String[] lines = b.toString(StandardCharsets.UTF_8).split(System.lineSeparator());
    assertEquals(7, lines.length, String.join("\n", lines));
    assertTrue(lines[0].startsWith("epoch 1/1 [#########---------------] 40/100 "), lines[0]);
    assertTrue(lines[0].matches(".* [0-9.]+ it/s ETA [0-9:?]+ loss 1\\.2500"), lines[0]);
  }

  @Test
  void clock() {
    assertEquals("0:05", ProgressBar.clock(4.6));
    assertEquals("2:03", ProgressBar.clock(123));
    assertEquals("1:00:01", ProgressBar.clock(3601));
  }

  @Test
  void aTaskOtherThanAnEpochShowsItsLabelAndNoLoss() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    ProgressBar p = new ProgressBar(new PrintStream(b, true, StandardCharsets.UTF_8), false);
    p.start("segment", 4);
    for (int i = 1; i <= 4; i++) p.update(i, Double.NaN);
    p.end("done");
    String[] lines = b.toString(StandardCharsets.UTF_8).split(System.lineSeparator());
    assertEquals(5, lines.length, String.join("\n", lines));
    assertTrue(lines[3].startsWith("segment [########################] 4/4 "), lines[3]);
    assertTrue(lines[3].endsWith(" ETA 0:00"), lines[3]);
    // An epoch started afterwards is an epoch again.
    p.start(0, 2, 10, 0);
    p.update(10, 0.25);
    String last = b.toString(StandardCharsets.UTF_8).strip();
    assertTrue(last.endsWith("loss 0.2500") && last.contains("epoch 1/2 ["), last);
  }
}
