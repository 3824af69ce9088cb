package org.spinekit.cervical;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.augment.Sample;
import org.spinekit.augment.Transform;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.Volume;
import org.spinekit.ops.Stack25d;
import org.spinekit.ops.Window;
import org.spinekit.tensor.Outputs;
import org.spinekit.tensor.Tensors;
import org.spinekit.train.Dataset;
import org.spinekit.train.Example;

/**
 * The stage-1 data set of the cervical system: one sample per (study, slice i), the input the 2.5D
 * stack of slices (i-1, i, i+1) (edges clamped) [3, size, size] in the CT window, the target the
 * remapped labels of slice i (0 background, 1..7 C1..C7, 8 thoracic) as size x size values; the
 * write-up's joint augmentation when given.
 *
 * <p>Each study is first {@link #prepare prepared} once into a cache file: every slice windowed,
 * resized (bilinear; labels nearest) and quantised to 8 bits, then the labels. Training maps those
 * files read-only, so a sample costs three plane copies whatever the DICOM compression was, and the
 * data set needs no heap beyond one sample per worker.
 */
public final class SegmentationSlices implements Dataset {
  private static final int MAGIC = 0x534b5331; // "SKS1"
  private static final int HEADER = 16;

  /** One prepared study: its cache file, mapped. */
  public static final class Study {
    private final String uid;
    private final int slices;
    private final int size;
    private final ByteBuffer data;

    private Study(String uid, int slices, int size, ByteBuffer data) {
      this.uid = uid;
      this.slices = slices;
      this.size = size;
      this.data = data;
    }

    public String uid() {
      return uid;
    }

    public int slices() {
      return slices;
    }

    /** Maps a cache file written by {@link #prepare}; checks its header against its length. */
    public static Study open(String uid, Path file) throws IOException {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        long len = ch.size();
        if (len < HEADER) throw new MalformedFileException(file, "shorter than its header");
        MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, 0, len);
        if (m.getInt(0) != MAGIC) throw new MalformedFileException(file, "not a slice cache");
        int s = m.getInt(4), h = m.getInt(8), w = m.getInt(12);
        if (s < 1 || h < 1 || h != w || len != HEADER + 2L * s * h * w) {
          throw new MalformedFileException(
              file, "header says " + s + " x " + h + " x " + w + " but the file has " + len);
        }
        return new Study(uid, s, h, m);
      }
    }
  }

  /**
   * Writes the cache of one study (atomically): {@code ct} windowed and resized to {@code size},
   * and {@code labels} (remapped, on the same grid as {@code ct}; null: all background, for studies
   * without a mask) resized by nearest neighbour.
   */
  public static void prepare(Path file, Volume ct, short[] labels, int size, Window window)
      throws IOException {
    int s = ct.slices();
    long plane = (long) size * size;
    if (labels != null && labels.length != ct.voxelCount()) {
      throw new IllegalArgumentException(
          "labels: expected " + ct.voxelCount() + " voxels (the series'), got " + labels.length);
    }
    byte[] img = new byte[Math.toIntExact(s * plane)];
    byte[] lab = new byte[img.length];
    try (PointerScope scope = new PointerScope()) {
      Stack25d.Options o = new Stack25d.Options(0, 1, size, size, window);
      float[] x = Tensors.floats(Stack25d.images(ct, o));
      for (int i = 0; i < img.length; i++) {
        img[i] = (byte) Math.round(Math.max(0, Math.min(1, x[i])) * 255);
      }
      if (labels != null) {
        long[] l = new long[labels.length];
        for (int i = 0; i < l.length; i++) l[i] = labels[i];
        Tensor t = Tensors.of(l, s, ct.rows(), ct.columns()).to(ScalarType.Short);
        Tensor m = Stack25d.masks(t, o, ScalarType.Long).contiguous();
        long[] r = new long[img.length];
        m.data_ptr_long().get(r);
        for (int i = 0; i < r.length; i++) lab[i] = (byte) r[i];
      }
    }
    AtomicFiles.write(
        file,
        (OutputStream out) -> {
          DataOutputStream d = new DataOutputStream(out);
          d.writeInt(MAGIC);
          d.writeInt(s);
          d.writeInt(size);
          d.writeInt(size);
          d.write(img);
          d.write(lab);
          d.flush();
        });
  }

  private final List<Study> studies;
  private final int[] first;
  private final int step;
  private final int size;
  private final Transform augment;

  /**
   * @param studies the prepared studies (of one size)
   * @param step every step-th slice of each study is a sample (1: all)
   * @param augment joint augmentation of image and mask (null: none)
   */
  public SegmentationSlices(List<Study> studies, int step, Transform augment) {
    if (studies == null || studies.isEmpty()) {
      throw new IllegalArgumentException("studies: expected at least one, got none");
    }
    if (step < 1) throw new IllegalArgumentException("step: expected >= 1, got " + step);
    this.studies = List.copyOf(studies);
    this.size = studies.get(0).size;
    this.first = new int[studies.size() + 1];
    for (int i = 0; i < studies.size(); i++) {
      Study st = studies.get(i);
      if (st.size != size) {
        throw new IllegalArgumentException(
            "studies: " + st.uid + " is prepared at " + st.size + " px, the first at " + size);
      }
      first[i + 1] = first[i] + (st.slices + step - 1) / step;
    }
    this.step = step;
    this.augment = augment;
  }

  @Override
  public int size() {
    return first[studies.size()];
  }

  /** The studies, in sample order. */
  public List<String> uids() {
    List<String> out = new ArrayList<>();
    for (Study s : studies) out.add(s.uid);
    return out;
  }

  @Override
  public Example get(int index, SplittableRandom rng) {
    if (index < 0 || index >= size()) {
      throw new IllegalArgumentException("index: expected 0.." + (size() - 1) + ", got " + index);
    }
    int j = java.util.Arrays.binarySearch(first, index);
    if (j < 0) j = -j - 2;
    Study st = studies.get(j);
    int slice = (index - first[j]) * step;
    int plane = size * size;
    float[] x = new float[3 * plane];
    for (int c = 0; c < 3; c++) {
      int z = Math.max(0, Math.min(st.slices - 1, slice + c - 1));
      int at = HEADER + z * plane;
      for (int p = 0; p < plane; p++) x[c * plane + p] = (st.data.get(at + p) & 0xff) / 255f;
    }
    long[] m = new long[plane];
    int lat = HEADER + st.slices * plane + slice * plane;
    for (int p = 0; p < plane; p++) m[p] = st.data.get(lat + p);
    try (PointerScope scope = new PointerScope()) {
      Tensor image = Tensors.of(x, 3, size, size);
      Tensor mask = Tensors.of(m, size, size).to(ScalarType.Byte);
      if (augment != null) {
        Sample out = augment.apply(new Sample(image, mask, null), rng);
        image = out.image().contiguous();
        mask = out.mask();
      }
      float[] target = Tensors.floats(mask.to(ScalarType.Float));
      return new Example(Outputs.handOut(scope, image), target);
    }
  }
}
