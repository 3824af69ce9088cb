package org.spinekit.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/** The spinekit command line: {@code spinekit [common options] <command> [options]}. */
@Command(
    name = "spinekit",
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = Cli.Version.class,
    synopsisSubcommandLabel = "COMMAND",
    description = "Spine-imaging deep learning on libtorch and SpineKit's own kernels.",
    subcommands = {
      Demo.class,
      InfoCommand.class,
      DicomCommand.class,
      SynthCommand.class,
      ModelCommand.class,
      Main.Bench.class
    })
public final class Main implements Callable<Integer>, Cli.NoLibtorch {
  @Spec CommandSpec spec;

  @Mixin RuntimeOptions runtime;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /**
   * Runs a command line as {@link #main} does but returns the exit code: 0 success, 2 a usage error
   * or bad input (the message on stderr), 1 an I/O failure ({@link Cli}).
   */
  static int execute(String... args) {
    return Cli.execute(new Main(), args);
  }

  @Override
  public Integer call() {
    return Cli.missingSubcommand(spec);
  }

  /**
   * {@code spinekit bench} lives in benchmarks.jar (the library does not depend on JMH); the {@code
   * ./spinekit} script runs it there. Listed here for the help; refused when reached.
   */
  @Command(
      name = "bench",
      description = {
        "kernel, DICOM-decoding and training benchmarks:"
            + " run by the ./spinekit script from benchmarks.jar (./spinekit bench --help)"
      })
  static final class Bench implements Callable<Integer>, Cli.NoLibtorch {
    @Unmatched List<String> args;

    @Override
    public Integer call() {
      throw new IllegalArgumentException(
          "bench runs from benchmarks/target/benchmarks.jar;"
              + " use the ./spinekit script at the repository root (./spinekit bench --help)");
    }
  }
}
