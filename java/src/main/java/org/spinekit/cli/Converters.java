package org.spinekit.cli;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.spinekit.io.dicom.Compression;
import org.spinekit.runtime.ConvGuard;

/** picocli converters of the typed options: counts, sizes, shapes and the named choices. */
public final class Converters {
  private Converters() {}

  /** An integer >= 0. */
  public static final class Count extends Cli.Converter<Integer> {
    @Override
    protected Integer parse(String text) {
      return integer(text, 0);
    }
  }

  /** An integer >= 1. */
  public static final class Positive extends Cli.Converter<Integer> {
    @Override
    protected Integer parse(String text) {
      return integer(text, 1);
    }
  }

  /**
   * A size in bytes >= 1: a number, optionally with a binary unit ({@code K}/{@code KiB}, {@code
   * M}/{@code MiB}, {@code G}/{@code GiB}, {@code T}/{@code TiB}, any case): {@code 512MiB}, {@code
   * 1.5G}, {@code 10000}.
   */
  public static final class Size extends Cli.Converter<Long> {
    @Override
    protected Long parse(String text) {
      return bytes(text);
    }
  }

  static long bytes(String text) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(?:i?b)?")
            .matcher(text.strip().toLowerCase(Locale.ROOT));
    if (m.matches()) {
      int shift =
          switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
          };
      double v = Double.parseDouble(m.group(1)) * Math.pow(2, shift);
      if (v >= 1 && v < 0x1p62 && v == Math.rint(v)) return (long) v;
    }
    throw new IllegalArgumentException(
        "expected a whole number of bytes >= 1, optionally with K, M, G or T (KiB, MiB, ...),"
            + " got '"
            + text
            + "'");
  }

  /** The number {@code text} spells, NaN when it spells none (the callers' range checks say so). */
  private static double real(String text) {
    try {
      return Double.parseDouble(text.strip());
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  /** A finite number > 0. */
  public static final class PositiveReal extends Cli.Converter<Double> {
    @Override
    protected Double parse(String text) {
      double v = real(text);
      if (!(v > 0) || Double.isInfinite(v)) {
        throw new IllegalArgumentException("expected a number > 0, got '" + text + "'");
      }
      return v;
    }
  }

  /** A log-loss clipping {@code 0 < eps <= 0.5}. */
  public static final class Eps extends Cli.Converter<Double> {
    @Override
    protected Double parse(String text) {
      double v = real(text);
      if (!(v > 0 && v <= 0.5)) {
        throw new IllegalArgumentException("expected a number in (0, 0.5], got '" + text + "'");
      }
      return v;
    }
  }

  static int integer(String text, int min) {
    try {
      int v = Integer.parseInt(text.strip());
      if (v >= min) return v;
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("expected an integer >= " + min + ", got '" + text + "'");
  }

  /** auto, on or off, any case. */
  public static final class GuardMode extends Cli.Converter<ConvGuard.Mode> {
    @Override
    protected ConvGuard.Mode parse(String text) {
      try {
        return ConvGuard.Mode.valueOf(text.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("expected auto, on or off, got '" + text + "'");
      }
    }
  }

  /** The DICOM writer's compressions by name ({@link Compression#parse}). */
  public static final class CompressionName extends Cli.Converter<Compression> {
    @Override
    protected Compression parse(String text) {
      return Compression.parse(text);
    }
  }

  /** The names {@link CompressionName} takes, for the help. */
  public static final class CompressionNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return List.of("none", "jpegls", "jpeg-lossless", "j2k", "rle").iterator();
    }
  }

  /**
   * A batch of 2D or 3D heatmaps: {@code NxKxHxW} or {@code NxKxDxHxW}, every size >= 1.
   *
   * @param sizes {N, K, H, W} or {N, K, D, H, W}
   */
  public record HeatmapShape(long[] sizes) {
    /** {@code 8x5x80x80} or {@code 2x10x24x80x80}. */
    public static HeatmapShape parse(String text) {
      String[] parts = text.strip().split("x", -1);
      long[] s = new long[parts.length];
      for (int i = 0; i < parts.length; i++) {
        try {
          s[i] = Long.parseLong(parts[i]);
        } catch (NumberFormatException e) {
          s[i] = -1;
        }
      }
      if ((s.length != 4 && s.length != 5) || Arrays.stream(s).anyMatch(v -> v < 1)) {
        throw new IllegalArgumentException(
            "expected NxKxHxW or NxKxDxHxW with sizes >= 1," + " got '" + text + "'");
      }
      return new HeatmapShape(s);
    }

    @Override
    public String toString() {
      StringBuilder b = new StringBuilder();
      for (long v : sizes) b.append(b.length() == 0 ? "" : "x").append(v);
      return b.toString();
    }
  }

  /** {@link HeatmapShape#parse}. */
  public static final class HeatmapShapes extends Cli.Converter<HeatmapShape> {
    @Override
    protected HeatmapShape parse(String text) {
      return HeatmapShape.parse(text);
    }
  }
}
