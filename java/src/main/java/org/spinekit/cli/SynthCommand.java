package org.spinekit.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.spinekit.io.dicom.Compression;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.synth.LumbarSynth;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spinekit synth cervical|lumbar}: synthetic studies in the Kaggle layouts. */
@Command(
    name = "synth",
    synopsisSubcommandLabel = "(cervical | lumbar)",
    description = "synthetic RSNA 2022 / RSNA 2024 data sets with ground truth",
    subcommands = {SynthCommand.Cervical.class, SynthCommand.Lumbar.class})
final class SynthCommand implements Callable<Integer>, Cli.NoLibtorch {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    return Cli.missingSubcommand(spec);
  }

  /** Sizes of a synthetic set: small takes a few seconds (tests), demo is the demo's. */
  enum Size {
    small,
    demo
  }

  /** The options both kinds take. */
  static final class Common {
    @Option(
        names = "--out",
        paramLabel = "DIR",
        required = true,
        order = 1,
        description = "the data set's root directory (created)")
    Path out;

    @Option(
        names = "--studies",
        paramLabel = "N",
        converter = Converters.Count.class,
        order = 2,
        description = "training studies (default: the --size preset's)")
    Integer studies;

    @Option(
        names = "--test-studies",
        paramLabel = "N",
        converter = Converters.Count.class,
        order = 3,
        description = "test studies (default: the --size preset's)")
    Integer testStudies;

    @Option(
        names = "--seed",
        paramLabel = "S",
        defaultValue = "0",
        order = 4,
        description =
            "random seed (default ${DEFAULT-VALUE}); the same seed and options give"
                + " the same bytes on any thread count")
    long seed;

    @Option(
        names = "--size",
        paramLabel = "small|demo",
        defaultValue = "demo",
        order = 5,
        description = "preset: small (a few seconds, for tests) or demo (default)")
    Size size;

    @Option(
        names = "--compress",
        paramLabel = "NAME",
        defaultValue = "none",
        order = 7,
        converter = Converters.CompressionName.class,
        completionCandidates = Converters.CompressionNames.class,
        description = "pixel data: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
    Compression compress;
  }

  @Command(
      name = "cervical",
      description = {
        "axial CT of C1..T12 with" + " fractures and NIfTI masks, in the RSNA 2022 layout",
        "(train_images/, segmentations/, train.csv, train_bounding_boxes.csv, synth_truth.csv)"
      })
  static final class Cervical implements Callable<Integer>, Cli.NoLibtorch {
    @Spec CommandSpec spec;

    @Mixin Common o;

    @Option(
        names = "--image-size",
        paramLabel = "P",
        converter = Converters.Positive.class,
        order = 6,
        description = "slice rows and columns (default: the --size preset's)")
    Integer imageSize;

    @Override
    public Integer call() throws IOException {
      CervicalSynth.Config cfg =
          o.size == Size.small
              ? CervicalSynth.Config.small(o.seed)
              : CervicalSynth.Config.demo(o.seed);
      cfg = cfg.withCompression(o.compress).withThreads(RuntimeOptions.of(spec).workers());
      if (o.studies != null) cfg = cfg.withStudies(o.studies);
      if (o.testStudies != null) cfg = cfg.withTestStudies(o.testStudies);
      if (imageSize != null) cfg = cfg.withImageSize(imageSize);
      CervicalSynth.Summary s = CervicalSynth.generate(o.out, cfg);
      System.out.printf(
          Locale.ROOT,
          "%s: %d training and %d test studies (%d of them with"
              + " fractures), %d files, %.1f MB in %.1f s%n",
          o.out,
          s.studies(),
          s.testStudies(),
          s.fracturedStudies(),
          s.files(),
          s.bytes() / 1e6,
          s.seconds());
      return Cli.OK;
    }
  }

  @Command(
      name = "lumbar",
      description = {
        "sagittal T1, sagittal"
            + " T2/STIR and axial T2 MR with graded stenoses, in the RSNA 2024 layout",
        "(train_images/, train.csv, train_label_coordinates.csv, train_series_descriptions.csv,"
            + " synth_truth.csv)"
      })
  static final class Lumbar implements Callable<Integer>, Cli.NoLibtorch {
    @Spec CommandSpec spec;

    @Mixin Common o;

    @Override
    public Integer call() throws IOException {
      LumbarSynth.Config cfg =
          o.size == Size.small ? LumbarSynth.Config.small(o.seed) : LumbarSynth.Config.demo(o.seed);
      cfg = cfg.withCompression(o.compress).withThreads(RuntimeOptions.of(spec).workers());
      if (o.studies != null) cfg = cfg.withStudies(o.studies);
      if (o.testStudies != null) cfg = cfg.withTestStudies(o.testStudies);
      LumbarSynth.Summary s = LumbarSynth.generate(o.out, cfg);
      System.out.printf(
          Locale.ROOT,
          "%s: %d studies, %d series, %d files, %.1f MB in %.1f s%n",
          o.out,
          s.studies(),
          s.series(),
          s.files(),
          s.bytes() / 1e6,
          s.seconds());
      return Cli.OK;
    }
  }
}
