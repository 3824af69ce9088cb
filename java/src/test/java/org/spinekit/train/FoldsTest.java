package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Group k-fold splits: groups kept whole, folds balanced, seeded, stratification. */
class FoldsTest {
  /** 60 studies with 1..12 samples each; label of a study: 1 for a third of them. */
  static String[] groups;

  static int[] labels;

  static {
    SplittableRandom r = new SplittableRandom(3);
    java.util.List<String> g = new java.util.ArrayList<>();
    java.util.List<Integer> l = new java.util.ArrayList<>();
    for (int s = 0; s < 60; s++) {
      int n = 1 + r.nextInt(12);
      for (int i = 0; i < n; i++) {
        g.add("1.2.826.0." + s);
        l.add(s % 3 == 0 ? 1 : 0);
      }
    }
    groups = g.toArray(new String[0]);
    labels = l.stream().mapToInt(Integer::intValue).toArray();
  }

  static void assertGroupsWhole(Folds f) {
    Map<String, Integer> foldOf = new HashMap<>();
    for (int i = 0; i < groups.length; i++) {
      Integer prev = foldOf.putIfAbsent(groups[i], f.fold(i));
      if (prev != null) assertEquals(prev, f.fold(i), "study " + groups[i] + " split");
    }
    for (int k = 0; k < f.k(); k++) {
      int[] tr = f.train(k);
      int[] va = f.valid(k);
      assertEquals(groups.length, tr.length + va.length, "fold " + k + " covers every sample");
      Set<String> trainGroups = new HashSet<>();
      for (int i : tr) trainGroups.add(groups[i]);
      for (int i : va) assertFalse(trainGroups.contains(groups[i]), "study on both sides");
    }
  }

  @Test
  void groupsStayWholeAndFoldsAreBalanced() {
    Folds f = Folds.byGroup(groups, 5, 42);
    assertGroupsWhole(f);
    int[] sizes = new int[5];
    for (int i = 0; i < groups.length; i++) sizes[f.fold(i)]++;
    int min = IntStream.of(sizes).min().getAsInt();
    int max = IntStream.of(sizes).max().getAsInt();
    assertTrue(max - min <= 12, "fold sizes " + java.util.Arrays.toString(sizes));
    assertArrayEquals(f.folds(), Folds.byGroup(groups, 5, 42).folds(), "same seed");
    assertFalse(
        java.util.Arrays.equals(f.folds(), Folds.byGroup(groups, 5, 43).folds()),
        "another seed, another split");
  }

  @Test
  void stratifiedKeepsTheLabelShareEven() {
    Folds f = Folds.byGroupStratified(groups, labels, 4, 7);
    assertGroupsWhole(f);
    int positives = IntStream.of(labels).sum();
    for (int k = 0; k < 4; k++) {
      int[] va = f.valid(k);
      int pos = 0;
      for (int i : va) pos += labels[i];
      double share = (double) pos / positives;
      assertTrue(
          share > 0.15 && share < 0.35, "fold " + k + " holds " + share + " of the positives");
    }
  }

  @Test
  void subsetAndBadArguments() throws Exception {
    Dataset d =
        new Dataset() {
          @Override
          public int size() {
            return 10;
          }

          @Override
          public Example get(int index, SplittableRandom rng) {
            return new Example(
                org.spinekit.tensor.Tensors.of(new float[] {index}, 1), new float[] {index});
          }
        };
    Dataset s = Folds.subset(d, new int[] {7, 2});
    assertEquals(2, s.size());
    assertEquals(2f, s.get(1, new SplittableRandom(1)).target()[0]);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Folds.subset(d, new int[] {10}));
    assertTrue(e.getMessage().startsWith("indices:"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> Folds.byGroup(new String[] {"a", "b"}, 3, 0));
    assertTrue(e.getMessage().startsWith("k:"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Folds.byGroupStratified(new String[] {"a", "b"}, new int[] {1}, 2, 0));
    assertTrue(e.getMessage().startsWith("labels:"), e.getMessage());
  }
}
