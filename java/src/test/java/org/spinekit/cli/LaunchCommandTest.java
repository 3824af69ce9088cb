package org.spinekit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spinekit launch}: the cervical training as two data-parallel processes on loopback, and a
 * failing command ending the launch with its status.
 */
class LaunchCommandTest {
  @TempDir Path tmp;

  @Test
  void cervicalTrainRunsAsTwoRanks() throws Exception {
    Path data = tmp.resolve("data");
    CliRun synth =
        CliRun.of(
            "synth",
            "cervical",
            "--out",
            data.toString(),
            "--size",
            "small",
            "--studies",
            "10",
            "--test-studies",
            "0",
            "--seed",
            "5");
    assertEquals(0, synth.rc(), synth.toString());
    Path run = tmp.resolve("run");
    CliRun r =
        CliRun.of(
            "launch",
            "--nproc",
            "2",
            "--",
            "--threads",
            "1",
            "cervical",
            "train",
            "--data",
            data.toString(),
            "--out",
            run.toString(),
            "--max-steps",
            "1");
    assertEquals(0, r.rc(), r.toString());
    assertTrue(Files.isRegularFile(run.resolve("seg/fold0.safetensors")), r.toString());
    assertTrue(Files.isRegularFile(run.resolve("cls/fold0.safetensors")), r.toString());
    assertTrue(Files.isRegularFile(run.resolve("crops.csv")), r.toString());
    // Rank 0 reports, once; each study was segmented by one of the two ranks.
    assertEquals(1, r.out().split("trained all in", -1).length - 1, r.toString());
    try (var s = Files.list(run.resolve("crops"))) {
      assertEquals(20, s.count(), "a table and a record per study");
    }
    String bundle = Files.readString(run.resolve("bundle.json"));
    assertTrue(bundle.contains("\"patientRule\""), bundle);
  }

  @Test
  void aFailingCommandEndsTheLaunchWithItsStatus() {
    CliRun r =
        CliRun.of(
            "launch",
            "--nproc",
            "2",
            "--",
            "cervical",
            "train",
            "--data",
            tmp.resolve("none").toString(),
            "--out",
            tmp.resolve("run").toString());
    assertEquals(2, r.rc(), r.toString());
    assertTrue(r.err().contains("spinekit launch: rank"), r.toString());
    assertTrue(r.err().contains("none"), r.toString());
  }

  @Test
  void badOptionsAreNamed() {
    CliRun r = CliRun.of("launch", "--nnodes", "2", "--", "info");
    assertEquals(2, r.rc(), r.toString());
    assertTrue(r.err().contains("--master: required with --nnodes 2"), r.toString());
  }
}
