package org.spinekit.io.npy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.Volume;
import org.spinekit.tensor.Outputs;

/**
 * NumPy {@code .npy} files. Writes format 1.0, C order, little endian, atomically. Reads formats
 * 1.0, 2.0 and 3.0, C order, little or big endian, of float32, float64, int16, uint16, int32, int64
 * and uint8; Fortran-order, object, structured and other dtypes are refused with a {@link
 * MalformedFileException} naming the file. A header is checked against the file's size before
 * anything is allocated, so a hostile header cannot make the reader allocate more than the file
 * holds.
 */
public final class Npy {
  private Npy() {}

  /** The largest header accepted (numpy's own headers are a few hundred bytes). */
  public static final int MAX_HEADER_BYTES = 1 << 20;

  /** Bytes read from the file per step. */
  private static final int CHUNK = 1 << 20;

  /** The element types {@link #read} accepts, with their numpy type codes. */
  public enum Dtype {
    FLOAT32("f4", 4),
    FLOAT64("f8", 8),
    INT16("i2", 2),
    UINT16("u2", 2),
    INT32("i4", 4),
    INT64("i8", 8),
    UINT8("u1", 1);

    /** numpy's type code without the byte-order character, e.g. "f4". */
    public final String code;

    /** Bytes per element. */
    public final int size;

    Dtype(String code, int size) {
      this.code = code;
      this.size = size;
    }

    static Dtype of(String code) {
      for (Dtype d : values()) if (d.code.equals(code)) return d;
      return null;
    }
  }

  /** A checked header: element type, byte order, shape, where the data starts. */
  public record Header(Dtype dtype, ByteOrder order, long[] shape, long dataOffset) {
    /** The number of elements (1 for a 0-d array). */
    public long count() {
      long n = 1;
      for (long s : shape) n *= s;
      return n;
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }
  }

  /** An array read by {@link #read}: its shape and its values in one Java array. */
  public static final class Array {
    private final Dtype dtype;
    private final long[] shape;
    private final Object data;

    Array(Dtype dtype, long[] shape, Object data) {
      this.dtype = dtype;
      this.shape = shape;
      this.data = data;
    }

    public Dtype dtype() {
      return dtype;
    }

    public long[] shape() {
      return shape.clone();
    }

    /** The number of elements. */
    public int count() {
      return java.lang.reflect.Array.getLength(data);
    }

    private <T> T get(Class<T> type, Dtype... kinds) {
      for (Dtype k : kinds) if (k == dtype) return type.cast(data);
      throw new IllegalStateException(
          "the array holds " + dtype + ", not " + Arrays.toString(kinds));
    }

    /** FLOAT32 values (the array's own storage). */
    public float[] floats() {
      return get(float[].class, Dtype.FLOAT32);
    }

    /** FLOAT64 values. */
    public double[] doubles() {
      return get(double[].class, Dtype.FLOAT64);
    }

    /** INT16 values, or UINT16 bit patterns (read them with {@code & 0xffff}). */
    public short[] shorts() {
      return get(short[].class, Dtype.INT16, Dtype.UINT16);
    }

    /** INT32 values. */
    public int[] ints() {
      return get(int[].class, Dtype.INT32);
    }

    /** INT64 values. */
    public long[] longs() {
      return get(long[].class, Dtype.INT64);
    }

    /** UINT8 values as bytes (read them with {@code & 0xff}). */
    public byte[] bytes() {
      return get(byte[].class, Dtype.UINT8);
    }

    /** The values converted to float (rounded to nearest for wide integers and float64). */
    public float[] toFloats() {
      int n = count();
      float[] out = new float[n];
      switch (dtype) {
        case FLOAT32 -> System.arraycopy(floats(), 0, out, 0, n);
        case FLOAT64 -> {
          double[] d = doubles();
          for (int i = 0; i < n; i++) out[i] = (float) d[i];
        }
        case INT16 -> {
          short[] d = shorts();
          for (int i = 0; i < n; i++) out[i] = d[i];
        }
        case UINT16 -> {
          short[] d = shorts();
          for (int i = 0; i < n; i++) out[i] = d[i] & 0xffff;
        }
        case INT32 -> {
          int[] d = ints();
          for (int i = 0; i < n; i++) out[i] = d[i];
        }
        case INT64 -> {
          long[] d = longs();
          for (int i = 0; i < n; i++) out[i] = d[i];
        }
        case UINT8 -> {
          byte[] d = bytes();
          for (int i = 0; i < n; i++) out[i] = d[i] & 0xff;
        }
        default -> throw new IllegalStateException(dtype.toString());
      }
      return out;
    }
  }

