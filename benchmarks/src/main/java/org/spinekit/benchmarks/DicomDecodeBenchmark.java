package org.spinekit.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.spinekit.io.dicom.Compression;
import org.spinekit.io.dicom.DicomFile;
import org.spinekit.io.dicom.DicomWriter;

/**
 * Decoding one 512x512 int16 CT slice from a DICOM file in the page cache, on one thread: {@code
 * spinekit} is {@link DicomFile#read} (parse and decode into the image), {@code gdcm} GDCM's
 * library in process ({@code ImageReader} + {@code GetBuffer} through its Java binding, as {@code
 * spinekit bench io} calls it); {@code codec} is {@code raw} (uncompressed) or {@code jpegls}
 * (lossless JPEG-LS, encoded by SpineKit's writer). One operation reads the 16 slices of {@link
 * IoBench#phantom} once each; the score is per slice. GDCM is optional: its configurations fail at
 * set-up where libgdcm-java is not installed ({@code bench ci} leaves them out there).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx2g"})
@State(Scope.Thread)
public class DicomDecodeBenchmark {
  static final int SLICES = 16;
  static final int SIZE = 512;

  @Param({"spinekit", "gdcm"})
  public String impl;

  @Param({"raw", "jpegls"})
  public String codec;

  private Path dir;
  private List<Path> files;
  private boolean gdcm;

  @Setup
  public void setUp() throws IOException {
    if (!impl.equals("spinekit") && !impl.equals("gdcm")) {
      throw new IllegalArgumentException("impl: expected spinekit or gdcm, got " + impl);
    }
    Compression c =
        switch (codec) {
          case "raw" -> Compression.NONE;
          case "jpegls" -> Compression.JPEG_LS;
          default ->
              throw new IllegalArgumentException("codec: expected raw or jpegls, got " + codec);
        };
    gdcm = impl.equals("gdcm");
    if (gdcm && !IoBench.GdcmDirect.available()) {
      throw new IllegalStateException("GDCM's Java binding (libgdcm-java) is not installed");
    }
    dir = Files.createTempDirectory("spinekit-dicom-bench");
    DicomWriter.Series ser =
        new DicomWriter.Series(
            "BENCH",
            "1.2.826.0.1.3680043.99",
            "1.2.826.0.1.3680043.99.1",
            1,
            "bench",
            "CT",
            "1.2.826.0.1.3680043.99.0");
    files = DicomWriter.writeSeries(IoBench.phantom(SLICES, SIZE, 0), dir, ser, c);
  }

  @TearDown
  public void tearDown() throws IOException {
    Inputs.deleteTree(dir);
  }

  @Benchmark
  @OperationsPerInvocation(SLICES)
  public void decode(Blackhole bh) throws IOException {
    for (Path f : files) {
      bh.consume(gdcm ? IoBench.GdcmDirect.decode(f) : DicomFile.read(f));
    }
  }
}
