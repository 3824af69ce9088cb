package org.spinekit.serve;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.spinekit.io.json.Json;

/**
 * The Open Inference Protocol's (KServe v2) inference request and response for one {@link Network}:
 * one FP32 tensor {@value #INPUT} in, one FP32 tensor {@value #OUTPUT} out. The data come as JSON
 * (flat or nested, row-major) or, with the binary tensor data extension, as little-endian bytes
 * after a JSON header whose length the {@value #HEADER_LENGTH} header gives; the output is returned
 * as binary when the request asks ({@code binary_data} on the output, or {@code binary_data_output}
 * on the request).
 */
final class Oip {
  private Oip() {}

  /** The input tensor's name. */
  static final String INPUT = "input";

  /** The output tensor's name. */
  static final String OUTPUT = "output";

  /** The only datatype. */
  static final String FP32 = "FP32";

  /** The binary tensor data extension's header: the length of the JSON before the binary data. */
  static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  /**
   * A parsed inference request.
   *
   * @param id the request's id (null: none)
   * @param shape the input's shape
   * @param data the input's values, row-major
   * @param binaryOutput whether the output goes back as binary data
   */
  record Request(String id, long[] shape, float[] data, boolean binaryOutput) {}

  /**
   * The request in {@code body}: JSON in its first {@code jsonLength} bytes, binary tensor data
   * after them.
   *
   * @throws HttpError 400 naming what is malformed (a datatype other than FP32 by name)
   */
  static Request parse(byte[] body, int jsonLength, String model) {
    Object parsed;
    try {
      parsed = Json.parse(new String(body, 0, jsonLength, StandardCharsets.UTF_8));
    } catch (Json.SyntaxException e) {
      throw HttpError.bad("malformed JSON: " + e.getMessage());
    }
    if (!(parsed instanceof Map<?, ?> req)) {
      throw HttpError.bad("expected a JSON object (an inference request)");
    }
    Object idValue = req.get("id");
    if (idValue != null && !(idValue instanceof String)) {
      throw HttpError.bad("id: expected a string");
    }
    Map<?, ?> params = object(req.get("parameters"), "parameters");
    boolean binaryOut = bool(params, "binary_data_output", "parameters");
    if (!(req.get("inputs") instanceof List<?> inputs)) {
      throw HttpError.bad("inputs: expected a list of input tensors");
    }
    if (inputs.size() != 1) {
      throw HttpError.bad(
          "inputs: " + model + " takes one input '" + INPUT + "', got " + inputs.size());
    }
    Map<?, ?> in = object(inputs.get(0), "inputs[0]");
    if (in == null) throw HttpError.bad("inputs[0]: expected an object");
    Object name = in.get("name");
    if (!INPUT.equals(name)) {
      throw HttpError.bad(
          "input '" + name + "': " + model + " has one input, named '" + INPUT + "'");
    }
    Object datatype = in.get("datatype");
    if (!(datatype instanceof String dt)) {
      throw HttpError.bad("input '" + INPUT + "': expected a datatype (FP32)");
    }
    if (!dt.equals(FP32)) {
      throw HttpError.bad(
          "input '" + INPUT + "': datatype " + dt + " is not served; " + model + " takes FP32");
    }
    long[] shape = shape(in.get("shape"));
    long count = count(shape);
    Map<?, ?> inParams = object(in.get("parameters"), "input '" + INPUT + "' parameters");
    Object binSize = inParams == null ? null : inParams.get("binary_data_size");
    float[] data;
    int binaryBytes = body.length - jsonLength;
    if (binSize != null) {
      if (!(binSize instanceof Long size) || size < 0) {
        throw HttpError.bad("input '" + INPUT + "': binary_data_size: expected an integer >= 0");
      }
      if (in.containsKey("data")) {
        throw HttpError.bad(
            "input '" + INPUT + "': both data and binary_data_size given; expected one");
      }
      if (size != count * 4) {
        throw HttpError.bad(
            "input '"
                + INPUT
                + "': binary_data_size "
                + size
                + " does not fit shape "
                + Arrays.toString(shape)
                + " of FP32 ("
                + count * 4
                + " bytes)");
      }
      if (size != binaryBytes) {
        throw HttpError.bad(
            "binary data: "
                + binaryBytes
                + " bytes follow the JSON header, the input's binary_data_size is "
                + size);
      }
      data = new float[(int) count];
      ByteBuffer.wrap(body, jsonLength, binaryBytes)
          .order(ByteOrder.LITTLE_ENDIAN)
          .asFloatBuffer()
          .get(data);
    } else {
      if (binaryBytes != 0) {
        throw HttpError.bad(
            "binary data: "
                + binaryBytes
                + " bytes follow the JSON header, but no input has binary_data_size");
      }
      if (!in.containsKey("data")) {
        throw HttpError.bad("input '" + INPUT + "': expected data (or binary_data_size)");
      }
      // Every value takes a character at least: a shape the JSON cannot fill allocates nothing.
      if (count > jsonLength) {
        throw HttpError.bad(
            "input '"
                + INPUT
                + "': shape "
                + Arrays.toString(shape)
                + " takes "
                + count
                + " values, more than the request's JSON could hold");
      }
      data = new float[(int) count];
      int n = flatten(in.get("data"), data, 0, 0);
      if (n != count) {
        throw HttpError.bad(
            "input '"
                + INPUT
                + "': shape "
                + Arrays.toString(shape)
                + " takes "
                + count
                + " values, data has "
                + n);
      }
    }
    Object outputs = req.get("outputs");
    if (outputs != null) {
      if (!(outputs instanceof List<?> outs)) {
        throw HttpError.bad("outputs: expected a list of requested outputs");
      }
      for (Object o : outs) {
        Map<?, ?> out = object(o, "outputs[]");
        if (out == null || !OUTPUT.equals(out.get("name"))) {
          throw HttpError.bad(
              "output '"
                  + (out == null ? null : out.get("name"))
                  + "': "
                  + model
                  + " has one output, named '"
                  + OUTPUT
                  + "'");
        }
        Map<?, ?> p = object(out.get("parameters"), "output '" + OUTPUT + "' parameters");
        if (p != null && p.containsKey("binary_data")) {
          binaryOut = bool(p, "binary_data", "output '" + OUTPUT + "' parameters");
        }
      }
    }
    return new Request((String) idValue, shape, data, binaryOut);
  }

