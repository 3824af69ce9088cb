package org.spinekit.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.Npy;
import org.spinekit.nn.Encoder;
import org.spinekit.nn.NameMap;
import org.spinekit.nn.Net;
import org.spinekit.nn.StateDict;
import org.spinekit.nn.Zoo;
import org.spinekit.ops.Tensors;

/** {@code spinekit model list|info|run}: the architectures of the zoo, and a forward pass. */
final class ModelCommand {
  private ModelCommand() {}

  static final String USAGE = String.join("\n",
      "usage: spinekit model list",
      "       spinekit model info --arch NAME [--in-channels C] [--classes K]",
      "       spinekit model run --arch NAME --weights W.safetensors --input X.npy --output Y.npy",
      "                          [--in-channels C] [--classes K] [--names MAP|FILE]",
      "",
      "list  the architectures SpineKit builds",
      "info  parameter count, state-dict size, and for encoders the feature strides and",
      "      channels (defaults: 3 input channels, a 1000-class head; --classes 0: none)",
      "run   loads W strictly (every key of the network present, nothing left over; keys",
      "      renamed first by --names: a map shipped with SpineKit, timm-NAME for names/timm/",
      "      NAME.txt, or a file of '<regex> <replacement>' lines), runs an eval-mode forward",
      "      without gradients on the [N, C, ...] array X (read as float32; C defaults to",
      "      X's), and writes the output as float32 .npy (atomically)");

  static int run(String[] args) throws IOException {
    if (args.length == 0 || args[0].equals("--help")) {
      System.out.println(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "list": {
        new Options("model list", rest, Set.of(), Set.of());
        for (String name : Zoo.names()) System.out.println(name);
        return 0;
      }
      case "info": {
        Options o = new Options("model info", rest, Set.of("arch", "in-channels", "classes"),
            Set.of());
        return info(o);
      }
      case "run": {
        Options o = new Options("model run", rest, Set.of("arch", "weights", "input", "output",
            "in-channels", "classes", "names"), Set.of());
        return forward(o);
      }
      default:
        throw new IllegalArgumentException("model: unknown subcommand '" + args[0] + "'\n\n"
            + USAGE);
    }
  }

  private static String required(Options o, String command, String name) {
    String v = o.string(name, null);
    if (v == null) throw new IllegalArgumentException(command + ": --" + name + " is required");
    return v;
  }

  private static int intOption(Options o, String command, String name, long def, long min) {
    long v = o.integer(name, def);
    if (v < min || v > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(command + ": --" + name + " expects an integer >= "
          + min + ", got " + v);
    }
    return (int) v;
  }

  /** A network of the zoo; unknown names are refused with the known ones. */
  private static Net create(String command, String arch, int inChannels, int classes) {
    if (!Zoo.names().contains(arch)) {
      throw new IllegalArgumentException(command + ": unknown arch '" + arch + "'; known: "
          + String.join(", ", Zoo.names()));
    }
    return Zoo.create(arch, inChannels, classes);
  }

  private static int info(Options o) {
    String arch = required(o, "model info", "arch");
    int in = intOption(o, "model info", "in-channels", 3, 1);
    int classes = intOption(o, "model info", "classes", 1000, 0);
    try (Net net = create("model info", arch, in, classes)) {
      int params;
      int buffers;
      try (PointerScope scope = new PointerScope()) {
        params = net.namedParameters().size();
        buffers = net.namedBuffers().size();
      }
      long count = net.parameterCount();
      System.out.printf(Locale.ROOT, "arch              %s (%s)%n", arch,
          net.getClass().getSimpleName());
      System.out.printf(Locale.ROOT, "input channels    %d%n", in);
      System.out.printf(Locale.ROOT, "classes           %s%n", classes == 0 ? "none (no head)"
          : Integer.toString(classes));
      System.out.printf(Locale.ROOT, "parameters        %,d (%.2f M)%n", count, count / 1e6);
      System.out.printf(Locale.ROOT, "state dict        %d parameter and %d buffer tensors%n",
          params, buffers);
      if (net instanceof Encoder e) {
        System.out.printf(Locale.ROOT, "feature strides   %s%n", join(e.strides()));
        System.out.printf(Locale.ROOT, "feature channels  %s%n", join(e.channels()));
      } else {
        System.out.println("features          - (not an encoder)");
      }
    }
    return 0;
  }

  private static String join(int[] v) {
    StringBuilder b = new StringBuilder();
    for (int x : v) {
      if (b.length() > 0) b.append(", ");
      b.append(x);
    }
    return b.toString();
  }

  private static Path existing(String command, String name, String value) {
    Path p = Path.of(value);
    if (!Files.isRegularFile(p)) {
      throw new IllegalArgumentException(command + ": --" + name + ": no such file '" + value
          + "'");
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
    throw new IllegalArgumentException("model run: --names: '" + value + "' is neither a file"
        + " nor a name map shipped with SpineKit (org/spinekit/nn/names/" + value
        .replaceFirst("-", "/") + ".txt)");
  }

  private static int forward(Options o) throws IOException {
    String command = "model run";
    String arch = required(o, command, "arch");
    Path weights = existing(command, "weights", required(o, command, "weights"));
    Path input = existing(command, "input", required(o, command, "input"));
    Path output = Path.of(required(o, command, "output"));
    int classes = intOption(o, command, "classes", 1000, 0);
    NameMap names = names(o.string("names", null));
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
        throw new IllegalArgumentException(command + ": --input: expected [N, C, ...spatial]"
            + " (a batch and a channel axis), got shape " + Arrays.toString(shape));
      }
      int in = intOption(o, command, "in-channels", shape[1], 1);
      if (in != shape[1]) {
        throw new IllegalArgumentException(command + ": --input: expected " + in
            + " channels (--in-channels), got shape " + Arrays.toString(shape));
      }
      try (Net net = create(command, arch, in, classes)) {
        StateDict.Report r;
        try {
          r = StateDict.load(net, weights, names, false);
        } catch (MalformedFileException e) {
          throw new IllegalArgumentException(command + ": --weights: " + e.getMessage(), e);
        }
        if (!r.complete()) {
          System.err.println("spinekit model run: " + weights + " does not match " + arch
              + " (in-channels " + in + ", classes " + classes + ")");
          printKeys("missing", r.missing());
          printKeys("unexpected", r.unexpected());
          return 2;
        }
        for (String k : r.adapted()) {
          System.err.println("note: " + k + " adapted from 3 input channels to " + in);
        }
        if (!r.absentCounters().isEmpty()) {
          System.err.println("note: " + weights + " has no num_batches_tracked for "
              + r.absentCounters().size() + " batch norms (optional, as in PyTorch)");
        }
        net.eval();
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
          Tensor y;
          try {
            y = net.forward(x);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(command + ": " + arch + " refuses input "
                + Arrays.toString(shape) + ": " + e.getMessage(), e);
          } catch (RuntimeException e) {
            throw new IllegalArgumentException(command + ": the forward of " + arch
                + " failed on input " + Arrays.toString(shape) + ": " + firstLine(e), e);
          }
          double secs = (System.nanoTime() - t0) / 1e9;
          long[] ys = y.sizes().vec().get();
          float[] values = Tensors.floats(y.to(ScalarType.Float));
          Npy.write(output, values, ys);
          System.out.printf(Locale.ROOT, "%s: %s float32, %s on %s, forward %.3f s%n", output,
              Arrays.toString(ys), arch, Arrays.toString(shape), secs);
        }
      }
    } finally {
      x.close();
    }
    return 0;
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
