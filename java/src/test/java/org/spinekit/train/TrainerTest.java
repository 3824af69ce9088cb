package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.json.Json;
import org.spinekit.tensor.Tensors;

/** The trainer in one JVM: learning, logs, plot, progress, determinism, accumulation, EMA. */
class TrainerTest {
  @BeforeAll
  static void setUp() {
    torch.set_num_threads(2);
  }

  static TinyNet tiny(long seed) {
    torch.manual_seed(seed);
    return new TinyNet(1, 6, 1, 0.2);
  }

  static DataLoader loader(int n, int batch, long seed, boolean shuffle) {
    return new DataLoader(
        new ToyData(n), DataLoader.Options.of(batch, 2, seed).withShuffle(shuffle));
  }

  static Trainer.Builder quiet(int epochs) {
    return Trainer.builder(epochs).progress(null).threads(2);
  }

  @Test
  void learnsLogsPlotsAndShowsProgress(@TempDir Path dir) throws Exception {
    TinyNet net = tiny(1);
    ByteArrayOutputStream bar = new ByteArrayOutputStream();
    Trainer.Config cfg =
        quiet(4)
            .optimizer(Adam.Options.adamW(5e-2))
            .schedule(new WarmupCosine(LrSchedule.Interval.STEP, 4, 0.1, 36, 1e-4))
            .clipNorm(1.0)
            .ema(Ema.Options.warmup(0.9))
            .logs(dir.resolve("logs"), true)
            .progress(new ProgressBar(new PrintStream(bar, true, StandardCharsets.UTF_8), false))
            .build();
    History h;
    try (DataLoader train = loader(40, 4, 3, true);
        DataLoader valid = loader(16, 8, 4, false);
        Trainer<TinyNet> t = new Trainer<>(net, cfg)) {
      h = t.fit(ToyData::step, train, valid, null);
    }
    assertEquals(40, h.steps().size(), "4 epochs of 10 batches");
    assertEquals(4, h.epochs().size());
    assertEquals(40, h.steps().get(39).step(), "optimiser steps");
    double first = h.epochs().get(0).metrics().get("train_loss");
    double last = h.epochs().get(3).metrics().get("train_loss");
    assertTrue(last < first * 0.8, "train loss " + first + " -> " + last);
    assertTrue(
        h.epochs().get(3).metrics().get("valid_acc") >= 0.75,
        "valid accuracy " + h.epochs().get(3).metrics());
    assertEquals("valid_loss", h.monitor());
    assertEquals(0.1 * 5e-2, h.steps().get(0).lr(), 1e-15, "warm-up starts at a tenth");
    assertTrue(Double.isFinite(h.steps().get(0).gradNorm()), "gradient norm logged");

    // Logs: CSV and JSON lines, numbers that read back exactly.
    List<String> csv = Files.readAllLines(dir.resolve("logs/steps.csv"));
    assertEquals("epoch,batch,step,loss,lr,grad_norm,acc", csv.get(0));
    assertEquals(41, csv.size());
    for (int i = 0; i < 40; i++) {
      String[] cells = csv.get(i + 1).split(",");
      assertEquals(h.steps().get(i).loss(), Double.parseDouble(cells[3]), 0, "loss " + i);
    }
    List<String> jsonl = Files.readAllLines(dir.resolve("logs/steps.jsonl"));
    assertEquals(40, jsonl.size());
    Map<?, ?> row = (Map<?, ?>) Json.parse(jsonl.get(7));
    assertEquals(h.steps().get(7).loss(), ((Number) row.get("loss")).doubleValue(), 0);
    List<String> ecsv = Files.readAllLines(dir.resolve("logs/epochs.csv"));
    assertEquals("epoch,step,lr,seconds,train_loss,train_acc,valid_loss,valid_acc", ecsv.get(0));
    assertEquals(5, ecsv.size());
    assertEquals(4, Files.readAllLines(dir.resolve("logs/epochs.jsonl")).size());

    // Progress: plain lines (not a terminal) with rate and ETA, and a summary per epoch.
    String out = bar.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("epoch 1/4 [") && out.contains(" it/s ETA "), out);
    assertTrue(out.contains("epoch 4/4 train_loss "), out);
    assertFalse(out.contains("\r"), "no carriage returns off a terminal");

