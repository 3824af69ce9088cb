package org.spinekit.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.io.kaggle.Rsna2024.ConditionLevel;
import org.spinekit.lumbar.LumbarMetric;
import org.spinekit.lumbar.LumbarMetric.Part;
import org.spinekit.lumbar.LumbarPoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code spinekit lumbar ...}: the commands of the lumbar grading system. */
@Command(
    name = "lumbar",
    description = "the lumbar grading system (RSNA 2024): train, predict, score, demo",
    subcommands = {
      LumbarRun.Train.class,
      LumbarRun.Predict.class,
      LumbarCommand.Score.class,
      LumbarRun.Demo.class
    })
final class LumbarCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    return Cli.missingSubcommand(spec);
  }

  /**
   * {@code spinekit lumbar score}: a submission against DIR/train.csv with the competition's
   * metric, and the baseline of predicting the truth's own grade shares; predicted label points
   * against DIR/train_label_coordinates.csv ({@link LumbarPoints#accuracy}).
   */
  @Command(
      name = "score",
      description = {
        "scores a submission against DIR/train.csv with the competition's metric, and"
            + " predicted label points against DIR/train_label_coordinates.csv",
        "",
        "The metric: the mean of four weighted log losses (rows weighted 1/2/4 by true grade"
            + " normal_mild/moderate/severe, probabilities clipped to [E, 1 - E] then divided by"
            + " the row's sum): spinal, foraminal, subarticular, and any_severe_spinal (per study,"
            + " the largest severe of its spinal rows against whether any spinal level is"
            + " severe). Blank grades of train.csv are not scored. Prints 'score: <value>' first,"
            + " then the four parts with their row counts, the score of predicting each column's"
            + " grade shares in the truth (the baseline) with the ratio score/baseline, and the"
            + " weighted log loss of each of the 25 columns. Every graded row needs its"
            + " submission row, and no other study may appear.",
        "",
        "With --points, the accuracy of predicted label points follows (alone without --pred):"
            + " a Markdown table with a row per condition and one for all, the share of the truth"
            + " points of DIR/train_label_coordinates.csv whose predicted x and y are within 1, 2"
            + " and 4 pixels of an N-wide heatmap (--grid: |dx| * N / columns, |dy| * N / rows of"
            + " the truth's series) and whose slice is the true one (z<1) or within 2 (z<3),"
            + " slices counted in the series' order. A truth point without a predicted point of"
            + " its (study, condition, level), or with one on another series, is a miss (columns"
            + " 'missing' and 'wrong series')."
      })
  static final class Score implements Callable<Integer>, Cli.NoLibtorch {
    @Spec CommandSpec spec;

    @Option(
        names = "--data",
        paramLabel = "DIR",
        required = true,
        description = "the data set: DIR/train.csv holds the grades (study_id and 25 columns)")
    Path data;

    @Option(
        names = "--pred",
        paramLabel = "submission.csv",
        description =
            "the predictions (row_id,normal_mild,moderate,severe),"
                + " row ids <study_id>_<condition>_<level>; required unless --points is given")
    Path pred;

    @Option(
        names = "--points",
        paramLabel = "points.csv",
        description =
            "predicted label points (study_id,series_id,condition,level,x,y,instance_number,"
                + " condition and level as in train_label_coordinates.csv) to compare with"
                + " DIR/train_label_coordinates.csv")
    Path points;

    @Option(
        names = "--grid",
        paramLabel = "N",
        converter = Converters.Positive.class,
        description =
            "x and y errors of --points are counted in pixels of an N-wide heatmap over the"
                + " image, N >= 1 (default: 80, a 320 pixel input at stride 4)")
    int grid = DEFAULT_GRID;

    /** The heatmap width of the write-ups' point accuracy: 320 pixels at stride 4. */
    static final int DEFAULT_GRID = 80;

    @Option(
        names = "--eps",
        paramLabel = "E",
        converter = Converters.Eps.class,
        description = "probabilities are clipped to [E, 1 - E], 0 < E <= 0.5 (default: 1e-15)")
    double eps = LumbarMetric.Options.DEFAULT_EPS;

    @Override
    public Integer call() throws IOException {
      Cli.existing("lumbar score --data", data);
      Path truth = data.resolve(Rsna2024.TRAIN_CSV);
      if (!Files.isRegularFile(truth)) {
        throw new IllegalArgumentException(
            "lumbar score --data: no "
                + Rsna2024.TRAIN_CSV
                + " in '"
                + data
                + "' ('"
                + truth
                + "')");
      }
      if (pred == null && points == null) {
        throw new ParameterException(
            spec.commandLine(),
            "Missing required option: '--pred=submission.csv' (or '--points=points.csv', or"
                + " both)");
      }
      if (pred != null) Cli.existing("lumbar score --pred", pred);
      // Everything is checked and computed before anything is printed.
      LumbarPoints.Accuracy accuracy = points == null ? null : points();
      if (pred != null) score(truth);
      if (accuracy != null) {
        if (pred != null) System.out.println();
        System.out.printf(
            Locale.ROOT,
            "points: %d truth points, %d predicted (%d without a truth point); x, y in pixels of"
                + " a %d-wide heatmap, z in slices%n",
            accuracy.all().points(),
            accuracy.predicted(),
            accuracy.unmatched(),
            accuracy.grid());
        System.out.print(accuracy.table());
      }
      return Cli.OK;
    }

    private void score(Path truth) throws IOException {
      List<Rsna2024.LumbarLabel> labels = Rsna2024.readTrain(truth);
      List<Rsna2024.Prediction> rows = Rsna2024.readSubmission(pred);
      if (labels.isEmpty()) throw new MalformedFileException(truth, "no study");
      LumbarMetric.Options options = new LumbarMetric.Options(eps);
      LumbarMetric.Result baseline;
      try {
        baseline = LumbarMetric.scoreConstant(labels, LumbarMetric.prevalence(labels), options);
      } catch (IllegalArgumentException e) {
        // Only the truth is involved: a study repeated, or a part without any grade.
        throw new MalformedFileException(truth, e.getMessage(), e);
      }
      LumbarMetric.Result r;
      try {
        r = LumbarMetric.score(labels, rows, options);
      } catch (IllegalArgumentException e) {
        // The submission does not fit the truth: name both files.
        throw new MalformedFileException(pred, e.getMessage() + " (truth: " + truth + ")", e);
      }
      print(r, baseline);
    }

    private LumbarPoints.Accuracy points() throws IOException {
      Cli.existing("lumbar score --points", points);
      Path coordinates = data.resolve(Rsna2024.COORDINATES_CSV);
      if (!Files.isRegularFile(coordinates)) {
        throw new IllegalArgumentException(
            "lumbar score --points: no "
                + Rsna2024.COORDINATES_CSV
                + " in '"
                + data
                + "' to compare the points with");
      }
      Rsna2024.Dataset ds = Rsna2024.open(data);
      List<LumbarPoints.Point> predicted = LumbarPoints.read(points);
      try {
        return LumbarPoints.accuracy(ds, predicted, grid, RuntimeOptions.of(spec).workers());
      } catch (IllegalArgumentException e) {
        throw new MalformedFileException(
            points, e.getMessage() + " (truth: " + coordinates + ")", e);
      }
    }

    private static void print(LumbarMetric.Result r, LumbarMetric.Result baseline) {
      System.out.println("score: " + r.score());
      System.out.printf(
          Locale.ROOT,
          "eps: %s, studies: %d, blank grades not scored: %d%n",
          r.options().eps(),
          r.studies(),
          r.unscored());
      System.out.printf(Locale.ROOT, "%-18s %7s %10s%n", "part", "rows", "log loss");
      for (Part p : Part.values()) {
        System.out.printf(Locale.ROOT, "%-18s %7d %10.6f%n", p.label(), r.rows().get(p), r.part(p));
      }
      System.out.printf(
          Locale.ROOT,
          "baseline: %.6f (each column's grade shares in the truth, for every study)%n",
          baseline.score());
      System.out.printf(Locale.ROOT, "score/baseline: %.4f%n", r.score() / baseline.score());
      System.out.printf(Locale.ROOT, "%-38s %5s %10s%n", "column", "rows", "log loss");
      for (ConditionLevel c : ConditionLevel.ALL) {
        double v = r.columnLogLoss().get(c);
        System.out.printf(
            Locale.ROOT,
            "%-38s %5d %10s%n",
            c.column(),
            r.columnRows().get(c),
            Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.6f", v));
      }
    }
  }
}
