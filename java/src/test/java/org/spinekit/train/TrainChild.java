package org.spinekit.train;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The training of {@link ResumeFixture} as a program, for the tests that kill it: {@code TrainChild
 * DIR [HALT [DELAY_MS]]}. HALT is "none" or "POINT:N": halt the JVM (as a kill would) at the N-th
 * time a checkpoint save reaches POINT ("tensors": its tensors file is in place, its record not
 * yet; "last": last.json written, best.json not yet). Prints "first E B" at the first batch it runs
 * (where it resumed), "step E B" after every batch and "done" at the end.
 */
public final class TrainChild {
  private TrainChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    String halt = args.length > 1 ? args[1] : "none";
    long delay = args.length > 2 ? Long.parseLong(args[2]) : 0;
    if (!halt.equals("none")) {
      String[] p = halt.split(":");
      int n = Integer.parseInt(p[1]);
      AtomicInteger seen = new AtomicInteger();
      Checkpoints.hook =
          (point, tensors) -> {
            if (point.equals(p[0]) && seen.incrementAndGet() == n) {
              System.out.println("halt " + point + " " + tensors);
              System.out.flush();
              Runtime.getRuntime().halt(137);
            }
          };
    }
    boolean[] first = {true};
    ResumeFixture.run(
        dir,
        delay,
        r -> {
          if (first[0]) System.out.println("first " + r.epoch() + " " + r.batch());
          first[0] = false;
          System.out.println("step " + r.epoch() + " " + r.batch());
          System.out.flush();
        });
    System.out.println("done");
    System.out.flush();
    System.exit(0);
  }
}
