package org.spinekit.cervical;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.testing.Subprocess;
import org.spinekit.train.HaltingMain;

/**
 * The seed preset (the write-up's networks and sizes: EfficientNet-B0 Unet at 320 px,
 * tf_efficientnetv2_s + BiGRU on 24 slices of 224 px) trains two steps of every stage and predicts,
 * on CPU. Only the batch sizes are cut (2 stacks, 1 crop) so that a step fits a CI machine; it runs
 * in a child JVM because one crop's 24 slices at 224 px take gigabytes of activations, beyond the
 * test JVM's native memory cap.
 */
class CervicalSeedPresetTest {
  @Test
  void seedPresetRunsTwoStepsOfEveryStageAndPredicts(@TempDir Path dir) throws IOException {
    Path data = dir.resolve("data");
    CervicalSynth.generate(
        data, CervicalSynth.Config.small(7).withStudies(4).withTestStudies(1).withImageSize(64));
    Path run = dir.resolve("run");
    Subprocess.Result r =
        child(
                "cervical",
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
                "segBatch=2",
                "--set",
                "clsBatch=1")
            .succeeded();
    CervicalBundle b = CervicalBundle.load(run);
    assertEquals("seed", b.config().preset());
    assertEquals(320, b.config().segSize());
    assertEquals("efficientnet-b0", b.config().segEncoder());
    assertEquals("tf_efficientnetv2_s", b.config().clsEncoder());
    assertEquals(224, b.config().clsSize());
    assertEquals(List.of(0), b.trainedFolds("seg"));
    assertEquals(List.of(0), b.trainedFolds("cls"));
    assertTrue(r.stdout().contains("patient_overall rule: "), r.describe());
    Path sub = dir.resolve("sub.csv");
    r =
        child(
                "cervical",
                "predict",
                "--model",
                run.toString(),
                "--data",
                data.toString(),
                "--out",
                sub.toString())
            .succeeded();
    assertEquals(8, Rsna2022.readSubmission(sub).size(), r.describe());
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
