package org.spinekit.lumbar;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Rsna2024.ConditionLevel;
import org.spinekit.io.kaggle.Rsna2024.LumbarLabel;
import org.spinekit.io.kaggle.Rsna2024.Prediction;

/**
 * The metric of RSNA 2024 Lumbar Spine Degenerative Classification: the mean of four weighted log
 * losses, {@link Part#SPINAL}, {@link Part#FORAMINAL}, {@link Part#SUBARTICULAR} and {@link
 * Part#ANY_SEVERE_SPINAL}.
 *
 * <p>A row is one (study, condition, level) whose grade the truth has; a blank grade in train.csv
 * is not scored (its prediction row may be there or not, and is not used). A row weighs {@link
 * Grade#weight} of its true grade: 1 normal/mild, 2 moderate, 4 severe. Its three probabilities are
 * clipped to {@code [eps, 1 - eps]}, then divided by their sum (so a row need not sum to 1, and an
 * all-zero row means 1/3 each), and its loss is {@code -ln} of the share of its true grade. Each of
 * the first three parts is {@code sum(w l) / sum(w)} over the rows of its conditions: spinal canal
 * stenosis; left and right neural foraminal narrowing; left and right subarticular stenosis.
 *
 * <p>{@link Part#ANY_SEVERE_SPINAL} is a binary log loss over the studies that have a graded spinal
 * level: the label is whether any graded spinal level is severe, the weight the largest row weight
 * among them, and the probability the largest {@code severe} among their prediction rows as
 * submitted (not divided by the row's sum), clipped to {@code [eps, 1 - eps]}.
 *
 * <p>This follows the competition's host metric: scikit-learn's {@code log_loss} (clip, then
 * renormalise) per condition group with the rows' weights, and the any-severe part taken from the
 * raw {@code severe} column. It differs in two ways: the any-severe part is defined when every
 * study has the same label (the host calls {@code log_loss} without {@code labels}, which refuses
 * that), and {@code eps} is an option (scikit-learn before 1.2 clipped at 1e-15, the default here;
 * from 1.2 on at the float64 machine epsilon, 2.220446049250313e-16).
 */
public final class LumbarMetric {
  private LumbarMetric() {}

  private static final int COLUMNS = ConditionLevel.ALL.size();
  private static final Grade[] GRADES = Grade.values();

  /** The four parts of the score, each weighing a quarter. */
  public enum Part {
    /** Spinal canal stenosis, five rows per study. */
    SPINAL("spinal"),
    /** Left and right neural foraminal narrowing, ten rows per study. */
    FORAMINAL("foraminal"),
    /** Left and right subarticular stenosis, ten rows per study. */
    SUBARTICULAR("subarticular"),
    /** Whether any spinal level of a study is severe, one row per study. */
    ANY_SEVERE_SPINAL("any_severe_spinal");

    private final String label;

    Part(String label) {
      this.label = label;
    }

    /** The name in reports: spinal, foraminal, subarticular, any_severe_spinal. */
    public String label() {
      return label;
    }

    /** The part whose log loss a row of {@code condition} enters. */
    public static Part of(Condition condition) {
      return switch (condition) {
        case SPINAL_CANAL_STENOSIS -> SPINAL;
        case LEFT_NEURAL_FORAMINAL_NARROWING, RIGHT_NEURAL_FORAMINAL_NARROWING -> FORAMINAL;
        case LEFT_SUBARTICULAR_STENOSIS, RIGHT_SUBARTICULAR_STENOSIS -> SUBARTICULAR;
      };
    }
  }

  /**
   * How the score is computed.
   *
   * @param eps probabilities are clipped to {@code [eps, 1 - eps]} before the renormalisation and
   *     the logarithm; {@code 0 < eps <= 0.5}
   */
  public record Options(double eps) {
    /** scikit-learn's clipping before version 1.2: 1e-15. */
    public static final double DEFAULT_EPS = 1e-15;

    /**
     * @throws IllegalArgumentException naming the argument when {@code eps} is not in {@code (0,
     *     0.5]}
     */
    public Options {
      if (!(eps > 0 && eps <= 0.5)) {
        throw new IllegalArgumentException("eps: expected 0 < eps <= 0.5, got " + eps);
      }
    }

    /** The competition's metric with eps 1e-15. */
    public static Options defaults() {
      return new Options(DEFAULT_EPS);
    }

