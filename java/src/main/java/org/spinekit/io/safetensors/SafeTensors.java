package org.spinekit.io.safetensors;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.json.StrictJson;

/**
 * Reads and writes safetensors files, the format PyTorch weights are published in: an 8-byte
 * little-endian header length N, N bytes of UTF-8 JSON ({@code {name: {"dtype", "shape",
 * "data_offsets": [begin, end]}, "__metadata__": {string: string}}}), then the tensors' bytes,
 * little-endian and row-major, back to back.
 *
 * <p>Tensors are CPU libtorch tensors. Reading allocates each with {@code torch.empty} and reads
 * its bytes from the file straight into the tensor's memory: one copy from disk, no Java arrays in
 * between. Dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL.
 *
 * <p>Ownership: tensors returned by {@link #read} belong to the caller; they are attached to the
 * caller's innermost {@link PointerScope} when there is one. {@link #write} keeps no reference to
 * the caller's tensors.
 */
public final class SafeTensors {
  private SafeTensors() {}

  /** The largest header accepted, as the reference implementation (100 MB). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  private static final String METADATA = "__metadata__";

  /** Largest span handed to one ByteBuffer (they index with int). */
  static final int CHUNK = 1 << 30;

  /** One tensor of a header, its offsets relative to the start of the data buffer. */
  record Entry(String name, SafeTensorsDtype dtype, long[] shape, long begin, long end) {}

  /** A validated header: tensors in data order, metadata, where the data buffer starts. */
  record Header(List<Entry> tensors, Map<String, String> metadata, long dataStart) {}

