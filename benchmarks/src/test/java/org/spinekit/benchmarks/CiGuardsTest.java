package org.spinekit.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.json.Json;

/**
 * The verdict of {@code bench ci} from JMH results: figures, floors, baseline changes, the floors
 * file written from runs, and the plot, on results written here (no benchmark runs).
 */
class CiGuardsTest {
  @TempDir Path dir;

  /** One JMH JSON result. */
  static Map<String, Object> row(
      String benchmark, String mode, String unit, Map<String, String> params, double... it) {
    Map<String, Object> pm = new LinkedHashMap<>();
    pm.put("score", Stats.mean(it));
    pm.put("scoreUnit", unit);
    List<Object> raw = new ArrayList<>();
    for (double v : it) raw.add(v);
    pm.put("rawData", List.of(raw));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("benchmark", "org.spinekit.benchmarks." + benchmark);
    m.put("mode", mode);
    m.put("params", params);
    m.put("primaryMetric", pm);
    return m;
  }

  static Map<String, String> kernel(String impl, String shape) {
    return Map.of("impl", impl, "shape", shape, "threads", "1");
  }

  /** Results for every quick guard: each kernel 3x its composite, augmentation 2.5x. */
  static List<Object> quickRun(double dsntFused) {
    List<Object> r = new ArrayList<>();
    r.add(
        row(
            "DsntBenchmark.forwardBackward",
            "avgt",
            "ms/op",
            kernel("fused", "8x5x80x80"),
            dsntFused,
            dsntFused,
            50 * dsntFused,
            dsntFused));
    r.add(
        row(
            "DsntBenchmark.forwardBackward",
            "avgt",
            "ms/op",
            kernel("composite", "8x5x80x80"),
            3,
            3,
            3));
    for (String k : new String[] {"HeatmapPoolBenchmark", "HeadLossBenchmark"}) {
      r.add(row(k + ".forwardBackward", "avgt", "ms/op", kernel("fused", "8x5x80x80"), 1, 1));
      r.add(row(k + ".forwardBackward", "avgt", "ms/op", kernel("composite", "8x5x80x80"), 3, 3));
    }
    r.add(
        row(
            "CopyBandwidthBenchmark.copy",
            "avgt",
            "ms/op",
            Map.of("mib", "64", "threads", "1"),
            4,
            4,
            4));
    for (String[] s :
        new String[][] {
          {"native", "2"}, {"composite", "6"}, {"native-into", "1"}, {"copy", "0.5"}
        }) {
      r.add(
          row(
              "StackBenchmark.stack",
              "avgt",
              "ms/op",
              Map.of("impl", s[0], "slices", Guards.SLICES, "threads", "1"),
              Double.parseDouble(s[1])));
    }
    r.add(
        row(
            "AugmentBenchmark.cervicalPipeline",
            "avgt",
            "us/op",
            Map.of("impl", "native", "threads", "1"),
            1000,
            1000));
    r.add(
        row(
            "AugmentBenchmark.cervicalPipeline",
            "avgt",
            "us/op",
            Map.of("impl", "opencv", "threads", "1"),
            2500,
            2500));
    return r;
  }

  static Map<String, Double> figures(List<Object> jmh) {
    Map<String, JmhResults.Row> rows = JmhResults.byKey(JmhResults.parse(Json.write(jmh)));
    Map<String, Double> out = new LinkedHashMap<>();
    for (Guards.Guard g : Guards.of(true, 1)) out.put(g.name(), g.value(rows));
    return out;
  }

  @Test
  void figuresAreRatiosOfTheRunsMedians() {
    Map<String, Double> f = figures(quickRun(1));
    // The median ignores the one disturbed iteration (50x) of the fused DSNT.
    assertEquals(3.0, f.get("dsnt.speedup[8x5x80x80]"), 1e-12);
    assertEquals(3.0, f.get("heatmap-pool.speedup[8x5x80x80]"), 1e-12);
    assertEquals(3.0, f.get("stack.speedup[" + Guards.SLICES + "x512x512]"), 1e-12);
    assertEquals(0.5, f.get("stack.floor[" + Guards.SLICES + "x512x512]"), 1e-12);
    assertEquals(2.5, f.get("augment.speedup"), 1e-12);
    // Head loss at the floor: its bytes at 64 MiB x 2 per 4 ms, over 1 ms.
    double floorMs = 4.0 * Floors.bytes("HeadLossBenchmark", "8x5x80x80") / Floors.copyBytes(64);
    assertEquals(floorMs / 1.0, f.get("head-loss.floor[8x5x80x80]"), 1e-12);
    assertEquals(Guards.of(true, 1).size(), f.size());
    assertTrue(Guards.of(false, 1).size() > f.size(), "the full set has more");
  }

