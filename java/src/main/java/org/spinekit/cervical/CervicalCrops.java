package org.spinekit.cervical;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.augment.Sample;
import org.spinekit.augment.Transform;
import org.spinekit.io.SliceSource;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomFile;
import org.spinekit.io.dicom.DicomImage;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.kaggle.Rsna2022;
import org.spinekit.ops.CropSample;
import org.spinekit.tensor.Outputs;
import org.spinekit.train.Dataset;
import org.spinekit.train.Example;

/**
 * The lazy stage-2 data set of the cervical system: one sample per vertebra C1..C7 of every
 * training study, the input the crop of the vertebra's box sampled to n slices (24 by default,
 * {@link CropSample}) and the target 1 when that vertebra is fractured (train.csv), else 0.
 *
 * <p>A {@link Crop} holds the box and the ids (file, frame) of the slices the box spans, never
 * voxels; {@link #get} reads just the distinct slices the n samples fall on ({@link DicomFile#read}
 * per file), crops them, and applies the augmentation, if any.
 */
public final class CervicalCrops implements Dataset {
  /**
   * One vertebra of one study: its voxel box on the series volume ([slice, row, column],
   * half-open), the series' image size and slice count, the slices {@code [first, first +
   * slices.size())} of the series that the box with the z margin reaches, and its label.
   */
  public record Crop(
      String studyUid,
      int vertebra,
      CropSample.Box box,
      int seriesSlices,
      int rows,
      int columns,
      int first,
      List<SliceSource> slices,
      boolean fractured) {
    public Crop {
      if (vertebra < 1 || vertebra > 7) {
        throw new IllegalArgumentException("vertebra: expected 1..7 (C1..C7), got " + vertebra);
      }
      slices = List.copyOf(slices);
    }
  }

  private final List<Crop> records;
  private final CropSample.Options crop;
  private final Transform augment;

  /**
   * @param crop slices, output size, margins, padding and window of each crop
   * @param augment applied to the [n, H, W] crop with the sample's generator (null: none)
   */
  public CervicalCrops(List<Crop> records, CropSample.Options crop, Transform augment) {
    if (records == null || records.isEmpty()) {
      throw new IllegalArgumentException(
          "records: expected at least one record, got " + (records == null ? "null" : "none"));
    }
    if (crop == null) throw new IllegalArgumentException("crop: expected options, got null");
    for (Crop r : records) {
      long lo = Math.max(0, r.box().z0() - crop.marginZ());
      long hi = Math.min(r.seriesSlices(), r.box().z1() + crop.marginZ());
      if (r.first() != lo || r.slices().size() != Math.max(0, hi - lo)) {
        throw new IllegalArgumentException(
            "records: "
                + r.studyUid()
                + " C"
                + r.vertebra()
                + " holds slices ["
                + r.first()
                + ", "
                + (r.first() + r.slices().size())
                + ") but the box with z margin "
                + crop.marginZ()
                + " needs ["
                + lo
                + ", "
                + hi
                + ")");
      }
    }
    this.records = List.copyOf(records);
    this.crop = crop;
    this.augment = augment;
  }

  public List<Crop> records() {
    return records;
  }

  @Override
  public int size() {
    return records.size();
  }

