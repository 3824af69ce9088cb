package org.spinekit.io.json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict JSON (RFC 8259) for the project's small metadata files (checkpoint records, log lines), on
 * the parser that reads safetensors headers. Parsed values are {@code Map<String, Object>}
 * (insertion-ordered), {@code List<Object>}, {@code String}, {@code Long} (integer literals that
 * fit), {@code Double} (other numbers), {@code Boolean} and {@code null}.
 */
public final class Json {
  private Json() {}

  /** Malformed JSON. */
  public static final class SyntaxException extends Exception {
    private static final long serialVersionUID = 1L;

    SyntaxException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Parses one JSON value (the whole text). */
  public static Object parse(String text) throws SyntaxException {
    try {
      return convert(StrictJson.parse(text));
    } catch (StrictJson.SyntaxException e) {
      throw new SyntaxException(e.getMessage(), e);
    }
  }

  /** {@code s} as a JSON string literal. */
  public static String quote(String s) {
    return StrictJson.quote(s);
  }

  /**
   * {@code v} as a JSON number that reads back to the same double ({@link Double#toString} digits);
   * non-finite values, which JSON lacks, as {@code null}.
   */
  public static String number(double v) {
    if (!Double.isFinite(v)) return "null";
    if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
    return Double.toString(v);
  }

  private static Object convert(Object v) {
    if (v == StrictJson.NULL) return null;
    if (v instanceof StrictJson.Num n) {
      Long l = n.asLong();
      return l != null ? l : (Object) Double.parseDouble(n.text());
    }
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : m.entrySet()) out.put((String) e.getKey(), convert(e.getValue()));
      return out;
    }
    if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>(l.size());
      for (Object o : l) out.add(convert(o));
      return out;
    }
    return v;
  }

  /**
   * A JSON text of a value made of maps (keys as strings), lists, strings, numbers (non-finite
   * doubles as null), booleans and nulls.
   */
  public static String write(Object v) {
    StringBuilder b = new StringBuilder();
    write(b, v);
    return b.toString();
  }

  private static void write(StringBuilder b, Object v) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof String s) {
      b.append(quote(s));
    } else if (v instanceof Double || v instanceof Float) {
      b.append(number(((Number) v).doubleValue()));
    } else if (v instanceof Number || v instanceof Boolean) {
      b.append(v);
    } else if (v instanceof Map<?, ?> m) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) b.append(',');
        first = false;
        b.append(quote(String.valueOf(e.getKey()))).append(':');
        write(b, e.getValue());
      }
      b.append('}');
    } else if (v instanceof List<?> l) {
      b.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) b.append(',');
        write(b, l.get(i));
      }
      b.append(']');
    } else {
      throw new IllegalArgumentException(
          "JSON: " + v.getClass().getSimpleName() + " is not a JSON value");
    }
  }
}
