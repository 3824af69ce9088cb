package org.spinekit.serve;

import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.spinekit.internal.concurrent.DaemonThreads;
import org.spinekit.internal.concurrent.Futures;
import org.spinekit.internal.http.LoopbackClient;
import org.spinekit.io.json.Json;

/**
 * {@code spinekit serve}: an HTTP server in front of loaded {@link Predictor}s (Javalin on Jetty).
 *
 * <p>Open Inference Protocol v2 (KServe, Triton), REST: {@code GET /v2/health/live}, {@code GET
 * /v2/health/ready}, {@code GET /v2} (server metadata), {@code GET /v2/models/NAME} (model
 * metadata), {@code GET /v2/models/NAME/ready}, {@code POST /v2/models/NAME/infer} (FP32 tensors as
 * JSON or with the binary tensor data extension; see {@link Oip}). Each predictor's networks are
 * models named {@code PREDICTOR.NETWORK} ({@code lumbar-demo.scs}); the predictor itself is the
 * model {@code PREDICTOR}, whose metadata lists its networks and which takes studies, not tensors.
 * Model versions are not served.
 *
 * <p>Studies: {@code POST /v1/cervical/predict} and {@code POST /v1/lumbar/predict} take a zip of a
 * study's DICOM files (the body as {@code application/zip}, or the one file part of a {@code
 * multipart/form-data} form), with {@code ?study=ID} (default: the zip's single top folder's name)
 * and {@code ?model=NAME} (needed when several models of the system are served), and answer the
 * prediction's JSON ({@link Predictor.Result#toJson}).
 *
 * <p>{@code GET /metrics}: Prometheus' text format ({@link Metrics}).
 *
 * <p>Errors are {@code {"error": "..."}} (with {@code "file"} naming the file or zip entry at fault
 * where there is one): 400 a malformed request or study, 401 a missing or wrong token (with {@code
 * WWW-Authenticate: Bearer}), 404 an unknown model or path, 405 a wrong method, 413 a body or zip
 * beyond the {@link Limits}, 503 overloaded or shutting down (with {@code Retry-After}), 500 a
 * failure inside the server. No request stops the server.
 *
 * <p>Inference and study requests pass a bounded queue ({@link Admission}): at most {@code
 * maxInFlight} run (read their body, inflate, predict) at once and {@code queue} more wait; the
 * rest get 503 at once, before their body is read. Health, metadata and metrics are answered
 * outside it. The HTTP threads are {@code maxInFlight + queue + 32} (at least 64) so that refusals
 * and health checks always find one. Memory: each request in flight holds its body (inference) or
 * its inflated files (studies), so the worst case is about {@code maxInFlight} times the larger of
 * {@link Limits#body} and twice {@link Limits#unzipped} (the files, and the in-memory study folder
 * the predictor lays them out in).
 *
 * <p>With a token, every request must bring {@code Authorization: Bearer TOKEN}, health and metrics
 * included, unless {@code publicHealth} exempts {@code /v2/health/live} and {@code
 * /v2/health/ready} (for probes that cannot send headers).
 *
 * <p>{@link #stop} is graceful: the listening socket closes, new requests on open connections get
 * 503, readiness turns false, the requests admitted finish (up to {@code drainTimeout}), then the
 * HTTP server stops and the predictors are closed. The server owns the predictors it is given.
 */
