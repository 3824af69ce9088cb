package org.spinekit.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server in process on a free loopback port, driven by a real client ({@link HttpClient}, and
 * curl where installed) in front of test doubles ({@link FakePredictor}): every endpoint, the
 * protocol's error shapes, the zip refusals, the token, the bounded queue's 503 and a graceful stop
 * with requests in flight. The real predictors behind the same server: {@code ServeSystemsTest}.
 */
@Timeout(120)
class ServerTest {
  static final Limits LIMITS =
      Limits.defaults()
          .withBody(8 << 20)
          .withJson(1 << 20)
          .withEntries(50)
          .withEntry(1 << 20)
          .withUnzipped(4 << 20);

  static final String TOKEN = "Zm9vYmFyLXNwaW5la2l0LXRlc3QtdG9rZW4";

  @TempDir static Path dir;
  static FakePredictor cervicalA = new FakePredictor("cerv-a", "cervical");
  static FakePredictor cervicalB = new FakePredictor("cerv-b", "cervical");
  static FakePredictor lumbar = new FakePredictor("lumb", "lumbar");
  static Server server;
  static Client client;

  static Server.Options options() {
    return Server.Options.defaults().withPort(0).withLimits(LIMITS).withMaxInFlight(4).withQueue(4);
  }

  @BeforeAll
  static void start() {
    server = Server.start(List.of(cervicalA, cervicalB, lumbar), options());
    client = new Client(server.uri());
  }

  @AfterAll
  static void stop() {
    if (server != null) server.stop();
    assertEquals(1, lumbar.closes.get(), "the server closes its predictors once");
  }