  @Test
  void throughputRowsAreInvertedAndUnitsConverted() {
    List<Object> r = new ArrayList<>();
    r.add(row("LoaderBenchmark.epoch", "thrpt", "ops/s", Map.of("workers", "1"), 100, 100));
    r.add(row("LoaderBenchmark.epoch", "thrpt", "ops/min", Map.of("workers", "2"), 60 * 180));
    Map<String, JmhResults.Row> rows = JmhResults.byKey(JmhResults.parse(Json.write(r)));
    Guards.Guard loader =
        Guards.all(1).stream().filter(g -> g.name().equals("loader.scaling")).findFirst().get();
    assertEquals(1.8, loader.value(rows), 1e-12);
    assertEquals(0.01, Guards.seconds(rows.get("LoaderBenchmark.epoch{workers=1}")), 1e-15);
  }

  @Test
  void theVerdictFailsBelowAFloorOrWithoutAFigure() {
    List<Guards.Guard> guards = Guards.of(true, 1);
    Map<String, CiFloors.Floor> floors =
        CiFloors.parse(
            "# test\n"
                + "dsnt.speedup[8x5x80x80] 2.0 2.6 3.4 10  # comment\n"
                + "augment.speedup 2.0 2.6 2.9 10\n",
            "floors",
            CiBench.names(Guards.all(1)));
    CiBench.Verdict ok =
        CiBench.Verdict.of(
            guards,
            JmhResults.byKey(JmhResults.parse(Json.write(quickRun(1)))),
            Map.of(),
            Map.of(),
            floors);
    assertTrue(ok.passed(), ok.markdown());
    assertTrue(ok.markdown().contains("pass (no floor)"), "guards without a floor pass, marked");
    assertTrue(ok.markdown().contains("pass (below the band seen)"), ok.markdown()); // 2.5 < 2.6

    // A planted slowdown: the fused DSNT 2x slower.
    CiBench.Verdict slow =
        CiBench.Verdict.of(
            guards,
            JmhResults.byKey(JmhResults.parse(Json.write(quickRun(2)))),
            Map.of(),
            Map.of(),
            floors);
    assertFalse(slow.passed());
    assertEquals(List.of("dsnt.speedup[8x5x80x80] 1.50 < floor 2.00"), slow.failed());

    // Below the floor, a figure is measured again: only the kernels' guards, not the others.
    List<Guards.Guard> again = slow.belowFloor(Guards.Kind.EXTERNAL);
    assertEquals(List.of("dsnt.speedup[8x5x80x80]"), List.copyOf(CiBench.names(again)));
    // A disturbed first run: the confirmation passes, and says what the first run gave.
    CiBench.Verdict noise =
        slow.confirmed(again, JmhResults.byKey(JmhResults.parse(Json.write(quickRun(1)))));
    assertTrue(noise.passed(), noise.markdown());
    assertTrue(
        noise.markdown().contains("| dsnt.speedup[8x5x80x80] | 3.00 |"), "the second figure");
    assertTrue(
        noise.markdown().contains("pass (confirmed: the first run's 1.50 was below the floor)"),
        noise.markdown());
    // A slowed kernel is below twice: the run fails with the higher of the two figures.
    CiBench.Verdict twice =
        slow.confirmed(again, JmhResults.byKey(JmhResults.parse(Json.write(quickRun(2.5)))));
    assertEquals(List.of("dsnt.speedup[8x5x80x80] 1.50 < floor 2.00"), twice.failed());
    assertTrue(
        twice.markdown().contains("FAIL (below the floor twice: 1.50, then 1.20)"),
        twice.markdown());
    // A confirmation without a figure fails.
    assertFalse(slow.confirmed(again, Map.of()).passed());

    // A benchmark without a result fails its guards.
    List<Object> missing = quickRun(1);
    missing.remove(missing.size() - 1);
    CiBench.Verdict none =
        CiBench.Verdict.of(
            guards,
            JmhResults.byKey(JmhResults.parse(Json.write(missing))),
            Map.of(),
            Map.of(),
            floors);
    assertEquals(List.of("augment.speedup (no figure)"), none.failed());
    Map<?, ?> json = (Map<?, ?>) none.json().get(guards.size() - 1);
    assertNull(json.get("value"));

    // A guard whose prerequisite is missing is not run, says why, and does not fail the run.
    CiBench.Verdict skipped =
        CiBench.Verdict.of(
            guards,
            JmhResults.byKey(JmhResults.parse(Json.write(missing))),
            Map.of(),
            Map.of("augment.speedup", "not run: no OpenCV here"),
            floors);
    assertTrue(skipped.passed(), skipped.markdown());
    assertTrue(skipped.markdown().contains("| not run: no OpenCV here |"), skipped.markdown());
  }

