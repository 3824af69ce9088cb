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
      CervicalCommand.class,
      LumbarCommand.class,
      ServeCommand.class,
      LaunchCommand.class,
      Main.Bench.class
    })
public final class Main implements Callable<Integer>, Cli.NoLibtorch {
  @Spec CommandSpec spec;

  @Mixin RuntimeOptions runtime;

  public static void main(String[] args) {
    logWarningsToStderr();
    System.exit(execute(args));
  }

  /**
   * The library reports through {@link System.Logger}; on the command line its warnings become
   * one-line messages on stderr and the rest is dropped ({@code spinekit info} shows the runtime's
   * findings), unless {@code java.util.logging.config.file} configures logging.
   */
  static void logWarningsToStderr() {
    if (System.getProperty("java.util.logging.config.file") != null) return;
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    for (java.util.logging.Handler h : root.getHandlers()) root.removeHandler(h);
    java.util.logging.Handler h = new java.util.logging.ConsoleHandler();
    h.setLevel(java.util.logging.Level.WARNING);
    h.setFormatter(
        new java.util.logging.Formatter() {
          @Override
          public String format(java.util.logging.LogRecord r) {
            return "spinekit: "
                + r.getLevel().getName().toLowerCase(java.util.Locale.ROOT)
                + ": "
                + formatMessage(r)
                + System.lineSeparator();
          }
        });
    root.addHandler(h);
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