  /** Waits (at most 20 s) for {@code condition}. */
  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 400 && !condition.getAsBoolean(); i++) Thread.sleep(50);
    assertTrue(condition.getAsBoolean(), what);
  }

  static String infer(String data, String datatype, String shape) {
    return "{\"id\":\"r1\",\"inputs\":[{\"name\":\"input\",\"datatype\":\""
        + datatype
        + "\",\"shape\":"
        + shape
        + ",\"data\":"
        + data
        + "}]}";
  }

  @Test
  void bindsLoopbackOnAFreePort() {
    assertTrue(server.port() > 0);
    assertEquals("http://127.0.0.1:" + server.port(), server.uri().toString());
    assertEquals(
        List.of("cerv-a", "cerv-a.double", "cerv-b", "cerv-b.double", "lumb", "lumb.double"),
        server.models());
  }

  @Test
  void healthAndServerMetadata() throws Exception {
    assertEquals(Map.of("live", true), client.get("/v2/health/live").ok().json());
    assertEquals(Map.of("ready", true), client.get("/v2/health/ready").ok().json());
    Map<String, Object> m = client.get("/v2").ok().json();
    assertEquals("spinekit", m.get("name"));
    assertNotNull(m.get("version"));
    assertEquals(List.of("binary_tensor_data"), m.get("extensions"));
    assertEquals(server.models(), m.get("models"));
  }

  @Test
  void modelMetadataAndReadiness() throws Exception {
    Map<String, Object> net = client.get("/v2/models/lumb.double").ok().json();
    assertEquals("lumb.double", net.get("name"));
    assertEquals(
        List.of(Map.of("name", "input", "datatype", "FP32", "shape", List.of(-1L, 3L))),
        net.get("inputs"));
    assertEquals(
        List.of(Map.of("name", "output", "datatype", "FP32", "shape", List.of(-1L, 3L))),
        net.get("outputs"));
    Map<String, Object> study = client.get("/v2/models/lumb").ok().json();
    assertEquals("lumb", study.get("name"));
    assertEquals(List.of(), study.get("inputs"));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> nets = (List<Map<String, Object>>) study.get("networks");
    assertEquals("lumb.double", nets.get(0).get("name"));
    assertEquals(Map.of("format", "fake-bundle"), study.get("bundle"));
    assertEquals(
        Map.of("name", "lumb.double", "ready", true),
        client.get("/v2/models/lumb.double/ready").ok().json());
    assertEquals(
        Map.of("name", "lumb", "ready", true), client.get("/v2/models/lumb/ready").ok().json());
    client.get("/v2/models/nope").error(404, "unknown model 'nope'", "lumb.double");
    client.get("/v2/models/nope/ready").error(404, "unknown model 'nope'");
  }

  @Test
  void infersJsonTensorsFlatOrNested() throws Exception {
    for (String data : new String[] {"[1.5,-2,3e-5,0,1,2]", "[[1.5,-2,3e-5],[0,1,2]]"}) {
      Map<String, Object> r =
          client.postJson("/v2/models/lumb.double/infer", infer(data, "FP32", "[2,3]")).ok().json();
      assertEquals("lumb.double", r.get("model_name"));
      assertEquals("r1", r.get("id"));
      @SuppressWarnings("unchecked")
      Map<String, Object> out = ((List<Map<String, Object>>) r.get("outputs")).get(0);
      assertEquals("output", out.get("name"));
      assertEquals("FP32", out.get("datatype"));
      assertEquals(List.of(2L, 3L), out.get("shape"));
      float[] want = {3f, -4f, 6e-5f, 0f, 2f, 4f};
      List<?> got = (List<?>) out.get("data");
      for (int i = 0; i < want.length; i++)
        assertEquals(want[i], ((Number) got.get(i)).floatValue());
    }
  }

  @Test
  void infersBinaryTensors() throws Exception {
    float[] x = {1, 2, 3, -4, 5.5f, 1e-3f};
    byte[] bin = new byte[x.length * 4];
    ByteBuffer.wrap(bin).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(x);
    String header =
        "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[2,3],"
            + "\"parameters\":{\"binary_data_size\":24}}],"
            + "\"outputs\":[{\"name\":\"output\",\"parameters\":{\"binary_data\":true}}]}";
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[h.length + bin.length];
    System.arraycopy(h, 0, body, 0, h.length);
    System.arraycopy(bin, 0, body, h.length, bin.length);
    Client.Reply r =
        client
            .post(
                "/v2/models/cerv-b.double/infer",
                "application/octet-stream",
                body,
                "Inference-Header-Content-Length",
                Integer.toString(h.length))
            .ok();
    int n = Integer.parseInt(r.header("Inference-Header-Content-Length"));
    String json = new String(r.body(), 0, n, StandardCharsets.UTF_8);
    assertTrue(json.contains("\"binary_data_size\":24") && !json.contains("\"data\""), json);
    float[] y = new float[6];
    ByteBuffer.wrap(r.body(), n, 24).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(y);
    for (int i = 0; i < 6; i++) assertEquals(2 * x[i], y[i]);
    assertEquals(n + 24, r.body().length);
    // Binary in, JSON out; and JSON in, binary out for all outputs.
    String jsonOut =
        header.replace(
            ",\"outputs\":[{\"name\":\"output\",\"parameters\":{\"binary_data\":true}}]", "");
    byte[] h2 = jsonOut.getBytes(StandardCharsets.UTF_8);
    byte[] body2 = new byte[h2.length + 24];
    System.arraycopy(h2, 0, body2, 0, h2.length);
    System.arraycopy(bin, 0, body2, h2.length, 24);
    Map<String, Object> j =
        client
            .post(
                "/v2/models/cerv-b.double/infer",
                "application/octet-stream",
                body2,
                "Inference-Header-Content-Length",
                Integer.toString(h2.length))
            .ok()
            .json();
    assertTrue(j.toString().contains("data=[2.0, 4.0, 6.0, -8.0, 11.0, 0.002]"), j.toString());
    Client.Reply b =
        client.postJson(
            "/v2/models/cerv-b.double/infer",
            "{\"parameters\":{\"binary_data_output\":true},"
                + infer("[1,2,3]", "FP32", "[1,3]").substring(1));
    assertEquals(200, b.status(), b.text());
    assertNotNull(b.header("Inference-Header-Content-Length"));
  }

  @Test
  void inferErrorsAreTheProtocolsJsonErrors() throws Exception {
    String path = "/v2/models/lumb.double/infer";
    client.postJson(path, infer("[1,2,3]", "INT64", "[1,3]")).error(400, "INT64", "FP32");
    client.postJson(path, infer("[1,2,3,4]", "FP32", "[1,4]")).error(400, "expected shape [N, 3]");
    client.postJson(path, infer("[1,2]", "FP32", "[1,3]")).error(400, "takes 3 values, data has 2");
    client.postJson(path, infer("[1,\"a\",3]", "FP32", "[1,3]")).error(400, "expected numbers");
    client
        .postJson(path, infer("[1,2,3]", "FP32", "[100000000,3]"))
        .error(400, "more than the request's JSON");
    client.postJson(path, infer("[1,2,3]", "FP32", "[1000000000,3]")).error(413, "too large");
    client.postJson(path, "{\"inputs\":[").error(400, "malformed JSON");
    client.postJson(path, "{\"inputs\":[]}").error(400, "takes one input 'input', got 0");
    client
        .postJson(path, infer("[1,2,3]", "FP32", "[1,3]").replace("\"input\"", "\"x\""))
        .error(400, "input 'x'");
    client
        .postJson(
            path,
            infer("[1,2,3]", "FP32", "[1,3]").replace("}]}", "}],\"outputs\":[{\"name\":\"y\"}]}"))
        .error(400, "output 'y'");
    client
        .post(
            path,
            "application/json",
            infer("[1,2,3]", "FP32", "[1,3]").getBytes(StandardCharsets.UTF_8),
            "Inference-Header-Content-Length",
            "99999")
        .error(400, "Inference-Header-Content-Length");
    client
        .postJson("/v2/models/lumb/infer", infer("[1,2,3]", "FP32", "[1,3]"))
        .error(400, "study model", "/v1/lumbar/predict?model=lumb", "lumb.double");
    client.postJson("/v2/models/nope/infer", "{}").error(404, "unknown model 'nope'");
    String big = "[" + "0,".repeat(600_000) + "0]";
    client.postJson(path, infer(big, "FP32", "[1,3]")).error(413, "larger than 1 MiB");
    client.get(path).error(405, "GET");
    client.get("/nowhere").error(404, "/nowhere");
  }

  /**
   * A request refused before its body is read still gets its answer while the client is writing:
   * the server reads the rest of the body (closing the connection otherwise resets it under the
   * client, which then loses the answer).
   */
  @Test
  void refusalsBeforeTheBodyReachClientsStillSending() throws Exception {
    String big = "[" + "0,".repeat(1_500_000) + "0]";
    byte[] zip = new byte[6 << 20];
    for (int i = 0; i < 20; i++) {
      client
          .postJson("/v2/models/lumb.double/infer", infer(big, "FP32", "[1,3]"))
          .error(413, "larger than 1 MiB");
      client.post("/v2/models/nope/infer", "application/json", zip).error(404, "nope");
      client
          .post("/v1/cervical/predict", "application/zip", zip)
          .error(400, "several cervical models");
    }
    client.get("/v2/health/live").ok();
  }

  @Test
  void predictsUploadedStudies() throws Exception {
    Client.Reply answer = client.post("/v1/lumbar/predict", "application/zip", Zips.study()).ok();
    // The server's own share of the request, W3C Server-Timing: three durations in ms.
    String timing = answer.header("Server-Timing");
    assertTrue(
        timing != null
            && timing.matches(
                "receive;dur=[0-9]+\\.[0-9]{3}, predict;dur=[0-9]+\\.[0-9]{3},"
                    + " respond;dur=[0-9]+\\.[0-9]{3}"),
        "Server-Timing: " + timing);
    Map<String, Object> r = answer.json();
    assertEquals("lumb", r.get("model"));
    assertEquals(null, r.get("study"));
    assertEquals(List.of("12345/1.dcm", "12345/2.dcm"), r.get("files"));
    Map<String, Object> s =
        client.post("/v1/lumbar/predict?study=777", "application/zip", Zips.study()).ok().json();
    assertEquals("777", s.get("study"));
    // multipart/form-data with a field before the file.
    byte[] form =
        Zips.form(
            new Object[] {"note", null, "x".getBytes(StandardCharsets.US_ASCII)},
            new Object[] {"file", "study.zip", Zips.study()});
    Map<String, Object> f =
        client.post("/v1/cervical/predict?model=cerv-b", Zips.formType(), form).ok().json();
    assertEquals("cerv-b", f.get("model"));
    assertEquals(r.get("files"), f.get("files"));
    byte[] two =
        Zips.form(
            new Object[] {"a", "a.zip", Zips.study()}, new Object[] {"b", "b.zip", Zips.study()});
    client.post("/v1/lumbar/predict", Zips.formType(), two).error(400, "second", "b.zip");
    // Which model.
    client
        .post("/v1/cervical/predict", "application/zip", Zips.study())
        .error(400, "several cervical models", "cerv-a, cerv-b", "?model=NAME");
    client
        .post("/v1/cervical/predict?model=lumb", "application/zip", Zips.study())
        .error(404, "no cervical model named 'lumb'", "cerv-a, cerv-b");
    client
        .post("/v1/lumbar/predict?study=%01", "application/zip", Zips.study())
        .error(400, "study");
    assertTrue(
        client.metric("spinekit_stage_duration_seconds_count{model=\"lumb\",stage=\"decode\"}")
            >= 2);
  }

  @Test
  void refusesBadZipsNamingTheEntryAndKeepsServing() throws Exception {
    String path = "/v1/lumbar/predict";
    Map<String, Object> e =
        client
            .post(path, "application/zip", Zips.zip("../x.dcm", FakePredictor.dicom("x")))
            .error(400, "'../x.dcm'", "..");
    assertEquals("../x.dcm", e.get("file"));
    assertEquals(
        "/etc/x",
        client
            .post(path, "application/zip", Zips.zip("/etc/x", FakePredictor.dicom("x")))
            .error(400, "absolute")
            .get("file"));
    Map<String, Object> bomb =
        client
            .post(path, "application/zip", Zips.bomb("s/bomb.dcm", 64L << 20))
            .error(413, "s/bomb.dcm", "1 MiB");
    assertEquals("s/bomb.dcm", bomb.get("file"));
    client
        .post(path, "application/zip", "not a zip at all".getBytes(StandardCharsets.US_ASCII))
        .error(400, "not a zip");
    client.post(path, "application/zip", Zips.zip(Map.of())).error(400, "empty zip");
    Map<String, byte[]> mixed = new LinkedHashMap<>();
    mixed.put("s/1.dcm", FakePredictor.dicom("a"));
    mixed.put("s/notes.txt", "hello".getBytes(StandardCharsets.US_ASCII));
    Map<String, Object> nd =
        client
            .post(path, "application/zip", Zips.zip(mixed))
            .error(400, "s/notes.txt", "not a DICOM file");
    assertEquals("s/notes.txt", nd.get("file"));
    // Streamed (chunked, no Content-Length) beyond the body limit: counted as it is read.
    byte[] over = new byte[(8 << 20) + 1];
    HttpRequest chunked =
        client
            .request("/v2/models/lumb.double/infer")
            .header("Content-Type", "application/octet-stream")
            .header("Inference-Header-Content-Length", "10")
            .POST(
                HttpRequest.BodyPublishers.ofInputStream(
                    () -> new java.io.ByteArrayInputStream(over)))
            .build();
    client.send(chunked).error(413, "the request body is larger than 8 MiB");
    // Still serving.
    client.post(path, "application/zip", Zips.study()).ok();
    client.get("/v2/health/ready").ok();
  }

  @Test
  void curlDrivesEveryEndpoint() throws Exception {
    Assumptions.assumeTrue(Client.hasCurl(), "curl is not installed at /usr/bin/curl: skipped");
    assertEquals(Map.of("live", true), client.curl("/v2/health/live").ok().json());
    assertEquals(Map.of("ready", true), client.curl("/v2/health/ready").ok().json());
    assertEquals("spinekit", client.curl("/v2").ok().json().get("name"));
    assertEquals("lumb.double", client.curl("/v2/models/lumb.double").ok().json().get("name"));
    assertEquals(true, client.curl("/v2/models/lumb/ready").ok().json().get("ready"));
    Map<String, Object> r =
        client
            .curl(
                "/v2/models/lumb.double/infer",
                "-H",
                "Content-Type: application/json",
                "--data",
                infer("[1,2,3]", "FP32", "[1,3]"))
            .ok()
            .json();
    assertTrue(r.toString().contains("data=[2.0, 4.0, 6.0]"), r.toString());
    client
        .curl("/v2/models/lumb.double/infer", "--data", infer("[1]", "BOOL", "[1]"))
        .error(400, "BOOL");
    Path zip = dir.resolve("study.zip");
    Files.write(zip, Zips.study());
    Map<String, Object> raw =
        client
            .curl(
                "/v1/lumbar/predict?study=9",
                "-H",
                "Content-Type: application/zip",
                "--data-binary",
                "@" + zip)
            .ok()
            .json();
    assertEquals("9", raw.get("study"));
    Map<String, Object> form = client.curl("/v1/lumbar/predict", "-F", "file=@" + zip).ok().json();
    assertEquals(raw.get("files"), form.get("files"));
    Path bomb = dir.resolve("bomb.zip");
    Files.write(bomb, Zips.bomb("s/bomb.dcm", 64L << 20));
    client.curl("/v1/lumbar/predict", "-F", "study=@" + bomb).error(413, "s/bomb.dcm");
    Path big = dir.resolve("big.bin");
    Files.write(big, new byte[9 << 20]);
    client.curl("/v1/lumbar/predict", "--data-binary", "@" + big).error(413, "8 MiB");
    Client.Reply m = client.curl("/metrics").ok();
    assertTrue(m.header("Content-Type").startsWith("text/plain"), m.header("Content-Type"));
    assertTrue(m.text().contains("spinekit_requests_total"), m.text());
  }

  @Test
  void metricsCountRequestsStagesQueueAndMemory() throws Exception {
    client.get("/v2/health/live").ok();
    client.get("/v2/models/nope").error(404);
    client.post("/v1/lumbar/predict", "application/zip", Zips.study()).ok();
    String m = client.get("/metrics").ok().text();
    for (String s :
        new String[] {
          "spinekit_requests_total{code=\"200\",endpoint=\"/v2/health/live\"}",
          "spinekit_requests_total{code=\"404\",endpoint=\"/v2/models/{name}\"}",
          "spinekit_errors_total{endpoint=\"/v2/models/{name}\",kind=\"not_found\"}",
          "spinekit_request_duration_seconds_bucket{endpoint=\"/v1/lumbar/predict\",le=\"0.005\"}",
          "spinekit_stage_duration_seconds_count{model=\"lumb\",stage=\"total\"}",
          "spinekit_in_flight_requests ",
          "spinekit_queued_requests 0",
          "spinekit_native_physical_bytes ",
          "spinekit_native_tracked_bytes ",
          "jvm_memory_used_bytes{area=\"heap\"}",
          "jvm_memory_max_bytes{area=\"heap\"}",
        }) {
      assertTrue(m.contains(s), s + " in\n" + m);
    }
    assertTrue(client.metric("spinekit_native_physical_bytes") > 1e6);
  }

  @Test
  void aTokenGuardsEveryRequest() throws Exception {
    Path f = dir.resolve("token");
    Files.writeString(f, TOKEN + "\n");
    BearerToken t = BearerToken.read(f);
    FakePredictor p = new FakePredictor("guarded", "lumbar");
    try (Server s = Server.start(List.of(p), options().withToken(t))) {
      Client anon = new Client(s.uri());
      Client wrong = new Client(s.uri(), "x".repeat(TOKEN.length()));
      Client ok = new Client(s.uri(), TOKEN);
      for (String path :
          new String[] {
            "/v2/health/live", "/v2/health/ready", "/v2", "/metrics", "/v2/models/guarded"
          }) {
        Client.Reply r = anon.get(path);
        r.error(401, "authorization required");
        assertEquals("Bearer realm=\"spinekit\"", r.header("WWW-Authenticate"));
        Client.Reply w = wrong.get(path);
        w.error(401, "wrong");
        assertTrue(w.header("WWW-Authenticate").contains("invalid_token"));
        ok.get(path).ok();
      }
      anon.post("/v1/lumbar/predict", "application/zip", Zips.study()).error(401);
      ok.post("/v1/lumbar/predict", "application/zip", Zips.study()).ok();
      assertEquals(1, p.predictions.get(), "refused requests never reach the predictor");
      if (Client.hasCurl()) {
        anon.curl("/v2").error(401);
        ok.curl("/v2").ok();
      }
    }
    try (Server s =
        Server.start(
            List.of(new FakePredictor("probed", "lumbar")),
            options().withToken(t).withPublicHealth(true))) {
      Client anon = new Client(s.uri());
      anon.get("/v2/health/live").ok();
      anon.get("/v2/health/ready").ok();
      anon.get("/v2").error(401);
      anon.get("/metrics").error(401);
    }
  }

  /**
   * The warm-up goes through the server's own endpoint before it is ready: not ready meanwhile, no
   * token needed for it (but a guessed warm-up header opens nothing), nothing of it in the metrics;
   * a warm-up request that fails fails the start and closes the predictors.
   */
  @Test
  void warmsUpThroughItsOwnEndpointBeforeReady() throws Exception {
    BearerToken t = BearerToken.of(TOKEN);
    FakePredictor p = new FakePredictor("warm", "lumbar");
    p.gate = new CountDownLatch(1);
    int port;
    try (java.net.ServerSocket free =
        new java.net.ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    String target = "/v1/lumbar/predict?model=warm";
    Warmup w =
        new Warmup(
            List.of(new Warmup.Request(target, "application/zip", Zips.study())),
            5,
            java.time.Duration.ofMinutes(1),
            2);
    CompletableFuture<Server> starting =
        CompletableFuture.supplyAsync(
            () -> Server.start(List.of(p), options().withToken(t).withPort(port), w));
    await("the warm-up reaches the predictor", () -> p.entered.get() == 2);
    Client ok = new Client(java.net.URI.create("http://127.0.0.1:" + port), TOKEN);
    Client anon = new Client(java.net.URI.create("http://127.0.0.1:" + port));
    Client.Reply notYet = ok.get("/v2/health/ready");
    assertEquals(Map.of("ready", false), notYet.json(), "not ready while warming up");
    anon.post(
            "/v1/lumbar/predict",
            "application/zip",
            Zips.study(),
            Server.WARMUP_HEADER,
            "0123456789abcdef0123456789abcdef")
        .error(401);
    assertFalse(starting.isDone());
    p.gate.countDown();
    try (Server s = starting.get(60, TimeUnit.SECONDS)) {
      assertEquals(1, s.warmed().size());
      assertEquals(target, s.warmed().get(0).target());
      assertEquals(5, s.warmed().get(0).sent());
      assertEquals(5, p.predictions.get());
      assertEquals(Map.of("ready", true), ok.get("/v2/health/ready").ok().json());
      // Of the study endpoint, the metrics hold the guessed header's 401 only.
      String metrics = ok.get("/metrics").ok().text();
      assertTrue(
          metrics.contains(
              "spinekit_requests_total{code=\"401\",endpoint=\"/v1/lumbar/predict\"} 1.0"),
          metrics);
      assertFalse(
          metrics.contains("spinekit_requests_total{code=\"200\",endpoint=\"/v1/lumbar/predict"),
          metrics);
      assertFalse(metrics.contains("model=\"warm\""), metrics);
      assertTrue(
          metrics.contains("spinekit_requests_total{code=\"503\",endpoint=\"/v2/health/ready\"}"),
          metrics);
      anon.post("/v1/lumbar/predict", "application/zip", Zips.study(), Server.WARMUP_HEADER, "x")
          .error(401);
      ok.post(target, "application/zip", Zips.study()).ok();
      assertEquals(6, p.predictions.get());
      assertEquals(
          1.0, ok.metric("spinekit_requests_total{code=\"200\",endpoint=\"/v1/lumbar/predict\"}"));
    }

    FakePredictor q = new FakePredictor("failing", "lumbar");
    Warmup bad =
        new Warmup(
            List.of(
                new Warmup.Request(
                    "/v1/lumbar/predict",
                    "application/zip",
                    Zips.zip("s/a.dcm", "not dicom".getBytes(StandardCharsets.UTF_8)))),
            3,
            java.time.Duration.ZERO,
            1);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> Server.start(List.of(q), options(), bad));
    assertTrue(
        e.getMessage().contains("warm-up: POST /v1/lumbar/predict answered 400"), e.getMessage());
    assertTrue(e.getMessage().contains("not a DICOM file"), e.getMessage());
    assertEquals(1, q.closes.get(), "a failed warm-up closes the predictors");
  }

  @Test
  void tokenFilesAreChecked() throws IOException {
    Path missing = dir.resolve("missing");
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> BearerToken.read(missing))
            .getMessage()
            .contains("no such file"));
    Path empty = Files.writeString(dir.resolve("empty"), " \n");
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> BearerToken.read(empty))
            .getMessage()
            .contains("empty"));
    Path two = Files.writeString(dir.resolve("two"), TOKEN + "\n" + TOKEN + "\n");
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> BearerToken.read(two))
            .getMessage()
            .contains("one line"));
    Path shortOne = Files.writeString(dir.resolve("short"), "abc");
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> BearerToken.read(shortOne))
            .getMessage()
            .contains("at least 16"));
    assertTrue(BearerToken.of(TOKEN).accepts("bearer " + TOKEN));
    assertFalse(BearerToken.of(TOKEN).accepts("Basic " + TOKEN));
    assertFalse(BearerToken.of(TOKEN).accepts("Bearer " + TOKEN + "x"));
  }

  /** In flight and queue full: the next request is refused at once with 503 and Retry-After. */
  @Test
  void overloadIsRefusedWith503() throws Exception {
    FakePredictor slow = new FakePredictor("slow", "lumbar");
    slow.gate = new CountDownLatch(1);
    Server s = Server.start(List.of(slow), options().withMaxInFlight(2).withQueue(2));
    try {
      Client c = new Client(s.uri());
      List<CompletableFuture<Client.Reply>> pending = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        pending.add(
            c.sendAsync(c.postRequest("/v1/lumbar/predict", "application/zip", Zips.study())));
      }
      await("2 in flight", () -> slow.entered.get() == 2);
      await("2 queued", () -> metric(c, "spinekit_queued_requests") == 2);
      long t0 = System.nanoTime();
      Client.Reply r = c.post("/v1/lumbar/predict", "application/zip", Zips.study());
      r.error(503, "overloaded");
      assertTrue(Integer.parseInt(r.header("Retry-After")) >= 1, r.header("Retry-After"));
      assertTrue((System.nanoTime() - t0) / 1e9 < 5, "refused at once");
      c.postJson("/v2/models/slow.double/infer", infer("[1,2,3]", "FP32", "[1,3]")).error(503);
      if (Client.hasCurl()) {
        Client.Reply cr = c.curl("/v1/lumbar/predict", "--data-binary", "x");
        cr.error(503, "overloaded");
        assertNotNull(cr.header("Retry-After"));
      }
      c.get("/v2/health/ready").ok();
      assertEquals(2, slow.entered.get());
      slow.gate.countDown();
      for (var f : pending) f.get(60, TimeUnit.SECONDS).ok();
      assertEquals(4, slow.predictions.get());
      assertEquals(0, metric(c, "spinekit_in_flight_requests"));
      assertTrue(
          metric(c, "spinekit_errors_total{endpoint=\"/v1/lumbar/predict\",kind=\"overloaded\"}")
              >= 1);
    } finally {
      slow.gate.countDown();
      s.stop();
    }
  }

  private static double metric(Client c, String prefix) {
    try {
      return c.metric(prefix);
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** stop() with requests in flight and queued: they finish, new ones are refused, then close. */
  @Test
  void stopDrainsRequestsInFlightThenClosesThePredictors() throws Exception {
    FakePredictor slow = new FakePredictor("draining", "lumbar");
    slow.gate = new CountDownLatch(1);
    Server s = Server.start(List.of(slow), options().withMaxInFlight(2).withQueue(2));
    try {
      Client c = new Client(s.uri());
      List<CompletableFuture<Client.Reply>> pending = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        pending.add(
            c.sendAsync(c.postRequest("/v1/lumbar/predict", "application/zip", Zips.study())));
      }
      await("2 in flight", () -> slow.entered.get() == 2);
      await("1 queued", () -> metric(c, "spinekit_queued_requests") == 1);
      CompletableFuture<Boolean> stopping = CompletableFuture.supplyAsync(s::stop);
      await("stopping", s::stopping);
      // A new connection is refused (the listening socket is closed) ...
      Client fresh = new Client(s.uri());
      await(
          "connections refused",
          () -> {
            try {
              fresh.get("/v2/health/live");
              return false;
            } catch (ConnectException e) {
              return true;
            } catch (IOException | InterruptedException e) {
              return false;
            }
          });
      assertFalse(stopping.isDone(), "stop waits for the requests in flight");
      assertEquals(0, slow.closes.get(), "not closed under requests in flight");
      slow.gate.countDown();
      for (var f : pending) {
        Client.Reply r = f.get(60, TimeUnit.SECONDS).ok();
        assertEquals(List.of("12345/1.dcm", "12345/2.dcm"), r.json().get("files"));
      }
      assertTrue(stopping.get(60, TimeUnit.SECONDS), "drained within the timeout");
      assertEquals(3, slow.predictions.get());
      assertEquals(1, slow.closes.get());
      assertThrows(ConnectException.class, () -> fresh.get("/v2/health/live"));
    } finally {
      slow.gate.countDown();
      s.stop();
    }
  }

  @Test
  void endpointLabelsAreRouteTemplates() {
    assertEquals("/v2/models/{name}/infer", Server.endpoint("/v2/models/a.b/infer"));
    assertEquals("/v2/models/{name}", Server.endpoint("/v2/models/a/"));
    assertEquals("/v2/health/live", Server.endpoint("/v2/health/live"));
    assertEquals("other", Server.endpoint("/v2/models/a/b/c"));
    assertEquals("other", Server.endpoint("/favicon.ico"));
  }

  @Test
  void namesMustBeDistinct() {
    FakePredictor a = new FakePredictor("x", "lumbar");
    FakePredictor b = new FakePredictor("x", "cervical");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Server.start(List.of(a, b), options()));
    assertTrue(e.getMessage().contains("'x' is taken twice"), e.getMessage());
    assertEquals(1, a.closes.get(), "a failed start closes what it was given");
    FakePredictor c = new FakePredictor("y.double", "lumbar");
    FakePredictor d = new FakePredictor("y", "lumbar");
    assertThrows(IllegalArgumentException.class, () -> Server.start(List.of(c, d), options()));
  }
}
