package org.spinekit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.cervical.CervicalBundle;
import org.spinekit.cervical.VertebraBoxes;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.json.Json;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.io.nifti.Nifti;
import org.spinekit.io.nifti.NiftiImage;
import org.spinekit.synth.CervicalSynth;

/**
 * The cervical system end to end on a tiny synthetic set, through the command line: train (every
 * stage, a few steps), predict (submission, report, masks), score; and the bad input a user brings.
 * The seed preset runs in {@code CervicalSeedPresetTest}.
 */
class CervicalPipelineTest {
  @TempDir static Path dir;
  static Path data;
  static Path run;
  static CliRun trained;

  @BeforeAll
  static void train() throws IOException {
    data = dir.resolve("data");
    CervicalSynth.generate(
        data, CervicalSynth.Config.small(3).withStudies(6).withTestStudies(2).withImageSize(64));
    run = dir.resolve("run");
    trained =
        CliRun.of(
            "--threads",
            "2",
            "cervical",
            "train",
            "--data",
            data.toString(),
            "--out",
            run.toString(),
            "--folds",
            "2",
            "--max-steps",
            "2");
  }

  @Test
  void trainWritesACompleteBundle() throws IOException {
    assertEquals(0, trained.rc(), trained.toString());
    CervicalBundle b = CervicalBundle.load(run);
    assertEquals("cpu-small", b.config().preset());
    assertEquals(2, b.config().folds());
    assertEquals(List.of(0), b.trainedFolds("seg"));
    assertEquals(List.of(0), b.trainedFolds("cls"));
    assertTrue(
        List.of("max", "noisy_or").contains(b.get("patientRule")), b.get("patientRule") + "");
    // Every training study has a fold of each stage; the validation fold is not empty.
    Map<String, Integer> cls = b.folds("cls");
    assertEquals(6, cls.size());
    assertTrue(cls.containsValue(0) && cls.containsValue(1), cls.toString());
    assertEquals(6, b.folds("seg").size());
    // Seven boxes per training study, each either found with its slices or recorded as missing.
    List<VertebraBoxes.Entry> boxes = VertebraBoxes.read(b.cropsCsv());
    assertEquals(6 * 7, boxes.size());
    for (VertebraBoxes.Entry e : boxes) {
      if (e.found()) {
        assertEquals(e.sliceMax() - e.sliceMin() + 1, e.instances().length, e.toString());
      } else {
        assertEquals(0, e.instances().length, e.toString());
      }
    }
    for (String stage : List.of("seg", "cls")) {
      Path logs = b.work(stage, 0).resolve("logs");
      assertTrue(Files.isRegularFile(logs.resolve("epochs.csv")), stage);
      assertTrue(Files.isRegularFile(logs.resolve("curves.png")), stage);
    }
    assertTrue(trained.out().contains("patient_overall rule: "), trained.out());
  }

  @Test
  void predictWritesEveryRowReportsAndMasksDeterministically() throws IOException {
    Path sub = dir.resolve("sub.csv"), rep = dir.resolve("report"), masks = dir.resolve("masks");
    CliRun r =
        CliRun.of(
            "--threads",
            "2",
            "cervical",
            "predict",
            "--model",
            run.toString(),
            "--data",
            data.toString(),
            "--out",
            sub.toString(),
            "--report",
            rep.toString(),
            "--masks",
            masks.toString());
    assertEquals(0, r.rc(), r.toString());
    List<Rsna2022.TestRow> test = Rsna2022.readTest(data.resolve(Rsna2022.TEST_CSV));
    List<Rsna2022.Prediction> rows = Rsna2022.readSubmission(sub);
    Set<String> want = new HashSet<>(), got = new HashSet<>();
    for (Rsna2022.TestRow t : test) want.add(t.rowId());
    for (Rsna2022.Prediction p : rows) {
      got.add(p.rowId());
      assertTrue(p.fractured() >= 0 && p.fractured() <= 1, p.toString());
    }
    assertEquals(want, got);
    assertEquals(16, rows.size());
    for (String uid : uids(data.resolve(CervicalSynth.TEST_IMAGES_DIR))) {
      assertTrue(r.out().contains(uid + ": "), r.out());
      assertTrue(r.out().contains("seg forward"), r.out());
      @SuppressWarnings("unchecked")
      Map<String, Object> js =
          (Map<String, Object>) parse(Files.readString(rep.resolve(uid + ".json")));
      assertEquals(uid, js.get("StudyInstanceUID"));
      assertEquals(8, ((Map<?, ?>) js.get("probabilities")).size());
      assertEquals(7, ((List<?>) js.get("boxes")).size());
      BufferedImage png = ImageIO.read(rep.resolve(uid + ".png").toFile());
      assertTrue(png.getWidth() > 64 && png.getHeight() > 64);
      Volume ct = DicomSeriesReader.read(data.resolve(CervicalSynth.TEST_IMAGES_DIR).resolve(uid));
      NiftiImage mask = Nifti.read(masks.resolve(uid + ".nii"));
      Volume back = mask.resampleTo(ct);
      assertEquals(ct.voxelCount(), back.voxelCount());
      for (int z = 0; z < ct.slices(); z += 7) {
        double v = back.value(z, 10, 10);
        assertTrue(v >= 0 && v <= 8, "label " + v);
      }
    }
    // The same bundle and data give the same bytes.
    Path again = dir.resolve("again.csv");
    CliRun r2 =
        CliRun.of(
            "--threads",
            "2",
            "cervical",
            "predict",
            "--model",
            run.toString(),
            "--data",
            data.toString(),
            "--out",
            again.toString());
    assertEquals(0, r2.rc(), r2.toString());
    assertArrayEquals(Files.readAllBytes(sub), Files.readAllBytes(again));
  }

