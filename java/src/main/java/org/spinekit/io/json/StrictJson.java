package org.spinekit.io.json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON (RFC 8259) parser and string writer: the tree under {@link Json} and the
 * safetensors header reader. Values are {@code Map<String, Object>} (insertion-ordered; a repeated
 * key is an error), {@code List}, {@code String}, {@link Num}, {@code Boolean} and {@link #NULL}.
 * Nesting is limited so that a hostile header cannot exhaust the stack.
 */
public final class StrictJson {
  private StrictJson() {}

  static final int MAX_DEPTH = 64;

  /** JSON {@code null}. */
  public static final Object NULL =
      new Object() {
        @Override
        public String toString() {
          return "null";
        }
      };

  /** A JSON number, kept as its literal text. */
  public record Num(String text) {
    /** Whether the literal is an integer (no fraction, no exponent). */
    public boolean isInteger() {
      return text.indexOf('.') < 0 && text.indexOf('e') < 0 && text.indexOf('E') < 0;
    }

    /** The value as a long; null when it is not an integer literal or does not fit. */
    public Long asLong() {
      if (!isInteger()) return null;
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        return null;
      }
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** Malformed JSON at a character offset. */
  public static final class SyntaxException extends Exception {
    private static final long serialVersionUID = 1L;

    SyntaxException(String what, int at) {
      super(what + " at character " + at);
    }
  }

  public static Object parse(String s) throws SyntaxException {
    Parser p = new Parser(s);
    p.space();
    Object v = p.value(0);
    p.space();
    if (p.at < s.length()) {
      throw new SyntaxException(
          "unexpected " + describe(s.charAt(p.at)) + " after the value", p.at);
    }
    return v;
  }

  private static String describe(char c) {
    return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
  }

  private static final class Parser {
    private final String s;
    private int at;

    Parser(String s) {
      this.s = s;
    }

    void space() {
      while (at < s.length()) {
        char c = s.charAt(at);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
        at++;
      }
    }

    private SyntaxException error(String what) {
      return new SyntaxException(what, at);
    }

    private char peek() throws SyntaxException {
      if (at >= s.length()) throw error("unexpected end of JSON");
      return s.charAt(at);
    }

    Object value(int depth) throws SyntaxException {
      if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
      char c = peek();
      switch (c) {
        case '{':
          return object(depth);
        case '[':
          return array(depth);
        case '"':
          return string();
        case 't':
          literal("true");
          return Boolean.TRUE;
        case 'f':
          literal("false");
          return Boolean.FALSE;
        case 'n':
          literal("null");
          return NULL;
        default:
          if (c == '-' || (c >= '0' && c <= '9')) return number();
          throw error("unexpected " + describe(c));
      }
    }

    private void literal(String word) throws SyntaxException {
      if (!s.startsWith(word, at)) throw error("invalid literal (expected " + word + ")");
      at += word.length();
    }

    private Map<String, Object> object(int depth) throws SyntaxException {
      at++;
      Map<String, Object> m = new LinkedHashMap<>();
      space();
      if (peek() == '}') {
        at++;
        return m;
      }
      while (true) {
        space();
        if (peek() != '"') throw error("expected a string key");
        int keyAt = at;
        String key = string();
        space();
        if (peek() != ':') throw error("expected ':' after a key");
        at++;
        space();
        Object v = value(depth + 1);
        if (m.containsKey(key)) {
          throw new SyntaxException("duplicate key \"" + key + "\"", keyAt);
        }
        m.put(key, v);
        space();
        char c = peek();
        at++;
        if (c == '}') return m;
        if (c != ',') {
          at--;
          throw error("expected ',' or '}' in an object, got " + describe(c));
        }
      }
    }

    private List<Object> array(int depth) throws SyntaxException {
      at++;
      List<Object> l = new ArrayList<>();
      space();
      if (peek() == ']') {
        at++;
        return l;
      }
      while (true) {
        space();
        l.add(value(depth + 1));
        space();
        char c = peek();
        at++;
        if (c == ']') return l;
        if (c != ',') {
          at--;
          throw error("expected ',' or ']' in an array, got " + describe(c));
        }
      }
    }

    private String string() throws SyntaxException {
      at++;
      StringBuilder b = new StringBuilder();
      while (true) {
        char c = peek();
        at++;
        if (c == '"') return b.toString();
        if (c < 0x20) {
          at--;
          throw error("unescaped control character " + describe(c) + " in a string");
        }
        if (c != '\\') {
          b.append(c);
          continue;
        }
        char e = peek();
        at++;
        switch (e) {
          case '"', '\\', '/' -> b.append(e);
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'n' -> b.append('\n');
          case 'r' -> b.append('\r');
          case 't' -> b.append('\t');
          case 'u' -> {
            char u = hex4();
            if (Character.isHighSurrogate(u)) {
              if (!s.startsWith("\\u", at))
                throw error("unpaired surrogate \\u" + Integer.toHexString(u));
              at += 2;
              char low = hex4();
              if (!Character.isLowSurrogate(low)) {
                throw error("unpaired surrogate \\u" + Integer.toHexString(u));
              }
              b.append(u).append(low);
            } else if (Character.isLowSurrogate(u)) {
              throw error("unpaired surrogate \\u" + Integer.toHexString(u));
            } else {
              b.append(u);
            }
          }
          default -> {
            at--;
            throw error("invalid escape \\" + describe(e));
          }
        }
      }
    }

    private char hex4() throws SyntaxException {
      if (at + 4 > s.length()) throw error("unexpected end of JSON in a \\u escape");
      int v = 0;
      for (int i = 0; i < 4; i++) {
        int d = Character.digit(s.charAt(at + i), 16);
        if (d < 0) throw error("invalid hex digit in a \\u escape");
        v = v * 16 + d;
      }
      at += 4;
      return (char) v;
    }

    private Num number() throws SyntaxException {
      int start = at;
      if (s.charAt(at) == '-') at++;
      if (at >= s.length()) throw error("incomplete number");
      char c = s.charAt(at);
      if (c == '0') {
        at++;
      } else if (c >= '1' && c <= '9') {
        while (at < s.length() && isDigit(s.charAt(at))) at++;
      } else {
        throw error("invalid number");
      }
      if (at < s.length() && s.charAt(at) == '.') {
        at++;
        if (at >= s.length() || !isDigit(s.charAt(at))) throw error("digit expected after '.'");
        while (at < s.length() && isDigit(s.charAt(at))) at++;
      }
      if (at < s.length() && (s.charAt(at) == 'e' || s.charAt(at) == 'E')) {
        at++;
        if (at < s.length() && (s.charAt(at) == '+' || s.charAt(at) == '-')) at++;
        if (at >= s.length() || !isDigit(s.charAt(at))) throw error("digit expected in exponent");
        while (at < s.length() && isDigit(s.charAt(at))) at++;
      }
      return new Num(s.substring(start, at));
    }

    private static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }
  }

  /** {@code s} as a JSON string literal, escaped as serde_json does (non-ASCII kept as is). */
  public static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
