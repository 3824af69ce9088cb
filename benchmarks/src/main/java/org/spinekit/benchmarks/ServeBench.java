package org.spinekit.benchmarks;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.bytedeco.javacpp.Pointer;
import org.spinekit.cli.RuntimeOptions;
import org.spinekit.internal.http.LoopbackClient;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.json.Json;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.serve.Network;
import org.spinekit.serve.Predictor;
import org.spinekit.serve.Predictors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spinekit bench serve}: closed-loop clients at several concurrencies against a trained run,
 * in process (the {@link Predictor} called from client threads) and over loopback HTTP ({@code
 * spinekit serve} started as a child process, studies sent as zips), the perf_analyzer way: the
 * load runs in measurement windows until the last three agree within a stability band, and their
 * requests are the figures. Then a memory run: network calls in process, native memory and RSS read
 * every block.
 */
@Command(
    name = "serve",
    description = {
      "closed-loop clients at concurrency 1, 2, 4, 8 (--concurrency) against a trained run (--model),"
          + " in process and over loopback HTTP (spinekit serve as a child process), sending the"
          + " studies under --studies; windows of --window s until three agree within --stability"
          + " (and at least --min-requests requests); throughput, p50/p90/p99, failures; then"
          + " --memory-calls network calls with native memory and RSS read along the way."
    })
