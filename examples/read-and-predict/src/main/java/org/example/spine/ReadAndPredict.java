package org.example.spine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.nn.NameMap;
import org.spinekit.nn.Net;
import org.spinekit.nn.StateDict;
import org.spinekit.nn.Zoo;
import org.spinekit.ops.Stack25d;
import org.spinekit.ops.Window;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.tensor.Tensors;

/**
 * Reads a CT series, makes 2.5D bone-window images of it and runs a ResNet-18 with seven outputs
 * (one per cervical vertebra) over them.
 *
 * <pre>
 * ReadAndPredict                          a synthetic study, freshly generated; random weights
 * ReadAndPredict SERIES_DIR               a DICOM series of your own
 * ReadAndPredict SERIES_DIR W.safetensors and weights of your own (timm/torchvision resnet18 keys)
 * </pre>
 */
public final class ReadAndPredict {
  private ReadAndPredict() {}

  public static void main(String[] args) throws IOException {
    // Threads, seed and libtorch's start-up, once per process (SPINEKIT_* variables apply).
    NativeRuntime.State runtime = NativeRuntime.ensureConfigured();
    NativeRuntime.seed(1);
    Path tmp = null;
    try {
      Path series;
      if (args.length > 0) {
        series = Path.of(args[0]);
      } else {
        tmp = Files.createTempDirectory("spinekit-example");
        CervicalSynth.Config config =
            CervicalSynth.Config.small(20260101).withStudies(1).withTestStudies(0);
        CervicalSynth.generate(tmp, config);
        String uid = CervicalSynth.plan(config).get(0).studyUid();
        series = tmp.resolve("train_images").resolve(uid);
        System.out.println("generated a synthetic cervical CT study: " + series);
      }

      // 1. DICOM series -> volume (slices sorted along the normal, rescale kept).
      Volume volume = DicomSeriesReader.read(series);
      System.out.printf(
          Locale.ROOT,
          "read %d slices of %d x %d (%s) from %s%n",
          volume.slices(),
          volume.rows(),
          volume.columns(),
          volume.series().transferSyntaxUid(),
          series);
      for (String w : volume.warnings()) System.out.println("warning: " + w);

      // 2. The model; weights from a safetensors file (strict: every key must match).
      try (Net net = Zoo.create("resnet18", 3, 7)) {
        Path weights;
        if (args.length > 1) {
          weights = Path.of(args[1]);
        } else {
          if (tmp == null) tmp = Files.createTempDirectory("spinekit-example");
          weights = tmp.resolve("resnet18-random.safetensors");
          StateDict.save(net, weights, Map.of("note", "random weights, seed 1"));
          System.out.println("no weights given: random ones (seed 1); scores are not predictions");
        }
        StateDict.Report report = StateDict.load(net, weights, NameMap.identity(), true);
        System.out.println("loaded " + weights + (report.complete() ? "" : " (incomplete)"));
        net.eval();

        // 3. 2.5D images (each slice with its neighbours as channels), bone window, 224 x 224,
        //    in batches of 16 slices; each vertebra's highest score over the series.
        Stack25d.Options o = Stack25d.Options.defaults().withSize(224, 224).withWindow(Window.BONE);
        float[] best = new float[7];
        long t0 = System.nanoTime();
        try (PointerScope scope = new PointerScope();
            NoGradGuard noGrad = new NoGradGuard()) {
          Tensor images = Stack25d.images(volume, o);
          for (long from = 0; from < images.size(0); from += 16) {
            try (PointerScope batch = new PointerScope()) {
              Tensor x = images.narrow(0, from, Math.min(16, images.size(0) - from));
              float[] p = Tensors.floats(net.forward(x).sigmoid().amax(new long[] {0}, false));
              for (int v = 0; v < 7; v++) best[v] = Math.max(best[v], p[v]);
            }
          }
        }
        System.out.printf(
            Locale.ROOT,
            "resnet18 over %d images of 3 x 224 x 224 in %.1f s (%d libtorch threads)%n",
            volume.slices(),
            (System.nanoTime() - t0) / 1e9,
            runtime.threads());
        StringBuilder line = new StringBuilder("highest score per vertebra:");
        for (int v = 0; v < 7; v++) {
          line.append(String.format(Locale.ROOT, "  C%d %.3f", v + 1, best[v]));
        }
        System.out.println(line);
      }
    } finally {
      if (tmp != null) deleteTree(tmp);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      List<Path> paths = walk.sorted(Comparator.reverseOrder()).toList();
      for (Path p : paths) Files.deleteIfExists(p);
    }
  }
}
