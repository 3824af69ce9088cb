package org.spinekit.io.kaggle;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.spinekit.io.kaggle.Fixtures.assertCsvError;
import static org.spinekit.io.kaggle.Fixtures.assertValueError;
import static org.spinekit.io.kaggle.Fixtures.write;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.testing.Subprocess;

class CsvTest {
  @TempDir Path dir;

  @Test
  void quotedFieldsHoldCommasQuotesAndLineBreaksAndLinesStayCounted() throws IOException {
    Path f =
        write(
            dir,
            "q.csv",
            "a,b,c\n"
                + "\"x,y\",\"say \"\"hi\"\"\",3\n"
                + "\"two\nlines\",\"\",5\n"
                + "after,,7\n");
    Csv.Table t = Csv.read(f);
    Csv.Column a = t.column("a");
    Csv.Column b = t.column("b");
    Csv.Column c = t.column("c");
    assertEquals(3, t.rows.size());
    assertEquals("x,y", t.rows.get(0).get(a));
    assertEquals("say \"hi\"", t.rows.get(0).get(b));
    assertEquals("two\nlines", t.rows.get(1).get(a));
    assertEquals("", t.rows.get(1).get(b));
    assertEquals("after", t.rows.get(2).get(a));
    assertEquals(List.of(2, 3, 5), t.rows.stream().map(r -> r.line).toList());
    assertEquals(7, t.rows.get(2).count(c));
  }

  @Test
  void bomCrlfReorderedAndExtraColumnsAndTrailingBlankLines() throws IOException {
    byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
    byte[] body = "extra,y,x\r\nzz,2.5,1\r\n\r\nzz,\"-3e2\",4\r\n\r\n".getBytes(UTF_8);
    byte[] all = new byte[bom.length + body.length];
    System.arraycopy(bom, 0, all, 0, 3);
    System.arraycopy(body, 0, all, 3, body.length);
    Path f = dir.resolve("bom.csv");
    Files.write(f, all);
    Csv.Table t = Csv.read(f);
    assertEquals(List.of("extra", "y", "x"), t.header);
    Csv.Column x = t.column("x");
    Csv.Column y = t.column("y");
    assertEquals(2, t.rows.size());
    assertEquals(1, t.rows.get(0).id(x));
    assertEquals(2.5, t.rows.get(0).real(y));
    assertEquals(-300.0, t.rows.get(1).real(y));
    assertEquals(4, t.rows.get(1).line);
    // A bad value after the blank line still names its own line.
    Path g = write(dir, "crlf.csv", "x,y\r\n1,2\r\n\r\n3,oops\r\n");
    Csv.Table u = Csv.read(g);
    Csv.Column uy = u.column("y");
    assertValueError(g, 4, "y", "not a decimal number", "oops", () -> u.rows.get(1).real(uy));
  }

  @Test
  void missingColumnListsTheHeader() throws IOException {
    Path f = write(dir, "m.csv", "\uFEFFstudy_id,series_id\n1,2\n");
    Csv.Table t = Csv.read(f);
    CsvFormatException e =
        assertCsvError(
            f + ": missing column 'series_description' (header has: study_id, series_id)",
            () -> t.column("series_description"));
    assertEquals(0, e.line());
  }

  @Test
  void duplicatedColumnIsAnErrorOnlyWhenAskedFor() throws IOException {
    Path f = write(dir, "d.csv", "a,b,a\n1,2,3\n");
    Csv.Table t = Csv.read(f);
    assertEquals(2, t.rows.get(0).id(t.column("b")));
    assertCsvError(f + ":1: column 'a': appears twice in the header", () -> t.column("a"));
  }

  @Test
  void malformedLinesNameFileLineAndColumn() throws IOException {
    Path count = write(dir, "count.csv", "a,b\n1,2\n1,2,3\n");
    assertCsvError(count + ":3: 3 fields where the header has 2", () -> Csv.read(count));

    Path open = write(dir, "open.csv", "a,b\n1,2\n3,\"never\nclosed\n");
    assertCsvError(
        open + ":3: column 'b': quoted field has no closing quote before the end of" + " the file",
        () -> Csv.read(open));

    Path after = write(dir, "after.csv", "a,b\n\"1\"x,2\n");
    assertCsvError(
        after + ":2: column 'a': unexpected 'x' after the closing quote of a quoted" + " field",
        () -> Csv.read(after));

    Path bare = write(dir, "bare.csv", "a,b\n1,2 \"in\" 3\n");
    assertCsvError(
        bare
            + ":2: column 'b': quote inside an unquoted field (quote the whole field"
            + " and double the quote)",
        () -> Csv.read(bare));

    Path beyond = write(dir, "beyond.csv", "a,b\n1,2,\"3\n");
    assertCsvError(
        beyond + ":2: field 3: quoted field has no closing quote before the end of" + " the file",
        () -> Csv.read(beyond));

    Path empty = write(dir, "empty.csv", "\n\n");
    assertCsvError(empty + ": empty file, expected a header line", () -> Csv.read(empty));
  }

