package org.spinekit.cli;

import java.util.Arrays;
import org.spinekit.runtime.NativeRuntime;

/** The spinekit command line: {@code spinekit <command> [options]}. */
public final class Main {
  private Main() {}

  static final String USAGE = String.join("\n",
      "usage: spinekit <command> [options]",
      "",
      "commands:",
      "  demo     render heatmaps from random points, run the DSNT, heatmap-pooling and fused",
      "           head-loss kernels, print the coordinate error and timings beside the",
      "           libtorch composite (spinekit demo --help)",
      "  bench    short JMH run of the kernel benchmarks with speed-ups and memory-traffic",
      "           floors (run through ./spinekit, which puts benchmarks.jar on the class path)",
      "  info     library build: CUDA kernels compiled, CUDA devices, CPU threads",
      "  dicom    info | export: list the DICOM series in a file or directory, or write one",
      "           as a NumPy array (spinekit dicom --help)",
      "  synth    cervical | lumbar: synthetic RSNA 2022 / RSNA 2024 data sets with ground",
      "           truth (spinekit synth --help)",
      "  model    list | info | run: the network architectures, their parameter counts and",
      "           feature strides, and an eval forward of published weights on a NumPy",
      "           array (spinekit model --help)",
      "",
      "options common to all: --help");

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /**
   * Runs a command line as {@link #main} does but returns the exit status: 2 for bad
   * arguments or input (the message on stderr), 1 for an I/O failure.
   */
  static int execute(String[] args) {
    try {
      return run(args);
    } catch (IllegalArgumentException e) {
      System.err.println("spinekit: " + e.getMessage());
      return 2;
    } catch (java.io.IOException e) {
      System.err.println("spinekit: " + e.getMessage());
      return 1;
    }
  }

  static int run(String[] args) throws java.io.IOException {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      System.out.println(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "demo":
        return Demo.run(rest);
      case "dicom":
        return DicomCommand.run(rest);
      case "synth":
        return SynthCommand.run(rest);
      case "model":
        return ModelCommand.run(rest);
      case "info":
        System.out.println(NativeRuntime.state().describe());
        return 0;
      case "bench":
        System.err.println("spinekit: bench runs from benchmarks/target/benchmarks.jar;"
            + " use the ./spinekit script at the repository root");
        return 2;
      default:
        System.err.println("spinekit: unknown command '" + args[0] + "'\n\n" + USAGE);
        return 2;
    }
  }
}
