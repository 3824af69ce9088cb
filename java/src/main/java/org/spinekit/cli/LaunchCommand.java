package org.spinekit.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code spinekit launch}: torchrun for SpineKit commands. Starts {@code --nproc} processes of the
 * command on this machine with the torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK,
 * LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT); when one fails, stops the others and exits with its
 * status.
 */
@Command(
    name = "launch",
    description = {
      "runs a command as N data-parallel processes (as torchrun): spinekit launch --nproc 2 --"
          + " cervical train --data D --out RUN",
      "",
      "Each process gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and"
          + " MASTER_PORT; rank 0 hosts the rendezvous. On one machine (--nnodes 1) the master"
          + " is 127.0.0.1 on a free port. On M machines run the same line on each with"
          + " --nnodes M --node-rank R --master HOST:PORT (HOST: node 0's address the others"
          + " reach). When a process fails the others are stopped and launch exits with its"
          + " status. The processes' stdout and stderr become launch's."
    })
final class LaunchCommand implements Callable<Integer>, Cli.NoLibtorch {
  @Option(
      names = "--nproc",
      paramLabel = "N",
      defaultValue = "1",
      description = "processes on this machine (default 1)")
  int nproc;

  @Option(
      names = "--nnodes",
      paramLabel = "M",
      defaultValue = "1",
      description = "machines in the job (default 1)")
  int nnodes;

  @Option(
      names = "--node-rank",
      paramLabel = "R",
      defaultValue = "0",
      description = "this machine, 0..M-1 (default 0)")
  int nodeRank;

  @Option(
      names = "--master",
      paramLabel = "HOST:PORT",
      description = "node 0's rendezvous address (required with --nnodes > 1)")
  String master;

  @Option(
      names = "--grace",
      paramLabel = "SECONDS",
      defaultValue = "10",
      description = "how long the others may take to end after one failed (default 10)")
  int grace;

  @Parameters(
      paramLabel = "COMMAND",
      arity = "1..*",
      description = "the spinekit command and its options (after --)")
  List<String> command;

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (nproc < 1 || nproc > 64)
      throw new IllegalArgumentException("--nproc: expected 1..64, got " + nproc);
    if (nnodes < 1) throw new IllegalArgumentException("--nnodes: expected >= 1, got " + nnodes);
    if (nodeRank < 0 || nodeRank >= nnodes) {
      throw new IllegalArgumentException(
          "--node-rank: expected 0.." + (nnodes - 1) + ", got " + nodeRank);
    }
    if (command.get(0).equals("launch")) {
      throw new IllegalArgumentException("COMMAND: launch cannot launch itself");
    }
    String host;
    int port;
    if (master != null) {
      int colon = master.lastIndexOf(':');
      if (colon <= 0)
        throw new IllegalArgumentException("--master: expected HOST:PORT, got " + master);
      host = master.substring(0, colon);
      try {
        port = Integer.parseInt(master.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--master: expected HOST:PORT, got " + master);
      }
      if (port < 1 || port > 65535)
        throw new IllegalArgumentException("--master: port 1..65535, got " + port);
    } else if (nnodes > 1) {
      throw new IllegalArgumentException("--master: required with --nnodes " + nnodes);
    } else {
      host = "127.0.0.1";
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
    }
    int world = nproc * nnodes;
    List<Process> ps = new ArrayList<>();
    List<Thread> pumps = new ArrayList<>();
    for (int local = 0; local < nproc; local++) {
      List<String> cmd = new ArrayList<>(javaCommand());
      cmd.addAll(command);
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.INHERIT);
      Map<String, String> env = pb.environment();
      env.put("RANK", Integer.toString(nodeRank * nproc + local));
      env.put("WORLD_SIZE", Integer.toString(world));
      env.put("LOCAL_RANK", Integer.toString(local));
      env.put("LOCAL_WORLD_SIZE", Integer.toString(nproc));
      env.put("GROUP_RANK", Integer.toString(nodeRank));
      env.put("MASTER_ADDR", host);
      env.put("MASTER_PORT", Integer.toString(port));
      Process p = pb.start();
      ps.add(p);
      pumps.add(pump(p.getInputStream(), System.out));
      pumps.add(pump(p.getErrorStream(), System.err));
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> ps.forEach(p -> p.descendants().forEach(ProcessHandle::destroy))));
    int status = 0;
    // Wait for all; the first failure stops the others (after a grace period, forcibly).
    List<Process> running = new ArrayList<>(ps);
    while (!running.isEmpty()) {
      for (Process p : new ArrayList<>(running)) {
        if (p.waitFor(200, TimeUnit.MILLISECONDS)) {
          running.remove(p);
          if (p.exitValue() != 0 && status == 0) {
            status = p.exitValue();
            System.err.println(
                "spinekit launch: rank "
                    + (nodeRank * nproc + ps.indexOf(p))
                    + " exited "
                    + status
                    + "; stopping the others");
            for (Process q : running) q.destroy();
            for (Process q : running) {
              if (!q.waitFor(grace, TimeUnit.SECONDS)) q.destroyForcibly();
            }
          }
        }
      }
    }
    for (Thread t : pumps) t.join(TimeUnit.SECONDS.toMillis(grace));
    return status;
  }

  /** Copies a child's stream to ours (whole writes, so lines of two ranks rarely interleave). */
  private static Thread pump(java.io.InputStream in, java.io.PrintStream out) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[8192];
              try (in) {
                for (int n; (n = in.read(buf)) > 0; ) {
                  synchronized (out) {
                    out.write(buf, 0, n);
                    out.flush();
                  }
                }
              } catch (IOException e) {
                // the child is gone
              }
            },
            "spinekit-launch-pump");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** This JVM's java, options and class path, running {@link Main}. */
  static List<String> javaCommand() {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!a.startsWith("-agentlib:jdwp")) cmd.add(a);
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    return cmd;
  }
}
