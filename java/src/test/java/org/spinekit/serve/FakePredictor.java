package org.spinekit.serve;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test double of {@link Predictor} for the server's mechanics: one network {@code double} ([N, 3]
 * to [N, 3], twice the input); a study is a set of files that must each start as DICOM does (DICM
 * at byte 128), answered with their names and sizes. A gate, when set, holds every prediction until
 * opened, so that tests can fill the server's slots and queue.
 */
final class FakePredictor implements Predictor<FakePredictor.FakeResult> {
  static final Network NETWORK = new Network("double", new long[] {-1, 3}, new long[] {-1, 3}, 1);

  private final String name;
  private final String system;
  volatile CountDownLatch gate;
  final AtomicInteger entered = new AtomicInteger();
  final AtomicInteger predictions = new AtomicInteger();
  final AtomicInteger closes = new AtomicInteger();
  private volatile boolean closed;

  FakePredictor(String name, String system) {
    this.name = name;
    this.system = system;
  }

  record FakeResult(
      String studyId, Map<String, Double> seconds, List<String> notes, Map<String, Object> json)
      implements Predictor.Result {
    @Override
    public Map<String, Object> toJson() {
      return json;
    }
  }

  /** A file that passes for DICOM: the 128-byte preamble, DICM, then {@code payload}. */
  static byte[] dicom(String payload) {
    byte[] p = payload.getBytes(StandardCharsets.US_ASCII);
    byte[] b = new byte[132 + p.length];
    b[128] = 'D';
    b[129] = 'I';
    b[130] = 'C';
    b[131] = 'M';
    System.arraycopy(p, 0, b, 132, p.length);
    return b;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String system() {
    return system;
  }

  @Override
  public FakeResult predict(String studyId, Path studyDir) {
    throw new UnsupportedOperationException("the server sends files");
  }

  @Override
  public FakeResult predict(String studyId, Map<String, byte[]> files) throws IOException {
    if (closed) throw new IllegalStateException(name + ": closed");
    long t0 = System.nanoTime();
    entered.incrementAndGet();
    CountDownLatch g = gate;
    if (g != null) {
      try {
        if (!g.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("gate never opened");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    long bytes = 0;
    for (var e : files.entrySet()) {
      byte[] b = e.getValue();
      if (b.length < 132 || b[128] != 'D' || b[129] != 'I' || b[130] != 'C' || b[131] != 'M') {
        throw new BadStudyException(
            e.getKey(), e.getKey() + ": not a DICOM file (no DICM at byte 128)");
      }
      bytes += b.length;
    }
    predictions.incrementAndGet();
    Map<String, Double> seconds = new LinkedHashMap<>();
    seconds.put("decode", 0.001);
    seconds.put("total", (System.nanoTime() - t0) / 1e9);
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("model", name);
    json.put("study", studyId);
    json.put("files", new ArrayList<Object>(new TreeSet<>(files.keySet())));
    json.put("bytes", bytes);
    json.put("seconds", new LinkedHashMap<>(seconds));
    return new FakeResult(studyId, seconds, List.of(), json);
  }

  @Override
  public List<Network> networks() {
    return List.of(NETWORK);
  }

  @Override
  public Network.Output infer(String network, long[] shape, float[] data) {
    if (closed) throw new IllegalStateException(name + ": closed");
    if (!network.equals("double")) {
      throw new IllegalArgumentException(
          "network: expected one of [double], got '" + network + "'");
    }
    if (shape.length != 2 || shape[0] < 1 || shape[1] != 3) {
      throw new IllegalArgumentException(
          "double input: expected shape [N, 3], got " + Arrays.toString(shape));
    }
    float[] out = new float[data.length];
    for (int i = 0; i < out.length; i++) out[i] = 2 * data[i];
    return new Network.Output(shape, out);
  }

  @Override
  public Map<String, Object> metadata() {
    return Map.of("format", "fake-bundle");
  }

  @Override
  public void close() {
    closed = true;
    closes.incrementAndGet();
  }

  boolean closed() {
    return closed;
  }
}