  private static Map<?, ?> object(Object o, String what) {
    if (o == null) return null;
    if (!(o instanceof Map<?, ?> m)) throw HttpError.bad(what + ": expected an object");
    return m;
  }

  private static boolean bool(Map<?, ?> m, String key, String what) {
    if (m == null || m.get(key) == null) return false;
    if (!(m.get(key) instanceof Boolean b)) {
      throw HttpError.bad(what + ": " + key + ": expected true or false");
    }
    return b;
  }

  private static long[] shape(Object o) {
    if (!(o instanceof List<?> l) || l.isEmpty()) {
      throw HttpError.bad("input '" + INPUT + "': shape: expected a list of sizes");
    }
    long[] s = new long[l.size()];
    for (int i = 0; i < s.length; i++) {
      if (!(l.get(i) instanceof Long v) || v < 0) {
        throw HttpError.bad(
            "input '" + INPUT + "': shape: expected integers >= 0, got " + l.get(i));
      }
      s[i] = v;
    }
    return s;
  }

  private static long count(long[] shape) {
    long n = 1;
    for (long s : shape) {
      n *= s;
      if (n > Limits.MAX_ARRAY) {
        throw HttpError.tooLarge(
            null,
            "input '"
                + INPUT
                + "': shape "
                + Arrays.toString(shape)
                + " is too large for one call");
      }
    }
    return n;
  }

  /** Copies the numbers of {@code o} (a number, or nested lists of them) into out from at. */
  private static int flatten(Object o, float[] out, int at, int depth) {
    if (o instanceof Number n) {
      if (at >= out.length) return at + 1;
      out[at] = n.floatValue();
      return at + 1;
    }
    if (o instanceof List<?> l && depth < 32) {
      int i = at;
      for (Object x : l) {
        i = flatten(x, out, i, depth + 1);
        if (i > out.length) return i;
      }
      return i;
    }
    throw HttpError.bad(
        "input '"
            + INPUT
            + "': data: expected numbers (FP32), flat or nested, got "
            + (o == null ? "null" : o instanceof String ? "a string" : o.getClass().getSimpleName())
            + " at value "
            + at);
  }

  /** A response: the JSON, and the binary data after it (empty unless asked for). */
  record Response(byte[] json, byte[] binary) {}

  /** The response of model {@code model} to {@code req}: {@code out}. */
  static Response respond(String model, Request req, Network.Output out) {
    float[] data = out.data();
    StringBuilder b = new StringBuilder(64 + (req.binaryOutput() ? 0 : data.length * 12));
    b.append("{\"model_name\":").append(Json.quote(model));
    if (req.id() != null) b.append(",\"id\":").append(Json.quote(req.id()));
    b.append(",\"outputs\":[{\"name\":\"")
        .append(OUTPUT)
        .append("\",\"datatype\":\"")
        .append(FP32)
        .append("\",\"shape\":[");
    long[] shape = out.shape();
    for (int i = 0; i < shape.length; i++) b.append(i > 0 ? "," : "").append(shape[i]);
    b.append(']');
    byte[] binary = new byte[0];
    if (req.binaryOutput()) {
      binary = new byte[data.length * 4];
      ByteBuffer.wrap(binary).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(data);
      b.append(",\"parameters\":{\"binary_data_size\":").append(binary.length).append('}');
    } else {
      b.append(",\"data\":[");
      for (int i = 0; i < data.length; i++) {
        if (i > 0) b.append(',');
        float f = data[i];
        // Float.toString: the shortest digits that read back as the same float.
        b.append(Float.isFinite(f) ? Float.toString(f) : "null");
      }
      b.append(']');
    }
    b.append("}]}");
    return new Response(b.toString().getBytes(StandardCharsets.UTF_8), binary);
  }

  /** The model metadata of a network of {@code predictor}, named {@code model}. */
  static Map<String, Object> metadata(String model, Predictor<?> predictor, Network n) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", model);
    m.put("platform", "spinekit_libtorch");
    m.put("inputs", List.of(tensor(INPUT, n.input())));
    m.put("outputs", List.of(tensor(OUTPUT, n.output())));
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("system", predictor.system());
    p.put("study_model", predictor.name());
    p.put("network", n.name());
    p.put("folds", (long) n.folds());
    m.put("parameters", p);
    return m;
  }

  static Map<String, Object> tensor(String name, long[] shape) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("name", name);
    t.put("datatype", FP32);
    List<Object> s = new java.util.ArrayList<>();
    for (long v : shape) s.add(v);
    t.put("shape", s);
    return t;
  }
}
