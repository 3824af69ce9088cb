package org.spinekit.cli;

import java.util.concurrent.Callable;
import org.spinekit.runtime.NativeRuntime;
import picocli.CommandLine.Command;

/** {@code spinekit info}: the native runtime in effect (threads, convolution guard, CUDA). */
@Command(
    name = "info",
    description = {
      "the native runtime in effect: libtorch, OpenBLAS and"
          + " kernel threads, what the convolution guard found, CUDA kernels and devices"
    })
final class InfoCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.out.println(NativeRuntime.state().describe());
    return Cli.OK;
  }
}
