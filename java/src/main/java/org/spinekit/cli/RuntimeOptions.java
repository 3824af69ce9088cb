package org.spinekit.cli;

import java.util.ArrayList;
import java.util.List;
import org.spinekit.runtime.ConvGuard;
import org.spinekit.runtime.NativeRuntime;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The process-wide settings every command takes (a picocli mixin of the root command, its options
 * inherited by every subcommand): given on the command line they override the environment ({@link
 * NativeRuntime.Settings#fromEnvironment()}), and {@link Cli} applies them through {@link
 * NativeRuntime#configure} once, before the command runs.
 */
public final class RuntimeOptions {
  @Option(
      names = "--threads",
      paramLabel = "N",
      scope = ScopeType.INHERIT,
      converter = Converters.Count.class,
      order = 100,
      description = {
        "CPU threads: libtorch's intra-op pool, and the worker pool of the"
            + " commands that read or write files (default: SPINEKIT_THREADS, else libtorch's"
            + " default and all cores for workers)"
      })
  Integer threads;

  @Option(
      names = "--kernel-threads",
      paramLabel = "N",
      scope = ScopeType.INHERIT,
      converter = Converters.Count.class,
      order = 101,
      description = {
        "threads of SpineKit's CPU kernels (default: --threads when given, else"
            + " SPINEKIT_KERNEL_THREADS, else OpenMP's default)"
      })
  Integer kernelThreads;

  @Option(
      names = "--blas-threads",
      paramLabel = "N",
      scope = ScopeType.INHERIT,
      converter = Converters.Count.class,
      order = 102,
      description = {"OpenBLAS threads (default: SPINEKIT_BLAS_THREADS, else 1)"})
  Integer blasThreads;

  @Option(
      names = "--conv-guard",
      paramLabel = "auto|on|off",
      scope = ScopeType.INHERIT,
      converter = Converters.GuardMode.class,
      order = 103,
      description = {
        "check libtorch's CPU convolutions and route around wrong ones: auto"
            + " checks, on always pads channels, off neither (default: SPINEKIT_CONV_GUARD,"
            + " else auto)"
      })
  ConvGuard.Mode convGuard;

  /** The options of the command line {@code spec} belongs to (those of its root command). */
  public static RuntimeOptions of(CommandSpec spec) {
    for (CommandSpec m : spec.root().mixins().values()) {
      if (m.userObject() instanceof RuntimeOptions r) return r;
    }
    throw new IllegalStateException(
        spec.root().qualifiedName() + ": the root command has no RuntimeOptions mixin");
  }

  /**
   * The environment's settings with what the command line gives in their place.
   *
   * @throws IllegalArgumentException naming the variable when the environment is malformed
   */
  public NativeRuntime.Settings settings() {
    NativeRuntime.Settings s = NativeRuntime.Settings.fromEnvironment();
    if (threads != null) s = s.withThreads(threads);
    if (kernelThreads != null) {
      s = s.withKernelThreads(kernelThreads);
    } else if (threads != null) {
      s = s.withKernelThreads(threads);
    }
    if (blasThreads != null) s = s.withBlasThreads(blasThreads);
    if (convGuard != null) s = s.withConvGuard(convGuard);
    return s;
  }

  /** Threads for a command's own pool: {@code --threads}, SPINEKIT_THREADS, or all cores. */
  public int workers() {
    int n = settings().threads();
    return n > 0 ? n : Runtime.getRuntime().availableProcessors();
  }

  /**
   * The options given on the command line other than {@code --threads}, by name (empty when none):
   * for a command that cannot honour them.
   */
  public List<String> givenBesidesThreads() {
    List<String> given = new ArrayList<>();
    if (kernelThreads != null) given.add("--kernel-threads");
    if (blasThreads != null) given.add("--blas-threads");
    if (convGuard != null) given.add("--conv-guard");
    return given;
  }
}