  @Override
  public Example get(int index, SplittableRandom rng) throws IOException {
    if (index < 0 || index >= records.size()) {
      throw new IllegalArgumentException(
          "index: expected 0.." + (records.size() - 1) + ", got " + index);
    }
    Crop r = records.get(index);
    CropSample.Box b = r.box();
    long z0 = b.z0() - crop.marginZ();
    long[] z = CropSample.sliceIndices(b.z1() - b.z0() + 2 * crop.marginZ(), crop.n());
    // Only the rows and columns the crop reaches (plus one voxel of bilinear footprint),
    // clipped to the image: outside it the crop pads, as it would on the whole volume.
    int ya = (int) Math.max(0, b.y0() - crop.marginY() - 1);
    int yb = (int) Math.min(r.rows(), b.y1() + crop.marginY() + 1);
    int xa = (int) Math.max(0, b.x0() - crop.marginX() - 1);
    int xb = (int) Math.min(r.columns(), b.x1() + crop.marginX() + 1);
    if (ya >= yb || xa >= xb) {
      ya = 0;
      yb = 1;
      xa = 0;
      xb = 1; // a box wholly outside the image: one voxel that the crop never reaches
    }
    int h = yb - ya, w = xb - xa, plane = h * w;
    float[] voxels = new float[crop.n() * plane];
    Map<Long, Integer> done = new HashMap<>();
    for (int i = 0; i < z.length; i++) {
      long s = z[i] + z0;
      int dst = i * plane;
      Integer same = done.get(s);
      if (same != null) {
        System.arraycopy(voxels, same * plane, voxels, dst, plane);
      } else if (s < 0 || s >= r.seriesSlices()) {
        Arrays.fill(voxels, dst, dst + plane, (float) crop.pad());
      } else {
        SliceSource src = r.slices().get((int) (s - r.first()));
        DicomImage im = DicomFile.read(src.file());
        if (im.header().rows() != r.rows() || im.header().columns() != r.columns()) {
          throw new IOException(
              src.file()
                  + ": image is "
                  + im.header().rows()
                  + " x "
                  + im.header().columns()
                  + ", the series "
                  + r.rows()
                  + " x "
                  + r.columns());
        }
        float slope = (float) im.header().slope();
        float intercept = (float) im.header().intercept();
        short[] px = im.pixels();
        boolean signed = im.header().signed();
        for (int y = ya; y < yb; y++) {
          int from = (src.frame() * r.rows() + y) * r.columns() + xa;
          int to = dst + (y - ya) * w;
          if (signed) {
            for (int k = 0; k < w; k++) voxels[to + k] = px[from + k] * slope + intercept;
          } else {
            for (int k = 0; k < w; k++) {
              voxels[to + k] = (px[from + k] & 0xffff) * slope + intercept;
            }
          }
        }
      }
      done.putIfAbsent(s, i);
    }
    Volume sub = Volume.builder(crop.n(), h, w).floats(voxels).build();
    CropSample.Box subBox =
        new CropSample.Box(0, crop.n(), b.y0() - ya, b.y1() - ya, b.x0() - xa, b.x1() - xa);
    CropSample.Options subOptions = crop.withMargin(0, crop.marginY(), crop.marginX());
    try (PointerScope scope = new PointerScope()) {
      Tensor image = CropSample.sample(sub, subBox, subOptions);
      if (augment != null) image = augment.apply(new Sample(image, null, null), rng).image();
      return new Example(Outputs.handOut(scope, image), new float[] {r.fractured() ? 1f : 0f});
    }
  }

  // ------------------------------------------------------------------ building records

  /**
   * A vertebra's box as a table of boxes gives it: the slices it spans by Instance Number ({@code
   * firstInstance..lastInstance}, inclusive, in whatever order the scanner numbered them) and the
   * inclusive row and column bounds on the series' images.
   */
  public record InstanceBox(
      String studyUid,
      int vertebra,
      int firstInstance,
      int lastInstance,
      int rowMin,
      int rowMax,
      int columnMin,
      int columnMax) {
    public InstanceBox {
      if (vertebra < 1 || vertebra > 7) {
        throw new IllegalArgumentException("vertebra: expected 1..7 (C1..C7), got " + vertebra);
      }
      if (firstInstance > lastInstance || rowMin > rowMax || columnMin > columnMax) {
        throw new IllegalArgumentException(
            studyUid
                + " C"
                + vertebra
                + ": empty box (instances "
                + firstInstance
                + ".."
                + lastInstance
                + ", rows "
                + rowMin
                + ".."
                + rowMax
                + ", columns "
                + columnMin
                + ".."
                + columnMax
                + ")");
      }
    }
  }

  /**
   * Records of the boxes of training studies of the RSNA 2022 layout at {@code root} (boxes of
   * other studies are left out): each box's instance numbers placed in the series' volume order,
   * which must hold them as adjacent slices. Reads only DICOM headers.
   */
  public static List<Crop> fromBoxes(Path root, List<InstanceBox> boxes, long marginZ)
      throws IOException {
    Rsna2022.Dataset d = Rsna2022.open(root);
    Map<String, List<InstanceBox>> byStudy = new HashMap<>();
    for (InstanceBox b : boxes) {
      byStudy.computeIfAbsent(b.studyUid(), k -> new ArrayList<>()).add(b);
    }
    List<Crop> out = new ArrayList<>();
    for (Rsna2022.CervicalLabel label : d.train()) {
      List<InstanceBox> bs = byStudy.get(label.studyUid());
      if (bs == null) continue;
      Series s = Series.scan(d.imageDirs().get(label.studyUid()));
      for (InstanceBox b : bs) {
        int[] z = s.volumeRange(b.firstInstance(), b.lastInstance());
        out.add(
            s.record(
                label,
                b.vertebra(),
                new CropSample.Box(
                    z[0],
                    z[1] + 1L,
                    b.rowMin(),
                    b.rowMax() + 1L,
                    b.columnMin(),
                    b.columnMax() + 1L),
                marginZ));
      }
    }
    return out;
  }

