package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.safetensors.SafeTensors;
import org.spinekit.testing.Subprocess;

/**
 * Data-parallel training on c10d's Gloo over loopback, in child JVMs ({@link DistChild}): two ranks
 * with batch b end with the weights of one process with batch 2b (synchronised batch norm; float32
 * reduction order aside), for a batch-norm network and for the cervical classifier; a killed rank
 * ends the other with an error naming the failure, and both resume from the last checkpoint.
 */
class DataParallelTest {
  @TempDir Path tmp;

  /**
   * Float32 sums in another order (measured: at most 1.4e-6, in a running variance of the
   * classifier, after 8 steps).
   */
  static final double TOLERANCE = 2e-5;

  @Test
  void twoRanksEqualOneProcessWithTheWholeBatchBatchNorm() throws Exception {
    equivalent("tiny");
  }

  @Test
  void twoRanksEqualOneProcessWithTheWholeBatchCervicalClassifier() throws Exception {
    equivalent("cls");
  }

  @Test
  void accumulationCommunicatesOnTheLastBatchOnly() throws Exception {
    // 2 ranks x batch 2, 2 batches per step: the step's batches are those of one process with
    // batch 4 and the same accumulation (synchronised batch norm over the 4 of each batch).
    Path one = tmp.resolve("acc-one");
    Path two = tmp.resolve("acc-two");
    Subprocess.run(child("tiny", one, 4, 0, 1, -1, 2), Duration.ofMinutes(3)).succeeded();
    for (Subprocess.Result r : ranks("tiny", two, 2, true, -1, 2)) r.succeeded();
    double diff = maxDifference(one.resolve("final.safetensors"), two.resolve("final.safetensors"));
    assertTrue(diff < TOLERANCE, "accumulation: weights differ by " + diff);
  }

  private void equivalent(String model) throws Exception {
    Path one = tmp.resolve(model + "-one");
    Path two = tmp.resolve(model + "-two");
    Subprocess.run(child(model, one, 8, 0, 1, -1), Duration.ofMinutes(3)).succeeded();
    for (Subprocess.Result r : ranks(model, two, 4, true, -1)) r.succeeded();
    double diff = maxDifference(one.resolve("final.safetensors"), two.resolve("final.safetensors"));
    assertTrue(diff < TOLERANCE, model + ": weights differ by " + diff);
    // Without synchronised batch norm the ranks normalise by their own halves: not the same, by
    // far more than the tolerance (else the comparison would not show that it matters).
    Path local = tmp.resolve(model + "-local");
    for (Subprocess.Result r : ranks(model, local, 4, false, -1)) r.succeeded();
    double d = maxDifference(one.resolve("final.safetensors"), local.resolve("final.safetensors"));
    assertTrue(d > 100 * TOLERANCE, "local batch norm differs by " + d + " only");
  }

  @Test
  void aKilledRankEndsTheOtherWithAClearErrorAndBothResume() throws Exception {
    Path full = tmp.resolve("full");
    for (Subprocess.Result r : ranks("tiny", full, 4, true, -1)) r.succeeded();
    Path run = tmp.resolve("killed");
    long t0 = System.nanoTime();
    List<Subprocess.Result> rs = ranks("tiny", run, 4, true, 5);
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertEquals(137, rs.get(1).exitCode(), rs.get(1).describe());
    Subprocess.Result r0 = rs.get(0);
    assertTrue(r0.exitCode() != 0, r0.describe());
    assertTrue(r0.stderr().contains("rank 0 of 2:"), r0.describe());
    assertTrue(r0.stderr().contains("failed"), r0.describe());
    assertTrue(seconds < 60, "the survivor took " + seconds + " s");
    // Relaunched, both ranks resume from the last checkpoint and finish as the uninterrupted run.
    for (Subprocess.Result r : ranks("tiny", run, 4, true, -1)) {
      r.succeeded();
      assertTrue(!r.stdout().contains("step 0 0"), "started over: " + r.describe());
    }
    double diff =
        maxDifference(full.resolve("final.safetensors"), run.resolve("final.safetensors"));
    assertEquals(0.0, diff, "resumed run");
  }

  private static List<Subprocess.Result> ranks(
      String model, Path out, int batch, boolean syncBn, int die) throws Exception {
    return ranks(model, out, batch, syncBn, die, 1);
  }

  private static List<Subprocess.Result> ranks(
      String model, Path out, int batch, boolean syncBn, int die, int accumulation)
      throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    List<Subprocess> ps = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      ProcessBuilder pb = child(model, out, batch, syncBn ? 1 : 0, 2, die, accumulation);
      Map<String, String> env = pb.environment();
      env.put("RANK", Integer.toString(r));
      env.put("WORLD_SIZE", "2");
      env.put("MASTER_ADDR", "127.0.0.1");
      env.put("MASTER_PORT", Integer.toString(port));
      env.put("SPINEKIT_DIST_TIMEOUT", "20");
      ps.add(Subprocess.start(pb));
    }
    List<Subprocess.Result> out2 = new ArrayList<>();
    for (Subprocess p : ps) out2.add(p.await(Duration.ofMinutes(3)));
    return out2;
  }

  private static ProcessBuilder child(
      String model, Path out, int batch, int syncBn, int world, int die) {
    return child(model, out, batch, syncBn, world, die, 1);
  }

  private static ProcessBuilder child(
      String model, Path out, int batch, int syncBn, int world, int die, int accumulation) {
    return Subprocess.java(
        List.of("-Xmx512m"),
        DistChild.class.getName(),
        List.of(
            model,
            out.toString(),
            "2",
            Integer.toString(batch),
            Boolean.toString(syncBn == 1),
            Integer.toString(die),
            Integer.toString(accumulation)));
  }

  private static double maxDifference(Path a, Path b) throws IOException {
    try (PointerScope s = new PointerScope()) {
      Map<String, Tensor> x = SafeTensors.read(a), y = SafeTensors.read(b);
      assertEquals(x.keySet(), y.keySet());
      double max = 0;
      for (String k : x.keySet()) {
        Tensor d =
            x.get(k)
                .to(org.bytedeco.pytorch.global.torch.ScalarType.Double)
                .sub(y.get(k).to(org.bytedeco.pytorch.global.torch.ScalarType.Double));
        if (d.numel() > 0) max = Math.max(max, d.abs().max().item_double());
      }
      return max;
    }
  }
}
