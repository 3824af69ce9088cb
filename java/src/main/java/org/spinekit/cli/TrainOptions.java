package org.spinekit.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.spinekit.dist.DistEnv;
import org.spinekit.dist.DistGroup;
import picocli.CommandLine.Option;

/**
 * The options every system's {@code train} takes (preset, folds, device, step limit, checkpoints,
 * {@code --set}) and what they do alike: the configuration resolved, and the process joined to its
 * data-parallel group when {@code spinekit launch} (or torchrun) started it.
 */
final class TrainOptions {
  @Option(
      names = "--preset",
      paramLabel = "cpu-small|seed",
      defaultValue = "cpu-small",
      description =
          "settings: cpu-small (a 2-core machine) or seed (the write-up's; a GPU). Default ${DEFAULT-VALUE}")
  String preset;

  @Option(
      names = "--folds",
      paramLabel = "K",
      description = "k of the k-fold split by study (default: the preset's)")
  Integer folds;

  @Option(
      names = "--fold",
      paramLabel = "F",
      description = "train fold F only (default: the preset's folds)")
  Integer fold;

  @Option(
      names = "--device",
      paramLabel = "cpu|cuda",
      defaultValue = "cpu",
      description = "where the networks run (default ${DEFAULT-VALUE})")
  String device;

  @Option(
      names = "--max-steps",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "at most N optimiser steps per network and fold, in one epoch (0: the preset's epochs)")
  int maxSteps;

  @Option(
      names = "--checkpoint-every",
      paramLabel = "N",
      defaultValue = "200",
      description =
          "checkpoint every N optimiser steps as well as at epoch ends (0: epoch ends only; default ${DEFAULT-VALUE})")
  int checkpointEvery;

  @Option(
      names = "--set",
      paramLabel = "NAME=VALUE",
      description =
          "override one setting of the preset (repeatable; see bundle.json's config for the names)")
  List<String> sets = new ArrayList<>();

  /** How a configuration takes one setting by name. */
  @FunctionalInterface
  interface Setter<C> {
    C with(C config, String name, String value);
  }

  /** {@code preset} with {@code --folds} and every {@code --set} applied, in order. */
  <C> C configure(C preset, Setter<C> setter) {
    C c = preset;
    if (folds != null) c = setter.with(c, "folds", folds.toString());
    for (String s : sets) {
      int eq = s.indexOf('=');
      if (eq < 1) throw new IllegalArgumentException("--set: expected NAME=VALUE, got " + s);
      c = setter.with(c, s.substring(0, eq).trim(), s.substring(eq + 1));
    }
    return c;
  }

  /** {@code --fold} as the folds to train, or null for the configuration's. */
  int[] foldsToTrain() {
    return fold == null ? null : new int[] {fold};
  }

  /**
   * Where one process trains: its data-parallel group (null when alone), its device (null: CPU),
   * whether it is rank 0 (which reports and writes), and its log (quiet on the other ranks but for
   * errors).
   */
  record Rank(DistGroup group, Device device, boolean rank0, PrintStream log) {}

  /** What a train command does in its process. */
  @FunctionalInterface
  interface Body {
    void run(Rank p) throws IOException;
  }

  /**
   * Checks the step limit, joins the data-parallel group the environment describes (NCCL and
   * cuda:LOCAL_RANK on GPUs, Gloo on CPUs) and runs {@code body} in it.
   */
  void run(Body body) throws IOException {
    if (maxSteps < 0) {
      throw new IllegalArgumentException("--max-steps: expected >= 0, got " + maxSteps);
    }
    DistEnv env = DistEnv.fromEnvironment();
    DistGroup.Options dist = DistGroup.Options.defaults();
    Device dev = CervicalRun.device(device);
    if (dev != null && env.distributed()) {
      dist = dist.withBackend("nccl");
      dev = new Device("cuda:" + env.localRank());
    }
    try (DistGroup group = env.distributed() ? DistGroup.join(env, dist) : null) {
      boolean rank0 = group == null || group.rank() == 0;
      PrintStream log = rank0 ? System.out : new PrintStream(OutputStream.nullOutputStream());
      body.run(new Rank(group, dev, rank0, log));
    }
  }
}