  @Test
  void externalFiguresComeFromTheirCommands() {
    List<Guards.Guard> full = Guards.of(false, 1);
    Guards.Guard fwd =
        full.stream()
            .filter(g -> g.name().equals("forward.vs-python[cervical_seg]"))
            .findFirst()
            .orElseThrow();
    assertEquals(Guards.Kind.EXTERNAL, fwd.kind());
    assertEquals(Guards.Needs.PYTHON, fwd.needs());
    assertEquals(0.8, fwd.value(Map.of(), Map.of(fwd.name(), 0.8)), 0);
    assertTrue(Double.isNaN(fwd.value(Map.of(), Map.of())));
    // External guards add no JMH run; the GDCM ones need its binding.
    Map<String, Map<String, List<String>>> runs = Guards.runs(full, 1);
    assertFalse(runs.keySet().stream().anyMatch(k -> k.startsWith("Forward")), runs.toString());
    assertEquals(List.of("spinekit", "gdcm"), runs.get("DicomDecodeBenchmark.decode").get("impl"));
    assertTrue(
        full.stream()
            .filter(g -> g.name().startsWith("dicom."))
            .allMatch(g -> g.needs() == Guards.Needs.GDCM));
  }

  @Test
  void floorsFilesAreCheckedLineByLine() {
    var known = CiBench.names(Guards.all(1));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CiFloors.parse("\n dsnt.sped 1 2 3 4\n", "f.txt", known));
    assertTrue(e.getMessage().startsWith("f.txt:2: no guard named 'dsnt.sped'"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CiFloors.parse("augment.speedup 2 2.5\n", "f.txt", known));
    assertTrue(e.getMessage().contains("f.txt:1: expected NAME FLOOR LOW HIGH RUNS"));
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CiFloors.parse("augment.speedup 3 2.5 2.9 10\n", "f.txt", known));
    assertTrue(e.getMessage().contains("FLOOR <= LOW"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CiFloors.parse("augment.speedup 2 x 2.9 10\n", "f.txt", known));
    assertTrue(e.getMessage().contains("not a number"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                CiFloors.parse(
                    "augment.speedup 2 2.5 2.9 10\naugment.speedup 2 2.5 2.9 10\n", "f", known));
    assertTrue(e.getMessage().contains("f:2: 'augment.speedup' again"), e.getMessage());
  }

  @Test
  void theBuiltInFloorsParseAndCoverTheQuickSet() throws Exception {
    Map<String, CiFloors.Floor> floors = CiFloors.builtIn(CiBench.names(Guards.all(1)));
    for (Guards.Guard g : Guards.of(true, 1)) {
      assertTrue(floors.containsKey(g.name()), "no floor for " + g.name());
    }
  }

  @Test
  void theMachineLineNamesWhatElseTookTheMachine() {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("date", "2026-12-04T14:00:00Z");
    m.put("cpu", "AMD EPYC");
    m.put("cores", 2);
    m.put("jdk", "17.0.15");
    m.put("threads", 1);
    m.put("others_share", 0.58);
    m.put("steal_share", 0.0);
    String quiet = CiBench.machineLine(m);
    assertTrue(quiet.contains("other processes 58% of the machine"), quiet);
    assertFalse(quiet.contains("steal"), quiet);
    m.put("steal_share", 0.12);
    String stolen = CiBench.machineLine(m);
    assertTrue(stolen.endsWith("; hypervisor steal 12%"), stolen);
    m.put("steal_share", Double.NaN);
    assertFalse(CiBench.machineLine(m).contains("steal"));
  }

  @Test
  void theBaselineFlagsOnlyChangesOutsideTheNoise() {
    Map<String, String> p = Map.of("x", "1");
    List<Object> before =
        List.of(
            row("A.a", "avgt", "ms/op", p, 10, 10.1, 9.9, 10, 10.05, 9.95),
            row("B.b", "avgt", "ms/op", p, 10, 10.1, 9.9, 10, 10.05, 9.95),
            row("C.c", "avgt", "ms/op", p, 10, 10.1, 9.9, 10, 10.05, 9.95),
            row("D.d", "thrpt", "ops/s", p, 100, 101, 99, 100),
            row("E.e", "avgt", "ms/op", p, 10, 10));
    List<Object> after =
        List.of(
            row("A.a", "avgt", "ms/op", p, 12, 12.1, 11.9, 12, 12.05, 11.95), // 20 % slower
            row("B.b", "avgt", "ms/op", p, 10.3, 10.4, 10.2, 10.3, 10.35, 10.25), // 3 %: too small
            row("C.c", "avgt", "ms/op", p, 6, 14, 8, 16, 9, 13), // noisy
            row("D.d", "thrpt", "ops/s", p, 200, 202, 198, 200), // twice the throughput
            row("F.f", "avgt", "ms/op", p, 1, 1));
    List<Compare.Change> c =
        Compare.changes(JmhResults.parse(Json.write(before)), JmhResults.parse(Json.write(after)));
    assertEquals(4, c.size(), "only benchmarks in both runs");
    assertEquals("slower", c.get(0).flag());
    assertEquals(0.2, c.get(0).change(), 1e-9);
    assertTrue(c.get(0).low() > 0.15 && c.get(0).high() < 0.25, c.get(0).toString());
    assertEquals("", c.get(1).flag(), c.get(1).toString());
    assertTrue(c.get(1).low() > 0, "3 % is significant, yet below the 5 % that is flagged");
    assertEquals("", c.get(2).flag(), c.get(2).toString());
    assertTrue(c.get(2).low() < 0 && c.get(2).high() > 0);
    assertEquals("faster", c.get(3).flag());
    assertEquals(-0.5, c.get(3).change(), 1e-9, "cost per operation halves");
    String md =
        Compare.markdown(
            JmhResults.parse(Json.write(before)), JmhResults.parse(Json.write(after)), "old");
    assertTrue(md.contains("| A.a{x=1} | 10.00 | 12.00 | +20.0% |"), md);
  }

  /** A ci.json as bench ci writes it. */
  Path ciRun(String name, double dsnt, double augment, Double floor) throws Exception {
    List<Object> guards = new ArrayList<>();
    for (Object[] g :
        new Object[][] {{"dsnt.speedup[8x5x80x80]", dsnt}, {"augment.speedup", augment}}) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", g[0]);
      m.put("value", g[1]);
      if (floor != null) {
        m.put("floor", floor);
        m.put("low", floor + 0.5);
        m.put("high", floor + 1);
      }
      m.put("status", "pass");
      guards.add(m);
    }
    Map<String, Object> ci = new LinkedHashMap<>();
    ci.put("quick", true);
    ci.put("machine", Map.of("date", "2026-12-0" + name.length()));
    ci.put("guards", guards);
    Path d = dir.resolve(name);
    Files.createDirectories(d);
    Files.writeString(d.resolve("ci.json"), Json.write(ci));
    return d;
  }