  @Test
  void invalidUtf8NamesLineAndOffset() throws IOException {
    Path f = dir.resolve("latin1.csv");
    byte[] b = "a,b\n1,Mus\u00e9e\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    Files.write(f, b);
    assertCsvError(f + ":2: not UTF-8 text (bad byte at offset 9)", () -> Csv.read(f));
  }

  @Test
  void numbersAreStrict() throws IOException {
    Path f =
        write(
            dir,
            "n.csv",
            "v\n1e-05\n.5\n-0\n0x10\n1.5f\nNaN\n 1\n1e999\n-1\n"
                + "99999999999999999999\n2147483648\n\n");
    Csv.Table t = Csv.read(f);
    Csv.Column v = t.column("v");
    List<Csv.Row> r = t.rows;
    assertEquals(1e-5, r.get(0).real(v));
    assertEquals(0.5, r.get(1).real(v));
    assertEquals(-0.0, r.get(2).real(v));
    assertValueError(f, 5, "v", "not a decimal number", "0x10", () -> r.get(3).real(v));
    assertValueError(f, 6, "v", "not a decimal number", "1.5f", () -> r.get(4).real(v));
    assertValueError(f, 7, "v", "not a decimal number", "NaN", () -> r.get(5).real(v));
    assertValueError(f, 8, "v", "not a decimal number", " 1", () -> r.get(6).real(v));
    assertValueError(f, 9, "v", "number out of range", "1e999", () -> r.get(7).real(v));
    assertValueError(f, 10, "v", "not a non-negative integer id", "-1", () -> r.get(8).id(v));
    assertValueError(
        f, 11, "v", "integer id out of range", "99999999999999999999", () -> r.get(9).id(v));
    assertEquals(2147483648L, r.get(10).id(v));
    assertValueError(f, 12, "v", "integer out of range", "2147483648", () -> r.get(10).count(v));
    assertValueError(f, 3, "v", "not a non-negative integer", ".5", () -> r.get(1).count(v));
    assertValueError(f, 2, "v", "expected 0 or 1", "1e-05", () -> r.get(0).bit(v));
  }

  @Test
  void dicomUids() {
    assertTrue(Csv.isDicomUid("1.2.826.0.1.3680043.6200"));
    assertTrue(Csv.isDicomUid("0"));
    assertTrue(Csv.isDicomUid("1.2." + "9".repeat(60)));
    assertFalse(Csv.isDicomUid("1.2." + "9".repeat(61)));
    assertFalse(Csv.isDicomUid(""));
    assertFalse(Csv.isDicomUid("1..2"));
    assertFalse(Csv.isDicomUid("1.2."));
    assertFalse(Csv.isDicomUid(".1.2"));
    assertFalse(Csv.isDicomUid("1.02"));
    assertFalse(Csv.isDicomUid("1.2a"));
    assertFalse(Csv.isDicomUid("1.2.826.0.1.3680043.6200_C1"));
    assertFalse(Csv.isDicomUid(null));
  }

  @Test
  void writerQuotesWhatNeedsQuotingAndReadsBackTheSameFields() throws IOException {
    String[][] rows = {
      {"plain", "with,comma", "say \"hi\""},
      {"two\nlines", "", "crlf\r\ninside"},
      {" spaced ", "\u00e9\u4e2d", "\"\""},
    };
    Csv.Writer w = new Csv.Writer("a", "b", "c");
    for (String[] r : rows) w.row(r);
    Path f = dir.resolve("w.csv");
    w.writeTo(f);
    String text = Files.readString(f, UTF_8);
    assertTrue(text.startsWith("a,b,c\nplain,\"with,comma\",\"say \"\"hi\"\"\"\n"), text);
    Csv.Table t = Csv.read(f);
    assertEquals(rows.length, t.rows.size());
    for (int i = 0; i < rows.length; i++) {
      String[] got = new String[3];
      for (int k = 0; k < 3; k++) got[k] = t.rows.get(i).get(t.column("abc".substring(k, k + 1)));
      assertArrayEquals(rows[i], got, "row " + i);
    }
    assertEquals(
        List.of(2, 3, 6),
        t.rows.stream().map(r -> r.line).toList(),
        "a row after one with two quoted line breaks");
    try (var files = Files.list(dir)) {
      assertEquals(List.of(f), files.toList(), "no temporary file left behind");
    }
  }

