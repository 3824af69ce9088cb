package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Early stopping: patience, min_delta, both modes, state. */
class EarlyStoppingTest {
  @Test
  void stopsAfterPatienceEpochsWithoutImprovementBeyondMinDelta() {
    EarlyStopping s = new EarlyStopping(Mode.MIN, 2, 0.01);
    assertFalse(s.update(0, 1.0));
    assertFalse(s.update(1, 0.995), "0.005 better is within min_delta");
    assertEquals(1, s.waited());
    assertFalse(s.update(2, 0.9), "improved");
    assertEquals(0, s.waited());
    assertFalse(s.update(3, Double.NaN), "NaN never improves");
    assertTrue(s.update(4, 0.95));
    assertEquals(2, s.bestEpoch());
    assertEquals(0.9, s.best());
  }

  @Test
  void maxModeAndState() {
    EarlyStopping s = new EarlyStopping(Mode.MAX, 3, 0);
    s.update(0, 0.5);
    s.update(1, 0.7);
    s.update(2, 0.7);
    EarlyStopping r = new EarlyStopping(Mode.MAX, 3, 0);
    r.load(s.state());
    assertEquals(s.state(), r.state());
    assertFalse(r.update(3, 0.6));
    assertTrue(r.update(4, 0.69));
    assertEquals(1, r.bestEpoch());
  }

  @Test
  void badArguments() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(Mode.MIN, 0, 0));
    assertTrue(e.getMessage().startsWith("patience:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(Mode.MIN, 1, -1));
    assertTrue(e.getMessage().startsWith("minDelta:"), e.getMessage());
  }
}