  /**
   * Records of every training study with a segmentation ({@code segmentations/<UID>.nii}), the box
   * of each vertebra C1..C7 the bounds of its label after the mask is resampled onto the series
   * ({@link org.spinekit.io.nifti.NiftiImage#resampleTo}). Reads each series once, here, to place
   * the mask; training reads only the slices it needs.
   */
  public static List<Crop> fromMasks(Path root, long marginZ) throws IOException {
    Rsna2022.Dataset d = Rsna2022.open(root);
    List<Crop> out = new ArrayList<>();
    for (Rsna2022.CervicalLabel label : d.train()) {
      Path seg = d.segmentations().get(label.studyUid());
      if (seg == null) continue;
      Volume ct = DicomSeriesReader.read(d.imageDirs().get(label.studyUid()));
      short[] labels;
      try {
        labels = VertebraBoxes.labelsOnSeries(seg, ct);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(label.studyUid() + ": " + e.getMessage(), e);
      }
      Series s = new Series(ct.sources(), ct.rows(), ct.columns());
      for (VertebraBoxes.Entry e :
          VertebraBoxes.boxes(
              label.studyUid(), labels, ct.slices(), ct.rows(), ct.columns(), ct.sources())) {
        if (!e.found()) continue;
        out.add(s.record(label, e.vertebra(), e.box(), marginZ));
      }
    }
    return out;
  }

  /** The slice ids of a series in volume order, and its image size. */
  private record Series(List<SliceSource> slices, int rows, int columns) {
    static Series scan(Path dir) throws IOException {
      DicomSeriesReader.Scan scan =
          DicomSeriesReader.scan(dir, DicomSeriesReader.Options.defaults().withThreads(1));
      if (scan.series().size() != 1) {
        throw new IOException(dir + ": expected one series, found " + scan.series().size());
      }
      DicomSeriesReader.Series s = scan.series().get(0);
      List<SliceSource> ids = new ArrayList<>();
      for (DicomSeriesReader.Slice x : s.slices()) {
        ids.add(
            new SliceSource(
                x.header().file(),
                x.frame(),
                x.header().instanceNumber(),
                x.header().sopInstanceUid()));
      }
      return new Series(ids, s.first().rows(), s.first().columns());
    }

    /**
     * Inclusive range of volume slice indices holding instance numbers {@code from..to}: the truth
     * counts slices by instance number (1 = most superior), the series reader orders them by
     * position along the slice normal.
     */
    int[] volumeRange(int from, int to) throws IOException {
      int lo = Integer.MAX_VALUE, hi = -1, found = 0;
      for (int i = 0; i < slices.size(); i++) {
        int n = slices.get(i).instanceNumber();
        if (n >= from && n <= to) {
          lo = Math.min(lo, i);
          hi = Math.max(hi, i);
          found++;
        }
      }
      if (found != to - from + 1 || hi - lo + 1 != found) {
        throw new IOException(
            slices.get(0).file().getParent()
                + ": instance numbers "
                + from
                + ".."
                + to
                + " are not "
                + (to - from + 1)
                + " adjacent slices of the series");
      }
      return new int[] {lo, hi};
    }

    Crop record(Rsna2022.CervicalLabel label, int vertebra, CropSample.Box box, long marginZ) {
      int lo = (int) Math.max(0, box.z0() - marginZ);
      int hi = (int) Math.min(slices.size(), box.z1() + marginZ);
      return new Crop(
          label.studyUid(),
          vertebra,
          box,
          slices.size(),
          rows,
          columns,
          lo,
          slices.subList(lo, Math.max(lo, hi)),
          label.fractured(vertebra));
    }
  }
}