  @Test
  void numbersRoundTripBitForBit() throws IOException {
    Random rnd = new Random(7);
    double[] v = new double[2000];
    v[0] = 0.1 + 0.2;
    v[1] = Double.MIN_VALUE;
    v[2] = Double.MAX_VALUE;
    v[3] = -0.0;
    v[4] = 1.0 / 3;
    v[5] = Math.nextDown(1.0);
    v[6] = 322.8316831683169;
    for (int i = 7; i < v.length; i++) {
      v[i] = Double.longBitsToDouble(rnd.nextLong());
      if (!Double.isFinite(v[i])) v[i] = rnd.nextGaussian();
    }
    Csv.Writer w = new Csv.Writer("v");
    for (double d : v) w.row(Csv.number(d));
    Path f = dir.resolve("v.csv");
    w.writeTo(f);
    Csv.Table t = Csv.read(f);
    Csv.Column c = t.column("v");
    for (int i = 0; i < v.length; i++) {
      assertEquals(
          Double.doubleToRawLongBits(v[i]),
          Double.doubleToRawLongBits(t.rows.get(i).real(c)),
          "value " + i + " = " + v[i]);
    }
  }

  /** The writers spell doubles as pandas does (Python's repr): compared with Python itself. */
  @Test
  void numbersAreSpelledAsPythonReprSpellsThem() throws Exception {
    Path python = Path.of("/usr/bin/python3");
    assertTrue(Files.isExecutable(python), "this test needs " + python);
    Random rnd = new Random(11);
    List<Double> values =
        new ArrayList<>(
            List.of(
                0.0,
                -0.0,
                1.0,
                309.0,
                0.5,
                1e-5,
                1.5e-7,
                1e-4,
                1e15,
                1e16,
                1.2345e20,
                123456789012345678.0,
                Double.MIN_VALUE,
                Double.MAX_VALUE,
                Double.MIN_NORMAL,
                0.1 + 0.2,
                322.8316831683169,
                227.96435643564357,
                2.0 / 3,
                -1e-300,
                5e-324,
                9007199254740993.0,
                4.35,
                2.82879384806159e17,
                1.0e23,
                2e23,
                8.41e21));
    for (int i = 0; i < 1500; i++) {
      double d = Double.longBitsToDouble(rnd.nextLong());
      if (Double.isFinite(d)) values.add(d);
      values.add(rnd.nextDouble());
      values.add(Math.round(rnd.nextDouble() * 512 * 101) / 101.0);
    }
    StringBuilder bits = new StringBuilder();
    for (double d : values)
      bits.append(Long.toHexString(Double.doubleToRawLongBits(d))).append('\n');
    Path in = write(dir, "bits.txt", bits.toString());
    String out =
        Subprocess.run(
                List.of(
                    python.toString(),
                    "-c",
                    "import struct,sys\n"
                        + "for h in open(sys.argv[1]).read().split():\n"
                        + "    print(repr(struct.unpack('<d', int(h, 16).to_bytes(8, 'little'))[0]))\n",
                    in.toString()),
                Duration.ofSeconds(60))
            .succeeded()
            .stdout();
    List<String> expected = List.of(out.split("\n"));
    assertEquals(values.size(), expected.size(), out);
    for (int i = 0; i < values.size(); i++) {
      assertEquals(
          expected.get(i),
          Csv.number(values.get(i)),
          "bits " + Long.toHexString(Double.doubleToRawLongBits(values.get(i))));
    }
  }

  @Test
  void longAndMultiLineValuesAreShownShortAndOnOneLine() throws IOException {
    String longValue = "x".repeat(100);
    Path f = write(dir, "long.csv", "a,b\n" + longValue + ",\"1\n2\"\n");
    Csv.Table t = Csv.read(f);
    Csv.Row r = t.rows.get(0);
    assertValueError(
        f, 2, "a", "not a decimal number", "x".repeat(80) + "...", () -> r.real(t.column("a")));
    assertValueError(f, 2, "b", "not a decimal number", "1\\n2", () -> r.real(t.column("b")));
  }
}