  @Test
  void predictOnTrainingStudiesIsScored() throws IOException {
    Path sub = dir.resolve("train-sub.csv");
    CliRun r =
        CliRun.of(
            "--threads",
            "2",
            "cervical",
            "predict",
            "--model",
            run.toString(),
            "--data",
            data.toString(),
            "--split",
            "train",
            "--out",
            sub.toString());
    assertEquals(0, r.rc(), r.toString());
    CliRun s =
        CliRun.of(
            "cervical",
            "score",
            "--truth",
            data.resolve("train.csv").toString(),
            "--pred",
            sub.toString());
    assertEquals(0, s.rc(), s.toString());
    assertTrue(s.out().startsWith("score: "), s.out());
    double score = Double.parseDouble(s.out().lines().findFirst().orElseThrow().substring(7));
    assertTrue(score > 0 && Double.isFinite(score), s.out());
  }

  @Test
  void aBadStudyGetsPriorsAndANoteAndTheOthersGoOn() throws IOException {
    Path bad = dir.resolve("bad");
    CervicalSynth.generate(
        bad, CervicalSynth.Config.small(5).withStudies(0).withTestStudies(3).withImageSize(64));
    List<String> uids = uids(bad.resolve(CervicalSynth.TEST_IMAGES_DIR));
    // One study with no DICOM at all, one with a corrupt slice.
    Path empty = bad.resolve(CervicalSynth.TEST_IMAGES_DIR).resolve(uids.get(0));
    try (Stream<Path> s = Files.list(empty)) {
      for (Path p : s.toList()) Files.delete(p);
    }
    Files.writeString(empty.resolve("README.txt"), "not DICOM");
    Path corrupt = bad.resolve(CervicalSynth.TEST_IMAGES_DIR).resolve(uids.get(1)).resolve("5.dcm");
    byte[] b = Files.readAllBytes(corrupt);
    Files.write(corrupt, java.util.Arrays.copyOf(b, b.length / 3));
    Path sub = dir.resolve("bad.csv");
    CliRun r =
        CliRun.of(
            "--threads",
            "2",
            "cervical",
            "predict",
            "--model",
            run.toString(),
            "--data",
            bad.toString(),
            "--out",
            sub.toString());
    assertEquals(0, r.rc(), r.toString());
    assertTrue(r.out().contains(uids.get(0) + ": failed, training prevalences written"), r.out());
    assertTrue(r.out().contains(uids.get(1) + ": skipped"), r.out());
    assertTrue(r.out().contains("5.dcm"), r.out());
    assertEquals(24, Rsna2022.readSubmission(sub).size());
  }

  @Test
  void usageAndInputErrorsExit2NamingWhatIsWrong() throws IOException {
    CliRun r =
        CliRun.of("cervical", "train", "--data", dir.resolve("nope").toString(), "--out", "x");
    assertEquals(2, r.rc(), r.toString());
    assertTrue(r.err().contains("nope"), r.err());
    r =
        CliRun.of(
            "cervical",
            "train",
            "--data",
            data.toString(),
            "--out",
            dir.resolve("r2").toString(),
            "--set",
            "segLr=-1");
    assertEquals(2, r.rc(), r.toString());
    assertTrue(r.err().contains("segLr: expected a rate > 0, got -1.0"), r.err());
    // A run directory holding another configuration is refused, naming the difference.
    r =
        CliRun.of(
            "cervical",
            "train",
            "--data",
            data.toString(),
            "--out",
            run.toString(),
            "--folds",
            "3",
            "--stage",
            "cls");
    assertEquals(2, r.rc(), r.toString());
    assertTrue(r.err().contains("folds 2 -> 3"), r.err());
    r =
        CliRun.of(
            "cervical",
            "predict",
            "--model",
            data.toString(),
            "--data",
            data.toString(),
            "--out",
            dir.resolve("x.csv").toString());
    assertEquals(1, r.rc(), r.toString());
    assertTrue(r.err().contains("bundle.json"), r.err());
    // train.csv without a column.
    Path broken = dir.resolve("broken");
    CervicalSynth.generate(
        broken, CervicalSynth.Config.small(4).withStudies(2).withTestStudies(0).withImageSize(64));
    List<String> lines = Files.readAllLines(broken.resolve("train.csv"));
    List<String> cut = new ArrayList<>();
    for (String l : lines) cut.add(l.substring(0, l.lastIndexOf(',')));
    Files.write(broken.resolve("train.csv"), cut);
    r =
        CliRun.of(
            "cervical",
            "train",
            "--data",
            broken.toString(),
            "--out",
            dir.resolve("r3").toString());
    assertEquals(2, r.rc(), r.toString());
    assertTrue(r.err().contains("train.csv"), r.err());
    assertTrue(r.err().contains("C7"), r.err());
    assertFalse(Files.exists(dir.resolve("r3").resolve("bundle.json")));
  }

  private static List<String> uids(Path images) throws IOException {
    try (Stream<Path> s = Files.list(images)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static Object parse(String s) {
    try {
      return Json.parse(s);
    } catch (Json.SyntaxException e) {
      throw new AssertionError(e);
    }
  }
}
