package org.spinekit.cli;

import java.util.concurrent.Callable;
import org.spinekit.io.dicom.ExternalCodec;
import org.spinekit.runtime.NativeRuntime;
import picocli.CommandLine.Command;

/** {@code spinekit info}: the native runtime in effect (threads, convolution guard, CUDA). */
@Command(
    name = "info",
    description = {
      "the native runtime in effect: libtorch, OpenBLAS and"
          + " kernel threads, what the convolution guard found, CUDA kernels and devices, the DICOM external codec"
    })
final class InfoCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.out.println(NativeRuntime.state().describe());
    System.out.println(
        "DICOM external codec: "
            + ExternalCodec.installed()
                .map(ExternalCodec::name)
                .orElse(
                    "none (12-bit lossy JPEG and compressed DICOM output need it: add"
                        + " org.spinekit:spinekit-gdcm and install libgdcm-java)"));
    return Cli.OK;
  }
}