    // The plot: read back, the size, the curve drawn in its colour, going down.
    BufferedImage img = ImageIO.read(dir.resolve("logs/curves.png").toFile());
    assertNotNull(img, "a PNG ImageIO reads");
    assertEquals(1200, img.getWidth());
    assertEquals(480, img.getHeight());
    long count = 0;
    double ySumLeft = 0;
    double ySumRight = 0;
    long nLeft = 0;
    long nRight = 0;
    int plotLeft = 70;
    int plotRight = 600 - 20;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = plotLeft; x < plotRight; x++) {
        if (near(img.getRGB(x, y), Plot.SMOOTH.getRGB(), 30)) {
          count++;
          if (x < plotLeft + (plotRight - plotLeft) / 4) {
            ySumLeft += y;
            nLeft++;
          } else if (x > plotRight - (plotRight - plotLeft) / 4) {
            ySumRight += y;
            nRight++;
          }
        }
      }
    }
    assertTrue(count > 300, "pixels of the running-mean curve: " + count);
    assertTrue(
        nLeft > 0 && nRight > 0 && ySumLeft / nLeft < ySumRight / nRight,
        "the loss curve starts higher (smaller y) than it ends");
    net.close();
  }

  static boolean near(int rgb, int want, int tol) {
    int dr = ((rgb >> 16) & 255) - ((want >> 16) & 255);
    int dg = ((rgb >> 8) & 255) - ((want >> 8) & 255);
    int db = (rgb & 255) - (want & 255);
    return Math.abs(dr) <= tol && Math.abs(dg) <= tol && Math.abs(db) <= tol;
  }

  static double[] losses(long modelSeed, long trainerSeed) throws IOException {
    return losses(modelSeed, trainerSeed, 0.2);
  }

  /** The step losses of 2 epochs of a {@link TinyNet} with {@code dropout}. */
  static double[] losses(long modelSeed, long trainerSeed, double dropout) throws IOException {
    torch.manual_seed(modelSeed);
    TinyNet net = new TinyNet(1, 6, 1, dropout);
    try (DataLoader train = loader(24, 4, 9, true);
        Trainer<TinyNet> t =
            new Trainer<>(net, quiet(2).seed(trainerSeed).ema(Ema.Options.of(0.5)).build())) {
      return t.fit(ToyData::step, train).losses();
    } finally {
      net.close();
    }
  }

  @Test
  void sameSeedsSameLossesBitwise() throws IOException {
    double[] a = losses(1, 7);
    double[] b = losses(1, 7);
    assertEquals(12, a.length);
    assertArrayEquals(a, b, 0, "same seeds and threads");
    double[] c = losses(1, 8);
    assertFalse(java.util.Arrays.equals(a, c), "another trainer seed draws other dropout");
    // Dropout is all the trainer seed draws: batches and their noise come from the loader's
    // seed. Without dropout another trainer seed repeats the losses bit for bit.
    assertArrayEquals(losses(1, 7, 0), losses(1, 8, 0), 0, "no dropout: same data, same losses");
  }

  @Test
  void accumulatingTwoBatchesOfFourEqualsBatchesOfEight() throws IOException {
    float[][] weights = new float[2][];
    long[] steps = new long[2];
    for (int run = 0; run < 2; run++) {
      torch.manual_seed(3);
      LinearNet net = new LinearNet(ToyData.SIDE * ToyData.SIDE, 1);
      int batch = run == 0 ? 4 : 8;
      // 20 samples: batches of 4 in groups [0,1] [2,3] [4] = batches of 8, 8 and 4.
      try (DataLoader train = loader(20, batch, 5, true);
          Trainer<LinearNet> t =
              new Trainer<>(
                  net,
                  quiet(2)
                      .accumulation(run == 0 ? 2 : 1)
                      .optimizer(Adam.Options.adam(1e-2))
                      .build())) {
        History h = t.fit(ToyData::step, train);
        steps[run] = h.steps().get(h.steps().size() - 1).step();
      }
      try (PointerScope s = new PointerScope()) {
        weights[run] = Tensors.floats(net.fc.weight.detach().contiguous());
      }
      net.close();
    }
    assertEquals(6, steps[0], "3 optimiser steps per epoch");
    assertEquals(steps[1], steps[0]);
    double worst = 0;
    for (int i = 0; i < weights[0].length; i++) {
      worst = Math.max(worst, Math.abs(weights[0][i] - weights[1][i]));
    }
    System.out.printf(
        "accumulation 2 x 4 vs batch 8: weights differ by at most %.3g after %d" + " steps%n",
        worst, steps[0]);
    assertTrue(worst <= 1e-6, "accumulated vs big-batch weights differ by " + worst);
  }

  @Test
  void earlyStoppingAndPlateauFollowTheMonitor() throws IOException {
    TinyNet net = tiny(2);
    List<Double> lrs = new ArrayList<>();
    Validation<TinyNet> rising = (m, l, epoch) -> Map.of("score", 1.0 - epoch * 0.1);
    try (DataLoader train = loader(8, 4, 1, true);
        DataLoader valid = loader(4, 4, 1, false);
        Trainer<TinyNet> t =
            new Trainer<>(
                net,
                quiet(10)
                    .optimizer(Adam.Options.adam(1e-2))
                    .schedule(new Plateau(Plateau.Options.of(Mode.MAX, 0.5, 0)))
                    .monitor("valid_score", Mode.MAX)
                    .earlyStopping(2, 0)
                    .onEpoch(r -> lrs.add(r.lr()))
                    .build())) {
      History h = t.fit(ToyData::step, train, valid, rising);
      assertTrue(h.stoppedEarly());
      assertEquals(3, h.epochs().size(), "best at epoch 0, two epochs without improvement");
      assertEquals(0, h.bestEpoch());
      assertEquals(1.0, h.best());
      assertEquals(List.of(1e-2, 1e-2, 5e-3), lrs, "halved after the first bad epoch");
    }
    net.close();
  }

  @Test
  void emaWeightsAreTheOnesValidated() throws IOException {
    TinyNet net = tiny(4);
    float[][] seen = new float[1][];
    Validation<TinyNet> grab =
        (m, l, epoch) -> {
          try (PointerScope s = new PointerScope()) {
            seen[0] = Tensors.floats(m.fc.weight.detach().contiguous());
          }
          assertFalse(m.is_training(), "validation in eval mode");
          return Map.of("loss", 0.0);
        };
    try (DataLoader train = loader(8, 4, 1, true);
        DataLoader valid = loader(4, 4, 1, false);
        Trainer<TinyNet> t = new Trainer<>(net, quiet(2).ema(Ema.Options.of(0.8)).build())) {
      t.fit(ToyData::step, train, valid, grab);
      try (PointerScope s = new PointerScope()) {
        float[] ema = Tensors.floats(t.ema().state().get("fc.weight").contiguous());
        float[] model = Tensors.floats(net.fc.weight.detach().contiguous());
        assertArrayEquals(ema, seen[0], 0f, "validated the EMA weights");
        assertFalse(java.util.Arrays.equals(model, seen[0]), "not the raw weights");
      }
      assertTrue(net.is_training(), "back in training mode");
    }
    net.close();
  }

  @Test
  void customBackwardGetsTheAccumulationScale() throws IOException {
    LinearNet net = new LinearNet(ToyData.SIDE * ToyData.SIDE, 1);
    List<Double> scales = new ArrayList<>();
    Step<LinearNet> step =
        (m, b) -> {
          Step.Result r = ToyData.step(m, b);
          return new Step.Result(
              r.loss(),
              r.metrics(),
              scale -> {
                scales.add(scale);
                r.loss().mul(new org.bytedeco.pytorch.Scalar(scale)).backward();
              });
        };
    try (DataLoader train = loader(12, 4, 1, true);
        Trainer<LinearNet> t = new Trainer<>(net, quiet(1).accumulation(2).build())) {
      t.fit(step, train);
    }
    assertEquals(List.of(0.5, 0.5, 1.0), scales, "groups of 2 and a last group of 1");
    net.close();
  }

  @Test
  void badStepsAndConfigsAreReported() throws IOException {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Trainer.builder(0).build());
    assertTrue(e.getMessage().startsWith("epochs:"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> Trainer.builder(1).accumulation(0).build());
    assertTrue(e.getMessage().startsWith("accumulation:"), e.getMessage());
    TinyNet net = tiny(5);
    try (DataLoader train = loader(8, 4, 1, true);
        Trainer<TinyNet> t = new Trainer<>(net, quiet(1).build())) {
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> t.fit((m, b) -> Step.Result.of(m.forward(b.inputs())), train));
      assertTrue(
          e.getMessage().startsWith("loss: expected a floating-point tensor of one"),
          e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  t.fit(
                      (m, b) -> {
                        try (NoGradGuard g = new NoGradGuard()) {
                          return Step.Result.of(m.forward(b.inputs()).sum());
                        }
                      },
                      train));
      assertTrue(e.getMessage().contains("requires grad"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  t.fit(
                      (m, b) -> Step.Result.of(m.forward(b.inputs()).mean(), Map.of("lr", 1.0)),
                      train));
      assertTrue(e.getMessage().contains("\"lr\""), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Step.Result.of(torch.zeros(1), Map.of("a,b", 1.0)));
      assertTrue(e.getMessage().startsWith("metrics:"), e.getMessage());
    }
    try (DataLoader train = loader(8, 4, 1, true);
        Trainer<TinyNet> t = new Trainer<>(net, quiet(1).monitor("valid_dice", Mode.MAX).build())) {
      IllegalStateException s =
          assertThrows(IllegalStateException.class, () -> t.fit(ToyData::step, train));
      assertTrue(
          s.getMessage().contains("valid_dice") && s.getMessage().contains("train_loss"),
          s.getMessage());
    }
    net.close();
  }

  @Test
  void resumableEpochStartsAtTheGivenBatch() {
    try (DataLoader l = loader(20, 3, 11, true)) {
      List<int[]> all = new ArrayList<>();
      for (var it = l.epoch(2); it.hasNext(); ) {
        try (Batch b = it.next()) {
          all.add(b.indices());
        }
      }
      int k = 0;
      for (var it = l.epoch(2, 4); it.hasNext(); k++) {
        try (Batch b = it.next()) {
          assertEquals(4 + k, b.number());
          assertArrayEquals(all.get(4 + k), b.indices());
        }
      }
      assertEquals(all.size() - 4, k);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> l.epoch(0, 8));
      assertTrue(e.getMessage().startsWith("first:"), e.getMessage());
    }
  }
}
