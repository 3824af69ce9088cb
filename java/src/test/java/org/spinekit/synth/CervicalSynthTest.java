package org.spinekit.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.CodecSupport;
import org.spinekit.io.dicom.Compression;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.dicom.DicomWriter;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.io.nifti.Nifti;
import org.spinekit.io.nifti.NiftiImage;

/** The generator on disk: determinism, the Kaggle layout, and reading it back unchanged. */
class CervicalSynthTest {
  @TempDir Path tmp;

  @Test
  void sameConfigSameBytesWhateverTheThreads() throws IOException {
    CervicalSynth.Config c =
        CervicalSynth.Config.small(5)
            .withStudies(2)
            .withImageSize(64)
            .withPixelSpacing(2)
            .withSliceSpacing(1.5);
    CervicalSynth.Summary s1 = CervicalSynth.generate(tmp.resolve("a"), c.withThreads(2));
    CervicalSynth.generate(tmp.resolve("b"), c.withThreads(1));
    List<Path> a = files(tmp.resolve("a"));
    List<Path> b = files(tmp.resolve("b"));
    assertEquals(a, b);
    for (Path p : a) {
      assertArrayEquals(
          Files.readAllBytes(tmp.resolve("a").resolve(p)),
          Files.readAllBytes(tmp.resolve("b").resolve(p)),
          p.toString());
    }
    assertEquals(a.size(), s1.files());
    long bytes = 0;
    for (Path p : a) bytes += Files.size(tmp.resolve("a").resolve(p));
    assertEquals(bytes, s1.bytes());
    assertEquals(3, s1.series());

    CervicalSynth.generate(tmp.resolve("c"), c.withSeed(6).withTestStudies(0));
    assertFalse(
        Files.readString(tmp.resolve("a/train.csv"))
            .equals(Files.readString(tmp.resolve("c/train.csv"))),
        "seeds 5 and 6: same studies");
  }

