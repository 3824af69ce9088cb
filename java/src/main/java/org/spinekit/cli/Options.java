package org.spinekit.cli;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** --name value options of one command, checked against the names it accepts. */
final class Options {
  private final Map<String, String> values = new HashMap<>();
  private final String command;

  Options(String command, String[] args, Set<String> valued, Set<String> flags) {
    this.command = command;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException(command + ": unexpected argument '" + a + "'");
      }
      String name = a.substring(2);
      if (flags.contains(name)) {
        values.put(name, "true");
      } else if (valued.contains(name)) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(command + ": --" + name + " needs a value");
        }
        values.put(name, args[++i]);
      } else {
        throw new IllegalArgumentException(command + ": unknown option --" + name);
      }
    }
  }

  boolean flag(String name) {
    return values.containsKey(name);
  }

  String string(String name, String def) {
    return values.getOrDefault(name, def);
  }

  long integer(String name, long def) {
    String v = values.get(name);
    if (v == null) return def;
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(command + ": --" + name + " expects an integer, got '"
          + v + "'");
    }
  }

  double real(String name, double def) {
    String v = values.get(name);
    if (v == null) return def;
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(command + ": --" + name + " expects a number, got '"
          + v + "'");
    }
  }

  /** "8x5x80x80" -> {8, 5, 80, 80}. */
  long[] shape(String name, String def) {
    String v = string(name, def);
    String[] parts = v.split("x");
    long[] s = new long[parts.length];
    try {
      for (int i = 0; i < parts.length; i++) s[i] = Long.parseLong(parts[i]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(command + ": --" + name
          + " expects NxKxHxW or NxKxDxHxW, got '" + v + "'");
    }
    if (s.length != 4 && s.length != 5) {
      throw new IllegalArgumentException(command + ": --" + name
          + " expects NxKxHxW or NxKxDxHxW, got '" + v + "'");
    }
    for (long x : s) {
      if (x <= 0) {
        throw new IllegalArgumentException(command + ": --" + name
            + " expects positive sizes, got '" + v + "'");
      }
    }
    return s;
  }
}
