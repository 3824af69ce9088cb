package org.spinekit.train;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A training configuration kept as a record, read and written as data: the values by name ({@link
 * #toMap}), one value replaced by name from text or JSON ({@link #with}), and a whole record from a
 * map ({@link #fromMap}). Supported component types: String, boolean, int, long, double, int[] and
 * List of String. The record's constructor checks the values; its IllegalArgumentException passes
 * through unchanged.
 */
public final class Settings {
  private Settings() {}

  /** The values of {@code r} by component name, in declaration order (arrays as lists). */
  public static Map<String, Object> toMap(Record r) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (RecordComponent c : r.getClass().getRecordComponents()) {
      try {
        Object v = c.getAccessor().invoke(r);
        if (v instanceof int[] a) v = Arrays.stream(a).boxed().toList();
        m.put(c.getName(), v);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
    return m;
  }

  /**
   * {@code base} with every value of {@code m}: every component must be present and no other name;
   * a wrong type or value names the key.
   */
  public static <R extends Record> R fromMap(R base, Map<String, Object> m) {
    List<String> missing = new ArrayList<>();
    for (RecordComponent c : base.getClass().getRecordComponents()) {
      if (!m.containsKey(c.getName())) missing.add(c.getName());
    }
    if (!missing.isEmpty()) throw new IllegalArgumentException("config: missing " + missing);
    R c = base;
    for (Map.Entry<String, Object> e : m.entrySet()) c = with(c, e.getKey(), e.getValue());
    return c;
  }

  /**
   * {@code r} with setting {@code name} set to {@code value}: a value of the component's type, or
   * text (numbers, {@code true}/{@code false}, comma-separated lists; an empty text is an empty
   * list).
   */
  @SuppressWarnings("unchecked")
  public static <R extends Record> R with(R r, String name, Object value) {
    if (value == null) throw bad(name, "a value", "null");
    Map<String, Object> m = toMap(r);
    if (!m.containsKey(name)) {
      throw new IllegalArgumentException(
          "config: unknown setting '"
              + name
              + "' (settings: "
              + String.join(", ", m.keySet())
              + ")");
    }
    RecordComponent[] comps = r.getClass().getRecordComponents();
    Object[] args = new Object[comps.length];
    for (int i = 0; i < comps.length; i++) {
      String k = comps[i].getName();
      args[i] = convert(k, comps[i].getType(), k.equals(name) ? value : m.get(k));
    }
    try {
      return (R)
          r.getClass()
              .getDeclaredConstructor(
                  Arrays.stream(comps).map(RecordComponent::getType).toArray(Class<?>[]::new))
              .newInstance(args);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof IllegalArgumentException iae) throw iae;
      throw new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Object convert(String name, Class<?> type, Object v) {
    try {
      if (type == String.class) {
        if (v instanceof String s) return s;
        throw bad(name, "a string", v);
      }
      if (type == boolean.class) {
        if (v instanceof Boolean b) return b;
        if ("true".equals(v) || "false".equals(v)) return Boolean.parseBoolean((String) v);
        throw bad(name, "true or false", v);
      }
      if (type == int.class) return Math.toIntExact(asLong(name, v));
      if (type == long.class) return asLong(name, v);
      if (type == double.class) {
        if (v instanceof Number n) return n.doubleValue();
        if (v instanceof String s) return Double.parseDouble(s.trim());
        throw bad(name, "a number", v);
      }
      if (type == int[].class) {
        List<?> items = items(v);
        int[] a = new int[items.size()];
        for (int i = 0; i < a.length; i++) a[i] = Math.toIntExact(asLong(name, items.get(i)));
        return a;
      }
      if (type == List.class) {
        List<String> out = new ArrayList<>();
        for (Object o : items(v)) out.add(String.valueOf(o).trim());
        return out;
      }
    } catch (NumberFormatException | ArithmeticException e) {
      String what =
          type == double.class
              ? "a number"
              : type == int[].class ? "integers separated by commas" : "an integer";
      throw bad(name, what, v);
    }
    throw new IllegalStateException(name + ": unsupported type " + type);
  }

  private static List<?> items(Object v) {
    if (v instanceof List<?> l) return l;
    if (v instanceof int[] a) return Arrays.stream(a).boxed().toList();
    String s = String.valueOf(v).trim();
    if (s.isEmpty()) return List.of();
    return Arrays.stream(s.split(",")).map(String::trim).toList();
  }

  private static long asLong(String name, Object v) {
    if (v instanceof Long || v instanceof Integer) return ((Number) v).longValue();
    if (v instanceof String s) return Long.parseLong(s.trim());
    throw bad(name, "an integer", v);
  }

  /** Refuses {@code v < 1}. */
  public static void positive(String name, long v) {
    if (v < 1) throw bad(name, ">= 1", v);
  }

  /** Refuses a rate that is not a finite number > 0. */
  public static void rate(String name, double v) {
    if (!(v > 0) || Double.isInfinite(v)) throw bad(name, "a rate > 0", v);
  }

  /** Refuses a name that {@link org.spinekit.nn.Zoo} does not build. */
  public static void arch(String name, String v) {
    if (v == null || !org.spinekit.nn.Zoo.names().contains(v)) {
      throw bad(name, "an architecture of 'spinekit model list'", v);
    }
  }

  /** "name: expected ..., got ...". */
  public static IllegalArgumentException bad(String name, String expected, Object got) {
    return new IllegalArgumentException(
        String.format(Locale.ROOT, "%s: expected %s, got %s", name, expected, got));
  }
}
