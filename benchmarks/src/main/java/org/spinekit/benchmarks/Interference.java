package org.spinekit.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How much CPU the rest of the machine takes while the benchmarks run (Linux): the machine's busy
 * time from /proc/stat minus the CPU time of this JVM and its JMH forks (/proc/PID/stat; reaped
 * forks through cutime and cstime) is other processes' work; the hypervisor's steal is counted
 * apart. On a machine with few cores an OpenMP kernel on every core slows down many times over when
 * another process holds one of them (a parallel region waits for its slowest thread), so a row
 * measured beside other work is not a measurement of the kernel.
 */
final class Interference {
  private Interference() {}

  private static final Path STAT = Path.of("/proc/stat");

  /** Cumulative jiffies: machine busy (without steal), steal, all; this process tree's. */
  record Snapshot(long busy, long steal, long total, long ours) {}

  /** The counters now, or null where /proc is not readable. */
  static Snapshot now() {
    long ours = ours();
    try {
      // cpu user nice system idle iowait irq softirq steal ...
      String[] f = Files.readAllLines(STAT).get(0).trim().split("\\s+");
      long user = Long.parseLong(f[1]), nice = Long.parseLong(f[2]);
      long system = Long.parseLong(f[3]), idle = Long.parseLong(f[4]);
      long iowait = Long.parseLong(f[5]), irq = Long.parseLong(f[6]);
      long softirq = Long.parseLong(f[7]), steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
      long busy = user + nice + system + irq + softirq; // guest time is inside user
      return new Snapshot(busy, steal, busy + idle + iowait + steal, ours);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Share of the machine (0..1) other processes used between a and b; NaN if unknown. */
  static double others(Snapshot a, Snapshot b) {
    if (a == null || b == null || b.total() <= a.total()) return Double.NaN;
    long other = (b.busy() - a.busy()) - (b.ours() - a.ours());
    return Math.max(0, other) / (double) (b.total() - a.total());
  }

  /** Share of the machine (0..1) the hypervisor stole between a and b; NaN if unknown. */
  static double steal(Snapshot a, Snapshot b) {
    if (a == null || b == null || b.total() <= a.total()) return Double.NaN;
    return (b.steal() - a.steal()) / (double) (b.total() - a.total());
  }

  /** Others' share over the next {@code millis} ms (before anything of ours runs). */
  static double sample(long millis) {
    Snapshot a = now();
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return others(a, now());
  }

  /** CPU jiffies of this JVM, its reaped children and its live descendants. */
  private static long ours() {
    long sum = procTimes(ProcessHandle.current().pid(), true);
    for (ProcessHandle h : ProcessHandle.current().descendants().toList()) {
      sum += procTimes(h.pid(), false);
    }
    return sum;
  }

  private static long procTimes(long pid, boolean withChildren) {
    try {
      String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      // after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
      long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      if (withChildren) t += Long.parseLong(f[13]) + Long.parseLong(f[14]);
      return t;
    } catch (IOException | RuntimeException e) {
      return 0; // gone between the listing and the read
    }
  }
}
