package org.spinekit.train;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.spinekit.testing.Subprocess;

/**
 * The {@code spinekit} command line as a child program that dies the way a kill does, at a known
 * point: {@code HaltingMain POINT:N[:PART] ARGS...} halts the JVM (exit 137, no shutdown hooks) the
 * N-th time a checkpoint save reaches POINT ("tensors" or "last", see {@link TrainChild}), counting
 * only saves whose tensors file's path contains PART when given; {@code none} runs ARGS to the end.
 * For the tests of commands that must resume after a kill.
 */
public final class HaltingMain {
  private HaltingMain() {}

  /**
   * Runs {@code spinekit ARGS} in a child JVM with {@code jvmOptions}, halting at {@code halt}
   * ("none" to run to the end), within {@code timeout}.
   */
  public static Subprocess.Result child(
      String halt, List<String> jvmOptions, Duration timeout, List<String> cli) throws IOException {
    List<String> all = new ArrayList<>();
    all.add(halt);
    all.addAll(cli);
    return Subprocess.run(Subprocess.java(jvmOptions, HaltingMain.class.getName(), all), timeout);
  }

  public static void main(String[] args) {
    String halt = args[0];
    if (!halt.equals("none")) {
      String[] p = halt.split(":");
      int n = Integer.parseInt(p[1]);
      AtomicInteger seen = new AtomicInteger();
      Checkpoints.hook =
          (point, tensors) -> {
            boolean mine = p.length < 3 || String.valueOf(tensors).contains(p[2]);
            if (point.equals(p[0]) && mine && seen.incrementAndGet() == n) {
              System.out.println("halt " + point + " " + tensors);
              System.out.flush();
              Runtime.getRuntime().halt(137);
            }
          };
    }
    org.spinekit.cli.Main.main(Arrays.copyOfRange(args, 1, args.length));
  }
}