    /** These options with another clipping. */
    public Options withEps(double eps) {
      return new Options(eps);
    }
  }

  /**
   * Probabilities of the three grades, as a submission row holds them (finite, {@code >= 0}, not
   * necessarily summing to 1): the prediction of a constant baseline for one column.
   */
  public record Distribution(double normalMild, double moderate, double severe) {
    /**
     * @throws IllegalArgumentException naming the grade when a probability is NaN, infinite or
     *     negative
     */
    public Distribution {
      check(Grade.NORMAL_MILD, normalMild);
      check(Grade.MODERATE, moderate);
      check(Grade.SEVERE, severe);
    }

    private static void check(Grade g, double p) {
      if (!(p >= 0 && p < Double.POSITIVE_INFINITY)) {
        throw new IllegalArgumentException(
            g.key + ": expected a finite probability >= 0, got " + p);
      }
    }

    /** The probability of {@code grade}. */
    public double probability(Grade grade) {
      return switch (grade) {
        case NORMAL_MILD -> normalMild;
        case MODERATE -> moderate;
        case SEVERE -> severe;
      };
    }
  }

  /**
   * A scored prediction.
   *
   * @param score the mean of the four parts
   * @param options what it was computed with
   * @param studies how many studies the truth has
   * @param parts the weighted log loss of each part, in {@link Part} order
   * @param rows how many rows each part scored (studies for {@link Part#ANY_SEVERE_SPINAL})
   * @param unscored how many grades of the truth are blank, hence not scored
   * @param columnLogLoss per train.csv column ({@link ConditionLevel#ALL} order), the weighted log
   *     loss {@code sum(w l) / sum(w)} of its rows; NaN for a column without a graded row
   * @param columnRows per column, how many rows were scored
   */
  public record Result(
      double score,
      Options options,
      int studies,
      Map<Part, Double> parts,
      Map<Part, Integer> rows,
      int unscored,
      Map<ConditionLevel, Double> columnLogLoss,
      Map<ConditionLevel, Integer> columnRows) {
    public Result {
      Objects.requireNonNull(options, "options");
      parts = Collections.unmodifiableMap(new EnumMap<>(parts));
      rows = Collections.unmodifiableMap(new EnumMap<>(rows));
      columnLogLoss = Collections.unmodifiableMap(new LinkedHashMap<>(columnLogLoss));
      columnRows = Collections.unmodifiableMap(new LinkedHashMap<>(columnRows));
    }

    /** The weighted log loss of {@code part}. */
    public double part(Part part) {
      return parts.get(part);
    }
  }

  // ---------------------------------------------------------------- scoring

  /** {@link #score(List, List, Options)} with {@link Options#defaults()}. */
  public static Result score(List<LumbarLabel> truth, List<Prediction> predictions) {
    return score(truth, predictions, Options.defaults());
  }

  /**
   * Scores submission rows against the grades of train.csv: every graded (study, condition, level)
   * of {@code truth} needs its row; rows of blank grades may be there and are not used; every row
   * must be of a study of {@code truth}.
   *
   * @throws IllegalArgumentException naming the row (its row_id) when a row is of a study that
   *     {@code truth} does not have, is repeated, or has a probability that is NaN, infinite or
   *     negative, or when a graded row has no prediction; naming the study or the part when {@code
   *     truth} is empty, repeats a study, or grades no row of a part
   */
  public static Result score(
      List<LumbarLabel> truth, List<Prediction> predictions, Options options) {
    Table t = new Table(truth);
    Objects.requireNonNull(predictions, "predictions");
    for (Prediction p : predictions) {
      Objects.requireNonNull(p, "predictions: a null row");
      t.put(p);
    }
    return t.complete().score(requireOptions(options));
  }

