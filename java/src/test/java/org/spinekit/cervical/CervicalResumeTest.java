package org.spinekit.cervical;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.testing.Subprocess;
import org.spinekit.train.HaltingMain;

/**
 * {@code cervical train} killed inside each stage resumes to the very weights an uninterrupted run
 * writes: the JVM is halted (as by kill -9) right after a checkpoint of stage seg, then of stage
 * cls; stage crops redoes only the studies whose files are missing.
 */
class CervicalResumeTest {
  @Test
  void killedStagesResumeToTheWeightsOfAnUninterruptedRun(@TempDir Path dir) throws IOException {
    Path data = dir.resolve("data");
    CervicalSynth.generate(
        data, CervicalSynth.Config.small(9).withStudies(4).withTestStudies(0).withImageSize(64));
    Path whole = dir.resolve("whole"), killed = dir.resolve("killed");
    run("none", data, whole).succeeded();
    // Halted after the first checkpoint of stage seg (step 1 of 2).
    Subprocess.Result r = run("last:1:/seg/", data, killed);
    assertEquals(137, r.exitCode(), r.describe());
    assertTrue(r.stdout().contains("halt last"), r.describe());
    assertFalse(Files.exists(killed.resolve("seg/fold0.safetensors")));
    // Resumed (one more step of stage seg, then crops), and halted again after the first
    // checkpoint of stage cls.
    r = run("last:1:/cls/", data, killed);
    assertEquals(137, r.exitCode(), r.describe());
    assertTrue(Files.exists(killed.resolve("seg/fold0.safetensors")), r.describe());
    assertFalse(Files.exists(killed.resolve("cls/fold0.safetensors")), r.describe());
    run("none", data, killed).succeeded();
    for (String w : List.of("seg/fold0.safetensors", "cls/fold0.safetensors", "crops.csv")) {
      assertArrayEquals(
          Files.readAllBytes(whole.resolve(w)), Files.readAllBytes(killed.resolve(w)), w);
    }
    // Stage crops: a study whose file is gone is segmented again, the others are kept.
    List<VertebraBoxes.Entry> before = VertebraBoxes.read(killed.resolve("crops.csv"));
    String uid = before.get(0).studyUid();
    Files.delete(killed.resolve("crops").resolve(uid + ".csv"));
    Files.delete(killed.resolve("crops.csv"));
    r = runStage("crops", data, killed).succeeded();
    assertTrue(r.stdout().contains("segment [") && r.stdout().contains("] 4/4"), r.describe());
    assertEquals(before, VertebraBoxes.read(killed.resolve("crops.csv")));
  }

  private static Subprocess.Result run(String halt, Path data, Path out) throws IOException {
    return child(halt, data, out, "all");
  }

  private static Subprocess.Result runStage(String stage, Path data, Path out) throws IOException {
    return child("none", data, out, stage);
  }

  private static Subprocess.Result child(String halt, Path data, Path out, String stage)
      throws IOException {
    return HaltingMain.child(
        halt,
        List.of("-Xmx1g"),
        Duration.ofMinutes(5),
        List.of(
            "--threads",
            "2",
            "cervical",
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
            "1",
            "--stage",
            stage));
  }
}
