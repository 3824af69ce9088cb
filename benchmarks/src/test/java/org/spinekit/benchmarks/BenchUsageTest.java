package org.spinekit.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.spinekit.cli.Cli;
import picocli.CommandLine;

/**
 * The README's "Usage: spinekit bench ..." blocks are the start of those commands' --help (the
 * library's CommandsTest checks every other command's block and cannot see this module's).
 */
class BenchUsageTest {
  @Test
  void readmeUsageBlocksMatchTheHelp() throws Exception {
    List<String> lines = Files.readAllLines(Path.of("..", "README.md"));
    Set<String> shown = new TreeSet<>();
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).startsWith("Usage: spinekit bench")) continue;
      StringBuilder block = new StringBuilder(lines.get(i)).append('\n');
      while (i + 1 < lines.size() && lines.get(i + 1).startsWith("       ")) {
        block.append(lines.get(++i)).append('\n');
      }
      List<String> words = new ArrayList<>();
      for (String w : block.substring("Usage: spinekit bench".length()).trim().split("\\s+")) {
        if (!w.matches("[a-z]+")) break;
        words.add(w);
      }
      shown.add(String.join(" ", words));
      words.add("--help");
      StringWriter out = new StringWriter();
      CommandLine cl = Cli.commandLine(new BenchMain());
      cl.setOut(new PrintWriter(out, true));
      assertEquals(0, cl.execute(words.toArray(String[]::new)), out.toString());
      assertTrue(
          out.toString().startsWith(block.toString()), "README:\n" + block + "--help:\n" + out);
    }
    assertTrue(shown.containsAll(Set.of("", "train", "forward")), "bench blocks: " + shown);
  }
}
