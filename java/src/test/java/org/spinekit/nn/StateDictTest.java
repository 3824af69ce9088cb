package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Strict loading without the batch-norm counters, which PyTorch's strict load allows. */
class StateDictTest {
  @TempDir Path dir;

  /** The state dict of {@code net} with every other tensor changed, as copies. */
  private static Map<String, Tensor> perturbed(Net net) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : net.stateDict().entrySet()) {
      Tensor t = e.getValue().detach().clone();
      if (t.is_floating_point()) t = t.add(new Scalar(0.25));
      out.put(e.getKey(), t);
    }
    return out;
  }

  @Test
  void strictLoadAcceptsAbsentBatchNormCountersAndListsThem() throws Exception {
    try (ResNet src = new ResNet(ResNet.Config.resnet18(3, 10));
        ResNet dst = new ResNet(ResNet.Config.resnet18(3, 10));
        PointerScope scope = new PointerScope()) {
      Map<String, Tensor> sd = perturbed(src);
      List<String> counters =
          sd.keySet().stream().filter(k -> k.endsWith(".num_batches_tracked")).toList();
      assertEquals(20, counters.size(), "resnet18 has 20 batch norms");
      sd.keySet().removeAll(counters);
      dst.stateDict().get("bn1.num_batches_tracked").fill_(new Scalar(7L));
      Path file = dir.resolve("no-counters.safetensors");
      org.spinekit.io.safetensors.SafeTensors.write(file, sd, Map.of());

      StateDict.Report r = StateDict.load(dst, file, NameMap.identity(), true);
      assertTrue(r.complete(), r.toString());
      assertEquals(List.of(), r.missing());
      assertEquals(counters, r.absentCounters());
      // Everything else was loaded; the counters kept the network's own values.
      Map<String, Tensor> own = dst.stateDict();
      for (Map.Entry<String, Tensor> e : sd.entrySet()) {
        assertEquals(
            0, own.get(e.getKey()).sub(e.getValue()).abs().max().item_double(), 0, e.getKey());
      }
      assertEquals(7, own.get("bn1.num_batches_tracked").item_long());
      assertEquals(0, own.get("layer1.0.bn1.num_batches_tracked").item_long());

      // With the counters present, none is listed.
      StateDict.Report full = StateDict.load(dst, perturbed(src), NameMap.identity(), true, "full");
      assertEquals(List.of(), full.absentCounters());
    }
  }

  @Test
  void strictLoadStillRefusesEveryOtherMissingKey() {
    try (ResNet src = new ResNet(ResNet.Config.resnet18(3, 10));
        ResNet dst = new ResNet(ResNet.Config.resnet18(3, 10));
        PointerScope scope = new PointerScope()) {
      Map<String, Tensor> sd = perturbed(src);
      sd.keySet().removeIf(k -> k.endsWith(".num_batches_tracked"));
      sd.remove("layer2.1.bn2.running_var");
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> StateDict.load(dst, sd, NameMap.identity(), true, "partial"));
      assertTrue(e.getMessage().contains("missing 1 [layer2.1.bn2.running_var]"), e.getMessage());
      StateDict.Report r = StateDict.load(dst, sd, NameMap.identity(), false, "partial");
      assertEquals(List.of("layer2.1.bn2.running_var"), r.missing());
      assertEquals(20, r.absentCounters().size());
    }
  }
}