  /**
   * Per column, the share of each grade among the graded rows of {@code truth}: the prediction of
   * the "training prevalence" baseline. A column without a graded row gets 1/3 each (it is not
   * scored).
   *
   * @throws IllegalArgumentException when {@code truth} is empty or repeats a study
   */
  public static Map<ConditionLevel, Distribution> prevalence(List<LumbarLabel> truth) {
    Table t = new Table(truth, false);
    Map<ConditionLevel, Distribution> out = new LinkedHashMap<>();
    for (int c = 0; c < COLUMNS; c++) {
      int[] n = new int[3];
      int total = 0;
      for (Grade[] g : t.grades) {
        if (g[c] != null) {
          n[g[c].ordinal()]++;
          total++;
        }
      }
      Distribution d =
          total == 0
              ? new Distribution(1 / 3.0, 1 / 3.0, 1 / 3.0)
              : new Distribution(
                  n[0] / (double) total, n[1] / (double) total, n[2] / (double) total);
      out.put(ConditionLevel.ALL.get(c), d);
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * The score of predicting, for every study of {@code truth}, the same probabilities per column
   * (e.g. {@link #prevalence} of the training set): the baseline a model must beat. The same as
   * submitting those rows for every study.
   *
   * @param probabilities one distribution for each of the 25 columns
   * @throws IllegalArgumentException naming the column when one is missing, and as {@link
   *     #score(List, List, Options)} for the truth
   */
  public static Result scoreConstant(
      List<LumbarLabel> truth, Map<ConditionLevel, Distribution> probabilities, Options options) {
    Table t = new Table(truth);
    Objects.requireNonNull(probabilities, "probabilities");
    for (int c = 0; c < COLUMNS; c++) {
      ConditionLevel cl = ConditionLevel.ALL.get(c);
      Distribution d = probabilities.get(cl);
      if (d == null) {
        throw new IllegalArgumentException(
            "probabilities: " + cl.column() + ": expected a distribution, got none");
      }
      for (double[][] study : t.probabilities) {
        for (Grade g : GRADES) study[c][g.ordinal()] = d.probability(g);
      }
    }
    return t.score(requireOptions(options));
  }

  // ---------------------------------------------------------------- the computation

  /** Grades and probabilities of the studies of the truth, in its order: [study][column][grade]. */
  private static final class Table {
    final long[] studies;
    final Grade[][] grades;
    final double[][][] probabilities;
    final Map<Long, Integer> index = new HashMap<>();

    Table(List<LumbarLabel> truth) {
      this(truth, true);
    }

    Table(List<LumbarLabel> truth, boolean scored) {
      Objects.requireNonNull(truth, "truth");
      if (truth.isEmpty()) {
        throw new IllegalArgumentException("truth: expected at least one study, got none");
      }
      int n = truth.size();
      studies = new long[n];
      grades = new Grade[n][COLUMNS];
      probabilities = new double[n][COLUMNS][3];
      int[] partRows = new int[Part.values().length];
      for (int s = 0; s < n; s++) {
        LumbarLabel l = Objects.requireNonNull(truth.get(s), "truth: a null label");
        Integer before = index.putIfAbsent(l.studyId(), s);
        if (before != null) {
          throw new IllegalArgumentException(
              "truth: study "
                  + l.studyId()
                  + " repeated (truth["
                  + before
                  + "] and truth["
                  + s
                  + "])");
        }
        studies[s] = l.studyId();
        for (Map.Entry<ConditionLevel, Grade> e : l.grades().entrySet()) {
          grades[s][e.getKey().index()] = e.getValue();
          partRows[Part.of(e.getKey().condition()).ordinal()]++;
        }
        for (double[] row : probabilities[s]) Arrays.fill(row, Double.NaN);
      }
      if (scored) {
        for (Part p : List.of(Part.SPINAL, Part.FORAMINAL, Part.SUBARTICULAR)) {
          if (partRows[p.ordinal()] == 0) {
            throw new IllegalArgumentException(
                "truth: no "
                    + p.label()
                    + " row has a grade in "
                    + n
                    + (n == 1 ? " study" : " studies")
                    + ", so the "
                    + p.label()
                    + " part is undefined");
          }
        }
      }
    }

    /** Records one submission row, refusing what {@link #score} documents. */
    void put(Prediction p) {
      Integer s = index.get(p.studyId());
      if (s == null) {
        throw new IllegalArgumentException(
            "predictions: row '" + p.rowId() + "': study " + p.studyId() + " is not in the truth");
      }
      for (Grade g : GRADES) {
        double v = p.probability(g);
        if (!(v >= 0 && v < Double.POSITIVE_INFINITY)) {
          throw new IllegalArgumentException(
              "predictions: row '"
                  + p.rowId()
                  + "': "
                  + g.key
                  + ": expected a finite probability >= 0, got "
                  + v);
        }
      }
      double[] row = probabilities[s][new ConditionLevel(p.condition(), p.level()).index()];
      if (!Double.isNaN(row[0])) {
        throw new IllegalArgumentException("predictions: row '" + p.rowId() + "' repeated");
      }
      for (Grade g : GRADES) row[g.ordinal()] = p.probability(g);
    }

    /** This table, once every graded row has its probabilities. */
    Table complete() {
      int missing = 0;
      int graded = 0;
      String first = null;
      for (int s = 0; s < studies.length; s++) {
        for (int c = 0; c < COLUMNS; c++) {
          if (grades[s][c] == null) continue;
          graded++;
          if (Double.isNaN(probabilities[s][c][0]) && missing++ == 0) {
            ConditionLevel cl = ConditionLevel.ALL.get(c);
            first =
                "no row '"
                    + studies[s]
                    + "_"
                    + cl.column()
                    + "' (study "
                    + studies[s]
                    + " grades "
                    + cl.column()
                    + " "
                    + grades[s][c].label
                    + ")";
          }
        }
      }
      if (missing > 0) {
        throw new IllegalArgumentException(
            "predictions: " + first + "; " + missing + " of " + graded + " graded rows missing");
      }
      return this;
    }

    Result score(Options o) {
      double lo = o.eps();
      double hi = 1 - o.eps();
      int parts = Part.values().length;
      double[] partLoss = new double[parts];
      double[] partWeight = new double[parts];
      int[] partRows = new int[parts];
      double[] columnLoss = new double[COLUMNS];
      double[] columnWeight = new double[COLUMNS];
      int[] columnRows = new int[COLUMNS];
      int unscored = 0;
      int spinal = Part.SPINAL.ordinal();
      int anySevere = Part.ANY_SEVERE_SPINAL.ordinal();
      for (int s = 0; s < studies.length; s++) {
        boolean graded = false;
        boolean severe = false;
        double weight = 0;
        double maxSevere = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < COLUMNS; c++) {
          Grade y = grades[s][c];
          if (y == null) {
            unscored++;
            continue;
          }
          double[] p = probabilities[s][c];
          double q0 = clip(p[0], lo, hi);
          double q1 = clip(p[1], lo, hi);
          double q2 = clip(p[2], lo, hi);
          double sum = q0 + q1 + q2;
          double qy = y == Grade.NORMAL_MILD ? q0 : y == Grade.MODERATE ? q1 : q2;
          double l = -Math.log(qy / sum);
          double w = y.weight;
          int part = Part.of(ConditionLevel.ALL.get(c).condition()).ordinal();
          partLoss[part] += w * l;
          partWeight[part] += w;
          partRows[part]++;
          columnLoss[c] += w * l;
          columnWeight[c] += w;
          columnRows[c]++;
          if (part == spinal) {
            graded = true;
            severe |= y == Grade.SEVERE;
            weight = Math.max(weight, w);
            maxSevere = Math.max(maxSevere, p[Grade.SEVERE.ordinal()]);
          }
        }
        if (graded) {
          // Binary: the positive class is "severe"; [1 - p, p] renormalised as log_loss does.
          double p = clip(maxSevere, lo, hi);
          double q = severe ? p : 1 - p;
          double l = -Math.log(q / ((1 - p) + p));
          partLoss[anySevere] += weight * l;
          partWeight[anySevere] += weight;
          partRows[anySevere]++;
        }
      }
      Map<Part, Double> partMap = new EnumMap<>(Part.class);
      Map<Part, Integer> rowMap = new EnumMap<>(Part.class);
      double score = 0;
      for (Part p : Part.values()) {
        double v = partLoss[p.ordinal()] / partWeight[p.ordinal()];
        partMap.put(p, v);
        rowMap.put(p, partRows[p.ordinal()]);
        score += v;
      }
      Map<ConditionLevel, Double> columnMap = new LinkedHashMap<>();
      Map<ConditionLevel, Integer> columnCount = new LinkedHashMap<>();
      for (int c = 0; c < COLUMNS; c++) {
        ConditionLevel cl = ConditionLevel.ALL.get(c);
        columnMap.put(cl, columnRows[c] == 0 ? Double.NaN : columnLoss[c] / columnWeight[c]);
        columnCount.put(cl, columnRows[c]);
      }
      return new Result(
          score / parts, o, studies.length, partMap, rowMap, unscored, columnMap, columnCount);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static double clip(double p, double lo, double hi) {
    return Math.min(Math.max(p, lo), hi);
  }

  private static Options requireOptions(Options options) {
    if (options == null) throw new IllegalArgumentException("options: expected options, got null");
    return options;
  }
}
