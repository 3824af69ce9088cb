package org.spinekit.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DistEnvTest {
  @Test
  void torchrunVariables() {
    DistEnv e =
        DistEnv.from(
            Map.of(
                "RANK", "5",
                "WORLD_SIZE", "8",
                "LOCAL_RANK", "1",
                "LOCAL_WORLD_SIZE", "4",
                "MASTER_ADDR", "10.0.0.1",
                "MASTER_PORT", "1234"));
    assertEquals(new DistEnv(5, 8, 1, 4, "10.0.0.1", 1234), e);
    assertTrue(e.distributed());
    // One machine: the local values follow from the global ones; torchrun's default port.
    assertEquals(
        new DistEnv(1, 2, 1, 2, "127.0.0.1", 29500),
        DistEnv.from(Map.of("RANK", "1", "WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1")));
  }

  @Test
  void slurmVariablesStandInForTorchrunsOnes() {
    DistEnv e =
        DistEnv.from(
            Map.of(
                "SLURM_PROCID", "6",
                "SLURM_NTASKS", "8",
                "SLURM_LOCALID", "2",
                "SLURM_NTASKS_PER_NODE", "4(x2)",
                "SLURM_LAUNCH_NODE_IPADDR", "10.1.2.3",
                "MASTER_PORT", "29600"));
    assertEquals(new DistEnv(6, 8, 2, 4, "10.1.2.3", 29600), e);
  }

  @Test
  void noJobIsOneProcess() {
    DistEnv e = DistEnv.from(Map.of("HOME", "/root"));
    assertEquals(DistEnv.single(), e);
    assertFalse(e.distributed());
  }

  @Test
  void badVariablesAreNamed() {
    assertMessage(
        "environment RANK: expected 0..1, got 2",
        Map.of("RANK", "2", "WORLD_SIZE", "2", "MASTER_ADDR", "h"));
    assertMessage(
        "environment WORLD_SIZE: expected an integer, got 'two'",
        Map.of("RANK", "0", "WORLD_SIZE", "two"));
    assertMessage(
        "environment MASTER_ADDR: expected the host of rank 0, got unset",
        Map.of("RANK", "0", "WORLD_SIZE", "2"));
    assertMessage(
        "environment MASTER_PORT: expected 1..65535, got 70000",
        Map.of("RANK", "0", "WORLD_SIZE", "2", "MASTER_ADDR", "h", "MASTER_PORT", "70000"));
  }

  private static void assertMessage(String message, Map<String, String> env) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DistEnv.from(env));
    assertEquals(message, e.getMessage());
  }
}
