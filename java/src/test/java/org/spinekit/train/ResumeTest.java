package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.safetensors.SafeTensors;

/**
 * Kills training runs in child JVMs ({@link TrainChild}) and resumes them in new ones: the
 * resumed runs must log the same losses and metrics, byte for byte, and end with the same
 * weights as a run never interrupted.
 */
class ResumeTest {
  private static int launches;

  /** Starts a child training in {@code dir}; its output goes to a file beside it. */
  static Process start(Path dir, String halt, long delayMs) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "-cp",
        System.getProperty("java.class.path")));
    String lib = System.getProperty("java.library.path");
    if (lib != null) cmd.add("-Djava.library.path=" + lib);
    cmd.addAll(List.of(TrainChild.class.getName(), dir.toString(), halt,
        Long.toString(delayMs)));
    Files.createDirectories(dir);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(
            dir.resolveSibling(dir.getFileName() + ".out").toFile()));
    pb.environment().put("OMP_NUM_THREADS", "2");
    launches++;
    return pb.start();
  }

  static String output(Path dir) throws IOException {
    Path f = dir.resolveSibling(dir.getFileName() + ".out");
    return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
  }

  /** Runs a child to its end; fails unless it prints "done". */
  static void finish(Path dir) throws Exception {
    Process p = start(dir, "none", 0);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("the child did not finish in 120 s:\n" + output(dir));
    }
    assertEquals(0, p.exitValue(), "child exit status; output:\n" + output(dir));
    assertTrue(output(dir).contains("done"), output(dir));
  }

  static void kill(Process p) throws InterruptedException {
    p.destroyForcibly();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the killed child ended");
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
    return new Outcome(Files.readString(dir.resolve("logs/steps.csv")),
        Files.readString(dir.resolve("logs/steps.jsonl")), epochs, model);
  }

  static void assertSame(Outcome want, Outcome got, String what) {
    assertEquals(want.steps(), got.steps(), what + ": steps.csv (losses, lr, grad norms)");
    assertEquals(want.stepsJson(), got.stepsJson(), what + ": steps.jsonl");
    assertEquals(want.epochs(), got.epochs(), what + ": epochs.csv");
    assertEquals(want.model().keySet(), got.model().keySet(), what + ": tensors");
    for (String k : want.model().keySet()) {
      assertTrue(java.util.Arrays.equals(want.model().get(k), got.model().get(k)),
          what + ": " + k + " differs");
    }
  }

  static void waitFor(Path file, Process p, Path dir) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!Files.exists(file)) {
      if (!p.isAlive()) fail("the child ended before writing " + file + ":\n" + output(dir));
      if (System.nanoTime() > end) fail("no " + file + " after 90 s");
      Thread.sleep(10);
    }
  }

  @Test
  void killedAndHaltedRunsResumeToTheSameLossesAndWeights(@TempDir Path tmp) throws Exception {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    long t0 = System.nanoTime();
    // The uninterrupted run, in this JVM.
    Path ref = tmp.resolve("ref");
    ResumeFixture.run(ref, 0, null);
    Outcome want = outcome(ref);
    int rows = want.steps().split("\n").length - 1;
    assertEquals(ResumeFixture.EPOCHS * 12, rows, "batches logged by the uninterrupted run");
    StringBuilder report = new StringBuilder("resume test (random seed " + seed + "):\n");

    // 1. Killed once it has written a checkpoint.
    Path a = tmp.resolve("after-checkpoint");
    Process p = start(a, "none", 25);
    waitFor(a.resolve("ckpt/" + Checkpoints.LAST), p, a);
    long extra = rnd.nextInt(150);
    Thread.sleep(extra);
    kill(p);
    int before = stepsLogged(a);
    finish(a);
    assertTrue(!lastFirst(a).equals("0 0"), "resumed, not restarted: began at " + lastFirst(a));
    assertSame(want, outcome(a), "killed after a checkpoint");
    report.append(String.format("  killed %d ms after the first checkpoint, %d rows logged"
        + " before the kill%n", extra, before));

    // 2. Killed at random moments of the training (also during checkpoint writes, which
    // happen after every optimiser step), twice, then run to the end.
    Path b = tmp.resolve("random");
    for (int k = 0; k < 2; k++) {
      int seen = count(output(b), "step ");
      Process q = start(b, "none", 25);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (count(output(b), "step ") == seen && q.isAlive() && System.nanoTime() < end) {
        Thread.sleep(5);
      }
      long ms = rnd.nextInt(1200);
      boolean ended = q.waitFor(ms, TimeUnit.MILLISECONDS);
      if (!ended) kill(q);
      report.append(String.format("  random kill %d, %d ms into the training: %d rows logged%s%n",
          k + 1, ms, stepsLogged(b), ended ? " (it had finished)" : ""));
    }
    finish(b);
    assertSame(want, outcome(b), "killed at random moments");

    // 3. Halted between a checkpoint's tensors file and its record (3rd save: step 3), then,
    // resumed from step 2, halted between last.json and best.json of the first epoch's end
    // (the resumed run's 4th save), then run to the end.
    Path c = tmp.resolve("halts");
    Process h = start(c, "tensors:3", 0);
    assertTrue(h.waitFor(120, TimeUnit.SECONDS));
    assertEquals(137, h.exitValue(), output(c));
    long files;
    try (var list = Files.list(c.resolve("ckpt"))) {
      files = list.filter(f -> f.getFileName().toString().startsWith("ckpt-")).count();
    }
    assertEquals(2, files, "the checkpoint last.json names and the orphan beside it");
    h = start(c, "last:4", 0);
    assertTrue(h.waitFor(120, TimeUnit.SECONDS));
    assertEquals("0 4", lastFirst(c), "resumed after the 2nd optimiser step");
    assertEquals(137, h.exitValue(), output(c));
    assertTrue(output(c).contains("halt last"), output(c));
    assertTrue(!Files.exists(c.resolve("ckpt/" + Checkpoints.BEST)), "no best.json yet");
    finish(c);
    assertEquals("1 0", lastFirst(c), "resumed after the first epoch");
    assertSame(want, outcome(c), "halted between tensors and record, then last and best");
    assertTrue(Files.exists(c.resolve("ckpt/" + Checkpoints.BEST)), "best.json at the end");

    report.append(String.format("  %d child JVMs in %.1f s; every resumed run logged the"
        + " same %d losses as the uninterrupted run bitwise and ended with the same weights%n",
        launches, (System.nanoTime() - t0) / 1e9, rows));
    System.out.print(report);
  }

  /** Where the latest child started: the (epoch, batch) of its "first" line. */
  static String lastFirst(Path dir) throws IOException {
    String out = output(dir);
    int i = out.lastIndexOf("first ");
    return i < 0 ? "none" : out.substring(i + 6, out.indexOf('\n', i));
  }

  static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) n++;
    return n;
  }

  static int stepsLogged(Path dir) throws IOException {
    Path f = dir.resolve("logs/steps.csv");
    if (!Files.exists(f)) return 0;
    return Math.max(0, Files.readAllLines(f).size() - 1);
  }

}
