package org.spinekit.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A child process whose stdout and stderr are drained by two threads while it runs, so that a child
 * writing more than a pipe holds never blocks, and a wait with a timeout always returns: on timeout
 * the child and its descendants are killed and the test fails with the command and the output so
 * far.
 */
public final class Subprocess {
  /** The most characters of each stream a failure message shows (the end of it). */
  static final int SHOWN = 20_000;

  /** How long the readers may take to reach the end of the streams once the child is gone. */
  private static final Duration DRAIN = Duration.ofSeconds(10);

  private final List<String> command;
  private final Process process;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final Thread outReader;
  private final Thread errReader;

  /** How a child ended: its exit status and everything it wrote. */
  public record Result(List<String> command, int exitCode, String stdout, String stderr) {
    /** Fails, naming the command and showing both streams, unless the exit status is 0. */
    public Result succeeded() {
      return exited(0);
    }

    /** Fails, naming the command and showing both streams, unless it exited {@code code}. */
    public Result exited(int code) {
      if (exitCode != code) {
        fail(
            line(command)
                + " exited "
                + exitCode
                + " (expected "
                + code
                + ")"
                + show(stdout, stderr));
      }
      return this;
    }

    /** The command, exit status and both streams, for assertion messages. */
    public String describe() {
      return line(command) + " exited " + exitCode + show(stdout, stderr);
    }
  }

  private Subprocess(List<String> command, Process process) {
    this.command = command;
    this.process = process;
    String name = command.get(0);
    outReader = reader(process.getInputStream(), out, "stdout of " + name);
    errReader = reader(process.getErrorStream(), err, "stderr of " + name);
  }

  /**
   * Starts {@code pb}'s command with stdout and stderr as pipes to this JVM (whatever {@code pb}
   * said of them) and starts draining both.
   *
   * @throws IOException when the command cannot be started
   */
  public static Subprocess start(ProcessBuilder pb) throws IOException {
    pb.redirectErrorStream(false)
        .redirectOutput(ProcessBuilder.Redirect.PIPE)
        .redirectError(ProcessBuilder.Redirect.PIPE);
    List<String> command = List.copyOf(pb.command());
    return new Subprocess(command, pb.start());
  }

  /**
   * A child JVM on this JVM's class path and library path: {@code java OPTIONS MAIN ARGS}, with
   * OMP_NUM_THREADS=2 so that its threads match the tests'.
   */
  public static ProcessBuilder java(List<String> options, String mainClass, List<String> args) {
    String exe = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new java.util.ArrayList<>(List.of(exe));
    cmd.addAll(options);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path")));
    String lib = System.getProperty("java.library.path");
    if (lib != null) cmd.add("-Djava.library.path=" + lib);
    cmd.add(mainClass);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("OMP_NUM_THREADS", "2");
    return pb;
  }

  /** Starts {@code pb} and waits for it: {@link #start} then {@link #await}. */
  public static Result run(ProcessBuilder pb, Duration timeout) throws IOException {
    return start(pb).await(timeout);
  }

  /**
   * Runs {@code command} in this JVM's directory and environment: {@link #run(ProcessBuilder,
   * Duration)}.
   */
  public static Result run(List<String> command, Duration timeout) throws IOException {
    return run(new ProcessBuilder(command), timeout);
  }

  private static Thread reader(InputStream in, ByteArrayOutputStream sink, String name) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[8192];
              try (in) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                  synchronized (sink) {
                    sink.write(buf, 0, n);
                  }
                }
              } catch (IOException e) {
                // The stream was closed under us (the child was killed): keep what was read.
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static String text(ByteArrayOutputStream b) {
    synchronized (b) {
      return b.toString(StandardCharsets.UTF_8);
    }
  }

  /** The command line. */
  public List<String> command() {
    return command;
  }

  /** What the child has written to stdout so far. */
  public String stdout() {
    return text(out);
  }

  /** What the child has written to stderr so far. */
  public String stderr() {
    return text(err);
  }

  /** Whether the child is still running. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits up to {@code time} for the child to end; whether it has. On interruption, kills it and
   * its descendants and fails.
   */
  public boolean waitFor(Duration time) {
    try {
      return process.waitFor(time.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      destroyTree();
      drain();
      fail("interrupted while waiting for " + line(command) + show(stdout(), stderr()));
      return false;
    }
  }

  /**
   * Waits for the child to end and for both streams to be read to their end. When it has not ended
   * after {@code timeout}, kills it and its descendants and fails with the command and the output
   * so far; when this thread is interrupted, kills them and fails likewise.
   */
  public Result await(Duration timeout) {
    if (!waitFor(timeout)) {
      destroyTree();
      drain();
      fail(
          line(command)
              + " did not finish in "
              + seconds(timeout)
              + "; killed it and its descendants"
              + show(stdout(), stderr()));
    }
    drain();
    return new Result(command, process.exitValue(), stdout(), stderr());
  }

  /**
   * Sends the child SIGTERM, as a service manager would, and returns without waiting for it to end;
   * its output is still read ({@link Process#destroy} would close the pipes and lose what the child
   * writes while it stops).
   */
  public void terminate() throws IOException {
    Process kill = new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).start();
    try {
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        fail("kill -TERM " + process.pid() + " failed");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Kills the child and its descendants at once (as a crash or {@code kill -9} would) and waits for
   * the child to end; fails when it has not ended 30 s later.
   */
  public Result kill() {
    destroyTree();
    drain();
    return new Result(command, process.exitValue(), stdout(), stderr());
  }

  private void destroyTree() {
    List<ProcessHandle> descendants = process.descendants().toList();
    process.destroyForcibly();
    descendants.forEach(ProcessHandle::destroyForcibly);
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        fail(line(command) + " still running 30 s after it was killed");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Lets the readers reach the end of both streams (a descendant may still hold them open). */
  private void drain() {
    long end = System.nanoTime() + DRAIN.toNanos();
    try {
      for (Thread t : new Thread[] {outReader, errReader}) {
        long left = end - System.nanoTime();
        if (left > 0) t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The command line for messages, each argument over 200 characters shortened. */
  static String line(List<String> command) {
    StringBuilder b = new StringBuilder();
    for (String arg : command) {
      if (b.length() > 0) b.append(' ');
      b.append(
          arg.length() <= 200
              ? arg
              : arg.substring(0, 100) + "[... " + (arg.length() - 100) + " characters]");
    }
    return b.toString();
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  private static String show(String stdout, String stderr) {
    return "\n--- stdout ---\n" + tail(stdout) + "\n--- stderr ---\n" + tail(stderr);
  }

  private static String tail(String s) {
    if (s.length() <= SHOWN) return s;
    return "[... "
        + (s.length() - SHOWN)
        + " characters before]\n"
        + s.substring(s.length() - SHOWN);
  }
}
