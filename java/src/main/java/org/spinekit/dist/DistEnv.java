package org.spinekit.dist;

import java.util.Map;

/**
 * Where this process sits in a distributed job, read from the environment that torchrun (and {@code
 * spinekit launch}) sets: {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code
 * LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}. Under Slurm ({@code srun}, no {@code
 * RANK}) the job's own variables stand in: {@code SLURM_PROCID}, {@code SLURM_NTASKS}, {@code
 * SLURM_LOCALID}, {@code SLURM_NTASKS_PER_NODE}, and {@code SLURM_LAUNCH_NODE_IPADDR} when {@code
 * MASTER_ADDR} is unset.
 *
 * @param rank this process, 0..worldSize-1 (rank 0 hosts the rendezvous store)
 * @param worldSize processes in the job
 * @param localRank this process on its machine
 * @param localWorldSize processes on this machine
 * @param masterAddr host of rank 0's store
 * @param masterPort its TCP port
 */
public record DistEnv(
    int rank, int worldSize, int localRank, int localWorldSize, String masterAddr, int masterPort) {

  /** torchrun's default port. */
  public static final int DEFAULT_PORT = 29500;

  public DistEnv {
    if (worldSize < 1) throw bad("WORLD_SIZE", ">= 1", worldSize);
    if (rank < 0 || rank >= worldSize) throw bad("RANK", "0.." + (worldSize - 1), rank);
    if (localWorldSize < 1 || localWorldSize > worldSize) {
      throw bad("LOCAL_WORLD_SIZE", "1.." + worldSize, localWorldSize);
    }
    if (localRank < 0 || localRank >= localWorldSize) {
      throw bad("LOCAL_RANK", "0.." + (localWorldSize - 1), localRank);
    }
    if (masterAddr == null || masterAddr.isBlank()) throw bad("MASTER_ADDR", "a host", masterAddr);
    if (masterPort < 1 || masterPort > 65535) throw bad("MASTER_PORT", "1..65535", masterPort);
  }

  /** One process on its own: rank 0 of 1. */
  public static DistEnv single() {
    return new DistEnv(0, 1, 0, 1, "127.0.0.1", DEFAULT_PORT);
  }

  /** Whether the job has more than one process. */
  public boolean distributed() {
    return worldSize > 1;
  }

  /** From this process's environment ({@link #single()} when it names no job). */
  public static DistEnv fromEnvironment() {
    return from(System.getenv());
  }

  /**
   * From {@code env}: torchrun's variables, else Slurm's, else {@link #single()}.
   *
   * @throws IllegalArgumentException naming the variable that is missing or malformed
   */
  public static DistEnv from(Map<String, String> env) {
    int world, rank, localWorld, local;
    String addr;
    if (env.containsKey("RANK") || env.containsKey("WORLD_SIZE")) {
      world = integer(env, "WORLD_SIZE", null);
      rank = integer(env, "RANK", null);
      localWorld = integer(env, "LOCAL_WORLD_SIZE", Integer.toString(world));
      local = integer(env, "LOCAL_RANK", Integer.toString(rank % localWorld));
      addr = env.getOrDefault("MASTER_ADDR", world == 1 ? "127.0.0.1" : null);
      if (addr == null) throw bad("MASTER_ADDR", "the host of rank 0", "unset");
    } else if (env.containsKey("SLURM_PROCID")) {
      world = integer(env, "SLURM_NTASKS", null);
      rank = integer(env, "SLURM_PROCID", null);
      // SLURM_NTASKS_PER_NODE may read "4" or "4(x2)"
      String perNode = env.get("SLURM_NTASKS_PER_NODE");
      localWorld =
          perNode == null
              ? world / Math.max(1, integer(env, "SLURM_NNODES", "1"))
              : parse("SLURM_NTASKS_PER_NODE", perNode.replaceAll("\\(.*", ""));
      local = integer(env, "SLURM_LOCALID", Integer.toString(rank % localWorld));
      addr = env.getOrDefault("MASTER_ADDR", env.get("SLURM_LAUNCH_NODE_IPADDR"));
      if (addr == null) {
        throw bad("MASTER_ADDR", "the host of rank 0 (or SLURM_LAUNCH_NODE_IPADDR)", "unset");
      }
    } else {
      return single();
    }
    int port = integer(env, "MASTER_PORT", Integer.toString(DEFAULT_PORT));
    return new DistEnv(rank, world, local, localWorld, addr, port);
  }

  private static int integer(Map<String, String> env, String name, String fallback) {
    String v = env.getOrDefault(name, fallback);
    if (v == null) throw bad(name, "an integer", "unset");
    return parse(name, v);
  }

  private static int parse(String name, String v) {
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw bad(name, "an integer", "'" + v + "'");
    }
  }

  private static IllegalArgumentException bad(String name, String expected, Object got) {
    return new IllegalArgumentException(
        "environment " + name + ": expected " + expected + ", got " + got);
  }
}