  @Test
  void generatedStudiesReadBackThroughTheKaggleReaders() throws IOException {
    CervicalSynth.Config c = CervicalSynth.Config.small(8);
    Path root = tmp.resolve("rsna");
    CervicalSynth.Summary sum = CervicalSynth.generate(root, c);
    assertEquals(3, sum.studies());
    assertEquals(1, sum.testStudies());
    assertTrue(sum.seconds() > 0);

    List<CervicalSynth.StudySpec> plan = CervicalSynth.plan(c);
    Rsna2022.Dataset ds = Rsna2022.open(root);
    assertEquals(3, ds.train().size());
    List<CervicalTruth.Row> truth = CervicalTruth.read(root.resolve(CervicalSynth.TRUTH_CSV));
    assertEquals(4 * 19, truth.size());
    List<Rsna2022.FractureBox> boxes =
        Rsna2022.readBoundingBoxes(root.resolve(Rsna2022.BOUNDING_BOXES_CSV));
    int fractured = 0;
    for (CervicalSynth.StudySpec spec : plan) {
      CervicalSynth.Study mem = CervicalSynth.study(c, spec);
      Volume img = mem.render().image();
      int n = img.slices();
      Path dir =
          root.resolve(spec.test() ? "test_images" : "train_images").resolve(spec.studyUid());
      Volume read = DicomSeriesReader.read(dir);
      assertEquals(spec.studyUid(), read.series().studyInstanceUid());
      assertEquals(spec.seriesUid(), read.series().seriesInstanceUid());
      assertEquals(n, read.slices());
      assertEquals(img.rows(), read.rows());
      assertEquals(img.columns(), read.columns());
      // the reader orders slices from the lowest position up; instance 1 is the top slice
      for (int j = 0; j < n; j++) {
        assertEquals(n - j, read.sources().get(j).instanceNumber());
        assertArrayEquals(img.toPatient(n - 1 - j, 0, 0), read.toPatient(j, 0, 0), 1e-4);
      }
      short[] m = mem.render().mask().shorts();
      int plane = img.rows() * img.columns();
      for (int k = 0; k < n; k++) {
        for (int r = 0; r < img.rows(); r++) {
          for (int x = 0; x < img.columns(); x++) {
            assertEquals(
                img.value(k, r, x),
                read.value(n - 1 - k, r, x),
                0,
                spec.studyUid() + " voxel " + k + "," + r + "," + x);
          }
        }
      }
      Path seg = root.resolve("segmentations").resolve(spec.studyUid() + ".nii");
      assertEquals(!spec.test(), Files.isRegularFile(seg), seg.toString());
      if (spec.test()) {
        assertFalse(ds.segmentations().containsKey(spec.studyUid()));
      } else {
        assertEquals(seg, ds.segmentations().get(spec.studyUid()));
        NiftiImage nii = Nifti.read(seg);
        assertEquals(NiftiImage.Datatype.UINT8, nii.datatype());
        assertEquals("LAS", nii.axcodes());
        // the mask on the grid of the series as read: equal to the phantom's, and on bone
        Volume labels = nii.resampleTo(read);
        double[] sum2 = new double[20];
        long[] cnt = new long[20];
        for (int j = 0; j < n; j++) {
          for (int r = 0; r < img.rows(); r++) {
            for (int x = 0; x < img.columns(); x++) {
              int l = (int) labels.value(j, r, x);
              assertEquals(
                  m[(n - 1 - j) * plane + r * img.columns() + x],
                  l,
                  spec.studyUid() + " label at " + j + "," + r + "," + x);
              sum2[l] += read.value(j, r, x);
              cnt[l]++;
            }
          }
        }
        for (int l = 1; l <= 9; l++) {
          assertTrue(
              cnt[l] > 0 && sum2[l] / cnt[l] > 250,
              spec.studyUid() + " label " + l + " mean HU " + sum2[l] / cnt[l]);
        }
        for (int l = 10; l <= 19; l++) assertEquals(0, cnt[l]);
      }

      // truth table and train.csv agree with the phantom
      boolean any = false;
      boolean[] broken = new boolean[7];
      for (CervicalTruth.Row row : truth) {
        if (!row.studyUid().equals(spec.studyUid())) continue;
        assertEquals(spec.test(), row.test());
        CervicalTruth want = mem.render().truth().get(row.truth().label() - 1);
        CervicalTruth got = row.truth();
        assertEquals(want.label(), got.label());
        assertEquals(want.fracture(), got.fracture());
        assertEquals(want.voxels(), got.voxels());
        assertEquals(want.centerSlice(), got.centerSlice(), 1e-3);
        assertEquals(want.centerRow(), got.centerRow(), 1e-3);
        assertEquals(want.centerColumn(), got.centerColumn(), 1e-3);
        assertArrayEquals(
            new int[] {
              want.sliceMin(),
              want.sliceMax(),
              want.rowMin(),
              want.rowMax(),
              want.columnMin(),
              want.columnMax()
            },
            new int[] {
              got.sliceMin(),
              got.sliceMax(),
              got.rowMin(),
              got.rowMax(),
              got.columnMin(),
              got.columnMax()
            });
        if (row.truth().label() <= 7 && row.truth().fracture() != null) {
          broken[row.truth().label() - 1] = true;
          any = true;
        }
      }
      assertEquals(spec.fractured(), any, spec.studyUid());
      if (any) fractured++;
      if (spec.test()) {
        assertFalse(ds.imageDirs().containsKey(spec.studyUid()));
        continue;
      }
      Rsna2022.CervicalLabel label = ds.train().get(spec.index());
      assertEquals(spec.studyUid(), label.studyUid());
      assertArrayEquals(broken, label.vertebrae());
      assertEquals(any, label.patientOverall());
      assertEquals(dir, ds.imageDirs().get(spec.studyUid()));

      // every box lies on its fractured vertebra in the slice with that instance number
      int studyBoxes = 0;
      Set<Integer> boxedLabels = new HashSet<>();
      for (Rsna2022.FractureBox b : boxes) {
        if (!b.studyUid().equals(spec.studyUid())) continue;
        studyBoxes++;
        assertTrue(Files.isRegularFile(dir.resolve(b.sliceNumber() + ".dcm")));
        int k = b.sliceNumber() - 1;
        int hit = 0;
        for (int y = (int) b.y(); y < b.y() + b.height(); y++) {
          for (int x = (int) b.x(); x < b.x() + b.width(); x++) {
            int l = m[k * plane + y * img.columns() + x];
            if (l >= 1 && l <= 7 && broken[l - 1]) {
              hit++;
              boxedLabels.add(l);
            }
          }
        }
        assertTrue(hit > 0, "box " + b + " covers no fractured vertebra");
      }
      assertEquals(any, studyBoxes > 0);
      for (int l = 1; l <= 7; l++) {
        assertEquals(broken[l - 1], boxedLabels.contains(l), spec.studyUid() + " C" + l);
      }
    }
    assertEquals(3, fractured, "round(0.5 * 3) training and round(0.5 * 1) test studies");

    List<Rsna2022.TestRow> test = Rsna2022.readTest(root.resolve(Rsna2022.TEST_CSV));
    assertEquals(8, test.size());
    List<Rsna2022.Prediction> sample =
        Rsna2022.readSubmission(root.resolve(Rsna2022.SAMPLE_SUBMISSION_CSV));
    assertEquals(8, sample.size());
    assertEquals(plan.get(3).studyUid(), test.get(0).studyUid());
  }

