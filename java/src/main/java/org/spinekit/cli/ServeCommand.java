package org.spinekit.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.bytedeco.pytorch.Device;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.serve.BearerToken;
import org.spinekit.serve.Limits;
import org.spinekit.serve.Network;
import org.spinekit.serve.Predictor;
import org.spinekit.serve.Predictors;
import org.spinekit.serve.Server;
import org.spinekit.serve.Warmup;
import org.spinekit.synth.CervicalSynth;
import org.spinekit.synth.LumbarSynth;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spinekit serve}: loads trained runs and serves them over HTTP ({@link Server}) until
 * SIGTERM or Ctrl-C, then stops gracefully.
 */
@Command(
    name = "serve",
    description = {
      "serves trained runs over HTTP: the Open Inference Protocol v2 (KServe, Triton) for their"
          + " networks, study endpoints for zipped DICOM studies, Prometheus metrics",
      "",
      "Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/NAME,"
          + " /v2/models/NAME/ready; POST /v2/models/NAME/infer (FP32 tensors as JSON, or binary"
          + " after a JSON header of Inference-Header-Content-Length bytes); POST"
          + " /v1/cervical/predict and /v1/lumbar/predict (a zip of one study's DICOM files as the"
          + " body, application/zip, or as the one file of a multipart/form-data form; query"
          + " parameters study=ID, default the zip's top folder, and model=NAME, needed when"
          + " several models of the system are served), answering the JSON of predict --report;"
          + " GET /metrics. Each run is the model"
          + " NAME (the run directory's name unless given as NAME=RUN) and each of its networks"
          + " the model NAME.NETWORK (lumbar-demo.scs). Errors are {\"error\": \"...\"}: 400 bad"
          + " input (naming the file or zip entry), 401 no or a wrong token, 404 unknown model,"
          + " 413 beyond a limit, 503 overloaded or stopping (with Retry-After).",
      "",
      "At most --max-in-flight inference and study requests run at once and --queue more wait;"
          + " beyond that a request gets 503 at once, before its body is read. Each request in"
          + " flight holds its body and its unzipped study in memory: about --max-in-flight x"
          + " (--max-body + 2 x --max-unzipped) at worst. A zip's entries are all checked (names,"
          + " count, methods, declared sizes) before any inflates, and none may inflate past its"
          + " declared size.",
      "",
      "With --token-file every request needs 'Authorization: Bearer TOKEN', health and metrics"
          + " included, unless --public-health exempts /v2/health/live and /v2/health/ready (for"
          + " probes that send no headers). Once listening it prints 'serving on"
          + " http://HOST:PORT' (--port 0: a free port). SIGTERM or Ctrl-C stops it: no new"
          + " connections, new requests get 503, requests admitted finish (up to --drain-timeout),"
          + " then the models are closed; the JVM then exits 143 (SIGTERM) or 130 (Ctrl-C)."
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--model",
      paramLabel = "[NAME=]RUN",
      required = true,
      description = {
        "a run written by cervical train or lumbar train; repeat for several (NAME: letters,"
            + " digits, '_', '.', '-'; default the run directory's name)"
      })
  List<String> models;

  @Option(
      names = "--host",
      paramLabel = "ADDR",
      defaultValue = "127.0.0.1",
      description =
          "the address to listen on (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0: all)")
  String host;

  @Option(
      names = "--port",
      paramLabel = "N",
      defaultValue = "8080",
      converter = Converters.Count.class,
      description = "the port (default ${DEFAULT-VALUE}; 0: a free one)")
  int port;

  @Option(
      names = "--parallel",
      paramLabel = "N",
      converter = Converters.Positive.class,
      description =
          "studies (or network calls) each model runs at once; the others wait (default: one per"
              + " core, and then, unless --threads or SPINEKIT_THREADS says otherwise, libtorch"
              + " and the kernels on cores / N threads each: measured, N studies on 1 thread"
              + " each outrun one study on N threads; see benchmarks/README.md)")
  Integer parallel;

  @Option(
      names = "--mode",
      paramLabel = "blend|one-stage|two-stage",
      defaultValue = "blend",
      description = "what lumbar grades come from (default ${DEFAULT-VALUE}, as lumbar predict)")
  String mode;

  @Option(
      names = "--warmup",
      paramLabel = "synthetic|none",
      defaultValue = "synthetic",
      description = {
        "once listening and before reporting ready (GET /v2/health/ready: 503 meanwhile), send"
            + " the server itself a synthetic study of each model's system, zipped as a client's"
            + " upload is, from --parallel connections: so that the first clients find the HTTP"
            + " server, the unzipping, the readers, the kernels and the Java code compiled as well"
            + " as the networks warm (which are always warmed up on zeros); these requests need no"
            + " token and count in no metric; none: skip it (default ${DEFAULT-VALUE})"
      })
  String warmup;

  @Option(
      names = "--warmup-studies",
      paramLabel = "N",
      defaultValue = "" + DEFAULT_WARMUP_STUDIES,
      description = {
        "warm-up requests per model: at most N, and no more once --warmup-seconds have passed"
            + " and "
            + Warmup.MIN_COUNT
            + " are done (default ${DEFAULT-VALUE}: a lumbar study's 256 take about 14 s on two"
            + " cores, in which the JIT compiler does the most of its work rather than competing"
            + " with the first requests for the cores; see benchmarks/README.md)"
      })
  int warmupStudies;

  @Option(
      names = "--warmup-seconds",
      paramLabel = "S",
      defaultValue = "15",
      description =
          "the warm-up's time per model (see --warmup-studies) (default ${DEFAULT-VALUE})")
  double warmupSeconds;

  @Option(
      names = "--jit-nice",
      paramLabel = "N",
      defaultValue = "19",
      description = {
        "after the warm-up, run the JVM's JIT compiler threads at this nice value (19: the"
            + " lowest priority; 0: as the JVM starts them), so that a late compile does not take"
            + " a core from a request (default ${DEFAULT-VALUE}; see benchmarks/README.md)"
      })
  int jitNice;

  @Option(
      names = "--device",
      paramLabel = "cpu|cuda",
      defaultValue = "cpu",
      description = "where the networks run (default ${DEFAULT-VALUE})")
  String device;

  @Option(
      names = "--max-in-flight",
      paramLabel = "N",
      converter = Converters.Positive.class,
      description = "inference and study requests running at once (default: 2 per core)")
  Integer maxInFlight;

  @Option(
      names = "--queue",
      paramLabel = "N",
      defaultValue = "16",
      converter = Converters.Count.class,
      description = "requests waiting beyond those; more get 503 (default ${DEFAULT-VALUE})")
  int queue;

  @Option(
      names = "--queue-timeout",
      paramLabel = "SECONDS",
      defaultValue = "60",
      converter = Converters.PositiveReal.class,
      description = "the longest a request waits in the queue, then 503 (default ${DEFAULT-VALUE})")
  double queueTimeout;

  @Option(
      names = "--max-body",
      paramLabel = "SIZE",
      defaultValue = "512MiB",
      converter = Converters.Size.class,
      description = "largest request body, 413 beyond (default ${DEFAULT-VALUE})")
  long maxBody;

  @Option(
      names = "--max-json",
      paramLabel = "SIZE",
      defaultValue = "64MiB",
      converter = Converters.Size.class,
      description =
          "largest JSON of an inference request (binary tensors aside; default ${DEFAULT-VALUE})")
  long maxJson;

  @Option(
      names = "--max-entries",
      paramLabel = "N",
      defaultValue = "10000",
      converter = Converters.Positive.class,
      description = "most entries of an uploaded zip (default ${DEFAULT-VALUE})")
  int maxEntries;

  @Option(
      names = "--max-entry",
      paramLabel = "SIZE",
      defaultValue = "256MiB",
      converter = Converters.Size.class,
      description = "largest zip entry once inflated (default ${DEFAULT-VALUE})")
  long maxEntry;

  @Option(
      names = "--max-unzipped",
      paramLabel = "SIZE",
      defaultValue = "2GiB",
      converter = Converters.Size.class,
      description = "largest zip once inflated, all entries (default ${DEFAULT-VALUE})")
  long maxUnzipped;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "a file holding one bearer token (16 or more characters) that every request must bring")
  Path tokenFile;

  @Option(
      names = "--public-health",
      description = "answer /v2/health/live and /v2/health/ready without the token")
  boolean publicHealth;

  @Option(
      names = "--drain-timeout",
      paramLabel = "SECONDS",
      defaultValue = "30",
      converter = Converters.PositiveReal.class,
      description =
          "on SIGTERM, how long requests admitted may take to finish (default ${DEFAULT-VALUE})")
  double drainTimeout;

  @Override
  public Integer call() throws IOException {
    // The server's own log (Jetty, Javalin): warnings only, unless configured.
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    if (port > 65535) {
      throw new IllegalArgumentException("--port: expected 0 to 65535, got " + port);
    }
    if (jitNice < 0 || jitNice > 19) {
      throw new IllegalArgumentException("--jit-nice: expected 0 to 19, got " + jitNice);
    }
    if (warmupStudies < 1) {
      throw new IllegalArgumentException(
          "--warmup-studies: expected at least 1, got " + warmupStudies);
    }
    if (!(warmupSeconds >= 0) || warmupSeconds > 86_400) {
      throw new IllegalArgumentException(
          "--warmup-seconds: expected 0 to 86400, got " + warmupSeconds);
    }
    if (!warmup.equals("synthetic") && !warmup.equals("none")) {
      throw new IllegalArgumentException(
          "--warmup: expected synthetic or none, got '" + warmup + "'");
    }
    int cores = Runtime.getRuntime().availableProcessors();
    int parallel = this.parallel != null ? this.parallel : cores;
    NativeRuntime.Settings settings = RuntimeOptions.of(spec).settings();
    if (settings.threads() == 0) {
      // Intra-op threads are one pool for all lanes: share the cores out among them.
      int t = Math.max(1, cores / parallel);
      NativeRuntime.configure(
          settings
              .withThreads(t)
              .withKernelThreads(settings.kernelThreads() > 0 ? settings.kernelThreads() : t));
    }
    System.err.printf(
        java.util.Locale.ROOT,
        "spinekit serve: %d studies at once per model, libtorch on %d threads%n",
        parallel,
        org.bytedeco.pytorch.global.torch.get_num_threads());
    Map<String, Path> runs = runs();
    Limits limits = new Limits(maxBody, maxJson, maxEntries, maxEntry, maxUnzipped);
    BearerToken token = null;
    PrintStream err = System.err;
    if (tokenFile != null) {
      token = BearerToken.read(tokenFile);
      if (BearerToken.readableByOthers(tokenFile)) {
        err.println(
            "spinekit serve: warning: token file '"
                + tokenFile
                + "' is readable by other users (chmod 600 it)");
      }
    }
    Server.Options options =
        Server.Options.defaults()
            .withHost(host)
            .withPort(port)
            .withLimits(limits)
            .withMaxInFlight(
                maxInFlight != null ? maxInFlight : Server.Options.defaultMaxInFlight())
            .withQueue(queue)
            .withQueueTimeout(Duration.ofMillis(Math.round(queueTimeout * 1000)))
            .withToken(token)
            .withPublicHealth(publicHealth)
            .withDrainTimeout(Duration.ofMillis(Math.round(drainTimeout * 1000)))
            .withVersion(new Cli.Version().getVersion()[0].replaceFirst("^spinekit ", ""));
    Device dev = CervicalRun.device(device);
    List<Predictor<?>> loaded = new ArrayList<>();
    List<Warmup.Request> warmups = new ArrayList<>();
    try {
      for (var e : runs.entrySet()) {
        Cli.existing("serve --model", e.getValue());
        Predictors.Options o = new Predictors.Options(e.getKey(), mode, parallel);
        Predictor<?> p = Predictors.load(e.getValue(), o, dev);
        loaded.add(p);
        if (warmup.equals("synthetic")) warmups.add(warmupRequest(p));
      }
    } catch (IOException | RuntimeException e) {
      for (Predictor<?> p : loaded) p.close();
      throw e;
    }
    Warmup w =
        warmups.isEmpty()
            ? null
            : new Warmup(
                warmups,
                warmupStudies,
                Duration.ofMillis(Math.round(warmupSeconds * 1000)),
                parallel);
    Server server = Server.start(loaded, options, w);
    for (Warmup.Done d : server.warmed()) {
      err.printf(
          java.util.Locale.ROOT,
          "spinekit serve: warmed up through POST %s on a synthetic study (%d requests) in %.1f"
              + " s%n",
          d.target(),
          d.sent(),
          d.seconds());
    }
    if (jitNice > 0) {
      int n = NativeRuntime.lowerJitPriority(jitNice);
      if (n < 0) err.println("spinekit serve: --jit-nice: threads cannot be listed here; ignored");
    }
    Thread hook =
        new Thread(
            () -> {
              err.println(
                  "spinekit serve: stopping: finishing the requests admitted (up to "
                      + Math.round(drainTimeout)
                      + " s)");
              boolean drained = server.stop();
              err.println(
                  "spinekit serve: stopped"
                      + (drained ? "" : " (requests still running at the drain timeout)"));
              err.flush();
            },
            "spinekit-serve-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    PrintStream out = System.out;
    for (Predictor<?> p : loaded) {
      List<String> nets = new ArrayList<>();
      for (Network n : p.networks()) nets.add(p.name() + "." + n.name());
      out.println(
          p.name()
              + " ("
              + p.system()
              + "): POST /v1/"
              + p.system()
              + "/predict"
              + "; networks: "
              + String.join(", ", nets));
    }
    out.println("serving on " + server.uri());
    out.flush();
    server.awaitStopped();
    return Cli.OK;
  }

  /** The runs by name, NAME=RUN split where NAME is a name. */
  private Map<String, Path> runs() {
    Map<String, Path> runs = new LinkedHashMap<>();
    for (String m : models) {
      String name = null;
      String run = m;
      int eq = m.indexOf('=');
      if (eq > 0 && m.substring(0, eq).matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
        name = m.substring(0, eq);
        run = m.substring(eq + 1);
      }
      Path p = Path.of(run);
      if (name == null) {
        Path f = p.toAbsolutePath().normalize().getFileName();
        name = f == null ? run : f.toString();
      }
      if (runs.put(name, p) != null) {
        throw new IllegalArgumentException(
            "--model: two runs named '"
                + name
                + "'; name them apart with NAME=RUN (--model a="
                + m
                + ")");
      }
    }
    return runs;
  }

  /** Warm-up requests per model, by default. */
  static final int DEFAULT_WARMUP_STUDIES = 256;

  /**
   * The warm-up request of {@code p}: a synthetic study of its system, zipped (deflated) as a
   * client's upload is, POSTed to its study endpoint (made in a temporary folder, deleted after).
   */
  private static Warmup.Request warmupRequest(Predictor<?> p) throws IOException {
    Path dir = Files.createTempDirectory("spinekit-warmup");
    ByteArrayOutputStream zip = new ByteArrayOutputStream(4 << 20);
    try {
      Path study;
      if (p.system().equals("cervical")) {
        CervicalSynth.generate(
            dir, CervicalSynth.Config.small(1).withStudies(0).withTestStudies(1));
        study = only(dir.resolve(CervicalSynth.TEST_IMAGES_DIR));
      } else {
        LumbarSynth.generate(dir, LumbarSynth.Config.small(1).withStudies(1).withTestStudies(0));
        study = only(dir.resolve(org.spinekit.io.kaggle.Rsna2024.TRAIN_IMAGES_DIR));
      }
      try (var w = Files.walk(study);
          ZipOutputStream z = new ZipOutputStream(zip)) {
        for (Path f : w.filter(Files::isRegularFile).sorted().toList()) {
          z.putNextEntry(
              new ZipEntry(study.getParent().relativize(f).toString().replace('\\', '/')));
          Files.copy(f, z);
          z.closeEntry();
        }
      }
    } finally {
      try (var w = Files.walk(dir)) {
        for (Path f : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(f);
        }
      }
    }
    String target =
        "/v1/"
            + p.system()
            + "/predict?model="
            + java.net.URLEncoder.encode(p.name(), StandardCharsets.UTF_8);
    return new Warmup.Request(target, "application/zip", zip.toByteArray());
  }

  private static Path only(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      return s.filter(Files::isDirectory)
          .findFirst()
          .orElseThrow(() -> new IOException(dir + ": empty"));
    }
  }
}