  /** Reads and checks the header of {@code file}. */
  public static Header header(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return header(file, ch);
    }
  }

  /**
   * The whole array in a Java array of its type.
   *
   * @throws MalformedFileException naming the file: not a .npy file, a bad or unsupported header
   *     (Fortran order, object or other dtypes), data cut short, or more elements than a Java array
   *     holds
   */
  public static Array read(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = header(file, ch);
      long count = h.count();
      if (count > Integer.MAX_VALUE - 8) {
        throw new MalformedFileException(
            file, "holds " + count + " elements, more than a Java" + " array can (use readTensor)");
      }
      int n = (int) count;
      Object data =
          switch (h.dtype()) {
            case FLOAT32 -> new float[n];
            case FLOAT64 -> new double[n];
            case INT16, UINT16 -> new short[n];
            case INT32 -> new int[n];
            case INT64 -> new long[n];
            case UINT8 -> new byte[n];
          };
      stream(
          file,
          ch,
          h,
          (bb, at, len) -> {
            switch (h.dtype()) {
              case FLOAT32 -> bb.asFloatBuffer().get((float[]) data, (int) at, len);
              case FLOAT64 -> bb.asDoubleBuffer().get((double[]) data, (int) at, len);
              case INT16, UINT16 -> bb.asShortBuffer().get((short[]) data, (int) at, len);
              case INT32 -> bb.asIntBuffer().get((int[]) data, (int) at, len);
              case INT64 -> bb.asLongBuffer().get((long[]) data, (int) at, len);
              case UINT8 -> bb.get((byte[]) data, (int) at, len);
              default -> throw new IllegalStateException(h.dtype().toString());
            }
          });
      return new Array(h.dtype(), h.shape(), data);
    }
  }

  /**
   * The array as a new float32 CPU tensor of its shape (values converted as {@link
   * Array#toFloats}), read in chunks straight into the tensor's memory; it belongs to the caller
   * (attached to the caller's innermost scope when there is one).
   *
   * @throws MalformedFileException as {@link #read}
   */
  public static Tensor readTensor(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        PointerScope scope = new PointerScope()) {
      Header h = header(file, ch);
      Tensor t =
          torch.empty(h.shape(), new TensorOptions(ScalarType.Float), new MemoryFormatOptional());
      if (h.count() > 0) {
        FloatPointer dst = t.data_ptr_float();
        float[] buf = new float[CHUNK / h.dtype().size];
        stream(
            file,
            ch,
            h,
            (bb, at, len) -> {
              toFloats(h.dtype(), bb, buf, len);
              dst.position(at).put(buf, 0, len);
            });
      }
      return Outputs.handOut(scope, t);
    }
  }

  /** Converts {@code len} elements of {@code bb} (in the file's order) into {@code out}. */
  private static void toFloats(Dtype dtype, ByteBuffer bb, float[] out, int len) {
    switch (dtype) {
      case FLOAT32 -> bb.asFloatBuffer().get(out, 0, len);
      case FLOAT64 -> {
        for (int i = 0; i < len; i++) out[i] = (float) bb.getDouble(8 * i);
      }
      case INT16 -> {
        for (int i = 0; i < len; i++) out[i] = bb.getShort(2 * i);
      }
      case UINT16 -> {
        for (int i = 0; i < len; i++) out[i] = bb.getShort(2 * i) & 0xffff;
      }
      case INT32 -> {
        for (int i = 0; i < len; i++) out[i] = bb.getInt(4 * i);
      }
      case INT64 -> {
        for (int i = 0; i < len; i++) out[i] = bb.getLong(8 * i);
      }
      case UINT8 -> {
        for (int i = 0; i < len; i++) out[i] = bb.get(i) & 0xff;
      }
      default -> throw new IllegalStateException(dtype.toString());
    }
  }

  /** Receives the data in chunks: {@code len} elements starting at element {@code at}. */
  private interface Chunks {
    void accept(ByteBuffer bb, long at, int len);
  }

  /** Reads the data of a checked header in chunks of whole elements, in the file's order. */
  private static void stream(Path file, FileChannel ch, Header h, Chunks sink) throws IOException {
    int size = h.dtype().size;
    long count = h.count();
    ByteBuffer bb =
        ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(size, count * size))).order(h.order());
    long pos = h.dataOffset();
    for (long at = 0; at < count; ) {
      int len = (int) Math.min(count - at, bb.capacity() / size);
      bb.clear().limit(len * size);
      while (bb.hasRemaining()) {
        if (ch.read(bb, pos + bb.position()) < 0) {
          throw new MalformedFileException(
              file, "the file ends at byte " + (pos + bb.position()) + ", inside the array data");
        }
      }
      bb.flip();
      sink.accept(bb, at, len);
      pos += (long) len * size;
      at += len;
    }
  }

  /** Reads and checks the header of an open file against the file's size. */
  static Header header(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 10) {
      throw new MalformedFileException(
          file, "has " + size + " bytes, fewer than a .npy" + " preamble (10)");
    }
    ByteBuffer pre = ByteBuffer.allocate((int) Math.min(12, size)).order(ByteOrder.LITTLE_ENDIAN);
    readFully(file, ch, pre, 0);
    byte[] magic = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    for (int i = 0; i < magic.length; i++) {
      if (pre.get(i) != magic[i]) {
        throw new MalformedFileException(file, "is not a .npy file (no \\x93NUMPY magic)");
      }
    }
    int major = pre.get(6) & 0xff;
    int minor = pre.get(7) & 0xff;
    long headerLen;
    int preamble;
    if (major == 1 && minor == 0) {
      headerLen = pre.getShort(8) & 0xffff;
      preamble = 10;
    } else if ((major == 2 || major == 3) && minor == 0) {
      if (size < 12) {
        throw new MalformedFileException(
            file, "has " + size + " bytes, fewer than a version " + major + " preamble (12)");
      }
      headerLen = pre.getInt(8) & 0xffffffffL;
      preamble = 12;
    } else {
      throw new MalformedFileException(
          file,
          "unsupported .npy format version " + major + "." + minor + " (supported: 1.0, 2.0, 3.0)");
    }
    if (headerLen > size - preamble) {
      throw new MalformedFileException(
          file,
          "header length "
              + headerLen
              + " runs past the end"
              + " of the file ("
              + size
              + " bytes)");
    }
    if (headerLen > MAX_HEADER_BYTES) {
      throw new MalformedFileException(
          file, "header length " + headerLen + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
    }
    ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
    readFully(file, ch, hb, preamble);
    String text =
        new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Map<String, Object> dict = new HeaderParser(file, text).dict();
    if (!dict.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
      throw new MalformedFileException(
          file, "header keys " + dict.keySet() + ", expected" + " descr, fortran_order and shape");
    }
    Object descr = dict.get("descr");
    if (!(descr instanceof String d)) {
      throw new MalformedFileException(
          file,
          "structured dtype " + descr + " is not supported" + " (supported: " + supported() + ")");
    }
    if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
      throw new MalformedFileException(
          file, "fortran_order is " + dict.get("fortran_order") + ", expected True or False");
    }
    Dtype dtype = null;
    ByteOrder order = null;
    if (d.length() >= 2) {
      char o = d.charAt(0);
      dtype = Dtype.of(d.substring(1));
      order =
          switch (o) {
            case '<' -> ByteOrder.LITTLE_ENDIAN;
            case '>' -> ByteOrder.BIG_ENDIAN;
            case '=' -> ByteOrder.nativeOrder();
            case '|' -> dtype != null && dtype.size == 1 ? ByteOrder.LITTLE_ENDIAN : null;
            default -> null;
          };
      if (d.substring(1).startsWith("O")) {
        throw new MalformedFileException(
            file,
            "object arrays (dtype '"
                + d
                + "') are not"
                + " supported: they hold pickled Python objects");
      }
    }
    if (dtype == null || order == null) {
      throw new MalformedFileException(
          file, "unsupported dtype '" + d + "' (supported: " + supported() + ")");
    }
    if (fortran) {
      throw new MalformedFileException(
          file,
          "Fortran-order arrays are not supported"
              + " (fortran_order True); save a C-order copy (numpy.ascontiguousarray)");
    }
    if (!(dict.get("shape") instanceof Tuple t)) {
      throw new MalformedFileException(
          file, "shape is " + dict.get("shape") + ", expected a tuple of integers");
    }
    long[] shape = new long[t.items().size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      if (!(t.items().get(i) instanceof Long v) || v < 0) {
        throw new MalformedFileException(
            file, "shape " + t + " holds " + t.items().get(i) + ", expected non-negative integers");
      }
      shape[i] = v;
      try {
        count = Math.multiplyExact(count, v);
      } catch (ArithmeticException x) {
        throw new MalformedFileException(file, "shape " + Arrays.toString(shape) + " overflows");
      }
    }
    long dataOffset = preamble + headerLen;
    long need;
    try {
      need = Math.multiplyExact(count, dtype.size);
    } catch (ArithmeticException x) {
      throw new MalformedFileException(
          file, "shape " + Arrays.toString(shape) + " of " + dtype + " overflows");
    }
    if (need > size - dataOffset) {
      throw new MalformedFileException(
          file,
          "shape "
              + Arrays.toString(shape)
              + " of "
              + dtype
              + " needs "
              + need
              + " data bytes, the file holds "
              + (size - dataOffset)
              + " after the header (truncated?)");
    }
    return new Header(dtype, order, shape, dataOffset);
  }

  private static String supported() {
    StringBuilder b = new StringBuilder();
    for (Dtype d : Dtype.values()) {
      if (b.length() > 0) b.append(", ");
      b.append(d.name().toLowerCase(java.util.Locale.ROOT));
    }
    return b.toString();
  }

  private static void readFully(Path file, FileChannel ch, ByteBuffer b, long pos)
      throws IOException {
    while (b.hasRemaining()) {
      if (ch.read(b, pos + b.position()) < 0) {
        throw new MalformedFileException(file, "the file ends at byte " + (pos + b.position()));
      }
    }
  }

  /** A Python tuple literal in a header. */
  private record Tuple(List<Object> items) {
    @Override
    public String toString() {
      return items.toString().replace('[', '(').replace(']', ')');
    }
  }

  /**
   * The Python dict literal of a header: string keys; values are strings, True/False/None,
   * integers, tuples and lists (a list is returned as a {@link List}, a tuple as a {@link Tuple}).
   */
  private static final class HeaderParser {
    private final Path file;
    private final String s;
    private int i;

    HeaderParser(Path file, String s) {
      this.file = file;
      this.s = s;
    }

    private MalformedFileException bad(String what) {
      return new MalformedFileException(
          file,
          "header "
              + what
              + " at character "
              + i
              + " of '"
              + (s.length() > 200 ? s.substring(0, 200) + "..." : s.strip())
              + "'");
    }

    private void ws() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    }

    private boolean eat(char c) {
      ws();
      if (i < s.length() && s.charAt(i) == c) {
        i++;
        return true;
      }
      return false;
    }

    Map<String, Object> dict() throws MalformedFileException {
      if (!eat('{')) throw bad("does not start with '{'");
      Map<String, Object> m = new LinkedHashMap<>();
      while (!eat('}')) {
        Object k = value(0);
        if (!(k instanceof String key)) throw bad("has a non-string key " + k);
        if (!eat(':')) throw bad("misses ':'");
        if (m.put(key, value(0)) != null) throw bad("repeats key '" + key + "'");
        if (!eat(',')) {
          if (!eat('}')) throw bad("misses ',' or '}'");
          break;
        }
      }
      ws();
      if (i != s.length()) throw bad("has text after the dict");
      return m;
    }

    private Object value(int depth) throws MalformedFileException {
      if (depth > 8) throw bad("nests too deep");
      ws();
      if (i >= s.length()) throw bad("ends early");
      char c = s.charAt(i);
      if (c == '\'' || c == '"') {
        int end = s.indexOf(c, i + 1);
        if (end < 0) throw bad("has an unterminated string");
        String v = s.substring(i + 1, end);
        i = end + 1;
        return v;
      }
      if (c == '(' || c == '[') {
        char close = c == '(' ? ')' : ']';
        i++;
        List<Object> items = new ArrayList<>();
        while (!eat(close)) {
          items.add(value(depth + 1));
          if (!eat(',')) {
            if (!eat(close)) throw bad("misses ',' or '" + close + "'");
            break;
          }
        }
        return c == '(' ? new Tuple(items) : items;
      }
      int start = i;
      while (i < s.length()
          && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '-' || s.charAt(i) == '_')) {
        i++;
      }
      String word = s.substring(start, i);
      switch (word) {
        case "True":
          return Boolean.TRUE;
        case "False":
          return Boolean.FALSE;
        case "None":
          return null;
        default:
      }
      String digits = word.endsWith("L") ? word.substring(0, word.length() - 1) : word;
      if (digits.matches("-?[0-9]{1,19}")) {
        try {
          return Long.parseLong(digits);
        } catch (NumberFormatException e) {
          throw bad("has an integer out of range: " + word);
        }
      }
      throw bad("has an unexpected token '" + word + "'");
    }
  }

  /** int16 ({@code <i2}) or uint16 ({@code <u2}) samples. */
  public static void write(Path file, short[] data, boolean signed, long... shape)
      throws IOException {
    check(data.length, shape);
    write(
        file,
        signed ? "<i2" : "<u2",
        shape,
        out -> {
          ByteBuffer bb = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
          for (int i = 0; i < data.length; ) {
            int n = Math.min(data.length - i, bb.capacity() / 2);
            bb.clear();
            bb.asShortBuffer().put(data, i, n);
            out.write(bb.array(), 0, n * 2);
            i += n;
          }
        });
  }

  /** float32 ({@code <f4}) samples. */
  public static void write(Path file, float[] data, long... shape) throws IOException {
    check(data.length, shape);
    write(
        file,
        "<f4",
        shape,
        out -> {
          ByteBuffer bb = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
          for (int i = 0; i < data.length; ) {
            int n = Math.min(data.length - i, bb.capacity() / 4);
            bb.clear();
            bb.asFloatBuffer().put(data, i, n);
            out.write(bb.array(), 0, n * 4);
            i += n;
          }
        });
  }

  /** A volume's voxels as {@code [slices, rows, columns]} in its stored type. */
  public static void write(Path file, Volume v) throws IOException {
    long[] shape = {v.slices(), v.rows(), v.columns()};
    if (v.kind() == Volume.Kind.FLOAT32) {
      write(file, v.floats(), shape);
    } else {
      write(file, v.shorts(), v.kind() == Volume.Kind.INT16, shape);
    }
  }

  private static void check(int n, long[] shape) {
    long count = 1;
    for (long s : shape) {
      if (s < 0)
        throw new IllegalArgumentException(
            "shape: negative size in " + java.util.Arrays.toString(shape));
      count *= s;
    }
    if (count != n) {
      throw new IllegalArgumentException(
          "shape: " + java.util.Arrays.toString(shape) + " holds " + count + " values, got " + n);
    }
  }

  private static void write(Path file, String descr, long[] shape, AtomicFiles.Body body)
      throws IOException {
    StringBuilder sh = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      sh.append(shape[i]);
      if (shape.length == 1 || i + 1 < shape.length) sh.append(", ");
    }
    sh.append(')');
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + sh + ", }";
    int total = 10 + dict.length() + 1;
    int pad = (64 - total % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    byte[] h = header.getBytes(StandardCharsets.US_ASCII);
    AtomicFiles.write(
        file,
        out -> {
          out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
          out.write(h.length & 0xff);
          out.write((h.length >>> 8) & 0xff);
          out.write(h);
          body.write(out);
        });
  }
}
