package org.spinekit.train;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * k-fold splits by group (a study): every sample of a group lands in the same fold, so no study is
 * on both sides of a split. Seeded: the groups are shuffled by the seed, then placed largest first
 * into the fold with the fewest samples (scikit-learn's {@code GroupKFold} balancing), or,
 * stratified, into the fold that keeps each label's share of the folds most even (scikit-learn's
 * {@code StratifiedGroupKFold} rule), ties to the smaller fold.
 */
public final class Folds {
  private final int k;
  private final int[] fold;

  private Folds(int k, int[] fold) {
    this.k = k;
    this.fold = fold;
  }

  /**
   * Group k-fold of {@code groups.length} samples.
   *
   * @param groups the group (study id) of every sample
   */
  public static Folds byGroup(String[] groups, int k, long seed) {
    return make(groups, null, k, seed);
  }

  /**
   * Stratified group k-fold: also keeps each label's samples spread evenly over the folds.
   *
   * @param labels the class of every sample (>= 0)
   */
  public static Folds byGroupStratified(String[] groups, int[] labels, int k, long seed) {
    if (labels == null) {
      throw new IllegalArgumentException("labels: expected one label per sample, got null");
    }
    return make(groups, labels, k, seed);
  }

  private static Folds make(String[] groups, int[] labels, int k, long seed) {
    if (groups == null) {
      throw new IllegalArgumentException("groups: expected one group per sample, got null");
    }
    if (k < 2) throw new IllegalArgumentException("k: expected >= 2, got " + k);
    if (labels != null && labels.length != groups.length) {
      throw new IllegalArgumentException(
          "labels: expected " + groups.length + " (one per" + " sample), got " + labels.length);
    }
    Map<String, List<Integer>> members = new LinkedHashMap<>();
    for (int i = 0; i < groups.length; i++) {
      if (groups[i] == null) {
        throw new IllegalArgumentException("groups: sample " + i + " has no group (null)");
      }
      if (labels != null && labels[i] < 0) {
        throw new IllegalArgumentException(
            "labels: expected >= 0, sample " + i + " has " + labels[i]);
      }
      members.computeIfAbsent(groups[i], g -> new ArrayList<>()).add(i);
    }
    if (members.size() < k) {
      throw new IllegalArgumentException(
          "k: expected at most the number of groups (" + members.size() + "), got " + k);
    }
    List<List<Integer>> gs = new ArrayList<>(members.values());
    // Shuffle by the seed (Fisher-Yates), then a stable sort keeps the shuffle among ties.
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = gs.size() - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      List<Integer> t = gs.get(i);
      gs.set(i, gs.get(j));
      gs.set(j, t);
    }
    int[] fold = new int[groups.length];
    long[] sizes = new long[k];
    if (labels == null) {
      gs.sort(Comparator.comparingInt((List<Integer> g) -> g.size()).reversed());
      for (List<Integer> g : gs) {
        int best = 0;
        for (int f = 1; f < k; f++) if (sizes[f] < sizes[best]) best = f;
        place(g, best, fold, sizes);
      }
      return new Folds(k, fold);
    }
    int classes = 0;
    for (int l : labels) classes = Math.max(classes, l + 1);
    long[] totals = new long[classes];
    for (int l : labels) totals[l]++;
    List<long[]> counts = new ArrayList<>();
    for (List<Integer> g : gs) {
      long[] c = new long[classes];
      for (int i : g) c[labels[i]]++;
      counts.add(c);
    }
    // Groups whose label mix is most uneven go first, as scikit-learn orders them.
    Integer[] order = new Integer[gs.size()];
    for (int i = 0; i < order.length; i++) order[i] = i;
    double[] spread = new double[gs.size()];
    for (int i = 0; i < spread.length; i++) spread[i] = std(counts.get(i));
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -spread[i]));
    long[][] perFold = new long[k][classes];
    for (int gi : order) {
      long[] c = counts.get(gi);
      int best = -1;
      double bestEval = Double.POSITIVE_INFINITY;
      for (int f = 0; f < k; f++) {
        for (int l = 0; l < classes; l++) perFold[f][l] += c[l];
        double eval = 0;
        for (int l = 0; l < classes; l++) {
          if (totals[l] == 0) continue;
          double[] share = new double[k];
          for (int q = 0; q < k; q++) share[q] = (double) perFold[q][l] / totals[l];
          eval += std(share);
        }
        for (int l = 0; l < classes; l++) perFold[f][l] -= c[l];
        if (best < 0
            || eval < bestEval - 1e-12
            || (Math.abs(eval - bestEval) <= 1e-12 && sizes[f] < sizes[best])) {
          bestEval = eval;
          best = f;
        }
      }
      for (int l = 0; l < classes; l++) perFold[best][l] += c[l];
      place(gs.get(gi), best, fold, sizes);
    }
    return new Folds(k, fold);
  }

  private static void place(List<Integer> g, int f, int[] fold, long[] sizes) {
    for (int i : g) fold[i] = f;
    sizes[f] += g.size();
  }

  private static double std(long[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) d[i] = v[i];
    return std(d);
  }

  private static double std(double[] v) {
    double m = 0;
    for (double x : v) m += x;
    m /= v.length;
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return Math.sqrt(s / v.length);
  }

  /** Number of folds. */
  public int k() {
    return k;
  }

  /** Number of samples. */
  public int size() {
    return fold.length;
  }

  /** The fold of sample {@code i}. */
  public int fold(int i) {
    if (i < 0 || i >= fold.length) {
      throw new IllegalArgumentException("i: expected 0.." + (fold.length - 1) + ", got " + i);
    }
    return fold[i];
  }

  /** The fold of every sample. */
  public int[] folds() {
    return fold.clone();
  }

  /** Samples of fold {@code f}, ascending: the validation set of split f. */
  public int[] valid(int f) {
    return select(f, true);
  }

  /** Samples of every other fold, ascending: the training set of split f. */
  public int[] train(int f) {
    return select(f, false);
  }

  private int[] select(int f, boolean in) {
    if (f < 0 || f >= k)
      throw new IllegalArgumentException("f: expected 0.." + (k - 1) + ", got " + f);
    return java.util.stream.IntStream.range(0, fold.length)
        .filter(i -> (fold[i] == f) == in)
        .toArray();
  }

  /** The samples {@code indices} of {@code data} as a data set (sample j is indices[j]). */
  public static Dataset subset(Dataset data, int[] indices) {
    if (data == null) throw new IllegalArgumentException("data: expected a data set, got null");
    if (indices == null || indices.length == 0) {
      throw new IllegalArgumentException("indices: expected at least one index, got none");
    }
    int n = data.size();
    int[] idx = indices.clone();
    for (int i : idx) {
      if (i < 0 || i >= n) {
        throw new IllegalArgumentException("indices: expected 0.." + (n - 1) + ", got " + i);
      }
    }
    return new Dataset() {
      @Override
      public int size() {
        return idx.length;
      }

      @Override
      public Example get(int index, SplittableRandom rng) throws IOException {
        return data.get(idx[index], rng);
      }
    };
  }
}