  @Test
  @Tag("codec")
  void compressedSeriesRepeatAndDecodeToTheSameVoxels() throws IOException {
    assumeTrue(CodecSupport.EXTERNAL, "writing compressed DICOM needs spinekit-gdcm");
    CervicalSynth.Config c =
        CervicalSynth.Config.small(9)
            .withStudies(1)
            .withTestStudies(0)
            .withImageSize(64)
            .withPixelSpacing(2)
            .withSliceSpacing(2);
    CervicalSynth.StudySpec spec = CervicalSynth.plan(c).get(0);
    Volume mem = CervicalSynth.study(c, spec).render().image();
    for (Compression z :
        List.of(Compression.JPEG_LS, Compression.JPEG_LOSSLESS, Compression.JPEG2000)) {
      Path root = tmp.resolve(z.name());
      CervicalSynth.generate(root, c.withCompression(z));
      Path again = tmp.resolve(z.name() + "-again");
      CervicalSynth.generate(again, c.withCompression(z).withThreads(1));
      List<Path> files = files(root);
      assertEquals(files, files(again));
      for (Path p : files) {
        assertArrayEquals(
            Files.readAllBytes(root.resolve(p)), Files.readAllBytes(again.resolve(p)), z + " " + p);
      }
      Volume read = DicomSeriesReader.read(root.resolve("train_images").resolve(spec.studyUid()));
      assertEquals(z.transferSyntaxUid, read.series().transferSyntaxUid(), z.name());
      int n = mem.slices();
      for (int k = 0; k < n; k++) {
        for (int r = 0; r < mem.rows(); r++) {
          for (int x = 0; x < mem.columns(); x++) {
            assertEquals(mem.value(k, r, x), read.value(n - 1 - k, r, x), 0, z + " voxel");
          }
        }
      }
    }
  }

  @Test
  void planGivesValidDistinctUidsAndHalfFractured() {
    CervicalSynth.Config c = CervicalSynth.Config.small(1).withStudies(40).withTestStudies(10);
    List<CervicalSynth.StudySpec> plan = CervicalSynth.plan(c);
    assertEquals(plan, CervicalSynth.plan(c));
    assertEquals(50, plan.size());
    Set<String> uids = new HashSet<>();
    int trainFractured = 0;
    int testFractured = 0;
    for (CervicalSynth.StudySpec s : plan) {
      assertTrue(s.studyUid().startsWith("1.2.826.0.1.3680043."));
      for (String u :
          List.of(s.studyUid(), s.seriesUid(), s.frameOfReferenceUid(), s.seriesUid() + ".9999")) {
        assertEquals(u, DicomWriter.uid(u, "uid"));
        assertTrue(uids.add(u), "repeated " + u);
      }
      assertFalse(s.studyUid().endsWith(".20574") || s.studyUid().endsWith(".29952"));
      if (s.fractured()) {
        if (s.test()) testFractured++;
        else trainFractured++;
      }
      assertEquals(s.index() >= 40, s.test());
    }
    assertEquals(20, trainFractured);
    assertEquals(5, testFractured);
    List<CervicalSynth.StudySpec> other = CervicalSynth.plan(c.withSeed(2));
    assertFalse(
        other.get(0).studyUid().equals(plan.get(0).studyUid())
            && other.get(1).studyUid().equals(plan.get(1).studyUid()));
  }

  @Test
  void rerunsReplaceTheirOwnStudiesAndRefuseOthers() throws IOException {
    CervicalSynth.Config c =
        CervicalSynth.Config.small(3)
            .withStudies(1)
            .withTestStudies(0)
            .withImageSize(64)
            .withPixelSpacing(2)
            .withSliceSpacing(2)
            .withLastVertebra(10);
    Path root = tmp.resolve("again");
    CervicalSynth.generate(root, c);
    // same studies, shorter series: the extra slices of the first run go
    CervicalSynth.Config shorter = c.withLastVertebra(8);
    CervicalSynth.StudySpec spec = CervicalSynth.plan(shorter).get(0);
    int slices = CervicalSynth.study(shorter, spec).render().image().slices();
    CervicalSynth.generate(root, shorter);
    Path dir = root.resolve("train_images").resolve(spec.studyUid());
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(slices, s.count());
    }
    assertEquals(slices, DicomSeriesReader.read(dir).slices());
    Rsna2022.open(root);

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> CervicalSynth.generate(root, c.withSeed(4)));
    assertTrue(e.getMessage().startsWith("out: "), e.getMessage());
    assertTrue(e.getMessage().contains(spec.studyUid()), e.getMessage());
  }

  @Test
  void badConfigNamesTheField() {
    CervicalSynth.Config c = CervicalSynth.Config.small(1);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> c.withImageSize(8));
    assertTrue(e.getMessage().startsWith("imageSize"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> c.withLastVertebra(7));
    assertTrue(e.getMessage().startsWith("lastVertebra"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> c.withFractureRate(1.5));
    assertTrue(e.getMessage().startsWith("fractureRate"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> c.withStudies(0).withTestStudies(0));
    assertTrue(e.getMessage().startsWith("studies"), e.getMessage());
    CervicalSynth.Config demo = CervicalSynth.Config.demo(1);
    assertEquals(256, demo.imageSize());
    assertTrue(demo.studies() > c.studies());
  }

  private static List<Path> files(Path root) throws IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(Files::isRegularFile).map(root::relativize).sorted().forEach(out::add);
    }
    return out;
  }
}