final class ServeBench implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "RUN", description = "a training run")
  Path model;

  @Option(
      names = "--studies",
      required = true,
      paramLabel = "DIR",
      description = "a folder of study folders (e.g. DATA/test_images)")
  Path studies;

  @Option(
      names = "--concurrency",
      split = ",",
      paramLabel = "C",
      defaultValue = "1,2,4,8",
      description = "client counts (default ${DEFAULT-VALUE})")
  int[] concurrency;

  @Option(
      names = "--window",
      paramLabel = "S",
      defaultValue = "5",
      description = "seconds per measurement window (default ${DEFAULT-VALUE})")
  double window;

  @Option(
      names = "--stability",
      paramLabel = "F",
      defaultValue = "0.1",
      description =
          "the last three windows' throughput and p50 within this fraction of their mean"
              + " (default ${DEFAULT-VALUE})")
  double stability;

  @Option(
      names = "--max-windows",
      paramLabel = "N",
      defaultValue = "60",
      description = "give up on stability after N windows (default ${DEFAULT-VALUE})")
  int maxWindows;

  @Option(
      names = "--min-requests",
      paramLabel = "N",
      defaultValue = "50",
      description =
          "report the last windows that hold N requests (3 windows at least; the last three must"
              + " agree) (default ${DEFAULT-VALUE})")
  int minRequests;

  @Option(
      names = "--parallel",
      paramLabel = "P",
      defaultValue = "1",
      description = "studies the predictor runs at once (default ${DEFAULT-VALUE})")
  int parallel;

  @Option(
      names = "--warmup-study",
      paramLabel = "DIR",
      description = "a study folder the predictor predicts at load (default: none)")
  Path warmupStudy;

  @Option(
      names = "--same-study",
      description =
          "send the first study only (as perf_analyzer repeats one input), so that the spread is"
              + " the system's, not the studies'")
  boolean sameStudy;

  @Option(
      names = "--stored",
      description =
          "zip the studies without compression (zip -0) instead of deflate: the server then"
              + " copies the files out of the body instead of inflating them")
  boolean stored;

  @Option(
      names = "--client",
      paramLabel = "socket|jdk",
      defaultValue = "socket",
      description =
          "the HTTP clients: socket, one keep-alive socket per client writing the request and"
              + " reading the answer by its length, with no threads of its own, as a C++ load"
              + " generator such as perf_analyzer (rows"
              + " 'http-raw'); jdk, java.net.http.HttpClient (rows 'http'), whose selector and"
              + " executor threads take 1.5-2 ms of CPU per study request from the cores the"
              + " server runs on (default ${DEFAULT-VALUE})")
  String clientKind;

  @Option(names = "--no-http", description = "in process only")
  boolean noHttp;

  @Option(names = "--no-inprocess", description = "HTTP only")
  boolean noInProcess;

  @Option(
      names = "--memory-calls",
      paramLabel = "N",
      defaultValue = "10000",
      description =
          "network calls (the first network, batch 1) of the memory run; 0 skips it"
              + " (default ${DEFAULT-VALUE})")
  int memoryCalls;

  @Option(
      names = "--batching",
      description =
          "also time each network at batch 1, 2 and 4 (per item), the case for micro-batching"
              + " forwards across requests")
  boolean batching;

  @Option(
      names = "--http-infer",
      paramLabel = "N",
      defaultValue = "10000",
      description =
          "Open Inference Protocol requests (JSON tensors, the smallest network, batch 1) sent to"
              + " the server after the loads, its RSS read every tenth; 0 skips them"
              + " (default ${DEFAULT-VALUE})")
  int httpInfer;

  @Option(
      names = "--soak",
      paramLabel = "S",
      defaultValue = "0",
      description =
          "then S seconds of study requests at concurrency 8, the server's RSS read every 10 s"
              + " (default ${DEFAULT-VALUE}: none)")
  int soak;

  @Option(names = "--json", paramLabel = "FILE", description = "also write the figures as JSON")
  Path json;

  /** One measured request: when it ended and how long it took. */
  /**
   * A finished request: when it ended, how long it took, whether it succeeded, and the stage
   * seconds its result reported (read, prepare, forward, ..., total; empty when it gave none).
   */
  record Sample(long endNanos, long nanos, boolean ok, Map<String, Double> seconds) {}

  /**
   * What a request gave: success and its result's stage seconds, read after the request's time is
   * taken (an HTTP answer's JSON is parsed then, not inside the measured time).
   */
  record Reply(boolean ok, java.util.function.Supplier<Map<String, Double>> seconds) {
    static final Reply FAILED = new Reply(false, Map::of);

    static Reply of(Map<String, Double> seconds) {
      return new Reply(true, () -> seconds);
    }
  }

  /** The figures of one load. */
  record Figures(
      String where,
      int concurrency,
      int windows,
      boolean stable,
      long requests,
      long failures,
      double throughput,
      double p50,
      double p90,
      double p99,
      Map<String, double[]> stages) {
    String row() {
      return String.format(
          Locale.ROOT,
          "%-10s %4d %8d %8d %8.2f %9.1f %9.1f %9.1f %8.2f %8s",
          where,
          concurrency,
          requests,
          failures,
          throughput,
          p50,
          p90,
          p99,
          p99 / p50,
          (stable ? "" : "unstable ") + windows);
    }

    /**
     * The stages' p50/p90/p99 in ms, from the results' own seconds; for HTTP also "outside": the
     * request's time beyond the predictor call's total (transfer, unzipping, JSON, queueing in the
     * server before the call).
     */
    String stageRow() {
      StringBuilder b = new StringBuilder("             stages p50/p90/p99 ms:");
      for (var e : stages.entrySet()) {
        double[] v = e.getValue();
        b.append(String.format(Locale.ROOT, " %s %.1f/%.1f/%.1f", e.getKey(), v[0], v[1], v[2]));
      }
      return b.toString();
    }

    Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("where", where);
      m.put("concurrency", (long) concurrency);
      m.put("windows", (long) windows);
      m.put("stable", stable);
      m.put("requests", requests);
      m.put("failures", failures);
      m.put("throughput_per_s", throughput);
      m.put("p50_ms", p50);
      m.put("p90_ms", p90);
      m.put("p99_ms", p99);
      Map<String, Object> st = new LinkedHashMap<>();
      for (var e : stages.entrySet()) {
        double[] v = e.getValue();
        st.put(e.getKey(), List.of(v[0], v[1], v[2]));
      }
      m.put("stages_p50_p90_p99_ms", st);
      return m;
    }
  }

  static final String HEADER =
      String.format(
          Locale.ROOT,
          "%-10s %4s %8s %8s %8s %9s %9s %9s %8s %8s",
          "where",
          "c",
          "requests",
          "failed",
          "req/s",
          "p50 ms",
          "p90 ms",
          "p99 ms",
          "p99/p50",
          "windows");

  /** A request a client repeats. */
  interface Request {
    Reply send(int client, long n) throws Exception;
  }

  /**
   * Runs {@code c} clients in a closed loop, windows of {@code window} seconds, until the last
   * three windows agree within {@code stability} and hold at least {@code minRequests} requests.
   */
  Figures load(String where, int c, Request r) throws InterruptedException {
    ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong seq = new AtomicLong();
    List<Thread> clients = new ArrayList<>();
    for (int i = 0; i < c; i++) {
      int id = i;
      Thread t =
          new Thread(
              () -> {
                while (!stop.get()) {
                  long t0 = System.nanoTime();
                  Reply reply;
                  try {
                    reply = r.send(id, seq.getAndIncrement());
                  } catch (Exception e) {
                    reply = Reply.FAILED;
                  }
                  long t1 = System.nanoTime();
                  samples.add(new Sample(t1, t1 - t0, reply.ok(), reply.seconds().get()));
                }
              },
              "client-" + i);
      t.setDaemon(true);
      clients.add(t);
    }
    // One warm-up window first (not reported).
    clients.forEach(Thread::start);
    long w = (long) (window * 1e9);
    Thread.sleep(w / 1_000_000);
    samples.clear();
    List<List<Sample>> windows = new ArrayList<>();
    boolean stable = false;
    int reported = 0;
    while (windows.size() < maxWindows) {
      long start = System.nanoTime();
      Thread.sleep(w / 1_000_000);
      List<Sample> win = new ArrayList<>();
      for (Sample s; (s = samples.peek()) != null && s.endNanos() <= start + w; ) {
        win.add(samples.poll());
      }
      windows.add(win);
      if (windows.size() >= 3 && agree(windows.subList(windows.size() - 3, windows.size()), w)) {
        // Stable: report as many of the last windows as hold minRequests (3 at least).
        long n = 0;
        int k = 0;
        while (k < windows.size() && (k < 3 || n < minRequests))
          n += windows.get(windows.size() - ++k).size();
        if (n >= minRequests) {
          stable = true;
          reported = k;
          break;
        }
      }
    }
    if (!stable) reported = Math.min(3, windows.size());
    stop.set(true);
    for (Thread t : clients) t.join(TimeUnit.MINUTES.toMillis(5));
    List<Sample> all = new ArrayList<>();
    for (List<Sample> win : windows.subList(windows.size() - reported, windows.size())) {
      all.addAll(win);
    }
    double[] q =
        quantiles(all.stream().filter(Sample::ok).mapToDouble(s -> s.nanos() / 1e6).toArray());
    long failed = all.stream().filter(s -> !s.ok()).count();
    double secs = reported * window;
    return new Figures(
        where,
        c,
        windows.size(),
        stable,
        all.size(),
        failed,
        all.size() / secs,
        q[0],
        q[1],
        q[2],
        stages(all));
  }

  /**
   * Per stage of the successful samples' seconds, p50/p90/p99 in ms (stages in the results' order);
   * "outside" where a result gave a total: the request's time beyond it.
   */
  static Map<String, double[]> stages(List<Sample> all) {
    Map<String, List<Double>> v = new LinkedHashMap<>();
    for (Sample s : all) {
      if (!s.ok() || s.seconds().isEmpty()) continue;
      for (var e : s.seconds().entrySet()) {
        v.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(e.getValue() * 1e3);
      }
      Double total = s.seconds().get("total");
      if (total != null) {
        v.computeIfAbsent("outside", k -> new ArrayList<>()).add(s.nanos() / 1e6 - total * 1e3);
      }
    }
    Map<String, double[]> out = new LinkedHashMap<>();
    for (var e : v.entrySet()) {
      out.put(
          e.getKey(), quantiles(e.getValue().stream().mapToDouble(Double::doubleValue).toArray()));
    }
    return out;
  }

  /** p50, p90 and p99 (nearest rank) of {@code values}, which it sorts in place. */
  static double[] quantiles(double[] values) {
    Arrays.sort(values);
    return new double[] {pct(values, 50), pct(values, 90), pct(values, 99)};
  }

  private boolean agree(List<List<Sample>> last, long w) {
    double[] thr = new double[3], p50 = new double[3];
    for (int i = 0; i < 3; i++) {
      List<Sample> s = last.get(i);
      if (s.isEmpty()) return false;
      thr[i] = s.size() / (w / 1e9);
      double[] ms = s.stream().mapToDouble(x -> x.nanos() / 1e6).sorted().toArray();
      p50[i] = pct(ms, 50);
    }
    return within(thr) && within(p50);
  }

  private boolean within(double[] v) {
    double mean = (v[0] + v[1] + v[2]) / 3;
    for (double x : v) if (Math.abs(x - mean) > stability * mean) return false;
    return true;
  }

  /**
   * The "seconds" object of a study answer's JSON, then the server's Server-Timing durations
   * (receive, predict, respond) as "server_NAME", in seconds; empty when the answer has none.
   */
  static Map<String, Double> seconds(byte[] body, String serverTiming) {
    Map<String, Double> out = new LinkedHashMap<>();
    try {
      Object o = Json.parse(new String(body, StandardCharsets.UTF_8));
      if (o instanceof Map<?, ?> m && m.get("seconds") instanceof Map<?, ?> sec) {
        for (var e : sec.entrySet()) {
          if (e.getValue() instanceof Number v) {
            out.put(String.valueOf(e.getKey()), v.doubleValue());
          }
        }
      }
    } catch (Json.SyntaxException e) {
      return Map.of();
    }
    for (String part : serverTiming.split(",")) {
      String[] f = part.trim().split(";dur=");
      if (f.length == 2) {
        try {
          out.put("server_" + f[0], Double.parseDouble(f[1]) / 1e3);
        } catch (NumberFormatException e) {
          // not ours: skipped
        }
      }
    }
    return out;
  }

  /** Nearest-rank percentile of sorted values. */
  static double pct(double[] sorted, double p) {
    if (sorted.length == 0) return Double.NaN;
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** A study to send: its id, its files, and the same files zipped. */
  record Study(String id, Map<String, byte[]> files, byte[] zip) {}

  static List<Study> read(Path dir, boolean stored) throws IOException {
    List<Study> out = new ArrayList<>();
    List<Path> dirs;
    try (Stream<Path> s = Files.list(dir)) {
      dirs = s.filter(Files::isDirectory).sorted().toList();
    }
    for (Path d : dirs) {
      Map<String, byte[]> files = new LinkedHashMap<>();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (Stream<Path> w = Files.walk(d);
          ZipOutputStream zip = new ZipOutputStream(bytes)) {
        for (Path f : w.filter(Files::isRegularFile).sorted().toList()) {
          String name = d.relativize(f).toString().replace('\\', '/');
          byte[] b = Files.readAllBytes(f);
          files.put(name, b);
          ZipEntry e = new ZipEntry(name);
          if (stored) {
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(b);
            e.setMethod(ZipEntry.STORED);
            e.setSize(b.length);
            e.setCompressedSize(b.length);
            e.setCrc(crc.getValue());
          }
          zip.putNextEntry(e);
          zip.write(b);
          zip.closeEntry();
        }
      }
      out.add(new Study(d.getFileName().toString(), files, bytes.toByteArray()));
    }
    if (out.isEmpty()) throw new IllegalArgumentException("--studies: no study folders in " + dir);
    return out;
  }

  @Override
  public Integer call() throws Exception {
    if (!clientKind.equals("jdk") && !clientKind.equals("socket")) {
      throw new IllegalArgumentException(
          "--client: expected jdk or socket, got '" + clientKind + "'");
    }
    RuntimeOptions runtime = RuntimeOptions.of(spec);
    int threads = runtime.workers();
    NativeRuntime.Settings settings = runtime.settings();
    NativeRuntime.configure(
        settings
            .withThreads(threads)
            .withKernelThreads(settings.kernelThreads() > 0 ? settings.kernelThreads() : threads));
    List<Study> all = read(studies, stored);
    List<Study> list = sameStudy ? all.subList(0, 1) : all;
    Predictors.Options o =
        Predictors.Options.defaults().withParallel(parallel).withWarmupStudy(warmupStudy);
    System.out.printf(
        Locale.ROOT,
        "bench serve: %s, %d studies, threads %d, parallel %d, windows of %.0f s, stability %.0f%%%n",
        model,
        list.size(),
        threads,
        parallel,
        window,
        stability * 100);
    System.out.printf(
        Locale.ROOT,
        "uploads: zips of %.2f MB (%s) holding %.2f MB of files (first study)%n",
        list.get(0).zip().length / 1e6,
        stored ? "stored" : "deflate",
        list.get(0).files().values().stream().mapToLong(b -> b.length).sum() / 1e6);
    List<Figures> rows = new ArrayList<>();
    Map<String, Object> memory = new LinkedHashMap<>();
    String system;
    String p0Name;
    Network p0Net;
    long load0 = System.nanoTime();
    try (Predictor<?> p = Predictors.load(model, o)) {
      system = p.system();
      p0Name = p.name();
      p0Net =
          p.networks().stream()
              .min(
                  java.util.Comparator.comparingLong(
                      n -> Arrays.stream(n.input()).map(Math::abs).reduce(1, (a, b) -> a * b)))
              .orElseThrow();
      System.out.printf(
          Locale.ROOT, "loaded and warmed up in %.2f s%n", (System.nanoTime() - load0) / 1e9);
      // The first call after warm-up, alone.
      for (int i = 0; i < Math.min(3, all.size()); i++) {
        long t0 = System.nanoTime();
        Predictor.Result r = p.predict(all.get(i).id(), all.get(i).files());
        System.out.printf(
            Locale.ROOT,
            "study %d after warm-up: %.1f ms %s%n",
            i + 1,
            (System.nanoTime() - t0) / 1e6,
            r.seconds());
      }
      if (!noInProcess) {
        System.out.println(HEADER);
        for (int c : concurrency) {
          Figures f =
              load(
                  "in-process",
                  c,
                  (client, n) -> {
                    Study s = list.get((int) (n % list.size()));
                    return Reply.of(p.predict(s.id(), s.files()).seconds());
                  });
          rows.add(f);
          System.out.println(f.row());
          System.out.println(f.stageRow());
        }
      }
      if (batching) batching(p);
      if (memoryCalls > 0) memory = memoryRun(p);
    }
    if (!noHttp) {
      // The clients' JIT at the lowest priority too, as the server's (spinekit serve --jit-nice):
      // a load generator's compiles should not take cores from the server it measures
      // (perf_analyzer, in C++, has none).
      NativeRuntime.lowerJitPriority(19);
      try (ServerProcess server = ServerProcess.start(model, threads, parallel)) {
        HttpClient client =
            HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        String path = "/v1/" + system + "/predict";
        System.out.println(HEADER);
        for (int c : concurrency) {
          boolean socket = clientKind.equals("socket");
          LoopbackClient[] sockets = new LoopbackClient[socket ? c : 0];
          for (int i = 0; i < sockets.length; i++) {
            sockets[i] = new LoopbackClient(URI.create(server.url()));
          }
          Request viaJdk =
              (id, n) -> {
                Study s = list.get((int) (n % list.size()));
                HttpRequest rq =
                    HttpRequest.newBuilder(URI.create(server.url() + path + "?study=" + s.id()))
                        .header("Content-Type", "application/zip")
                        .timeout(Duration.ofMinutes(2))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(s.zip()))
                        .build();
                HttpResponse<byte[]> r = client.send(rq, HttpResponse.BodyHandlers.ofByteArray());
                if (r.statusCode() != 200) return Reply.FAILED;
                return new Reply(
                    true,
                    () -> seconds(r.body(), r.headers().firstValue("Server-Timing").orElse("")));
              };
          Request viaSocket =
              (id, n) -> {
                Study s = list.get((int) (n % list.size()));
                LoopbackClient.Answer r =
                    sockets[id].post(path + "?study=" + s.id(), "application/zip", s.zip());
                if (r.status() != 200) return Reply.FAILED;
                return new Reply(true, () -> seconds(r.body(), r.serverTiming()));
              };
          Figures f;
          try {
            f = socket ? load("http-raw", c, viaSocket) : load("http", c, viaJdk);
          } finally {
            for (LoopbackClient k : sockets) k.close();
          }
          rows.add(f);
          System.out.println(f.row());
          System.out.println(f.stageRow());
        }
        if (httpInfer > 0) memory.put("http_infer", httpInfer(client, server, p0Name, p0Net));
        if (soak > 0) memory.put("soak", soak(client, server, path, list));
        memory.put("server_rss_mib_after", server.rssMib());
      }
    }
    System.out.println();
    System.out.println(HEADER);
    for (Figures f : rows) System.out.println(f.row());
    overhead(rows);
    if (json != null) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("model", model.toString());
      m.put("threads", (long) threads);
      m.put("parallel", (long) parallel);
      List<Object> r = new ArrayList<>();
      for (Figures f : rows) r.add(f.toJson());
      m.put("loads", r);
      m.put("memory", memory);
      AtomicFiles.write(json, (Json.write(m) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return 0;
  }

  /** Each network's median time per item at batch 1, 2 and 4 (20 calls each after 3). */
  private static void batching(Predictor<?> p) {
    System.out.println(
        "network    shape                     ms/item b=1   b=2   b=4   (median of 20)");
    for (Network n : p.networks()) {
      StringBuilder row = new StringBuilder();
      for (int b : new int[] {1, 2, 4}) {
        long[] shape = n.input();
        shape[0] = b;
        int size = 1;
        for (long v : shape) size *= (int) v;
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) Math.sin(i * 0.001);
        double[] ms = new double[20];
        for (int i = -3; i < ms.length; i++) {
          long t0 = System.nanoTime();
          p.infer(n.name(), shape, x);
          if (i >= 0) ms[i] = (System.nanoTime() - t0) / 1e6 / b;
        }
        Arrays.sort(ms);
        row.append(String.format(Locale.ROOT, " %6.2f", pct(ms, 50)));
      }
      long[] in = n.input();
      System.out.printf(
          Locale.ROOT, "%-10s %-25s %s%n", n.name(), Arrays.toString(in).replace("-1", "N"), row);
    }
  }

  /**
   * {@code httpInfer} OIP requests of network {@code net} at batch 1, one at a time; the server's
   * RSS after each tenth.
   */
  private Map<String, Object> httpInfer(
      HttpClient client, ServerProcess server, String model, Network net) throws Exception {
    long[] shape = net.input();
    shape[0] = 1;
    int size = 1;
    for (long v : shape) size *= (int) v;
    StringBuilder body =
        new StringBuilder("{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[");
    for (int i = 0; i < shape.length; i++) body.append(i == 0 ? "" : ",").append(shape[i]);
    body.append("],\"data\":[");
    for (int i = 0; i < size; i++) {
      body.append(i == 0 ? "" : ",").append(Json.number((float) Math.sin(i * 0.001)));
    }
    body.append("]}]}");
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    URI uri = URI.create(server.url() + "/v2/models/" + model + "." + net.name() + "/infer");
    List<Object> rss = new ArrayList<>();
    long failed = 0;
    int per = Math.max(1, httpInfer / 10);
    double[] ms = new double[per * 10];
    long t0 = System.nanoTime();
    for (int b = 0; b < 10; b++) {
      for (int i = 0; i < per; i++) {
        long s0 = System.nanoTime();
        HttpResponse<byte[]> r =
            client.send(
                HttpRequest.newBuilder(uri)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
        ms[b * per + i] = (System.nanoTime() - s0) / 1e6;
        if (r.statusCode() != 200) failed++;
      }
      rss.add(server.rssMib());
    }
    Arrays.sort(ms);
    double r0 = (double) rss.get(0), r1 = (double) rss.get(rss.size() - 1);
    System.out.printf(
        Locale.ROOT,
        "http infer: %d requests of %s.%s %s in %.1f s, %d failed, p50 %.2f ms, p99 %.2f ms;"
            + " server RSS %.1f -> %.1f MiB (%+.2f%% after the first tenth)%n",
        ms.length,
        model,
        net.name(),
        Arrays.toString(shape),
        (System.nanoTime() - t0) / 1e9,
        failed,
        pct(ms, 50),
        pct(ms, 99),
        r0,
        r1,
        100 * (r1 / r0 - 1));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("requests", (long) ms.length);
    m.put("failed", failed);
    m.put("p50_ms", pct(ms, 50));
    m.put("p99_ms", pct(ms, 99));
    m.put("rss_mib", rss);
    return m;
  }

  /** {@code soak} seconds of study requests from 8 clients; the server's RSS every 10 s. */
  private Map<String, Object> soak(
      HttpClient client, ServerProcess server, String path, List<Study> list)
      throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong seq = new AtomicLong(), ok = new AtomicLong(), failed = new AtomicLong();
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      Thread t =
          new Thread(
              () -> {
                while (!stop.get()) {
                  Study s = list.get((int) (seq.getAndIncrement() % list.size()));
                  try {
                    HttpResponse<byte[]> r =
                        client.send(
                            HttpRequest.newBuilder(
                                    URI.create(server.url() + path + "?study=" + s.id()))
                                .header("Content-Type", "application/zip")
                                .timeout(Duration.ofMinutes(2))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(s.zip()))
                                .build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    (r.statusCode() == 200 ? ok : failed).incrementAndGet();
                  } catch (Exception e) {
                    failed.incrementAndGet();
                  }
                }
              });
      t.setDaemon(true);
      clients.add(t);
      t.start();
    }
    List<Object> rss = new ArrayList<>();
    long end = System.nanoTime() + soak * 1_000_000_000L;
    while (System.nanoTime() < end) {
      Thread.sleep(Math.min(10_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
      rss.add(server.rssMib());
    }
    stop.set(true);
    for (Thread t : clients) t.join(TimeUnit.MINUTES.toMillis(3));
    double r0 = (double) rss.get(0), r1 = (double) rss.get(rss.size() - 1);
    System.out.printf(
        Locale.ROOT,
        "soak: %d s at concurrency 8: %d requests, %d failed; server RSS %.1f -> %.1f MiB"
            + " (%+.2f%% after the first 10 s)%n",
        soak,
        ok.get() + failed.get(),
        failed.get(),
        r0,
        r1,
        100 * (r1 / r0 - 1));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("seconds", (long) soak);
    m.put("requests", ok.get() + failed.get());
    m.put("failed", failed.get());
    m.put("rss_mib", rss);
    return m;
  }

  /** HTTP p50 over in-process p50 at each concurrency measured both ways. */
  private static void overhead(List<Figures> rows) {
    for (Figures h : rows) {
      if (!h.where().startsWith("http")) continue;
      for (Figures i : rows) {
        if (i.where().equals("in-process") && i.concurrency() == h.concurrency()) {
          System.out.printf(
              Locale.ROOT,
              "c=%d: HTTP + zip + decoding overhead on p50 %.1f%% (%.1f ms)%n",
              h.concurrency(),
              100 * (h.p50() / i.p50() - 1),
              h.p50() - i.p50());
        }
      }
    }
  }

  /**
   * {@code memoryCalls} calls of the first network at batch 1 in blocks of a tenth: native memory
   * (JavaCPP's tracked bytes, physical bytes) and RSS after each block; growth is measured from the
   * first block (after warm-up) to the last.
   */
  private Map<String, Object> memoryRun(Predictor<?> p) {
    Network n = p.networks().get(0);
    long[] shape = n.input();
    shape[0] = 1;
    int size = 1;
    for (long s : shape) size *= (int) s;
    float[] x = new float[size];
    for (int i = 0; i < size; i++) x[i] = (float) Math.sin(i * 0.001);
    int blocks = 10, per = Math.max(1, memoryCalls / blocks);
    List<Object> rss = new ArrayList<>(), phys = new ArrayList<>(), tracked = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int b = 0; b < blocks; b++) {
      for (int i = 0; i < per; i++) p.infer(n.name(), shape, x);
      System.gc();
      rss.add(ServerProcess.rssMib(ProcessHandle.current().pid()));
      phys.add(Pointer.physicalBytes() / 1048576.0);
      tracked.add(Pointer.totalBytes() / 1048576.0);
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    double r0 = (double) rss.get(0), r1 = (double) rss.get(rss.size() - 1);
    System.out.printf(
        Locale.ROOT,
        "memory: %d calls of %s %s in %.1f s; RSS %.1f -> %.1f MiB (%+.2f%%), tracked native %.2f ->"
            + " %.2f MiB%n",
        blocks * per,
        n.name(),
        Arrays.toString(shape),
        secs,
        r0,
        r1,
        100 * (r1 / r0 - 1),
        (double) tracked.get(0),
        (double) tracked.get(tracked.size() - 1));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("calls", (long) blocks * per);
    m.put("network", n.name());
    m.put("rss_mib", rss);
    m.put("physical_mib", phys);
    m.put("tracked_mib", tracked);
    return m;
  }

  /** {@code spinekit serve} as a child process on a free loopback port. */
  static final class ServerProcess implements AutoCloseable {
    private final Process process;
    private final String url;

    private ServerProcess(Process process, String url) {
      this.process = process;
      this.url = url;
    }

    static ServerProcess start(Path model, int threads, int parallel) throws IOException {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      List<String> cmd =
          List.of(
              java,
              // As ./spinekit starts it (see there).
              "-Xmx2g",
              "-XX:G1HeapRegionSize=4m",
              "-cp",
              System.getProperty("java.class.path"),
              "org.spinekit.cli.Main",
              "--threads",
              Integer.toString(threads),
              "serve",
              "--model",
              model.toString(),
              "--port",
              "0",
              "--parallel",
              Integer.toString(parallel));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      StringBuilder seen = new StringBuilder();
      String line;
      while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
        seen.append(line).append('\n');
        int at = line.indexOf("serving on ");
        if (at >= 0) {
          String url = line.substring(at + "serving on ".length()).trim();
          Thread drain =
              new Thread(
                  () -> {
                    try {
                      while (out.readLine() != null) {
                        // the server's log, not needed
                      }
                    } catch (IOException e) {
                      // the server stopped
                    }
                  });
          drain.setDaemon(true);
          drain.start();
          return new ServerProcess(p, url);
        }
      }
      p.destroyForcibly();
      throw new IOException("spinekit serve did not start:\n" + seen);
    }

    String url() {
      return url;
    }

    double rssMib() {
      return rssMib(process.pid());
    }

    static double rssMib(long pid) {
      try {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
          if (l.startsWith("VmRSS:")) {
            return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0;
          }
        }
      } catch (IOException | NumberFormatException e) {
        return Double.NaN;
      }
      return Double.NaN;
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) process.destroyForcibly();
    }
  }
}
