package org.spinekit.nn;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renames the keys of a published state dict to SpineKit's keys (which are torchvision's where
 * torchvision has the network). An ordered list of rules; the first whose pattern matches the whole
 * key rewrites it ({@link Matcher#replaceAll} syntax, {@code $1} for groups). A rule whose
 * replacement is {@code -} drops the key (a classifier head an encoder does not have). Keys no rule
 * matches pass through unchanged.
 *
 * <p>Text form (one rule a line, {@code #} comments): {@code <regex> <replacement>}.
 */
public final class NameMap {
  private record Rule(Pattern pattern, String replacement) {}

  private final List<Rule> rules;

  private NameMap(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** Keys pass through unchanged. */
  public static NameMap identity() {
    return new NameMap(List.of());
  }

  /** Rules as alternating pattern, replacement strings. */
  public static NameMap of(String... patternsAndReplacements) {
    if (patternsAndReplacements.length % 2 != 0) {
      throw new IllegalArgumentException(
          "NameMap.of: pattern and replacement pairs expected, got "
              + patternsAndReplacements.length
              + " strings");
    }
    List<Rule> r = new ArrayList<>();
    for (int i = 0; i < patternsAndReplacements.length; i += 2) {
      r.add(new Rule(Pattern.compile(patternsAndReplacements[i]), patternsAndReplacements[i + 1]));
    }
    return new NameMap(r);
  }

  /** Parses the text form; {@code source} names the text in error messages. */
  public static NameMap parse(InputStream in, String source) throws IOException {
    List<Rule> r = new ArrayList<>();
    try (BufferedReader br =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      int n = 0;
      while ((line = br.readLine()) != null) {
        n++;
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("#")) continue;
        String[] f = t.split("\\s+");
        if (f.length != 2) {
          throw new IOException(
              source + ":" + n + ": expected '<regex> <replacement>', got '" + t + "'");
        }
        r.add(new Rule(Pattern.compile(f[0]), f[1]));
      }
    }
    return new NameMap(r);
  }

  /** A name map shipped with SpineKit, e.g. {@code "timm/efficientnet"} (see nn/names/). */
  public static NameMap resource(String name) {
    String path = "/org/spinekit/nn/names/" + name + ".txt";
    try (InputStream in = NameMap.class.getResourceAsStream(path)) {
      if (in == null) throw new IllegalArgumentException("no name map " + name + " (" + path + ")");
      return parse(in, path);
    } catch (IOException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** Rules of this map first, then those of {@code next}. */
  public NameMap then(NameMap next) {
    List<Rule> r = new ArrayList<>(rules);
    r.addAll(next.rules);
    return new NameMap(r);
  }

  /** The SpineKit key for {@code key}, or null when the key is dropped. */
  public String apply(String key) {
    for (Rule r : rules) {
      Matcher m = r.pattern.matcher(key);
      if (m.matches()) {
        return r.replacement.equals("-") ? null : m.replaceAll(r.replacement);
      }
    }
    return key;
  }
}
