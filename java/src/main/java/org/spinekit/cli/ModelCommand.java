package org.spinekit.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.npy.Npy;
import org.spinekit.nn.Encoder;
import org.spinekit.nn.NameMap;
import org.spinekit.nn.Net;
import org.spinekit.nn.StateDict;
import org.spinekit.nn.Zoo;
import org.spinekit.tensor.Tensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spinekit model list|info|run}: the architectures of the zoo, and a forward pass. */
@Command(
    name = "model",
    synopsisSubcommandLabel = "(list | info | run)",
    description = {
      "the network architectures, their parameter counts and feature strides,"
          + " and an eval forward of published weights on a NumPy array"
    },
    subcommands = {ModelCommand.ListCommand.class, ModelCommand.Info.class, ModelCommand.Run.class})
final class ModelCommand implements Callable<Integer>, Cli.NoLibtorch {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    return Cli.missingSubcommand(spec);
  }

  @Command(name = "list", description = "the architectures SpineKit builds (--arch NAME)")
  static final class ListCommand implements Callable<Integer>, Cli.NoLibtorch {
    @Override
    public Integer call() {
      for (String name : Zoo.names()) System.out.println(name);
      return Cli.OK;
    }
  }

  /** The network options of info and run. */
  static final class Network {
    @Option(
        names = "--arch",
        paramLabel = "NAME",
        required = true,
        order = 1,
        description = "an architecture of spinekit model list")
    String arch;

    @Option(
        names = "--classes",
        paramLabel = "K",
        defaultValue = "1000",
        order = 20,
        converter = Converters.Count.class,
        description = "classes of the head (default ${DEFAULT-VALUE}; 0: no head)")
    int classes;
  }

  @Command(
      name = "info",
      description = {
        "parameter count, state-dict" + " size, and for encoders the feature strides and channels"
      })
  static final class Info implements Callable<Integer> {
    @Mixin Network net;

    @Option(
        names = "--in-channels",
        paramLabel = "C",
        defaultValue = "3",
        order = 10,
        converter = Converters.Positive.class,
        description = "input channels (default ${DEFAULT-VALUE})")
    int inChannels;

    @Override
    public Integer call() {
      return info(net.arch, inChannels, net.classes);
    }
  }

  @Command(
      name = "run",
      description = {
        "loads W strictly (every key of"
            + " the network present, nothing left over; keys renamed first by --names), runs an"
            + " eval-mode forward without gradients on the [N, C, ...] array X (read as float32),"
            + " and writes the output as float32 .npy (atomically). A mismatch of W lists the"
            + " missing and unexpected keys and exits 2."
      })
  static final class Run implements Callable<Integer> {
    @Mixin Network net;

    @Option(
        names = "--weights",
        paramLabel = "W.safetensors",
        required = true,
        order = 2,
        description = "the weights")
    Path weights;

    @Option(
        names = "--input",
        paramLabel = "X.npy",
        required = true,
        order = 3,
        description = "the input batch [N, C, ...spatial]")
    Path input;

    @Option(
        names = "--output",
        paramLabel = "Y.npy",
        required = true,
        order = 4,
        description = "where the output goes")
    Path output;

    @Option(
        names = "--in-channels",
        paramLabel = "C",
        order = 10,
        converter = Converters.Positive.class,
        description = "input channels (default: X's; others are refused)")
    Integer inChannels;

    @Option(
        names = "--names",
        paramLabel = "MAP|FILE",
        order = 30,
        description = {
          "renames the keys of W: a map shipped with SpineKit (timm-efficientnet,"
              + " timm-efficientnetv2, timm-convnext, pvt-v2-original; org/spinekit/nn/names/)"
              + " or a file of '<regex> <replacement>' lines"
        })
    String names;

    @Override
    public Integer call() throws IOException {
      return forward(this);
    }
  }

  /** A network of the zoo; unknown names are refused with the known ones. */
  private static Net create(String command, String arch, int inChannels, int classes) {
    if (!Zoo.names().contains(arch)) {
      throw new IllegalArgumentException(
          command + ": unknown arch '" + arch + "'; known: " + String.join(", ", Zoo.names()));
    }
    return Zoo.create(arch, inChannels, classes);
  }

  private static int info(String arch, int in, int classes) {
    try (Net net = create("model info", arch, in, classes)) {
      int params;
      int buffers;
      try (PointerScope scope = new PointerScope()) {
        params = net.namedParameters().size();
        buffers = net.namedBuffers().size();
      }
      long count = net.parameterCount();
      System.out.printf(
          Locale.ROOT, "arch              %s (%s)%n", arch, net.getClass().getSimpleName());
      System.out.printf(Locale.ROOT, "input channels    %d%n", in);
      System.out.printf(
          Locale.ROOT,
          "classes           %s%n",
          classes == 0 ? "none (no head)" : Integer.toString(classes));
      System.out.printf(Locale.ROOT, "parameters        %,d (%.2f M)%n", count, count / 1e6);
      System.out.printf(
          Locale.ROOT, "state dict        %d parameter and %d buffer tensors%n", params, buffers);
      if (net instanceof Encoder e) {
        System.out.printf(Locale.ROOT, "feature strides   %s%n", join(e.strides()));
        System.out.printf(Locale.ROOT, "feature channels  %s%n", join(e.channels()));
      } else {
        System.out.println("features          - (not an encoder)");
      }
    }
    return Cli.OK;
  }

  private static String join(int[] v) {
    StringBuilder b = new StringBuilder();
    for (int x : v) {
      if (b.length() > 0) b.append(", ");
      b.append(x);
    }
    return b.toString();
  }

  private static Path existing(String command, String name, Path p) {
    if (!Files.isRegularFile(p)) {
      throw new IllegalArgumentException(command + ": --" + name + ": no such file '" + p + "'");
    }
    return p;
  }

  /** --names: a file of rules, or a map shipped with SpineKit ("timm-x" or "timm/x"). */
  static NameMap names(String value) throws IOException {
    if (value == null) return NameMap.identity();
    Path p = Path.of(value);
    if (Files.isRegularFile(p)) {
      try (InputStream in = Files.newInputStream(p)) {
        return NameMap.parse(in, value);
      } catch (IOException e) {
        throw new IllegalArgumentException("model run: --names: " + e.getMessage(), e);
      }
    }
    for (String name : new String[] {value, value.replaceFirst("-", "/")}) {
      try {
        return NameMap.resource(name);
      } catch (IllegalArgumentException notThere) {
        // try the next spelling
      }
    }
    throw new IllegalArgumentException(
        "model run: --names: '"
            + value
            + "' is neither a file"
            + " nor a name map shipped with SpineKit (org/spinekit/nn/names/"
            + value.replaceFirst("-", "/")
            + ".txt)");
  }

  private static int forward(Run o) throws IOException {
    String command = "model run";
    String arch = o.net.arch;
    Path weights = existing(command, "weights", o.weights);
    Path input = existing(command, "input", o.input);
    Path output = o.output;
    int classes = o.net.classes;
    NameMap names = names(o.names);
    if (!Zoo.names().contains(arch)) create(command, arch, 1, 0); // refuses, naming the known
    Tensor x;
    try {
      x = Npy.readTensor(input);
    } catch (MalformedFileException e) {
      throw new IllegalArgumentException(command + ": --input: " + e.getMessage(), e);
    }
    try {
      long[] shape = x.sizes().vec().get();
      if (shape.length < 3) {
        throw new IllegalArgumentException(
            command
                + ": --input: expected [N, C, ...spatial]"
                + " (a batch and a channel axis), got shape "
                + Arrays.toString(shape));
      }
      int in = o.inChannels != null ? o.inChannels : (int) shape[1];
      if (in != shape[1]) {
        throw new IllegalArgumentException(
            command
                + ": --input: expected "
                + in
                + " channels (--in-channels), got shape "
                + Arrays.toString(shape));
      }
      try (Net net = create(command, arch, in, classes)) {
        StateDict.Report r;
        try {
          r = StateDict.load(net, weights, names, false);
        } catch (MalformedFileException e) {
          throw new IllegalArgumentException(command + ": --weights: " + e.getMessage(), e);
        }
        if (!r.complete()) {
          System.err.println(
              "spinekit model run: "
                  + weights
                  + " does not match "
                  + arch
                  + " (in-channels "
                  + in
                  + ", classes "
                  + classes
                  + ")");
          printKeys("missing", r.missing());
          printKeys("unexpected", r.unexpected());
          return Cli.BAD_INPUT;
        }
        for (String k : r.adapted()) {
          System.err.println("note: " + k + " adapted from 3 input channels to " + in);
        }
        if (!r.absentCounters().isEmpty()) {
          System.err.println(
              "note: "
                  + weights
                  + " has no num_batches_tracked for "
                  + r.absentCounters().size()
                  + " batch norms (optional, as in PyTorch)");
        }
        net.eval();
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope();
            NoGradGuard g = new NoGradGuard()) {
          Tensor y;
          try {
            y = net.forward(x);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                command
                    + ": "
                    + arch
                    + " refuses input "
                    + Arrays.toString(shape)
                    + ": "
                    + e.getMessage(),
                e);
          } catch (RuntimeException e) {
            throw new IllegalArgumentException(
                command
                    + ": the forward of "
                    + arch
                    + " failed on input "
                    + Arrays.toString(shape)
                    + ": "
                    + firstLine(e),
                e);
          }
          double secs = (System.nanoTime() - t0) / 1e9;
          long[] ys = y.sizes().vec().get();
          float[] values = Tensors.floats(y.to(ScalarType.Float));
          Npy.write(output, values, ys);
          System.out.printf(
              Locale.ROOT,
              "%s: %s float32, %s on %s, forward %.3f s%n",
              output,
              Arrays.toString(ys),
              arch,
              Arrays.toString(shape),
              secs);
        }
      }
    } finally {
      x.close();
    }
    return Cli.OK;
  }

  private static String firstLine(RuntimeException e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private static void printKeys(String what, List<String> keys) {
    System.err.println("  " + what + " (" + keys.size() + ")" + (keys.isEmpty() ? "" : ":"));
    for (String k : keys) System.err.println("    " + k);
  }
}
