package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.json.Json;
import org.spinekit.io.safetensors.SafeTensors;
import org.spinekit.testing.Subprocess;

/**
 * Kills training runs in child JVMs ({@link TrainChild}) and resumes them in new ones: the resumed
 * runs must log the same losses and metrics, byte for byte, and end with the same weights as a run
 * never interrupted.
 */
class ResumeTest {
  private static int launches;

  /** The children this test started, killed after it if still running. */
  private final List<Subprocess> children = new ArrayList<>();

  /** Starts a child training in {@code dir}. */
  Subprocess start(Path dir, String halt, long delayMs) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd =
        new ArrayList<>(List.of(java, "-Xmx512m", "-cp", System.getProperty("java.class.path")));
    String lib = System.getProperty("java.library.path");
    if (lib != null) cmd.add("-Djava.library.path=" + lib);
    cmd.addAll(List.of(TrainChild.class.getName(), dir.toString(), halt, Long.toString(delayMs)));
    Files.createDirectories(dir);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("OMP_NUM_THREADS", "2");
    launches++;
    Subprocess child = Subprocess.start(pb);
    children.add(child);
    return child;
  }

  @AfterEach
  void killChildren() {
    for (Subprocess c : children) {
      if (c.isAlive()) c.kill();
    }
  }

  /** Runs a child to its end; fails unless it exits 0 and prints "done". Its stdout. */
  String finish(Path dir) throws IOException {
    Subprocess.Result r = start(dir, "none", 0).await(Duration.ofSeconds(120)).succeeded();
    assertTrue(r.stdout().contains("done"), r.describe());
    return r.stdout();
  }

  /**
   * Where a child started in {@code dir} now must begin: the (epoch, batch) that last.json records,
   * "0 0" when there is none, "none" when it records the end of the run. Read from the file as it
   * is (the Checkpoints class would tidy the directory on opening it).
   */
  static String resumePoint(Path dir) throws IOException {
    Path json = dir.resolve("ckpt/" + Checkpoints.LAST);
    if (!Files.exists(json)) return "0 0";
    Map<?, ?> m;
    try {
      m = (Map<?, ?>) Json.parse(Files.readString(json, StandardCharsets.UTF_8));
    } catch (Json.SyntaxException e) {
      throw new AssertionError(json + ": " + e.getMessage(), e);
    }
    long epoch = ((Number) m.get("epoch")).longValue();
    return epoch >= ResumeFixture.EPOCHS ? "none" : epoch + " " + m.get("batch");
  }

  /** The run's logs without the wall-clock column, and its last weights. */
  record Outcome(String steps, String stepsJson, List<String> epochs, Map<String, byte[]> model) {}

  static Outcome outcome(Path dir) throws IOException {
    List<String> epochs = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("logs/epochs.csv"))) {
      String[] c = line.split(",", -1);
      c[3] = ""; // seconds
      epochs.add(String.join(",", c));
    }
    var last = new Checkpoints(dir.resolve("ckpt")).read(Checkpoints.LAST).orElseThrow();
    Map<String, byte[]> model = new java.util.TreeMap<>();
    try (PointerScope s = new PointerScope()) {
      for (Map.Entry<String, Tensor> e : SafeTensors.read(last.tensors()).entrySet()) {
        if (!e.getKey().startsWith("model.") && !e.getKey().startsWith("ema.")) continue;
        Tensor t = e.getValue();
        byte[] b = new byte[(int) (t.numel() * t.element_size())];
        t.data_ptr().capacity(b.length).asByteBuffer().get(b);
        model.put(e.getKey(), b);
      }
    }
    return new Outcome(
        Files.readString(dir.resolve("logs/steps.csv")),
        Files.readString(dir.resolve("logs/steps.jsonl")),
        epochs,
        model);
  }

  static void assertSame(Outcome want, Outcome got, String what) {
    assertEquals(want.steps(), got.steps(), what + ": steps.csv (losses, lr, grad norms)");
    assertEquals(want.stepsJson(), got.stepsJson(), what + ": steps.jsonl");
    assertEquals(want.epochs(), got.epochs(), what + ": epochs.csv");
    assertEquals(want.model().keySet(), got.model().keySet(), what + ": tensors");
    for (String k : want.model().keySet()) {
      assertTrue(
          java.util.Arrays.equals(want.model().get(k), got.model().get(k)),
          what + ": " + k + " differs");
    }
  }

  static void waitFor(Path file, Subprocess p) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!Files.exists(file)) {
      if (!p.isAlive()) {
        fail("the child ended before writing " + file + ": " + p.kill().describe());
      }
      if (System.nanoTime() > end) fail("no " + file + " after 90 s: " + p.kill().describe());
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  @Test
  void killedAndHaltedRunsResumeToTheSameLossesAndWeights(@TempDir Path tmp) throws Exception {
    // -Dspinekit.resume.seed=N repeats a run's random draws (not the scheduler's timing).
    long seed = Long.getLong("spinekit.resume.seed", System.nanoTime());
    System.out.println("resume test: random seed " + seed);
    StringBuilder report = new StringBuilder("resume test (random seed " + seed + "):\n");
    try {
      killAndResume(tmp, new Random(seed), report);
    } catch (AssertionError e) {
      throw new AssertionError(
          "random seed "
              + seed
              + " (-Dspinekit.resume.seed="
              + seed
              + "): "
              + e.getMessage()
              + "\n"
              + report,
          e);
    }
    System.out.print(report);
  }

  private void killAndResume(Path tmp, Random rnd, StringBuilder report) throws Exception {
    long t0 = System.nanoTime();
    // The uninterrupted run, in this JVM.
    Path ref = tmp.resolve("ref");
    ResumeFixture.run(ref, 0, null);
    Outcome want = outcome(ref);
    int rows = want.steps().split("\n").length - 1;
    assertEquals(ResumeFixture.EPOCHS * 12, rows, "batches logged by the uninterrupted run");

    // 1. Killed once it has written a checkpoint.
    Path a = tmp.resolve("after-checkpoint");
    Subprocess p = start(a, "none", 25);
    waitFor(a.resolve("ckpt/" + Checkpoints.LAST), p);
    long extra = rnd.nextInt(150);
    Thread.sleep(extra);
    p.kill();
    int before = stepsLogged(a);
    String from = resumePoint(a);
    assertNotEquals("0 0", from, "a checkpoint to resume from");
    assertEquals(from, first(finish(a)), "resumed where last.json points, not restarted");
    assertSame(want, outcome(a), "killed after a checkpoint");
    report.append(
        String.format(
            "  killed %d ms after the first checkpoint, %d rows logged"
                + " before the kill, resumed at %s%n",
            extra, before, from));

    // 2. Killed at random moments of the training (also during checkpoint writes, which
    // happen after every optimiser step), at least twice and until there is a checkpoint,
    // then run to the end. Each child must begin where last.json pointed when it started. A
    // child is killed less than 800 ms after its first batch: one that began at the start
    // still sleeps 35 x 25 ms then, so it is killed in the middle of the run, and the run
    // resumes in the middle at least once (asserted).
    Path b = tmp.resolve("random");
    int resumed = 0;
    for (int k = 0; k < 2 || !Files.exists(b.resolve("ckpt/" + Checkpoints.LAST)); k++) {
      assertTrue(k < 10, "no checkpoint after 10 random kills");
      from = resumePoint(b);
      Subprocess q = start(b, "none", 25);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (!q.stdout().contains("step ") && q.isAlive() && System.nanoTime() < end) {
        Thread.sleep(5);
      }
      if (!q.stdout().contains("step ") && q.isAlive()) {
        fail("no batch in 90 s: " + q.kill().describe());
      }
      long ms = rnd.nextInt(800);
      boolean ended = q.waitFor(Duration.ofMillis(ms));
      Subprocess.Result r = ended ? q.await(Duration.ofSeconds(1)).succeeded() : q.kill();
      assertEquals(
          from,
          first(r.stdout()),
          "random kill " + (k + 1) + ": where the child" + " began; " + r.describe());
      if (!from.equals("0 0") && !from.equals("none")) resumed++;
      report.append(
          String.format(
              "  random kill %d, %d ms into the training: began at %s, %d" + " rows logged%s%n",
              k + 1, ms, from, stepsLogged(b), ended ? " (it had finished)" : ""));
    }
    from = resumePoint(b);
    assertEquals(from, first(finish(b)), "the last run began where last.json pointed");
    if (!from.equals("0 0") && !from.equals("none")) resumed++;
    assertTrue(resumed > 0, "no child resumed in the middle of the run");
    assertSame(want, outcome(b), "killed at random moments");
    report.append(String.format("  then resumed at %s and run to the end%n", from));

    // 3. Halted between a checkpoint's tensors file and its record (3rd save: step 3), then,
    // resumed from step 2, halted between last.json and best.json of the first epoch's end
    // (the resumed run's 4th save), then run to the end.
    Path c = tmp.resolve("halts");
    start(c, "tensors:3", 0).await(Duration.ofSeconds(120)).exited(137);
    long files;
    try (var list = Files.list(c.resolve("ckpt"))) {
      files = list.filter(f -> f.getFileName().toString().startsWith("ckpt-")).count();
    }
    assertEquals(2, files, "the checkpoint last.json names and the orphan beside it");
    Subprocess.Result h = start(c, "last:4", 0).await(Duration.ofSeconds(120)).exited(137);
    assertEquals("0 4", first(h.stdout()), "resumed after the 2nd optimiser step");
    assertTrue(h.stdout().contains("halt last"), h.describe());
    assertTrue(!Files.exists(c.resolve("ckpt/" + Checkpoints.BEST)), "no best.json yet");
    assertEquals("1 0", first(finish(c)), "resumed after the first epoch");
    assertSame(want, outcome(c), "halted between tensors and record, then last and best");
    assertTrue(Files.exists(c.resolve("ckpt/" + Checkpoints.BEST)), "best.json at the end");

    report.append(
        String.format(
            "  %d child JVMs in %.1f s; every resumed run logged the"
                + " same %d losses as the uninterrupted run bitwise and ended with the same weights%n",
            launches, (System.nanoTime() - t0) / 1e9, rows));
  }

  /** Where a child started: the (epoch, batch) of its "first" line, "none" without one. */
  static String first(String stdout) {
    return stdout
        .lines()
        .filter(l -> l.startsWith("first "))
        .findFirst()
        .map(l -> l.substring(6).trim())
        .orElse("none");
  }

  static int stepsLogged(Path dir) throws IOException {
    Path f = dir.resolve("logs/steps.csv");
    if (!Files.exists(f)) return 0;
    return Math.max(0, Files.readAllLines(f).size() - 1);
  }
}
