package org.spinekit.nn;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.tensor.Tensors;

/**
 * Weights from a formula that numpy computes bit for bit the same way, so a network's output
 * computed by a library that is not installed here (timm, segmentation_models_pytorch,
 * EfficientNet-PyTorch) can be committed as data and compared with SpineKit's. Only integer
 * arithmetic and correctly rounded IEEE float64 operations (one division, one square root, one
 * product or sum), then rounding to float32:
 *
 * <pre>
 *   seed(key) = sum over j of (j + 1) * key[j] (character codes), mod 251
 *   u_i       = (((i * 97 + seed) mod 251) - 125) / 250     for the i-th value in C order
 *   "input": u * sqrt(12); running_var: 1 + u; running_mean: 0.2 u;
 *   tensors of 2+ dimensions: u * sqrt(12 / fanIn), fanIn = numel / shape[0];
 *   other 1-D weights: 1 + 0.5 u; 1-D biases: 0.2 u
 * </pre>
 *
 * The key is the real library's key (before any name map). Batch-norm counters ({@code
 * num_batches_tracked}) are not generated.
 */
final class FormulaWeights {
  private FormulaWeights() {}

  /** One state-dict entry of the real network: key, dtype ("F32", "I64") and shape. */
  record Entry(String key, String dtype, long[] shape) {}

  /** A committed description of a real network: its entries, input shape, output noise. */
  record Spec(List<Entry> entries, long[] input, long[] output, double noise) {}

  static int seed(String key) {
    long s = 0;
    for (int j = 0; j < key.length(); j++) s += (long) (j + 1) * key.charAt(j);
    return (int) (s % 251);
  }

  /** The formula's values for {@code key} with {@code shape}. */
  static float[] values(String key, long[] shape) {
    long n = 1;
    for (long d : shape) n *= d;
    if (n > Integer.MAX_VALUE) throw new IllegalArgumentException(key + ": too large");
    int seed = seed(key);
    double scale;
    double offset;
    if (key.equals("input")) {
      scale = Math.sqrt(12.0);
      offset = 0;
    } else if (key.endsWith("running_var")) {
      scale = 1;
      offset = 1;
    } else if (key.endsWith("running_mean")) {
      scale = 0.2;
      offset = 0;
    } else if (shape.length >= 2) {
      scale = Math.sqrt(12.0 / (n / shape[0]));
      offset = 0;
    } else if (key.endsWith("weight")) {
      scale = 0.5;
      offset = 1;
    } else if (key.endsWith("bias")) {
      scale = 0.2;
      offset = 0;
    } else {
      throw new IllegalArgumentException("no formula for " + key + " " + Arrays.toString(shape));
    }
    float[] v = new float[(int) n];
    for (int i = 0; i < n; i++) {
      double u = (((i * 97L + seed) % 251) - 125) / 250.0;
      // The same operations, in the same order, as numpy: (offset + scale * u) or scale * u.
      v[i] = (float) (offset == 0 ? u * scale : offset + scale * u);
    }
    return v;
  }

  static Tensor tensor(String key, long[] shape) {
    return Tensors.of(values(key, shape), shape);
  }

  private static final Pattern INPUT = Pattern.compile(".*; input ([0-9x]+)$");
  private static final Pattern OUTPUT =
      Pattern.compile("# output ([0-9x]+), .*PyTorch float32 vs float64 (\\S+)$");

  /** Reads a {@code <case>.keys.txt} resource. */
  static Spec spec(String resource) throws IOException {
    try (InputStream in = FormulaWeights.class.getResourceAsStream(resource)) {
      if (in == null) throw new IOException("no test resource " + resource);
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      List<Entry> entries = new ArrayList<>();
      long[] input = null;
      long[] output = null;
      double noise = Double.NaN;
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        Matcher m = INPUT.matcher(line);
        if (line.startsWith("#") && m.matches()) input = dims(m.group(1), "x");
        m = OUTPUT.matcher(line);
        if (m.matches()) {
          output = dims(m.group(1), "x");
          noise = Double.parseDouble(m.group(2));
        }
        if (line.startsWith("#") || line.isBlank()) continue;
        String[] f = line.split(" ");
        if (f.length != 3) throw new IOException(resource + ": bad line '" + line + "'");
        entries.add(new Entry(f[0], f[1], f[2].equals("-") ? new long[0] : dims(f[2], ",")));
      }
      if (input == null || output == null) {
        throw new IOException(resource + ": no input/output header line");
      }
      return new Spec(entries, input, output, noise);
    }
  }

  private static long[] dims(String s, String sep) {
    return Arrays.stream(s.split(sep)).mapToLong(Long::parseLong).toArray();
  }
}