public final class Server implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Server.class.getName());

  /** Routes other than fixed paths, for the metrics' endpoint label. */
  private static final Pattern MODEL = Pattern.compile("/v2/models/[^/]+");

  private static final Pattern MODEL_READY = Pattern.compile("/v2/models/[^/]+/ready");
  private static final Pattern MODEL_INFER = Pattern.compile("/v2/models/[^/]+/infer");

  private static final String ERROR_KIND = "spinekit.error";

  /** The header that marks the server's own warm-up requests (its value: a key of this run's). */
  static final String WARMUP_HEADER = "X-SpineKit-Warmup";

  /**
   * How the server listens and what it admits.
   *
   * @param host the address to bind (127.0.0.1: this machine only)
   * @param port the port (0: a free one; {@link #port()} tells which)
   * @param limits what one request may bring
   * @param maxInFlight inference and study requests running at once
   * @param queue requests waiting beyond those (more: 503)
   * @param queueTimeout the longest a request waits in the queue (then 503)
   * @param token the bearer token every request needs (null: none)
   * @param publicHealth whether /v2/health/live and /v2/health/ready are answered without the token
   * @param drainTimeout how long {@link #stop} waits for the requests admitted
   * @param version the server's version for {@code GET /v2} (null: the jar's, else "development")
   */
  public record Options(
      String host,
      int port,
      Limits limits,
      int maxInFlight,
      int queue,
      Duration queueTimeout,
      BearerToken token,
      boolean publicHealth,
      Duration drainTimeout,
      String version) {
    public Options {
      if (host == null || host.isBlank()) throw new IllegalArgumentException("host: expected one");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port: expected 0 to 65535, got " + port);
      }
      if (limits == null) throw new IllegalArgumentException("limits: expected some");
      if (maxInFlight < 1) {
        throw new IllegalArgumentException("maxInFlight: expected at least 1, got " + maxInFlight);
      }
      if (queue < 0) throw new IllegalArgumentException("queue: expected at least 0, got " + queue);
      if (queueTimeout == null || queueTimeout.isNegative() || queueTimeout.isZero()) {
        throw new IllegalArgumentException(
            "queueTimeout: expected a positive duration, got " + queueTimeout);
      }
      if (drainTimeout == null || drainTimeout.isNegative()) {
        throw new IllegalArgumentException(
            "drainTimeout: expected a duration >= 0, got " + drainTimeout);
      }
    }

    /** The in-flight requests by default: two per core. */
    public static int defaultMaxInFlight() {
      return 2 * Runtime.getRuntime().availableProcessors();
    }

    /**
     * The defaults: 127.0.0.1:8080, {@link Limits#defaults}, two requests in flight per core, 16
     * queued for at most 60 s, no token, 30 s to drain.
     */
    public static Options defaults() {
      return new Options(
          "127.0.0.1",
          8080,
          Limits.defaults(),
          defaultMaxInFlight(),
          16,
          Duration.ofSeconds(60),
          null,
          false,
          Duration.ofSeconds(30),
          null);
    }

    public Options withHost(String h) {
      return new Options(
          h,
          port,
          limits,
          maxInFlight,
          queue,
          queueTimeout,
          token,
          publicHealth,
          drainTimeout,
          version);
    }

    public Options withPort(int p) {
      return new Options(
          host,
          p,
          limits,
          maxInFlight,
          queue,
          queueTimeout,
          token,
          publicHealth,
          drainTimeout,
          version);
    }

    public Options withLimits(Limits l) {
      return new Options(
          host,
          port,
          l,
          maxInFlight,
          queue,
          queueTimeout,
          token,
          publicHealth,
          drainTimeout,
          version);
    }

    public Options withMaxInFlight(int k) {
      return new Options(
          host, port, limits, k, queue, queueTimeout, token, publicHealth, drainTimeout, version);
    }

    public Options withQueue(int q) {
      return new Options(
          host,
          port,
          limits,
          maxInFlight,
          q,
          queueTimeout,
          token,
          publicHealth,
          drainTimeout,
          version);
    }

    public Options withQueueTimeout(Duration t) {
      return new Options(
          host, port, limits, maxInFlight, queue, t, token, publicHealth, drainTimeout, version);
    }

    public Options withToken(BearerToken t) {
      return new Options(
          host,
          port,
          limits,
          maxInFlight,
          queue,
          queueTimeout,
          t,
          publicHealth,
          drainTimeout,
          version);
    }

    public Options withPublicHealth(boolean b) {
      return new Options(
          host, port, limits, maxInFlight, queue, queueTimeout, token, b, drainTimeout, version);
    }

    public Options withDrainTimeout(Duration d) {
      return new Options(
          host, port, limits, maxInFlight, queue, queueTimeout, token, publicHealth, d, version);
    }

    public Options withVersion(String v) {
      return new Options(
          host,
          port,
          limits,
          maxInFlight,
          queue,
          queueTimeout,
          token,
          publicHealth,
          drainTimeout,
          v);
    }
  }

  /** An OIP model: a predictor, or one of its networks. */
  private record Target(Predictor<?> predictor, Network network) {}

  private final Options options;
  private final List<Predictor<?>> predictors;
  private final Map<String, Target> models = new LinkedHashMap<>();
  private final Admission admission;
  private final Metrics metrics;
  private final Javalin app;
  private final String version;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private boolean stopping;
  private volatile boolean ready;
  private int port;

  /** The key of the warm-up requests while they run (null otherwise: the header is ignored). */
  private volatile String warmupKey;

  private List<Warmup.Done> warmed = List.of();

  private Server(List<? extends Predictor<?>> predictors, Options o) {
    this.options = o;
    this.predictors = List.copyOf(predictors);
    for (Predictor<?> p : this.predictors) {
      add(p.name(), new Target(p, null));
      for (Network n : p.networks()) add(p.name() + "." + n.name(), new Target(p, n));
    }
    this.admission = new Admission(o.maxInFlight(), o.queue(), o.queueTimeout());
    this.metrics = new Metrics(admission);
    String v =
        o.version() != null ? o.version() : Server.class.getPackage().getImplementationVersion();
    this.version = v != null ? v : "development";
    this.app = Javalin.create(this::configure);
  }

  private void add(String name, Target t) {
    Target old = models.putIfAbsent(name, t);
    if (old != null) {
      throw new IllegalArgumentException(
          "model name '"
              + name
              + "' is taken twice (by "
              + describe(old)
              + " and "
              + describe(t)
              + "); give the models distinct names");
    }
  }

  private static String describe(Target t) {
    return t.network() == null
        ? "the " + t.predictor().system() + " model " + t.predictor().name()
        : "network " + t.network().name() + " of " + t.predictor().name();
  }

  /**
   * Starts a server for {@code predictors} (which it then owns: {@link #stop} closes them, and so
   * does a failed start).
   *
   * @throws IllegalArgumentException when two models would have the same name
   * @throws IllegalStateException when the port cannot be bound
   */
  public static Server start(List<? extends Predictor<?>> predictors, Options options) {
    return start(predictors, options, null);
  }

  /**
   * Starts a server for {@code predictors} (which it then owns: {@link #stop} closes them, and so
   * does a failed start), sends it {@code warmup}'s requests over loopback once it listens (null:
   * none), and only then reports it ready.
   *
   * @throws IllegalArgumentException when two models would have the same name
   * @throws IllegalStateException when the port cannot be bound, or a warm-up request fails
   */
  public static Server start(
      List<? extends Predictor<?>> predictors, Options options, Warmup warmup) {
    Server s;
    try {
      s = new Server(predictors, options);
    } catch (RuntimeException e) {
      closeAll(predictors);
      throw e;
    }
    try {
      s.app.start();
    } catch (RuntimeException e) {
      s.app.stop();
      closeAll(predictors);
      throw new IllegalStateException(
          "cannot listen on " + options.host() + ":" + options.port() + ": " + rootMessage(e), e);
    }
    s.port = s.app.port();
    if (warmup != null) {
      try {
        s.warmed = s.warmUp(warmup);
      } catch (RuntimeException e) {
        s.stop();
        throw e;
      }
    }
    s.ready = true;
    return s;
  }

  /** What the warm-up did, request by request (empty without one). */
  public List<Warmup.Done> warmed() {
    return warmed;
  }

  /**
   * Sends each of {@code w}'s requests up to {@code w.count()} times from {@code w.clients()}
   * connections (fewer once {@code w.time()} has passed and {@link Warmup#MIN_COUNT} are done).
   */
  private List<Warmup.Done> warmUp(Warmup w) {
    byte[] random = new byte[16];
    new java.security.SecureRandom().nextBytes(random);
    String key = java.util.HexFormat.of().formatHex(random);
    warmupKey = key;
    Map<String, String> headers = Map.of(WARMUP_HEADER, key);
    int clients = Math.min(w.clients(), options.maxInFlight());
    URI base = loopbackUri();
    List<Warmup.Done> done = new ArrayList<>();
    ExecutorService pool =
        Executors.newFixedThreadPool(clients, DaemonThreads.named("spinekit-warmup"));
    try {
      for (Warmup.Request q : w.requests()) {
        long t0 = System.nanoTime();
        long until = t0 + w.time().toNanos();
        AtomicInteger left = new AtomicInteger(w.count());
        AtomicInteger sent = new AtomicInteger();
        List<Future<Void>> futures = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
          futures.add(
              pool.submit(
                  () -> {
                    try (LoopbackClient client = new LoopbackClient(base)) {
                      while (left.getAndDecrement() > 0) {
                        if (Thread.currentThread().isInterrupted()) break;
                        LoopbackClient.Answer a =
                            client.post(q.target(), q.contentType(), headers, q.body());
                        if (a.status() != 200) {
                          throw new IllegalStateException(
                              "warm-up: POST "
                                  + q.target()
                                  + " answered "
                                  + a.status()
                                  + ": "
                                  + new String(a.body(), StandardCharsets.UTF_8));
                        }
                        if (sent.incrementAndGet() >= Warmup.MIN_COUNT
                            && System.nanoTime() - until > 0) {
                          left.set(0);
                        }
                      }
                    } catch (IOException | RuntimeException e) {
                      left.set(0); // the other clients stop too
                      throw e;
                    }
                    return null;
                  }));
        }
        for (Future<Void> f : futures) await(f, q.target());
        done.add(new Warmup.Done(q.target(), sent.get(), (System.nanoTime() - t0) / 1e9));
      }
    } finally {
      pool.shutdownNow();
      warmupKey = null;
    }
    return List.copyOf(done);
  }

  private static void await(Future<Void> f, String target) {
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("warm-up interrupted", e);
    } catch (ExecutionException e) {
      Throwable c = Futures.rethrowUnchecked(e);
      throw new IllegalStateException("warm-up: POST " + target + ": " + c, c);
    }
  }

  /** This server over loopback where it listens on every address, else where it listens. */
  private URI loopbackUri() {
    String h = options.host();
    if (h.equals("0.0.0.0")) return uri("127.0.0.1");
    if (h.equals("::") || h.equals("[::]")) return uri("::1");
    return uri();
  }

  /** Whether {@code ctx} is one of this server's own warm-up requests. */
  private boolean warmup(Context ctx) {
    String key = warmupKey;
    String given = ctx.header(WARMUP_HEADER);
    return key != null
        && given != null
        && java.security.MessageDigest.isEqual(
            key.getBytes(StandardCharsets.US_ASCII), given.getBytes(StandardCharsets.US_ASCII));
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }

  private static void closeAll(List<? extends Predictor<?>> predictors) {
    for (Predictor<?> p : predictors) {
      try {
        p.close();
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "closing " + p.name() + ": " + e, e);
      }
    }
  }

  private void configure(io.javalin.config.JavalinConfig c) {
    c.startup.showJavalinBanner = false;
    c.startup.showOldJavalinVersionWarning = false;
    c.jetty.host = options.host();
    c.jetty.port = options.port();
    int threads = Math.max(64, options.maxInFlight() + options.queue() + 32);
    QueuedThreadPool pool = new QueuedThreadPool(threads, 8, 60_000);
    pool.setName("spinekit-http");
    c.jetty.threadPool = pool;
    c.jetty.modifyServer(s -> s.setStopTimeout(2_000));
    c.http.prefer405over404 = true;
    c.router.ignoreTrailingSlashes = true;
    c.requestLogger.http(
        (ctx, ms) -> {
          if (ctx.attribute(WARMUP_HEADER) == null) {
            metrics.request(
                endpoint(ctx.path()), ctx.statusCode(), ms / 1000.0, ctx.attribute(ERROR_KIND));
          }
        });
    c.routes.before(this::authorize);
    c.routes.get("/v2/health/live", ctx -> json(ctx, 200, Map.of("live", true)));
    c.routes.get("/v2/health/ready", this::serverReady);
    c.routes.get("/v2", this::serverMetadata);
    c.routes.get("/v2/models/{name}", this::modelMetadata);
    c.routes.get("/v2/models/{name}/ready", this::modelReady);
    c.routes.post("/v2/models/{name}/infer", this::infer);
    c.routes.post("/v1/cervical/predict", ctx -> predict(ctx, "cervical"));
    c.routes.post("/v1/lumbar/predict", ctx -> predict(ctx, "lumbar"));
    c.routes.get("/metrics", this::metrics);
    c.routes.exception(HttpError.class, this::refused);
    c.routes.exception(Exception.class, this::failed);
    c.routes.error(
        404,
        ctx -> {
          if (ctx.attribute(ERROR_KIND) == null) {
            error(ctx, 404, "no such path: " + ctx.method() + " " + ctx.path(), null);
          }
        });
    c.routes.error(
        405,
        ctx -> {
          if (ctx.attribute(ERROR_KIND) == null) {
            error(ctx, 405, "method " + ctx.method() + " not allowed on " + ctx.path(), null);
          }
        });
  }

  // ---- Requests.

  private void authorize(Context ctx) {
    if (warmupKey != null && warmup(ctx)) {
      // The server's own warm-up: no token needed, counted in no metric.
      ctx.attribute(WARMUP_HEADER, Boolean.TRUE);
      return;
    }
    BearerToken token = options.token();
    if (token == null) return;
    String path = stripSlash(ctx.path());
    if (options.publicHealth()
        && (path.equals("/v2/health/live") || path.equals("/v2/health/ready"))) {
      return;
    }
    String given = ctx.header("Authorization");
    if (!token.accepts(given)) {
      ctx.header(
          "WWW-Authenticate",
          given == null
              ? "Bearer realm=\"spinekit\""
              : "Bearer realm=\"spinekit\", error=\"invalid_token\"");
      throw new HttpError(
          401,
          given == null
              ? "authorization required: send 'Authorization: Bearer <token>'"
              : "the bearer token is missing or wrong",
          null,
          0);
    }
  }

  private void serverReady(Context ctx) {
    boolean r = ready && !admission.closed();
    json(ctx, r ? 200 : 503, Map.of("ready", r));
  }

  private void serverMetadata(Context ctx) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", "spinekit");
    m.put("version", version);
    m.put("extensions", List.of("binary_tensor_data"));
    m.put("models", new ArrayList<Object>(models.keySet()));
    json(ctx, 200, m);
  }

  private Target target(String name) {
    Target t = models.get(name);
    if (t == null) {
      throw HttpError.notFound(
          "unknown model '" + name + "'; served: " + String.join(", ", models.keySet()));
    }
    return t;
  }

  private void modelMetadata(Context ctx) {
    String name = ctx.pathParam("name");
    Target t = target(name);
    if (t.network() != null) {
      json(ctx, 200, Oip.metadata(name, t.predictor(), t.network()));
      return;
    }
    Predictor<?> p = t.predictor();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("platform", "spinekit_" + p.system());
    m.put("inputs", List.of());
    m.put("outputs", List.of());
    List<Object> nets = new ArrayList<>();
    for (Network n : p.networks()) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("name", name + "." + n.name());
      e.put("inputs", List.of(Oip.tensor(Oip.INPUT, n.input())));
      e.put("outputs", List.of(Oip.tensor(Oip.OUTPUT, n.output())));
      e.put("folds", (long) n.folds());
      nets.add(e);
    }
    m.put("networks", nets);
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("system", p.system());
    params.put("predict", "/v1/" + p.system() + "/predict?model=" + name);
    m.put("parameters", params);
    m.put("bundle", p.metadata());
    json(ctx, 200, m);
  }

  private void modelReady(Context ctx) {
    String name = ctx.pathParam("name");
    target(name);
    boolean r = ready && !admission.closed();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("ready", r);
    json(ctx, r ? 200 : 503, m);
  }

  private void infer(Context ctx) throws IOException {
    String name = ctx.pathParam("name");
    Target t = target(name);
    if (t.network() == null) {
      List<String> nets = new ArrayList<>();
      for (Network n : t.predictor().networks()) nets.add(name + "." + n.name());
      throw HttpError.bad(
          "'"
              + name
              + "' is a study model: POST a zip of a study's DICOM files to /v1/"
              + t.predictor().system()
              + "/predict?model="
              + name
              + ", or infer one of its networks: "
              + String.join(", ", nets));
    }
    Limits limits = options.limits();
    String headerLength = ctx.header(Oip.HEADER_LENGTH);
    // Without the binary extension the whole body is JSON.
    long max = headerLength == null ? Math.min(limits.body(), limits.json()) : limits.body();
    checkLength(ctx, max, headerLength == null ? "the JSON request" : "the request body");
    try (Admission.Ticket ticket = admission.enter()) {
      byte[] body =
          ZipStudy.limited(
                  ctx.req().getInputStream(),
                  max,
                  headerLength == null ? "the JSON request" : "the request body")
              .readAllBytes();
      int jsonLength = body.length;
      if (headerLength != null) {
        long n;
        try {
          n = Long.parseLong(headerLength.strip());
        } catch (NumberFormatException e) {
          n = -1;
        }
        if (n < 0 || n > body.length) {
          throw HttpError.bad(
              Oip.HEADER_LENGTH
                  + ": expected the JSON's length, 0 to "
                  + body.length
                  + " (the body's), got '"
                  + headerLength
                  + "'");
        }
        if (n > limits.json()) {
          throw HttpError.tooLarge(
              null, "the JSON request is larger than " + Limits.bytes(limits.json()));
        }
        jsonLength = (int) n;
      }
      Oip.Request req = Oip.parse(body, jsonLength, name);
      body = null;
      Network.Output out;
      try {
        out = t.predictor().infer(t.network().name(), req.shape(), req.data());
      } catch (IllegalArgumentException e) {
        throw HttpError.bad(e.getMessage());
      } catch (IllegalStateException e) {
        throw HttpError.unavailable(name + ": " + e.getMessage(), admission.retryAfter());
      }
      Oip.Response r = Oip.respond(name, req, out);
      ctx.status(200);
      if (req.binaryOutput()) {
        byte[] all = new byte[r.json().length + r.binary().length];
        System.arraycopy(r.json(), 0, all, 0, r.json().length);
        System.arraycopy(r.binary(), 0, all, r.json().length, r.binary().length);
        ctx.header(Oip.HEADER_LENGTH, Integer.toString(r.json().length));
        ctx.contentType("application/octet-stream");
        ctx.result(all);
      } else {
        ctx.contentType("application/json");
        ctx.result(r.json());
      }
    }
  }

  private void predict(Context ctx, String system) throws IOException {
    Predictor<?> p = studyModel(system, ctx.queryParam("model"));
    String study = ctx.queryParam("study");
    if (study != null
        && (study.isEmpty() || study.length() > 256 || !study.matches("[\\x20-\\x7e]+"))) {
      throw HttpError.bad("study: expected 1 to 256 printable ASCII characters");
    }
    Limits limits = options.limits();
    checkLength(ctx, limits.body(), "the request body");
    try (Admission.Ticket ticket = admission.enter()) {
      long t0 = System.nanoTime();
      InputStream body =
          ZipStudy.limited(ctx.req().getInputStream(), limits.body(), "the request body");
      String type = ctx.header("Content-Type");
      Map<String, byte[]> files;
      if (Multipart.is(type)) {
        Multipart form = Multipart.of(body, type);
        files = ZipStudy.read(form.file(), limits);
        form.finish();
      } else {
        files = ZipStudy.read(body, ctx.req().getContentLengthLong(), limits);
      }
      long t1 = System.nanoTime();
      Predictor.Result r;
      try {
        r = p.predict(study, files);
      } catch (BadStudyException e) {
        throw HttpError.bad(e.file(), e.getMessage());
      } catch (IllegalArgumentException e) {
        throw HttpError.bad(e.getMessage());
      } catch (IllegalStateException e) {
        throw HttpError.unavailable(p.name() + ": " + e.getMessage(), admission.retryAfter());
      }
      if (ctx.attribute(WARMUP_HEADER) == null) metrics.stages(p.name(), r.seconds());
      long t2 = System.nanoTime();
      byte[] answer = Json.write(r.toJson()).getBytes(StandardCharsets.UTF_8);
      long t3 = System.nanoTime();
      // W3C Server-Timing: the server's own share of the request, beside the predictor's
      // seconds in the answer (receive: reading and unzipping the body).
      ctx.header(
          "Server-Timing",
          String.format(
              java.util.Locale.ROOT,
              "receive;dur=%.3f, predict;dur=%.3f, respond;dur=%.3f",
              (t1 - t0) / 1e6,
              (t2 - t1) / 1e6,
              (t3 - t2) / 1e6));
      json(ctx, 200, answer);
    }
  }

  /** The served model of {@code system} the request names, or the only one. */
  private Predictor<?> studyModel(String system, String name) {
    List<Predictor<?>> of = new ArrayList<>();
    for (Predictor<?> p : predictors) if (p.system().equals(system)) of.add(p);
    List<String> names = new ArrayList<>();
    for (Predictor<?> p : of) names.add(p.name());
    if (name != null) {
      for (Predictor<?> p : of) if (p.name().equals(name)) return p;
      throw HttpError.notFound(
          "no "
              + system
              + " model named '"
              + name
              + "'"
              + (names.isEmpty() ? "; none is served" : "; served: " + String.join(", ", names)));
    }
    if (of.isEmpty()) throw HttpError.notFound("no " + system + " model is served");
    if (of.size() > 1) {
      throw HttpError.bad(
          "several "
              + system
              + " models are served ("
              + String.join(", ", names)
              + "): choose one with ?model=NAME");
    }
    return of.get(0);
  }

  private void metrics(Context ctx) throws IOException {
    ctx.status(200);
    ctx.contentType(metrics.contentType());
    ctx.result(metrics.scrape());
  }

  /** 413 at once when the declared length is beyond {@code max} (the stream is counted too). */
  private static void checkLength(Context ctx, long max, String what) {
    long declared = ctx.req().getContentLengthLong();
    if (declared > max) {
      throw HttpError.tooLarge(
          null, what + " is larger than " + Limits.bytes(max) + " (" + declared + " bytes)");
    }
  }

  // ---- Answers.

  private void refused(HttpError e, Context ctx) {
    String kind =
        e.status() == 503
            ? (admission.closed() ? "shutting_down" : "overloaded")
            : Metrics.kind(e.status());
    if (e.retryAfter() > 0) ctx.header("Retry-After", Integer.toString(e.retryAfter()));
    ctx.attribute(ERROR_KIND, kind);
    error(ctx, e.status(), e.getMessage(), e.file());
  }

  private void failed(Exception e, Context ctx) {
    // The client went away, or its body broke off: nothing is wrong with the server.
    if (e instanceof IOException && !(e instanceof BadStudyException)) {
      ctx.attribute(ERROR_KIND, "bad_request");
      error(ctx, 400, "reading the request: " + e.getMessage(), null);
      return;
    }
    LOG.log(Level.ERROR, ctx.method() + " " + ctx.path() + ": " + e, e);
    ctx.attribute(ERROR_KIND, "internal");
    error(ctx, 500, "internal error: " + e, null);
  }

  private static void error(Context ctx, int status, String message, String file) {
    discardBody(ctx);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("error", message);
    if (file != null) m.put("file", file);
    if (ctx.attribute(ERROR_KIND) == null) ctx.attribute(ERROR_KIND, Metrics.kind(status));
    json(ctx, status, m);
  }

  /**
   * The most of a refused request's unread body the server reads and throws away so that the
   * client, still sending, gets the answer: closing a connection with unread bytes resets it, and a
   * client that has not finished writing loses the answer with it.
   */
  static final long DISCARD = 16L << 20;

  /**
   * Reads what is left of the request body (at most {@link #DISCARD} bytes, and nothing when the
   * declared length is beyond that) before an error answers it; a body it does not finish closes
   * the connection ({@code Connection: close}) instead of leaving the bytes to the next request.
   */
  private static void discardBody(Context ctx) {
    long declared = ctx.req().getContentLengthLong();
    if (declared > DISCARD) {
      ctx.header("Connection", "close");
      return;
    }
    try {
      InputStream in = ctx.req().getInputStream();
      byte[] buf = new byte[64 << 10];
      long left = DISCARD;
      int n;
      while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) >= 0) left -= n;
      if (left <= 0 && in.read() >= 0) ctx.header("Connection", "close");
    } catch (IOException | IllegalStateException e) {
      // The client went away, or the body was taken as a reader: nothing more to read.
      ctx.header("Connection", "close");
    }
  }

  private static void json(Context ctx, int status, Object body) {
    json(ctx, status, Json.write(body).getBytes(StandardCharsets.UTF_8));
  }

  /** Answers {@code json}, the UTF-8 bytes of a JSON document. */
  private static void json(Context ctx, int status, byte[] json) {
    ctx.status(status);
    ctx.contentType("application/json");
    ctx.result(json);
  }

  /** The route of {@code path}, for the metrics: its template, or {@code other}. */
  static String endpoint(String path) {
    String p = stripSlash(path);
    switch (p) {
      case "/v2":
      case "/v2/health/live":
      case "/v2/health/ready":
      case "/metrics":
      case "/v1/cervical/predict":
      case "/v1/lumbar/predict":
        return p;
      default:
        break;
    }
    if (MODEL_READY.matcher(p).matches()) return "/v2/models/{name}/ready";
    if (MODEL_INFER.matcher(p).matches()) return "/v2/models/{name}/infer";
    if (MODEL.matcher(p).matches()) return "/v2/models/{name}";
    return "other";
  }

  private static String stripSlash(String p) {
    return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }

  // ---- Life cycle.

  /** The port the server listens (or listened) on. */
  public int port() {
    return port;
  }

  /** {@code http://HOST:PORT}. */
  public URI uri() {
    return uri(options.host());
  }

  /** {@code http://HOST:PORT} for this server's port at {@code host} (IPv6 in brackets). */
  private URI uri(String host) {
    String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    return URI.create("http://" + h + ":" + port());
  }

  /** The models served by their OIP names: predictors, then each one's networks. */
  public List<String> models() {
    return List.copyOf(models.keySet());
  }

  /**
   * Stops gracefully (once; later calls wait for the first): stops accepting, refuses new requests
   * with 503, waits up to the drain timeout for those admitted, stops the HTTP server, closes the
   * predictors.
   *
   * @return whether every admitted request finished within the drain timeout
   */
  public boolean stop() {
    synchronized (this) {
      if (stopping) {
        awaitStopped();
        return true;
      }
      stopping = true;
    }
    boolean drained = false;
    try {
      ready = false;
      admission.close();
      for (Connector c : app.jettyServer().server().getConnectors()) c.shutdown();
      try {
        drained = admission.awaitIdle(options.drainTimeout());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!drained) {
        LOG.log(
            Level.WARNING,
            "stopping with "
                + admission.inFlight()
                + " requests still running after "
                + options.drainTimeout().toSeconds()
                + " s");
      }
      app.stop();
    } finally {
      closeAll(predictors);
      stopped.countDown();
    }
    return drained;
  }

  /** Waits until {@link #stop} has finished. */
  public void awaitStopped() {
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Whether {@link #stop} has begun. */
  public synchronized boolean stopping() {
    return stopping;
  }

  @Override
  public void close() {
    stop();
  }
}
