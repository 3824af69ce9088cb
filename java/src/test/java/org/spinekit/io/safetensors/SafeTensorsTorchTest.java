package org.spinekit.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.nifti.NiftiNibabelTest;

/**
 * safetensors files checked against Python torch (Debian's python3-torch at /usr/bin/python3): Java
 * reads a file that Python built from torch tensors, and Python rebuilds with torch every tensor of
 * a file that Java wrote.
 */
class SafeTensorsTorchTest {
  @TempDir Path dir;

  /** One tensor of a sidecar file (see safetensors_common.py). */
  record Expected(String dtype, long[] shape, String[] values) {}

  static Map<String, Expected> sidecarTensors(Path p) throws IOException {
    Map<String, Expected> m = new LinkedHashMap<>();
    for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
      String[] f = line.split("\t", -1);
      if (!f[0].equals("tensor")) continue;
      String name = new String(HexFormat.of().parseHex(f[1]), StandardCharsets.UTF_8);
      long[] shape =
          f[3].isEmpty()
              ? new long[0]
              : java.util.Arrays.stream(f[3].split(",")).mapToLong(Long::parseLong).toArray();
      String[] vals = f[4].isEmpty() ? new String[0] : f[4].split(" ");
      m.put(name, new Expected(f[2], shape, vals));
    }
    return m;
  }

  static Map<String, String> sidecarMetadata(Path p) throws IOException {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
      String[] f = line.split("\t", -1);
      if (!f[0].equals("meta")) continue;
      m.put(
          new String(HexFormat.of().parseHex(f[1]), StandardCharsets.UTF_8),
          new String(HexFormat.of().parseHex(f[2]), StandardCharsets.UTF_8));
    }
    return m;
  }

  static boolean isFloat(String dtype) {
    return dtype.startsWith("F") || dtype.equals("BF16");
  }

  @Test
  void javaReadsWhatTorchWrote() throws Exception {
    Path file = dir.resolve("torch.safetensors");
    Path side = dir.resolve("torch.sidecar");
    String out =
        NiftiNibabelTest.python("safetensors_torch_write.py", file.toString(), side.toString());
    assertTrue(out.startsWith("wrote 14 tensors"), out);
    Map<String, Expected> want = sidecarTensors(side);
    assertEquals(14, want.size());
    assertEquals(sidecarMetadata(side), SafeTensors.metadata(file));
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> got = SafeTensors.read(file);
      // File order: the order of the data, which is the order Python wrote them in.
      assertEquals(new ArrayList<>(want.keySet()), new ArrayList<>(got.keySet()));
      for (Map.Entry<String, Expected> e : want.entrySet()) {
        String name = e.getKey();
        Expected x = e.getValue();
        Tensor t = got.get(name);
        assertTrue(t.is_cpu(), name);
        assertEquals(
            SafeTensorsDtype.valueOf(x.dtype()), SafeTensorsDtype.of(t.scalar_type()), name);
        assertArrayEquals(x.shape(), SafeTensorsTest.shape(t), name + " shape");
        if (isFloat(x.dtype())) {
          double[] v = SafeTensorsTest.doubles(t);
          assertEquals(x.values().length, v.length, name);
          for (int i = 0; i < v.length; i++) {
            double w = Double.parseDouble(x.values()[i]);
            boolean same =
                Double.isNaN(w)
                    ? Double.isNaN(v[i])
                    : Double.doubleToLongBits(w) == Double.doubleToLongBits(v[i]);
            if (!same) fail(name + " element " + i + ": " + v[i] + ", expected " + w);
          }
        } else {
          long[] v = SafeTensorsTest.longs(t);
          assertEquals(x.values().length, v.length, name);
          for (int i = 0; i < v.length; i++) {
            assertEquals(Long.parseLong(x.values()[i]), v[i], name + " element " + i);
          }
        }
      }
    }
  }

  @Test
  void torchReadsWhatJavaWrote() throws Exception {
    Path file = dir.resolve("java.safetensors");
    Path side = dir.resolve("java.sidecar");
    List<String> lines = new ArrayList<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", "pt");
    metadata.put("spine \"levels\"", "L1/L2\tL5/S1\n\u00fc\u2713\ud83d\ude00");
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> tensors = SafeTensorsTest.allDtypes();
      SafeTensors.write(file, tensors, metadata);
      HexFormat hex = HexFormat.of();
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        Tensor t = e.getValue();
        String dtype = SafeTensorsDtype.of(t.scalar_type()).name();
        StringBuilder s =
            new StringBuilder("tensor\t")
                .append(hex.formatHex(e.getKey().getBytes(StandardCharsets.UTF_8)))
                .append('\t')
                .append(dtype)
                .append('\t');
        long[] shape = SafeTensorsTest.shape(t);
        for (int d = 0; d < shape.length; d++) s.append(d > 0 ? "," : "").append(shape[d]);
        s.append('\t');
        List<String> vals = new ArrayList<>();
        if (isFloat(dtype)) {
          for (double v : SafeTensorsTest.doubles(t)) vals.add(Double.toString(v));
        } else {
          for (long v : SafeTensorsTest.longs(t)) vals.add(Long.toString(v));
        }
        lines.add(s.append(String.join(" ", vals)).toString());
      }
      for (Map.Entry<String, String> m : metadata.entrySet()) {
        lines.add(
            "meta\t"
                + hex.formatHex(m.getKey().getBytes(StandardCharsets.UTF_8))
                + "\t"
                + hex.formatHex(m.getValue().getBytes(StandardCharsets.UTF_8)));
      }
      Files.write(side, lines, StandardCharsets.UTF_8);
      String out =
          NiftiNibabelTest.python("safetensors_torch_check.py", file.toString(), side.toString());
      long ok = out.lines().filter(l -> l.startsWith("OK ")).count();
      assertEquals(tensors.size() + 1, ok, out);
      assertFalse(out.contains("MISMATCH"), out);
    }
  }
}
