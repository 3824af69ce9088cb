package org.spinekit.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.spinekit.cervical.CervicalMetric;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.kaggle.Rsna2022;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spinekit cervical ...}: the commands of the cervical fracture system. */
@Command(
    name = "cervical",
    description = "the cervical fracture system (RSNA 2022): train, predict, score",
    subcommands = {
      CervicalRun.Train.class,
      CervicalRun.Predict.class,
      CervicalCommand.Score.class,
      CervicalRun.Demo.class
    })
final class CervicalCommand implements Callable<Integer>, Cli.NoLibtorch {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    return Cli.missingSubcommand(spec);
  }

  /**
   * {@code spinekit cervical score}: a submission against train.csv with the competition's metric,
   * the AUCs, and the baseline of predicting the truth's own prevalence.
   */
  @Command(
      name = "score",
      description = {
        "scores a submission against train.csv with the competition's metric",
        "",
        "The metric: weighted log loss over patient_overall and C1..C7 (weights 7/14 and 1/2"
            + " for negative/positive), each study's weighted mean averaged over the studies"
            + " (--average row: one weighted mean over all rows). Prints 'score: <value>' first,"
            + " then per column the positives, the mean log loss and the ROC AUC, the pooled"
            + " vertebra AUC, the patient AUC, and the score of predicting each column's"
            + " prevalence in the truth (the baseline) with the ratio score/baseline. Every"
            + " study of the truth needs its eight rows, and no other study may appear."
      })
  static final class Score implements Callable<Integer>, Cli.NoLibtorch {
    @Option(
        names = "--truth",
        paramLabel = "train.csv",
        required = true,
        description = "the labels (StudyInstanceUID,patient_overall,C1,...,C7)")
    Path truth;

    @Option(
        names = "--pred",
        paramLabel = "submission.csv",
        required = true,
        description = "the predictions (row_id,fractured), row ids <StudyInstanceUID>_<column>")
    Path pred;

    @Option(
        names = "--eps",
        paramLabel = "E",
        converter = Converters.Eps.class,
        description = "probabilities are clipped to [E, 1 - E], 0 < E <= 0.5 (default: 1e-15)")
    double eps = CervicalMetric.Options.DEFAULT_EPS;

    @Option(
        names = "--average",
        paramLabel = "study|row",
        converter = AveragingName.class,
        completionCandidates = AveragingNames.class,
        description =
            "study: the mean over studies of each study's weighted mean (the competition's,"
                + " default); row: one weighted mean over all rows")
    CervicalMetric.Averaging average = CervicalMetric.Averaging.STUDY;

    @Override
    public Integer call() throws IOException {
      Cli.existing("cervical score --truth", truth);
      Cli.existing("cervical score --pred", pred);
      List<Rsna2022.CervicalLabel> labels = Rsna2022.readTrain(truth);
      List<Rsna2022.Prediction> rows = Rsna2022.readSubmission(pred);
      if (labels.isEmpty()) throw new MalformedFileException(truth, "no study");
      CervicalMetric.Options options = new CervicalMetric.Options(eps, average);
      CervicalMetric.Result r;
      try {
        r = CervicalMetric.score(labels, rows, options);
      } catch (IllegalArgumentException e) {
        // The submission does not fit the truth: name both files.
        throw new MalformedFileException(pred, e.getMessage() + " (truth: " + truth + ")", e);
      }
      CervicalMetric.Result baseline =
          CervicalMetric.scoreConstant(labels, CervicalMetric.prevalence(labels), options);
      print(r, baseline);
      return Cli.OK;
    }

    private static void print(CervicalMetric.Result r, CervicalMetric.Result baseline) {
      System.out.println("score: " + r.score());
      System.out.printf(
          Locale.ROOT,
          "averaging: %s, eps: %s, studies: %d%n",
          r.options().averaging().label(),
          r.options().eps(),
          r.studies());
      System.out.printf(
          Locale.ROOT, "%-16s %11s %10s %8s%n", "column", "positives", "log loss", "AUC");
      for (String c : Rsna2022.TARGETS) {
        System.out.printf(
            Locale.ROOT,
            "%-16s %11s %10.6f %8s%n",
            c,
            r.positives().get(c) + "/" + r.studies(),
            r.logLoss().get(c),
            auc(r.auc().get(c)));
      }
      System.out.println("vertebra AUC: " + auc(r.vertebraAuc()) + " (C1..C7 pooled)");
      System.out.println("patient AUC: " + auc(r.patientAuc()));
      System.out.printf(
          Locale.ROOT,
          "baseline: %.6f (each column's prevalence in the truth, for every study)%n",
          baseline.score());
      System.out.printf(Locale.ROOT, "score/baseline: %.4f%n", r.score() / baseline.score());
      for (String note : r.notes()) System.out.println("note: " + note);
    }

    private static String auc(double v) {
      return Double.isNaN(v) ? "NaN" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** {@code study} or {@code row} ({@link CervicalMetric.Averaging#parse}). */
    static final class AveragingName extends Cli.Converter<CervicalMetric.Averaging> {
      @Override
      protected CervicalMetric.Averaging parse(String text) {
        return CervicalMetric.Averaging.parse(text);
      }
    }

    /** The names {@link AveragingName} takes, for the help. */
    static final class AveragingNames implements Iterable<String> {
      @Override
      public Iterator<String> iterator() {
        return List.of("study", "row").iterator();
      }
    }
  }
}
