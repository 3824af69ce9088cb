package org.spinekit.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import org.spinekit.io.dicom.Compression;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.synth.LumbarSynth;

/** {@code spinekit synth cervical|lumbar}: synthetic studies in the Kaggle layouts. */
final class SynthCommand {
  private SynthCommand() {}

  static final String USAGE = String.join("\n",
      "usage: spinekit synth cervical --out DIR [--studies N] [--test-studies N] [--seed S]",
      "                               [--size small|demo] [--image-size P]",
      "                               [--compress none|jpegls|jpeg-lossless|j2k|rle] [--threads T]",
      "       spinekit synth lumbar   --out DIR [--studies N] [--test-studies N] [--seed S]",
      "                               [--size small|demo] [--compress ...] [--threads T]",
      "",
      "cervical  axial CT of C1..T12 with fractures, NIfTI masks, RSNA 2022 CSVs",
      "lumbar    sagittal T1, sagittal T2/STIR and axial T2 MR with graded stenoses, RSNA 2024",
      "          CSVs (train.csv, train_label_coordinates.csv, train_series_descriptions.csv)",
      "--size    small: a few seconds, for tests; demo (default): the demo's set");

  private static final Set<String> VALUED = Set.of("out", "studies", "test-studies", "seed",
      "size", "image-size", "compress", "threads");

  static int run(String[] args) throws IOException {
    if (args.length == 0 || args[0].equals("--help")) {
      System.out.println(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String kind = args[0];
    Options o = new Options("synth " + kind, Arrays.copyOfRange(args, 1, args.length), VALUED,
        Set.of());
    String out = o.string("out", null);
    if (out == null) throw new IllegalArgumentException("synth " + kind + ": --out is required");
    long seed = o.integer("seed", 0);
    String size = o.string("size", "demo");
    if (!size.equals("small") && !size.equals("demo")) {
      throw new IllegalArgumentException("synth " + kind + ": --size expects small or demo, got '"
          + size + "'");
    }
    Compression c = Compression.parse(o.string("compress", "none"));
    int threads = (int) o.integer("threads", Runtime.getRuntime().availableProcessors());
    switch (kind) {
      case "cervical": {
        CervicalSynth.Config cfg = size.equals("small") ? CervicalSynth.Config.small(seed)
            : CervicalSynth.Config.demo(seed);
        cfg = cfg.withCompression(c).withThreads(threads);
        if (o.flag("studies")) cfg = cfg.withStudies((int) o.integer("studies", 0));
        if (o.flag("test-studies")) cfg = cfg.withTestStudies((int) o.integer("test-studies", 0));
        if (o.flag("image-size")) cfg = cfg.withImageSize((int) o.integer("image-size", 0));
        CervicalSynth.Summary s = CervicalSynth.generate(Path.of(out), cfg);
        System.out.printf(Locale.ROOT, "%s: %d training studies (%d with fractures), %d test"
            + " studies, %d files, %.1f MB in %.1f s%n", out, s.studies(), s.fracturedStudies(),
            s.testStudies(), s.files(), s.bytes() / 1e6, s.seconds());
        return 0;
      }
      case "lumbar": {
        LumbarSynth.Config cfg = size.equals("small") ? LumbarSynth.Config.small(seed)
            : LumbarSynth.Config.demo(seed);
        cfg = cfg.withCompression(c).withThreads(threads);
        if (o.flag("studies")) cfg = cfg.withStudies((int) o.integer("studies", 0));
        if (o.flag("test-studies")) cfg = cfg.withTestStudies((int) o.integer("test-studies", 0));
        LumbarSynth.Summary s = LumbarSynth.generate(Path.of(out), cfg);
        System.out.printf(Locale.ROOT, "%s: %d studies, %d series, %d files, %.1f MB in %.1f s%n",
            out, s.studies(), s.series(), s.files(), s.bytes() / 1e6, s.seconds());
        return 0;
      }
      default:
        throw new IllegalArgumentException("synth: expected cervical or lumbar, got '" + kind
            + "'\n\n" + USAGE);
    }
  }
}
