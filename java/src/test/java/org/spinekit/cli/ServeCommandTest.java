package org.spinekit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.json.Json;
import org.spinekit.testing.Subprocess;

/**
 * {@code spinekit serve}: its usage errors in process (exit 2, the option named), and the command
 * as a service manager runs it, in a child JVM on a tiny trained lumbar run: it prints its address,
 * answers, and on SIGTERM finishes the requests it admitted (queued ones included) before it exits.
 */
@Timeout(300)
class ServeCommandTest {
  @TempDir Path dir;

  private static CliRun expectError(String fragment, String... args) {
    CliRun r = CliRun.of(args);
    assertEquals(2, r.rc(), String.join(" ", args) + ": " + r);
    assertTrue(r.err().contains(fragment), "'" + fragment + "' in " + r);
    assertFalse(r.err().contains("\tat org."), "no stack trace: " + r);
    return r;
  }

  @Test
  void usageErrorsExit2NamingTheOption() throws IOException {
    expectError("Missing required option: '--model=[NAME=]RUN'", "serve");
    Path missing = dir.resolve("missing");
    expectError("serve --model: no such file or directory", "serve", "--model", missing.toString());
    expectError("no bundle.json", "serve", "--model", dir.toString());
    expectError(
        "Invalid value for option '--max-body'",
        "serve",
        "--model",
        "x",
        "--max-body",
        "12 parsecs");
    expectError(
        "--port: expected 0 to 65535", "serve", "--model", dir.toString(), "--port", "70000");
    expectError("two runs named 'a'", "serve", "--model", "a=" + dir, "--model", "a=" + missing);
    expectError(
        "token file '" + missing + "': no such file",
        "serve",
        "--model",
        dir.toString(),
        "--token-file",
        missing.toString());
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    expectError("empty", "serve", "--model", dir.toString(), "--token-file", empty.toString());
  }

  static byte[] zip(Path study) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out);
        Stream<Path> w = Files.walk(study)) {
      for (Path p : w.filter(Files::isRegularFile).sorted().toList()) {
        z.putNextEntry(
            new ZipEntry(
                study.getFileName() + "/" + study.relativize(p).toString().replace('\\', '/')));
        z.write(Files.readAllBytes(p));
        z.closeEntry();
      }
    }
    return out.toByteArray();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> withoutSeconds(String json) throws Json.SyntaxException {
    Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) Json.parse(json));
    m.remove("seconds");
    return m;
  }

  static double metric(HttpClient http, URI base, String prefix) {
    try {
      String text =
          http.send(
                  HttpRequest.newBuilder(base.resolve("/metrics")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      for (String line : text.lines().toList()) {
        if (line.startsWith(prefix))
          return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
      return Double.NaN;
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * SIGTERM with one request running and two queued: all three answered (as the command line's
   * report, on the same thread count), then exit 143.
   */
  @Test
  void sigtermFinishesTheRequestsAdmittedThenExits() throws Exception {
    TrainedRuns.Run run = TrainedRuns.lumbar();
    Subprocess s =
        Subprocess.start(
            Subprocess.java(
                List.of("-Xmx768m"),
                "org.spinekit.cli.Main",
                List.of(
                    "--threads",
                    "2",
                    "serve",
                    "--model",
                    "lumbar-demo=" + run.run(),
                    "--port",
                    "0",
                    "--max-in-flight",
                    "1",
                    "--queue",
                    "4")));
    try {
      String line = null;
      for (int i = 0; i < 1200 && line == null && s.isAlive(); i++) {
        for (String l : s.stdout().lines().toList())
          if (l.startsWith("serving on http://127.0.0.1:")) line = l;
        if (line == null) Thread.sleep(100);
      }
      assertTrue(line != null, "no 'serving on' line: " + s.stdout() + "\n" + s.stderr());
      // The default warm-up: a synthetic study of the system, sent to the server itself before it
      // says where it serves.
      assertTrue(
          s.stderr()
              .contains(
                  "warmed up through POST /v1/lumbar/predict?model=lumbar-demo on a synthetic"
                      + " study ("),
          s.stderr());
      assertTrue(
          s.stdout()
              .contains("lumbar-demo (lumbar): POST /v1/lumbar/predict; networks: lumbar-demo.scs"),
          s.stdout());
      URI base = URI.create(line.substring("serving on ".length()).strip());
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      assertEquals(
          200,
          http.send(
                  HttpRequest.newBuilder(base.resolve("/v2/health/ready")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .statusCode());
      Path study = run.studies().get(0);
      byte[] body = zip(study);
      Map<String, Object> want =
          withoutSeconds(Files.readString(run.report().resolve(study.getFileName() + ".json")));
      List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
      boolean seen = false;
      for (int attempt = 0; attempt < 5 && !seen; attempt++) {
        for (var f : pending) f.get(120, TimeUnit.SECONDS);
        pending.clear();
        for (int i = 0; i < 3; i++) {
          pending.add(
              http.sendAsync(
                  HttpRequest.newBuilder(base.resolve("/v1/lumbar/predict"))
                      .header("Content-Type", "application/zip")
                      .timeout(Duration.ofMinutes(2))
                      .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                      .build(),
                  HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < 400 && !seen; i++) {
          seen =
              metric(http, base, "spinekit_in_flight_requests") == 1
                  && metric(http, base, "spinekit_queued_requests") >= 1;
        }
      }
      assertTrue(seen, "never saw a request running and one queued");
      s.terminate();
      for (var f : pending) {
        HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(want, withoutSeconds(r.body()));
      }
      Subprocess.Result done = s.await(Duration.ofMinutes(2));
      assertEquals(143, done.exitCode(), done.describe());
      assertTrue(done.stderr().contains("spinekit serve: stopping"), done.describe());
      assertTrue(done.stderr().contains("spinekit serve: stopped\n"), done.describe());
    } finally {
      if (s.isAlive()) s.kill();
    }
  }
}