  @Test
  void floorsAreChosenFromRunsAndRead() throws Exception {
    List<CiRun> runs = new ArrayList<>();
    double[] dsnt = {3.1, 2.9, 3.3};
    for (int i = 0; i < dsnt.length; i++) {
      runs.add(CiRun.read(ciRun("r" + i, dsnt[i], 2.6 + i / 10.0, null)));
    }
    String text = FloorsBench.floors(runs, 0.25);
    Map<String, CiFloors.Floor> f = CiFloors.parse(text, "out", CiBench.names(Guards.all(1)));
    assertEquals(2, f.size(), text);
    CiFloors.Floor d = f.get("dsnt.speedup[8x5x80x80]");
    assertEquals(2.1, d.floor(), 1e-12, text); // 0.75 x 2.9 = 2.175, down to 2 digits
    assertEquals(2.9, d.low(), 1e-3);
    assertEquals(3.3, d.high(), 1e-3);
    assertEquals(3, d.runs());
    assertEquals(1.9, f.get("augment.speedup").floor(), 1e-12, text); // 0.75 x 2.6 = 1.95
    assertTrue(text.startsWith("# Chosen by 'spinekit bench floors --margin 0.25' from 3"), text);
  }

  @Test
  void thePlotDrawsAPanelPerFigure() throws Exception {
    List<CiRun> runs = new ArrayList<>();
    runs.add(CiRun.read(ciRun("a", 3.0, 2.7, 2.0)));
    runs.add(CiRun.read(ciRun("bb", 1.5, 2.8, 2.0))); // dsnt below its floor
    runs.add(CiRun.read(ciRun("ccc", 3.1, 2.6, 2.0)));
    BufferedImage img = PlotBench.render(runs);
    assertEquals(PlotBench.COLUMNS * PlotBench.PANEL_W, img.getWidth());
    assertEquals(PlotBench.PANEL_H + 30, img.getHeight());
    int red = 0;
    int blue = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < PlotBench.PANEL_W; x++) {
        int rgb = img.getRGB(x, y) & 0xffffff;
        if (rgb == 0xc82828) red++;
        if (rgb == 0x1f77b4) blue++;
      }
    }
    assertTrue(red > 20, "the floor and the failed run's point: " + red);
    assertTrue(blue > 20, "the figures: " + blue);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CiRun.read(dir.resolve("nope")));
    assertTrue(e.getMessage().contains("no ci.json"), e.getMessage());
    Files.writeString(dir.resolve("x.json"), "[1]");
    e = assertThrows(IllegalArgumentException.class, () -> CiRun.read(dir.resolve("x.json")));
    assertTrue(e.getMessage().contains("not a bench ci result"), e.getMessage());
    assertEquals("2.00", String.format(Locale.ROOT, "%.2f", 2.0));
  }
}
