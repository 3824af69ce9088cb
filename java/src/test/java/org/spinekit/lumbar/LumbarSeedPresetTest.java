package org.spinekit.lumbar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.synth.LumbarSynth;
import org.spinekit.testing.Subprocess;
import org.spinekit.train.HaltingMain;

/**
 * The seed preset (the write-up's networks and sizes: PVTv2-B4 heatmap nets at 320 px on 16-slice
 * stacks, EfficientNet-B4 crop classifiers at 128 px) trains two steps of every network and
 * predicts, on CPU. Only the batch sizes are cut to one volume and one crop so that a step fits a
 * CI machine; it runs in a child JVM, whose native memory is not capped as the test JVM's is.
 */
class LumbarSeedPresetTest {
  @Test
  void seedPresetRunsTwoStepsOfEveryNetworkAndPredicts(@TempDir Path dir) throws IOException {
    Path data = dir.resolve("data");
    LumbarSynth.generate(data, LumbarSynth.Config.small(8).withStudies(4).withTestStudies(1));
    Path run = dir.resolve("run");
    Subprocess.Result r =
        child(
                "lumbar",
                "train",
                "--preset",
                "seed",
                "--data",
                data.toString(),
                "--out",
                run.toString(),
                "--folds",
                "2",
                "--fold",
                "0",
                "--max-steps",
                "2",
                "--set",
                "batch=1",
                "--set",
                "clsBatch=1")
            .succeeded();
    LumbarBundle b = LumbarBundle.load(run);
    LumbarConfig c = b.config();
    assertEquals("seed", c.preset());
    assertEquals(320, c.size());
    assertEquals(16, c.t2Slices());
    assertEquals("pvt_v2_b4", c.scsEncoder());
    assertEquals("pvt_v2_b4", c.nfnEncoder());
    assertEquals("efficientnet_b4", c.clsEncoder());
    assertEquals(1e-4, c.lr());
    assertEquals(1e-5, c.finalLr());
    for (String net : LumbarBundle.NETS) assertEquals(List.of(0), b.trainedFolds(net), net);
    Path sub = dir.resolve("sub.csv");
    r =
        child(
                "lumbar",
                "predict",
                "--model",
                run.toString(),
                "--data",
                data.toString(),
                "--out",
                sub.toString())
            .succeeded();
    assertEquals(25, Rsna2024.readSubmission(sub).size(), r.describe());
  }

  private static Subprocess.Result child(String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("--threads", "2"));
    all.addAll(List.of(args));
    return HaltingMain.child(
        "none",
        List.of("-Xmx1g", "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0"),
        Duration.ofMinutes(10),
        all);
  }
}
