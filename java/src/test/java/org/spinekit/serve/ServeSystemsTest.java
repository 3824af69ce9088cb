package org.spinekit.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.cli.TrainedRuns;

/**
 * Both systems' real predictors behind the server, on tiny trained runs: a zipped study answers
 * exactly the command line's {@code predict --report} JSON (timings aside), raw or as a form, with
 * HttpClient and curl; every network over the Open Inference Protocol answers as the predictor
 * does; bad studies are named; the stages reach the metrics.
 */
@Timeout(300)
class ServeSystemsTest {
  @TempDir static Path dir;
  static TrainedRuns.Run cervicalRun;
  static TrainedRuns.Run lumbarRun;
  static Predictor<?> cervical;
  static Predictor<?> lumbar;
  static Server server;
  static Client client;

  @BeforeAll
  static void start() throws Exception {
    cervicalRun = TrainedRuns.cervical();
    lumbarRun = TrainedRuns.lumbar();
    cervical =
        Predictors.load(cervicalRun.run(), Predictors.Options.defaults().withName("cervical-demo"));
    lumbar =
        Predictors.load(lumbarRun.run(), Predictors.Options.defaults().withName("lumbar-demo"));
    server =
        Server.start(
            List.of(cervical, lumbar),
            Server.Options.defaults().withPort(0).withMaxInFlight(2).withQueue(4));
    client = new Client(server.uri());
  }

  @AfterAll
  static void stop() {
    if (server != null) server.stop();
  }

  /** The study folder zipped as a client would: its files under the folder's name. */
  static byte[] zip(Path study) throws Exception {
    return Zips.zip(PredictorsTest.files(study, study.getFileName() + "/"));
  }

  static Map<String, Object> cli(TrainedRuns.Run r, Path study) throws Exception {
    return PredictorsTest.withoutSeconds(PredictorsTest.commandLineReport(r, study));
  }

  @Test
  void zippedStudiesAnswerAsTheCommandLine() throws Exception {
    for (var e : Map.of("cervical", cervicalRun, "lumbar", lumbarRun).entrySet()) {
      String path = "/v1/" + e.getKey() + "/predict";
      List<Path> studies = e.getValue().studies();
      assertTrue(!studies.isEmpty(), "test studies of " + e.getKey());
      for (Path study : studies) {
        Map<String, Object> got = client.post(path, "application/zip", zip(study)).ok().json();
        assertTrue(got.get("seconds") instanceof Map, got.toString());
        assertEquals(
            cli(e.getValue(), study), PredictorsTest.withoutSeconds(got), e.getKey() + " " + study);
      }
      // As a form, with curl where installed, else HttpClient.
      Path study = studies.get(0);
      Path file = dir.resolve(e.getKey() + ".zip");
      Files.write(file, zip(study));
      Map<String, Object> form =
          Client.hasCurl()
              ? client.curl(path, "-F", "file=@" + file + ";type=application/zip").ok().json()
              : client
                  .post(
                      path, Zips.formType(), Zips.form(new Object[] {"file", "s.zip", zip(study)}))
                  .ok()
                  .json();
      assertEquals(cli(e.getValue(), study), PredictorsTest.withoutSeconds(form));
    }
    String m = client.get("/metrics").ok().text();
    assertTrue(
        m.contains(
            "spinekit_stage_duration_seconds_count{model=\"lumbar-demo\",stage=\"forward\"}"),
        m);
    assertTrue(
        m.contains(
            "spinekit_stage_duration_seconds_count{model=\"cervical-demo\",stage=\"seg_forward\"}"),
        m);
    assertTrue(m.contains("stage=\"wait\""), m);
  }

