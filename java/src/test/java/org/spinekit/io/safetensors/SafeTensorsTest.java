package org.spinekit.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.json.StrictJson;
import org.spinekit.tensor.Tensors;
import org.spinekit.testing.NativeMemory;

/** safetensors reading, writing, validation and native memory ownership. */
class SafeTensorsTest {
  @TempDir Path dir;

  // ---------------------------------------------------------------- tensor helpers
  // Callers hold a PointerScope; these make tensors in it.

  static long[] shape(Tensor t) {
    long[] s = new long[(int) t.dim()];
    for (int d = 0; d < s.length; d++) s[d] = t.size(d);
    return s;
  }

  static double[] doubles(Tensor t) {
    Tensor c = t.to(ScalarType.Double).contiguous();
    double[] out = new double[(int) c.numel()];
    if (out.length > 0) c.data_ptr_double().get(out);
    return out;
  }

  static long[] longs(Tensor t) {
    Tensor c = t.to(ScalarType.Long).contiguous();
    long[] out = new long[(int) c.numel()];
    if (out.length > 0) c.data_ptr_long().get(out);
    return out;
  }

  static Tensor ofDoubles(double[] v, long... shape) {
    long[] strides = new long[shape.length];
    long acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      strides[i] = acc;
      acc *= shape[i];
    }
    return torch
        .from_blob(new DoublePointer(v), shape, strides, new TensorOptions(ScalarType.Double))
        .clone();
  }

  /** One tensor of every dtype, a 0-d one, empty ones, a non-contiguous one, an odd name. */
  static Map<String, Tensor> allDtypes() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put(
        "w.f64",
        ofDoubles(new double[] {1e300, -2.5, 1.0 / 3, Double.NaN, -0.0, Double.MIN_VALUE}, 2, 3));
    float[] f = new float[60];
    for (int i = 0; i < f.length; i++) f[i] = (float) Math.sin(i) * 100;
    f[0] = Float.NaN;
    f[1] = Float.POSITIVE_INFINITY;
    f[2] = Float.NEGATIVE_INFINITY;
    f[3] = -0.0f;
    f[4] = Float.MIN_VALUE;
    m.put("w.f32", Tensors.of(f, 3, 4, 5));
    float[] h = new float[21];
    for (int i = 0; i < h.length; i++) h[i] = i * 0.25f - 3;
    h[0] = 65504;
    h[1] = 6e-8f;
    m.put("half", Tensors.of(h, 7, 3).to(ScalarType.Half));
    m.put(
        "brain",
        Tensors.of(f, 6, 10).mul(new org.bytedeco.pytorch.Scalar(7.0)).to(ScalarType.BFloat16));
    m.put(
        "steps", Tensors.of(new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0, -1, (1L << 53) + 1}, 5));
    m.put(
        "i32",
        Tensors.of(new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 7, -7}, 2, 2)
            .to(ScalarType.Int));
    m.put(
        "i16",
        Tensors.of(new long[] {Short.MIN_VALUE, Short.MAX_VALUE, 3}, 3).to(ScalarType.Short));
    m.put("i8", Tensors.of(new long[] {-128, 127, 0, 5, -5}, 5).to(ScalarType.Char));
    m.put("u8", Tensors.of(new long[] {0, 255, 17, 128, 1, 2}, 1, 2, 3).to(ScalarType.Byte));
    m.put("mask", Tensors.of(new long[] {1, 0, 0, 1, 1}, 5).to(ScalarType.Bool));
    m.put("scalar", Tensors.of(new float[] {3.25f}, 1).view());
    m.put(
        "empty",
        torch.empty(
            new long[] {0, 4}, new TensorOptions(ScalarType.Float), new MemoryFormatOptional()));
    m.put(
        "empty_i64",
        torch.empty(
            new long[] {2, 0, 3}, new TensorOptions(ScalarType.Long), new MemoryFormatOptional()));
    Tensor tr = Tensors.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).t();
    assertFalse(tr.is_contiguous());
    m.put("transposed", tr);
    m.put(
        "caf\u00e9/\u0394 \"q\"\n\ud83d\ude00", Tensors.of(new long[] {7}, 1).to(ScalarType.Short));
    return m;
  }

  static void assertSameTensor(Tensor want, Tensor got, String name) {
    assertEquals(want.scalar_type().value, got.scalar_type().value, name + " dtype");
    assertArrayEquals(shape(want), shape(got), name + " shape");
    boolean floating =
        SafeTensorsDtype.of(want.scalar_type()).name().startsWith("F")
            || SafeTensorsDtype.of(want.scalar_type()) == SafeTensorsDtype.BF16;
    if (floating) {
      double[] a = doubles(want);
      double[] b = doubles(got);
      for (int i = 0; i < a.length; i++) {
        boolean same =
            Double.isNaN(a[i])
                ? Double.isNaN(b[i])
                : Double.doubleToLongBits(a[i]) == Double.doubleToLongBits(b[i]);
        assertTrue(same, name + " element " + i + ": " + b[i] + ", expected " + a[i]);
      }
    } else {
      assertArrayEquals(longs(want), longs(got), name);
    }
  }

  // ---------------------------------------------------------------- round trips and layout

  @Test
  void everyDtypeRoundTrips() throws IOException {
    Path p = dir.resolve("all.safetensors");
    Map<String, String> md = new LinkedHashMap<>();
    md.put("format", "pt");
    md.put("quote \" and \\ and \u0001", "\ud83d\ude00 \u00e9\n");
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> in = allDtypes();
      SafeTensors.write(p, in, md);
      Map<String, Tensor> out = SafeTensors.read(p);
      assertEquals(in.keySet(), out.keySet());
      for (String name : in.keySet()) assertSameTensor(in.get(name), out.get(name), name);
      assertTrue(out.get("transposed").is_contiguous());
      assertEquals(0, out.get("scalar").dim());
      assertEquals(md, SafeTensors.metadata(p));
      // Laid out as the reference orders them: dtype (widest first), then name.
      assertEquals(
          List.of(
              "empty_i64",
              "steps",
              "w.f64",
              "empty",
              "scalar",
              "transposed",
              "w.f32",
              "i32",
              "brain",
              "half",
              "caf\u00e9/\u0394 \"q\"\n\ud83d\ude00",
              "i16",
              "i8",
              "u8",
              "mask"),
          new ArrayList<>(out.keySet()));
    }
  }

  @Test
  void layoutFollowsTheReferenceImplementation() throws IOException {
    Path p = dir.resolve("layout.safetensors");
    try (PointerScope scope = new PointerScope()) {
      SafeTensors.write(p, allDtypes(), Map.of("format", "pt"));
    }
    byte[] raw = Files.readAllBytes(p);
    long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertEquals(0, n % 8, "header length " + n);
    String header = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
    assertTrue(
        header.startsWith(
            "{\"__metadata__\":{\"format\":\"pt\"},\"empty_i64\":"
                + "{\"dtype\":\"I64\",\"shape\":[2,0,3],\"data_offsets\":[0,0]},\"steps\":{\"dtype\":"
                + "\"I64\",\"shape\":[5],\"data_offsets\":[0,40]},"),
        header);
    String trimmed = header.stripTrailing();
    assertTrue(trimmed.endsWith("}"));
    assertTrue(header.length() - trimmed.length() < 8);
    assertEquals(
        header.length() - trimmed.length(),
        header.chars().skip(trimmed.length()).filter(c -> c == ' ').count(),
        "space padding");
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      SafeTensors.Header h = SafeTensors.header(p, ch);
      assertEquals(15, h.tensors().size());
      for (SafeTensors.Entry e : h.tensors()) {
        assertEquals(0, (8 + n + e.begin()) % e.dtype().size, e.name() + " alignment");
      }
    }
    // No metadata: no "__metadata__" entry at all.
    Path q = dir.resolve("plain.safetensors");
    try (PointerScope scope = new PointerScope()) {
      SafeTensors.write(q, Map.of("x", Tensors.of(new float[] {1, 2}, 2)), null);
    }
    assertEquals(Map.of(), SafeTensors.metadata(q));
    assertFalse(new String(Files.readAllBytes(q), StandardCharsets.UTF_8).contains("__metadata__"));
    // Nothing at all is a valid file too.
    Path e = dir.resolve("empty.safetensors");
    SafeTensors.write(e, Map.of(), Map.of());
    assertEquals(16, Files.size(e));
    assertTrue(SafeTensors.read(e).isEmpty());
  }

  @Test
  void readsInSpansIntoTensorMemory() throws IOException {
    Path p = dir.resolve("span.safetensors");
    try (PointerScope scope = new PointerScope()) {
      float[] v = new float[1000];
      for (int i = 0; i < v.length; i++) v[i] = i * 0.5f - 17;
      Tensor t = Tensors.of(v, 10, 100);
      SafeTensors.write(p, Map.of("a", Tensors.of(new long[] {1, 2, 3}, 3), "b", t), null);
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
        SafeTensors.Header h = SafeTensors.header(p, ch);
        SafeTensors.Entry b =
            h.tensors().stream().filter(x -> x.name().equals("b")).findFirst().orElseThrow();
        Tensor into =
            torch.empty(b.shape(), new TensorOptions(ScalarType.Float), new MemoryFormatOptional());
        // 7-byte spans: every element straddles some span boundary.
        SafeTensors.readInto(
            p, b, ch, h.dataStart() + b.begin(), into.data_ptr(), b.end() - b.begin(), 7);
        assertSameTensor(t, into, "b read in 7-byte spans");
      }
    }
  }

  @Test
  void tensorsBelongToTheCallersScope() throws IOException {
    Path p = dir.resolve("own.safetensors");
    try (PointerScope scope = new PointerScope()) {
      SafeTensors.write(p, allDtypes(), null);
    }
    Map<String, Tensor> inScope;
    try (PointerScope scope = new PointerScope()) {
      inScope = SafeTensors.read(p);
      assertEquals(3.25, doubles(inScope.get("scalar"))[0]);
    }
    for (Tensor t : inScope.values()) assertTrue(t.isNull(), "released with the scope");
    // Without a scope the caller owns them until it closes them.
    Map<String, Tensor> mine = SafeTensors.read(p);
    try (PointerScope scope = new PointerScope()) {
      assertEquals(3.25, doubles(mine.get("scalar"))[0]);
    }
    assertFalse(mine.get("scalar").isNull(), "still the caller's after an unrelated scope");
    for (Tensor t : mine.values()) t.close();
    assertTrue(mine.get("scalar").isNull());
  }

  @Test
  void nativeMemoryStaysFlat() throws IOException {
    Path p = dir.resolve("mem.safetensors");
    Path w = dir.resolve("memw.safetensors");
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      m.put("big", torch.ones(64, 1024));
      m.put("small", Tensors.of(new long[] {1, 2, 3}, 3));
      SafeTensors.write(p, m, Map.of("k", "v"));
    }
    Runnable round =
        () -> {
          try (PointerScope scope = new PointerScope()) {
            Map<String, Tensor> m = SafeTensors.read(p);
            if (m.get("big").numel() != 65536) throw new AssertionError("numel");
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        };
    for (int i = 0; i < 300; i++) round.run();
    NativeMemory.Reading before = NativeMemory.settled();
    // 2,000 reads of a 256 kB tensor: a leaked tensor per read would add 512 MB.
    for (int i = 0; i < 2000; i++) round.run();
    for (int i = 0; i < 50; i++) {
      try (PointerScope scope = new PointerScope()) {
        SafeTensors.write(w, SafeTensors.read(p), null);
      }
    }
    NativeMemory.Reading after = NativeMemory.settled();
    long grown = after.rss() - before.rss();
    System.out.printf(
        "native memory: JavaCPP-tracked %d -> %d bytes, RSS growth %d kB over"
            + " 2,000 reads and 50 writes%n",
        before.trackedBytes(), after.trackedBytes(), grown >> 10);
    NativeMemory.assertTrackedFlat(before, after, "after 2,000 reads and 50 writes");
    assertTrue(grown < 64L << 20, "RSS grew by " + grown + " bytes");
  }

  // ---------------------------------------------------------------- bad files

  private Path file(String name, byte[] header, byte[] data) throws IOException {
    Path p = dir.resolve(name);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(
        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
    b.writeBytes(header);
    b.writeBytes(data);
    Files.write(p, b.toByteArray());
    return p;
  }

  private Path file(String name, String json, int dataBytes) throws IOException {
    return file(name, json.getBytes(StandardCharsets.UTF_8), new byte[dataBytes]);
  }

  private static MalformedFileException malformed(Path p, String... expected) {
    MalformedFileException e =
        assertThrows(MalformedFileException.class, () -> SafeTensors.read(p));
    assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
    for (String x : expected) {
      assertTrue(e.getMessage().contains(x), "expected \"" + x + "\" in: " + e.getMessage());
    }
    // metadata() checks the same header.
    if (!e.getMessage().contains("BOOL")) {
      assertThrows(MalformedFileException.class, () -> SafeTensors.metadata(p));
    }
    return e;
  }

  private static String t(String name, String dtype, String shape, long b, long e) {
    return "\""
        + name
        + "\":{\"dtype\":\""
        + dtype
        + "\",\"shape\":"
        + shape
        + ",\"data_offsets\":["
        + b
        + ","
        + e
        + "]}";
  }

  @Test
  void truncatedAndOverlappingDataAreMalformedNamingTheTensor() throws IOException {
    String ab = "{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[3]", 8, 20) + "}";
    assertEquals(2, SafeTensors.read(file("ok", ab, 20)).size());
    malformed(file("trunc", ab, 14), "tensor \"b\"", "data_offsets [8, 20]", "14-byte data buffer");
    malformed(file("extra", ab, 24), "data buffer has 24 bytes", "cover 20", "\"b\"");
    String overlap = "{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 4, 12) + "}";
    malformed(file("overlap", overlap, 12), "tensor \"b\"", "overlap tensor \"a\" [0, 8]");
    String gap = "{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 8, 12) + "}";
    malformed(file("gap", gap, 12), "tensor \"b\"", "bytes [4, 8)");
    malformed(
        file("count", "{" + t("a", "F32", "[2,2]", 0, 12) + "}", 12),
        "tensor \"a\"",
        "needs 16 bytes",
        "hold 12");
    malformed(
        file("backwards", "{" + t("a", "U8", "[0]", 4, 0) + "}", 4),
        "tensor \"a\"",
        "end before they begin");
    Path badBool =
        file(
            "bool2",
            ("{" + t("m", "BOOL", "[3]", 0, 3) + "}").getBytes(StandardCharsets.UTF_8),
            new byte[] {1, 0, 2});
    malformed(badBool, "tensor \"m\"", "BOOL element 2 is byte 2");
  }

  @Test
  void badHeaderLengthsAreMalformed() throws IOException {
    Path tiny = dir.resolve("tiny");
    Files.write(tiny, new byte[] {1, 2, 3, 4, 5});
    malformed(tiny, "fewer than the 8-byte header length");
    Path past = dir.resolve("past");
    Files.write(past, ByteBuffer.allocate(50).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array());
    malformed(past, "header length 1000 runs past the end of the file (50 bytes)");
    Path neg = dir.resolve("neg");
    Files.write(neg, ByteBuffer.allocate(50).order(ByteOrder.LITTLE_ENDIAN).putLong(-2).array());
    malformed(neg, "header length 18446744073709551614 runs past");
    // A header over the 100 MB limit (a sparse file: no 100 MB written).
    Path huge = dir.resolve("huge");
    try (RandomAccessFile f = new RandomAccessFile(huge.toFile(), "rw")) {
      f.setLength(100_000_200L);
      f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L).array());
    }
    malformed(huge, "exceeds the 100000000-byte limit");
    malformed(file("one", "{", 0), "too short");
  }

  @Test
  void badJsonIsMalformed() throws IOException {
    String ok = t("a", "F32", "[1]", 0, 4);
    malformed(file("open", "{" + ok, 4), "header JSON", "unexpected end");
    malformed(file("comma", "{" + ok + ",}", 4), "header JSON");
    malformed(file("quotes", "{'a':{}}", 0), "header JSON");
    malformed(
        file("lead0", "{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4),
        "header JSON");
    malformed(file("ctrl", "{\"a\u0001\":{}}", 0), "header JSON", "control character");
    malformed(file("surrogate", "{\"\\ud800\":{}}", 0), "unpaired surrogate");
    malformed(
        file("deep", "{\"a\":" + "[".repeat(200) + "]".repeat(200) + "}", 0),
        "nesting deeper than 64");
    malformed(file("after", "{" + ok + "} x", 4), "after the value");
    malformed(file("space", " {" + ok + "}", 4), "does not start with '{'");
    malformed(file("array", "[1,2]", 0), "does not start with '{'");
    malformed(
        file("utf8", new byte[] {'{', '"', (byte) 0xff, '"', ':', '1', '}'}, new byte[0]),
        "not valid UTF-8");
    malformed(file("dup", "{" + ok + "," + ok + "}", 4), "duplicate key \"a\"");
  }

  @Test
  void badTensorEntriesAreMalformedNamingTheTensor() throws IOException {
    malformed(file("notobj", "{\"a\":5}", 0), "tensor \"a\"", "expected an object");
    malformed(
        file(
            "unknown",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]," + "\"x\":1}}",
            4),
        "tensor \"a\"",
        "unknown field \"x\"");
    malformed(
        file("nodtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
        "tensor \"a\"",
        "no \"dtype\"");
    malformed(
        file("dtypenum", "{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
        "tensor \"a\"",
        "dtype is 4");
    malformed(
        file("u16", "{" + t("a", "U16", "[2]", 0, 4) + "}", 4),
        "tensor \"a\"",
        "unsupported dtype \"U16\"");
    malformed(
        file("negshape", "{" + t("a", "F32", "[-1]", 0, 4) + "}", 4),
        "tensor \"a\"",
        "shape element 0 is -1");
    malformed(
        file("fracshape", "{" + t("a", "F32", "[1.0]", 0, 4) + "}", 4),
        "tensor \"a\"",
        "shape element 0 is 1.0");
    malformed(
        file("bigshape", "{" + t("a", "F32", "[99999999999999999999]", 0, 4) + "}", 4),
        "tensor \"a\"",
        "shape element 0");
    malformed(
        file("overflow", "{" + t("a", "F32", "[4294967296,4294967296]", 0, 4) + "}", 4),
        "tensor \"a\"",
        "overflows");
    malformed(
        file("offs3", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4),
        "tensor \"a\"",
        "data_offsets");
    malformed(
        file("mdnum", "{\"__metadata__\":{\"k\":1}," + t("a", "F32", "[1]", 0, 4) + "}", 4),
        "\"__metadata__\" value of \"k\" is 1");
    malformed(file("mdarr", "{\"__metadata__\":[]}", 0), "\"__metadata__\" is not an object");
  }

  @Test
  void writeChecksItsArguments() {
    try (PointerScope scope = new PointerScope()) {
      Path p = dir.resolve("w.safetensors");
      Tensor ok = Tensors.of(new float[] {1}, 1);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> SafeTensors.write(p, Map.of("__metadata__", ok), null));
      assertTrue(e.getMessage().contains("reserved"), e.getMessage());
      Map<String, Tensor> withNull = new LinkedHashMap<>();
      withNull.put("n", null);
      e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(p, withNull, null));
      assertTrue(e.getMessage().contains("\"n\""), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> SafeTensors.write(p, Map.of("u", new Tensor()), null));
      assertTrue(e.getMessage().contains("\"u\""), e.getMessage());
      Tensor complex = Tensors.of(new float[] {1, 2}, 2).to(ScalarType.ComplexFloat);
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> SafeTensors.write(p, Map.of("c", complex), null));
      assertTrue(
          e.getMessage().contains("\"c\"") && e.getMessage().contains("ComplexFloat"),
          e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> SafeTensors.write(p, Map.of("bad\ud800", ok), null));
      assertTrue(e.getMessage().contains("tensor name"), e.getMessage());
      assertFalse(Files.exists(p), "nothing written on bad arguments");
    }
  }

  @Test
  void jsonParserIsStrictAndEscapesRoundTrip() throws Exception {
    Object v =
        StrictJson.parse(
            " {\"a\\u00e9\\n\\\"\\\\\\/\\ud83d\\ude00\": [1, -0, 2.5e-3,"
                + " true, false, null, {}, []]} ");
    assertInstanceOf(Map.class, v);
    Map<?, ?> m = (Map<?, ?>) v;
    List<?> l = (List<?>) m.get("a\u00e9\n\"\\/\ud83d\ude00");
    assertEquals(8, l.size());
    assertEquals(1L, ((StrictJson.Num) l.get(0)).asLong());
    assertEquals(0L, ((StrictJson.Num) l.get(1)).asLong());
    assertEquals(null, ((StrictJson.Num) l.get(2)).asLong());
    assertEquals(Boolean.TRUE, l.get(3));
    assertEquals(StrictJson.NULL, l.get(5));
    for (String bad :
        new String[] {
          "",
          "{",
          "[1,]",
          "[01]",
          "[1.]",
          "[.5]",
          "[1e]",
          "[+1]",
          "[\"\\x\"]",
          "[\"\\u12\"]",
          "[tru]",
          "{\"a\" 1}",
          "{1:2}",
          "[1 2]",
          "\"a",
          "[]]",
          "[\"\t\"]",
          "[-]",
          "{\"a\":1,\"a\":2}"
        }) {
      assertThrows(StrictJson.SyntaxException.class, () -> StrictJson.parse(bad), bad);
    }
    String weird = "q\"\\\n\r\t\b\f\u0001\u001f \u00e9\ud83d\ude00/";
    assertEquals(weird, StrictJson.parse(StrictJson.quote(weird)));
    assertEquals("\"a\\u0001\\n\"", StrictJson.quote("a\u0001\n"));
  }
}
