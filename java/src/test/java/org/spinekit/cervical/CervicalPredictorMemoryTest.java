package org.spinekit.cervical;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.nn.StateDict;
import org.spinekit.nn.Unet;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.testing.NativeMemory;

/**
 * Repeated predictions keep native memory flat and give the same answer: a bundle of freshly
 * initialised networks (the shapes of a small configuration) predicts one study in blocks.
 */
class CervicalPredictorMemoryTest {
  @Test
  void repeatedPredictionsKeepNativeMemoryFlatAndRepeatTheirAnswer(@TempDir Path dir)
      throws IOException {
    Path data = dir.resolve("data");
    CervicalSynth.generate(
        data,
        CervicalSynth.Config.small(2)
            .withStudies(0)
            .withTestStudies(1)
            .withImageSize(64)
            .withLastVertebra(8));
    Path study;
    try (var s = java.nio.file.Files.list(data.resolve(CervicalSynth.TEST_IMAGES_DIR))) {
      study = s.findFirst().orElseThrow();
    }
    Volume ct = DicomSeriesReader.read(study);
    Path run = bundle(dir.resolve("run"));
    try (CervicalPredictor p = CervicalPredictor.load(run, null)) {
      String uid = study.getFileName().toString();
      CervicalPredictor.StudyPrediction first = p.predict(uid, ct);
      assertEquals(7, first.boxes().size());
      // A second warm-up: after a suite's other tests (servers, lane threads) the allocator may
      // still grow an arena by tens of MB on the second call, once; a kept study shows in every
      // block below.
      assertArrayEquals(first.vertebrae(), p.predict(uid, ct).vertebrae());
      NativeMemory.Reading[] r =
          NativeMemory.acrossBlocks(
              8,
              () -> {
                for (int i = 0; i < 2; i++) {
                  CervicalPredictor.StudyPrediction q = p.predict(uid, ct);
                  assertArrayEquals(first.vertebrae(), q.vertebrae());
                }
              });
      NativeMemory.assertTrackedFlat(r[0], r[r.length - 1], "predict");
      NativeMemory.assertRssFlat(r, 1 << 20, "a study's tensors (megabytes) kept per prediction");
    }
  }

  /** A bundle of one fold per stage with freshly initialised weights. */
  static Path bundle(Path run) throws IOException {
    CervicalConfig c =
        CervicalConfig.preset("cpu-small")
            .with("folds", "2")
            .with("segSize", "64")
            .with("clsSize", "32")
            .with("clsSlices", "8");
    CervicalBundle b = CervicalBundle.openForTraining(run, c, Map.of());
    try (Unet u = CervicalModels.unet(c);
        CervicalClassifier k = CervicalModels.classifier(c)) {
      java.nio.file.Files.createDirectories(b.segWeights(0).getParent());
      java.nio.file.Files.createDirectories(b.clsWeights(0).getParent());
      StateDict.save(u, b.segWeights(0), Map.of());
      StateDict.save(k, b.clsWeights(0), Map.of());
    }
    b.put("priors", List.of(0.1, 0.2, 0.1, 0.1, 0.1, 0.2, 0.3, 0.5));
    b.put("patientRule", "max");
    return run;
  }
}
