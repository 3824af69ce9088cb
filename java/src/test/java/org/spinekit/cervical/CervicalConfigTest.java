package org.spinekit.cervical;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.spinekit.io.json.Json;

class CervicalConfigTest {
  @Test
  void seedPresetIsTheWriteUps() {
    CervicalConfig c = CervicalConfig.preset("seed");
    assertEquals("efficientnet-b0", c.segEncoder());
    assertEquals(320, c.segSize());
    assertEquals(1, c.segSliceStep());
    assertEquals("tf_efficientnetv2_s", c.clsEncoder());
    assertEquals(24, c.clsSlices());
    assertEquals(5, c.folds());
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, c.foldsToTrain());
    assertEquals(CervicalConfig.WRITE_UP_EXCLUDED, c.excluded());
    CervicalConfig s = CervicalConfig.preset("cpu-small");
    assertArrayEquals(new int[] {0}, s.foldsToTrain());
    assertTrue(s.segSize() < c.segSize() && s.clsSize() < c.clsSize());
  }

  @Test
  void roundTripsThroughJson() throws Exception {
    for (String p : CervicalConfig.PRESETS) {
      CervicalConfig c = CervicalConfig.preset(p).with("segLr", "0.005").with("trainFolds", "1,3");
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) Json.parse(Json.write(c.toMap()));
      CervicalConfig back = CervicalConfig.fromMap(m);
      assertEquals(c, back, p);
      assertEquals(0.005, back.segLr());
      assertArrayEquals(new int[] {1, 3}, back.trainFolds());
    }
  }

  @Test
  void overridesParseEveryType() {
    CervicalConfig c =
        CervicalConfig.preset("cpu-small")
            .with("segAugment", "false")
            .with("segDecoder", "32, 16, 8, 8, 4")
            .with("excluded", "")
            .with("minVoxels", "7")
            .with("patientRule", "noisy_or");
    assertEquals(false, c.segAugment());
    assertArrayEquals(new int[] {32, 16, 8, 8, 4}, c.segDecoder());
    assertEquals(List.of(), c.excluded());
    assertEquals(7, c.minVoxels());
    assertEquals("noisy_or", c.patientRule());
    assertNotEquals(CervicalConfig.preset("cpu-small"), c);
  }

  @Test
  void badValuesNameTheSetting() {
    CervicalConfig c = CervicalConfig.preset("cpu-small");
    assertMessage("config: unknown setting 'segLR'", () -> c.with("segLR", "1"));
    assertMessage("segEpochs: expected >= 1, got 0", () -> c.with("segEpochs", "0"));
    assertMessage("segBatch: expected an integer, got x", () -> c.with("segBatch", "x"));
    assertMessage("segAugment: expected true or false, got yes", () -> c.with("segAugment", "yes"));
    assertMessage("trainFolds: expected folds in 0..4, got 5", () -> c.with("trainFolds", "5"));
    assertMessage("segEncoder: expected an architecture", () -> c.with("segEncoder", "nope"));
    assertMessage(
        "patientRule: expected auto, max or noisy_or", () -> c.with("patientRule", "mean"));
    assertMessage(
        "preset: expected seed or cpu-small, got big", () -> CervicalConfig.preset("big"));
    assertMessage(
        "segWarmup: expected 0..9 (fewer than segEpochs), got 10", () -> c.with("segWarmup", "10"));
    assertMessage(
        "clsEma: expected 0 (off) or a decay in (0, 1), got 1.0", () -> c.with("clsEma", "1"));
    assertMessage(
        "clsPositiveRepeat: expected >= 1, got 0", () -> c.with("clsPositiveRepeat", "0"));
    Map<String, Object> m = new java.util.LinkedHashMap<>(c.toMap());
    m.remove("clsLr");
    assertMessage("config: missing [clsLr]", () -> CervicalConfig.fromMap(m));
  }

  private static void assertMessage(String start, org.junit.jupiter.api.function.Executable e) {
    IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
    assertTrue(x.getMessage().startsWith(start), x.getMessage());
  }
}