  /**
   * Every tensor of the file, in the order of their data in the file, as new CPU tensors.
   *
   * @throws MalformedFileException naming the file (and the tensor) when the header length, the
   *     JSON, a dtype, shape or data offsets are wrong, tensors overlap or leave gaps, or the data
   *     is cut short
   */
  public static Map<String, Tensor> read(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = header(file, ch);
      Map<String, Tensor> out = new LinkedHashMap<>();
      try (PointerScope scope = new PointerScope()) {
        List<Tensor> made = new ArrayList<>(h.tensors().size());
        for (Entry e : h.tensors()) {
          Tensor t =
              torch.empty(
                  e.shape(), new TensorOptions(e.dtype().torch), new MemoryFormatOptional());
          long nbytes = e.end() - e.begin();
          if (nbytes > 0) {
            readInto(file, e, ch, h.dataStart() + e.begin(), t.data_ptr(), nbytes, CHUNK);
          }
          made.add(t);
          out.put(e.name(), t);
        }
        for (Tensor t : made) org.spinekit.tensor.Outputs.handOut(scope, t);
      }
      return out;
    }
  }

  /** The {@code __metadata__} of the file (empty when it has none), after checking the header. */
  public static Map<String, String> metadata(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return new LinkedHashMap<>(header(file, ch).metadata());
    }
  }

  /**
   * Reads {@code nbytes} from {@code ch} at {@code pos} into native memory at {@code base}, in
   * spans of at most {@code chunk} bytes, then checks BOOL bytes and puts multi-byte values in the
   * machine's order.
   */
  static void readInto(
      Path file, Entry e, FileChannel ch, long pos, Pointer base, long nbytes, int chunk)
      throws IOException {
    for (long off = 0; off < nbytes; ) {
      int len = (int) Math.min(nbytes - off, chunk);
      ByteBuffer bb = base.getPointer(off).capacity(len).asByteBuffer();
      while (bb.hasRemaining()) {
        int r = ch.read(bb, pos + off + bb.position());
        if (r < 0) {
          throw new MalformedFileException(
              file,
              "tensor \""
                  + e.name()
                  + "\": the file ends at"
                  + " byte "
                  + (pos + off + bb.position())
                  + ", inside its data");
        }
      }
      bb.flip();
      if (e.dtype() == SafeTensorsDtype.BOOL) {
        for (int i = 0; i < len; i++) {
          int b = bb.get(i);
          if (b != 0 && b != 1) {
            throw new MalformedFileException(
                file,
                "tensor \""
                    + e.name()
                    + "\": BOOL element "
                    + (off + i)
                    + " is byte "
                    + (b & 0xff)
                    + ", expected 0 or 1");
          }
        }
      }
      if (ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN) swap(bb, e.dtype().size);
      off += len;
    }
  }

  /** Reverses the bytes of each {@code size}-byte element of {@code b} in place. */
  private static void swap(ByteBuffer b, int size) {
    if (size == 1) return;
    for (int at = 0; at + size <= b.limit(); at += size) {
      for (int i = 0, j = size - 1; i < j; i++, j--) {
        byte x = b.get(at + i);
        b.put(at + i, b.get(at + j));
        b.put(at + j, x);
      }
    }
  }

  private static void swap(byte[] b, int len, int size) {
    if (size == 1) return;
    for (int at = 0; at + size <= len; at += size) {
      for (int i = 0, j = size - 1; i < j; i++, j--) {
        byte x = b[at + i];
        b[at + i] = b[at + j];
        b[at + j] = x;
      }
    }
  }

  /** Reads and checks the header of an open file. */
  static Header header(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw new MalformedFileException(
          file, "the file has " + size + " bytes, fewer than the" + " 8-byte header length");
    }
    ByteBuffer nb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(file, ch, nb, 0);
    long n = nb.getLong(0);
    if (n < 0 || n > size - 8) {
      throw new MalformedFileException(
          file,
          "header length "
              + Long.toUnsignedString(n)
              + " runs past the end of the file ("
              + size
              + " bytes)");
    }
    if (n > MAX_HEADER_BYTES) {
      throw new MalformedFileException(
          file, "header length " + n + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
    }
    if (n < 2) {
      throw new MalformedFileException(
          file, "header length " + n + " is too short for a JSON" + " object");
    }
    ByteBuffer hb = ByteBuffer.allocate((int) n);
    readFully(file, ch, hb, 8);
    hb.flip();
    if (hb.get(0) != '{') {
      throw new MalformedFileException(file, "header does not start with '{'");
    }
    String json;
    try {
      json =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(hb)
              .toString();
    } catch (CharacterCodingException x) {
      throw new MalformedFileException(
          file, "header is not valid UTF-8 (near byte " + (8 + hb.position()) + ")", x);
    }
    Object root;
    try {
      root = StrictJson.parse(json);
    } catch (StrictJson.SyntaxException x) {
      throw new MalformedFileException(file, "header JSON: " + x.getMessage(), x);
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new MalformedFileException(file, "header JSON is not an object");
    }
    long dataLen = size - 8 - n;
    List<Entry> tensors = new ArrayList<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<?, ?> kv : map.entrySet()) {
      String name = (String) kv.getKey();
      if (name.equals(METADATA)) {
        if (!(kv.getValue() instanceof Map<?, ?> md)) {
          throw new MalformedFileException(file, "\"__metadata__\" is not an object");
        }
        for (Map.Entry<?, ?> m : md.entrySet()) {
          if (!(m.getValue() instanceof String v)) {
            throw new MalformedFileException(
                file,
                "\"__metadata__\" value of \""
                    + m.getKey()
                    + "\" is "
                    + m.getValue()
                    + ", expected a string");
          }
          metadata.put((String) m.getKey(), v);
        }
        continue;
      }
      tensors.add(entry(file, name, kv.getValue(), dataLen));
    }
    tensors.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long expect = 0;
    Entry previous = null;
    for (Entry e : tensors) {
      if (e.begin() < expect) {
        throw new MalformedFileException(
            file,
            "tensor \""
                + e.name()
                + "\": data_offsets ["
                + e.begin()
                + ", "
                + e.end()
                + "] overlap tensor \""
                + previous.name()
                + "\" ["
                + previous.begin()
                + ", "
                + previous.end()
                + "]");
      }
      if (e.begin() > expect) {
        throw new MalformedFileException(
            file,
            "tensor \""
                + e.name()
                + "\": data_offsets ["
                + e.begin()
                + ", "
                + e.end()
                + "] leave bytes ["
                + expect
                + ", "
                + e.begin()
                + ") of the data buffer to no tensor");
      }
      expect = e.end();
      previous = e;
    }
    if (expect != dataLen) {
      throw new MalformedFileException(
          file,
          "the data buffer has "
              + dataLen
              + " bytes but"
              + " the tensors cover "
              + expect
              + (previous == null ? "" : " (the last is \"" + previous.name() + "\")"));
    }
    return new Header(tensors, metadata, 8 + n);
  }

  private static Entry entry(Path file, String name, Object value, long dataLen)
      throws MalformedFileException {
    String t = "tensor \"" + name + "\": ";
    if (!(value instanceof Map<?, ?> info)) {
      throw new MalformedFileException(file, t + "expected an object, got " + value);
    }
    for (Object k : info.keySet()) {
      if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
        throw new MalformedFileException(file, t + "unknown field \"" + k + "\"");
      }
    }
    for (String k : new String[] {"dtype", "shape", "data_offsets"}) {
      if (!info.containsKey(k)) throw new MalformedFileException(file, t + "no \"" + k + "\"");
    }
    if (!(info.get("dtype") instanceof String dt)) {
      throw new MalformedFileException(
          file, t + "dtype is " + info.get("dtype") + ", expected a string");
    }
    SafeTensorsDtype dtype = SafeTensorsDtype.of(dt);
    if (dtype == null) {
      throw new MalformedFileException(
          file,
          t
              + "unsupported dtype \""
              + dt
              + "\" (supported: "
              + Arrays.toString(SafeTensorsDtype.values())
              + ")");
    }
    long[] shape = longs(file, t + "shape", info.get("shape"), -1);
    long[] offsets = longs(file, t + "data_offsets", info.get("data_offsets"), 2);
    long numel = 1;
    long nbytes;
    try {
      for (long s : shape) numel = Math.multiplyExact(numel, s);
      nbytes = Math.multiplyExact(numel, dtype.size);
    } catch (ArithmeticException x) {
      throw new MalformedFileException(file, t + "shape " + Arrays.toString(shape) + " overflows");
    }
    if (offsets[1] < offsets[0]) {
      throw new MalformedFileException(
          file, t + "data_offsets " + Arrays.toString(offsets) + " end before they begin");
    }
    if (offsets[1] > dataLen) {
      throw new MalformedFileException(
          file,
          t
              + "data_offsets "
              + Arrays.toString(offsets)
              + " run past the "
              + dataLen
              + "-byte data buffer (truncated file?)");
    }
    if (offsets[1] - offsets[0] != nbytes) {
      throw new MalformedFileException(
          file,
          t
              + "shape "
              + Arrays.toString(shape)
              + " of "
              + dtype
              + " needs "
              + nbytes
              + " bytes, data_offsets "
              + Arrays.toString(offsets)
              + " hold "
              + (offsets[1] - offsets[0]));
    }
    return new Entry(name, dtype, shape, offsets[0], offsets[1]);
  }

  /** A JSON array of non-negative integers ({@code count} of them unless it is negative). */
  private static long[] longs(Path file, String what, Object v, int count)
      throws MalformedFileException {
    if (!(v instanceof List<?> l) || (count >= 0 && l.size() != count)) {
      throw new MalformedFileException(
          file,
          what
              + " is "
              + v
              + ", expected "
              + (count >= 0 ? count + " " : "an array of ")
              + "non-negative integers");
    }
    long[] out = new long[l.size()];
    for (int i = 0; i < out.length; i++) {
      Long x = l.get(i) instanceof StrictJson.Num num ? num.asLong() : null;
      if (x == null || x < 0) {
        throw new MalformedFileException(
            file, what + " element " + i + " is " + l.get(i) + ", expected a non-negative integer");
      }
      out[i] = x;
    }
    return out;
  }

  private static void readFully(Path file, FileChannel ch, ByteBuffer b, long pos)
      throws IOException {
    while (b.hasRemaining()) {
      if (ch.read(b, pos + b.position()) < 0) {
        throw new MalformedFileException(file, "the file ends at byte " + (pos + b.position()));
      }
    }
  }

  /**
   * Writes {@code tensors} (any device, any strides: they are copied to contiguous CPU memory when
   * they are not already) and {@code metadata} (may be null) as a safetensors file, atomically. As
   * the reference implementation: tensors laid out by dtype (widest first) then name, so each is
   * aligned to its element size; the header padded with spaces to a multiple of 8 bytes; {@code
   * __metadata__} first when there is any.
   *
   * @throws IllegalArgumentException naming the tensor when one is null or undefined, of a dtype
   *     safetensors lacks (complex, quantized, unsigned beyond 8 bits) or not strided, and when a
   *     name is {@code __metadata__} or a name or metadata string is not valid Unicode
   */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata)
      throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(tensors, "tensors");
    Map<String, String> md = metadata == null ? Map.of() : metadata;
    for (Map.Entry<String, String> m : md.entrySet()) {
      if (m.getKey() == null || m.getValue() == null) {
        throw new IllegalArgumentException("metadata: null key or value (key " + m.getKey() + ")");
      }
      checkUnicode("metadata key", m.getKey());
      checkUnicode("metadata value of \"" + m.getKey() + "\"", m.getValue());
    }
    try (PointerScope scope = new PointerScope()) {
      record Out(String name, SafeTensorsDtype dtype, long[] shape, long nbytes, Tensor t) {}
      List<Out> outs = new ArrayList<>();
      for (Map.Entry<String, Tensor> kv : tensors.entrySet()) {
        String name = kv.getKey();
        Tensor t = kv.getValue();
        if (name == null) throw new IllegalArgumentException("tensors: a null name");
        if (name.equals(METADATA)) {
          throw new IllegalArgumentException(
              "tensors: \"__metadata__\" is reserved for" + " metadata, not a tensor name");
        }
        checkUnicode("tensor name", name);
        if (t == null || t.isNull() || !t.defined()) {
          throw new IllegalArgumentException("tensors: \"" + name + "\" is null or undefined");
        }
        if (t.is_sparse() || t.is_mkldnn() || t.is_quantized()) {
          throw new IllegalArgumentException(
              "tensors: \""
                  + name
                  + "\" has layout "
                  + t.layout()
                  + (t.is_quantized() ? " (quantized)" : "")
                  + ", expected strided");
        }
        SafeTensorsDtype dtype = SafeTensorsDtype.of(t.scalar_type());
        if (dtype == null) {
          throw new IllegalArgumentException(
              "tensors: \""
                  + name
                  + "\" has dtype "
                  + t.scalar_type()
                  + ", expected one of "
                  + Arrays.toString(SafeTensorsDtype.values()));
        }
        Tensor c = t.is_cpu() ? t : t.cpu();
        if (c.is_conj()) c = c.resolve_conj();
        if (c.is_neg()) c = c.resolve_neg();
        if (!c.is_contiguous()) c = c.contiguous();
        long[] shape = new long[(int) c.dim()];
        for (int d = 0; d < shape.length; d++) shape[d] = c.size(d);
        outs.add(new Out(name, dtype, shape, c.numel() * dtype.size, c));
      }
      outs.sort(
          Comparator.comparingInt((Out o) -> o.dtype().ordinal())
              .thenComparing(
                  (a, b) ->
                      Arrays.compareUnsigned(
                          a.name().getBytes(StandardCharsets.UTF_8),
                          b.name().getBytes(StandardCharsets.UTF_8))));
      StringBuilder json = new StringBuilder("{");
      if (!md.isEmpty()) {
        json.append(StrictJson.quote(METADATA)).append(":{");
        boolean first = true;
        for (Map.Entry<String, String> m : md.entrySet()) {
          if (!first) json.append(',');
          first = false;
          json.append(StrictJson.quote(m.getKey()))
              .append(':')
              .append(StrictJson.quote(m.getValue()));
        }
        json.append('}');
      }
      long offset = 0;
      for (Out o : outs) {
        if (json.length() > 1) json.append(',');
        json.append(StrictJson.quote(o.name()))
            .append(":{\"dtype\":\"")
            .append(o.dtype().name())
            .append("\",\"shape\":[");
        for (int d = 0; d < o.shape().length; d++) {
          if (d > 0) json.append(',');
          json.append(o.shape()[d]);
        }
        json.append("],\"data_offsets\":[")
            .append(offset)
            .append(',')
            .append(offset + o.nbytes())
            .append("]}");
        offset += o.nbytes();
      }
      json.append('}');
      byte[] hj = json.toString().getBytes(StandardCharsets.UTF_8);
      int padded = (hj.length + 7) / 8 * 8;
      byte[] header = Arrays.copyOf(hj, padded);
      Arrays.fill(header, hj.length, padded, (byte) ' ');
      AtomicFiles.write(
          file,
          out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            len.putLong(0, padded);
            out.write(len.array());
            out.write(header);
            byte[] chunk = new byte[1 << 20];
            for (Out o : outs) writeData(out, o.t().data_ptr(), o.nbytes(), o.dtype().size, chunk);
          });
    }
  }

  private static void writeData(OutputStream out, Pointer base, long nbytes, int size, byte[] chunk)
      throws IOException {
    boolean swap = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;
    for (long off = 0; off < nbytes; ) {
      int len = (int) Math.min(nbytes - off, CHUNK);
      ByteBuffer bb = base.getPointer(off).capacity(len).asByteBuffer();
      while (bb.hasRemaining()) {
        int n = Math.min(chunk.length, bb.remaining());
        bb.get(chunk, 0, n);
        if (swap) swap(chunk, n, size);
        out.write(chunk, 0, n);
      }
      off += len;
    }
  }

  private static void checkUnicode(String what, String s) {
    try {
      StandardCharsets.UTF_8
          .newEncoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .encode(CharBuffer.wrap(s));
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(
          what + ": \"" + s + "\" is not valid Unicode (an" + " unpaired surrogate)");
    }
  }
}
