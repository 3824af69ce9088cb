package org.spinekit.lumbar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.synth.LumbarSynth;
import org.spinekit.testing.Subprocess;
import org.spinekit.train.HaltingMain;

/**
 * {@code lumbar train} killed inside a network resumes to the very weights an uninterrupted run
 * writes: the JVM is halted (as by kill -9) right after a checkpoint of the foramen net, then of
 * the subarticular crop classifier; the networks done before are kept, the rest resume.
 */
class LumbarResumeTest {
  @Test
  void killedNetworksResumeToTheWeightsOfAnUninterruptedRun(@TempDir Path dir) throws IOException {
    Path data = dir.resolve("data");
    LumbarSynth.generate(data, LumbarSynth.Config.small(9).withStudies(4).withTestStudies(0));
    Path whole = dir.resolve("whole"), killed = dir.resolve("killed");
    child("none", data, whole).succeeded();
    Subprocess.Result r = child("last:1:/nfn/", data, killed);
    assertEquals(137, r.exitCode(), r.describe());
    assertTrue(Files.exists(killed.resolve("scs/fold0.safetensors")), r.describe());
    assertFalse(Files.exists(killed.resolve("nfn/fold0.safetensors")));
    r = child("last:1:/cls_sa/", data, killed);
    assertEquals(137, r.exitCode(), r.describe());
    assertTrue(r.stdout().contains("scs fold 0: done"), r.describe());
    assertTrue(Files.exists(killed.resolve("cls_nfn/fold0.safetensors")), r.describe());
    assertFalse(Files.exists(killed.resolve("cls_sa/fold0.safetensors")));
    child("none", data, killed).succeeded();
    for (String net : LumbarBundle.NETS) {
      String w = net + "/fold0.safetensors";
      assertArrayEquals(
          Files.readAllBytes(whole.resolve(w)), Files.readAllBytes(killed.resolve(w)), w);
    }
  }

  private static Subprocess.Result child(String halt, Path data, Path out) throws IOException {
    List<String> args =
        new ArrayList<>(
            List.of(
                halt,
                "--threads",
                "2",
                "lumbar",
                "train",
                "--data",
                data.toString(),
                "--out",
                out.toString(),
                "--folds",
                "2",
                "--max-steps",
                "2",
                "--checkpoint-every",
                "1"));
    for (String s : List.of("size=64", "axialSize=64", "t1Slices=8", "t2Slices=8")) {
      args.add("--set");
      args.add(s);
    }
    return Subprocess.run(
        Subprocess.java(List.of("-Xmx1g"), HaltingMain.class.getName(), args),
        Duration.ofMinutes(5));
  }
}