  @Test
  void everyNetworkAnswersOverTheProtocolAsThePredictorDoes() throws Exception {
    for (Predictor<?> p : List.of(cervical, lumbar)) {
      Map<String, Object> meta = client.get("/v2/models/" + p.name()).ok().json();
      assertEquals(p.networks().size(), ((List<?>) meta.get("networks")).size());
      for (Network n : p.networks()) {
        String model = p.name() + "." + n.name();
        Map<String, Object> md = client.get("/v2/models/" + model).ok().json();
        List<Object> shape = new java.util.ArrayList<>();
        for (long s : n.input()) shape.add(s);
        assertEquals(shape, ((Map<?, ?>) ((List<?>) md.get("inputs")).get(0)).get("shape"), model);
        long[] in = n.input();
        in[0] = 1;
        int count = (int) Arrays.stream(in).reduce(1, (a, b) -> a * b);
        float[] x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float) Math.sin(i * 0.01);
        Network.Output want = p.infer(n.name(), in, x);
        String header =
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":"
                + Arrays.toString(in).replace(" ", "")
                + ",\"parameters\":{\"binary_data_size\":"
                + count * 4
                + "}}],\"parameters\":{\"binary_data_output\":true}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(h.length + count * 4).order(ByteOrder.LITTLE_ENDIAN);
        body.put(h);
        body.asFloatBuffer().put(x);
        Client.Reply r =
            client
                .post(
                    "/v2/models/" + model + "/infer",
                    "application/octet-stream",
                    body.array(),
                    "Inference-Header-Content-Length",
                    Integer.toString(h.length))
                .ok();
        int n0 = Integer.parseInt(r.header("Inference-Header-Content-Length"));
        String json = new String(r.body(), 0, n0, StandardCharsets.UTF_8);
        List<Object> outShape = new java.util.ArrayList<>();
        for (long s : want.shape()) outShape.add(s);
        assertTrue(
            json.contains("\"shape\":" + outShape.toString().replace(" ", "")),
            json + " " + outShape);
        float[] y = new float[want.data().length];
        ByteBuffer.wrap(r.body(), n0, y.length * 4)
            .order(ByteOrder.LITTLE_ENDIAN)
            .asFloatBuffer()
            .get(y);
        for (int i = 0; i < y.length; i++) {
          assertEquals(
              want.data()[i],
              y[i],
              1e-4f * Math.max(1, Math.abs(want.data()[i])),
              model + " [" + i + "]");
        }
      }
    }
    // Wrong shapes are the predictor's message.
    Network scs = lumbar.networks().get(0);
    client
        .postJson(
            "/v2/models/lumbar-demo." + scs.name() + "/infer",
            "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]}]}")
        .error(400, scs.name() + " input: expected shape");
  }

  @Test
  void badStudiesAreNamed() throws Exception {
    Path study = lumbarRun.studies().get(0);
    Map<String, byte[]> files = PredictorsTest.files(study, study.getFileName() + "/");
    String first = files.keySet().iterator().next();
    files.put(first, "not DICOM".getBytes(StandardCharsets.US_ASCII));
    Map<String, Object> e =
        client.post("/v1/lumbar/predict", "application/zip", Zips.zip(files)).error(400);
    String relative = first.substring(first.indexOf('/') + 1);
    assertEquals(relative, e.get("file"), e.toString());
    Map<String, byte[]> beside = new LinkedHashMap<>(PredictorsTest.files(study, ""));
    beside.put("loose.dcm", beside.values().iterator().next());
    client.post("/v1/lumbar/predict", "application/zip", Zips.zip(beside)).error(400, "loose.dcm");
    Path ct = cervicalRun.studies().get(0);
    Map<String, byte[]> c = PredictorsTest.files(ct, ct.getFileName() + "/");
    c.put(ct.getFileName() + "/readme.txt", "hello".getBytes(StandardCharsets.US_ASCII));
    assertEquals(
        "readme.txt",
        client
            .post("/v1/cervical/predict", "application/zip", Zips.zip(c))
            .error(400, "readme.txt")
            .get("file"));
    // And the server goes on.
    Map<String, Object> ok =
        client.post("/v1/cervical/predict", "application/zip", zip(ct)).ok().json();
    assertEquals(cli(cervicalRun, ct), PredictorsTest.withoutSeconds(ok));
  }
}
