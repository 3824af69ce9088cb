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
}
