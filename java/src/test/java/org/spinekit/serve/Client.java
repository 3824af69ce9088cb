package org.spinekit.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.spinekit.io.json.Json;

/**
 * The tests' HTTP clients on one server: {@link HttpClient} (HTTP/1.1) and curl, both answering a
 * {@link Reply}.
 */
final class Client {
  static final Path CURL = Path.of("/usr/bin/curl");
  static final Duration TIMEOUT = Duration.ofSeconds(60);

  final URI base;
  final HttpClient http;
  final String token;

  Client(URI base, String token) {
    this.base = base;
    this.token = token;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
  }

  Client(URI base) {
    this(base, null);
  }

  /** A response: status, headers, body. */
  record Reply(int status, Map<String, List<String>> headers, byte[] body) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    /** The body as a JSON object. */
    @SuppressWarnings("unchecked")
    Map<String, Object> json() {
      try {
        return (Map<String, Object>) Json.parse(text());
      } catch (Json.SyntaxException e) {
        throw new AssertionError("not JSON (" + status + "): " + text(), e);
      }
    }

    String header(String name) {
      for (var e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) return e.getValue().get(0);
      }
      return null;
    }

    /** Asserts the status and a JSON error whose message holds each fragment; returns the body. */
    Map<String, Object> error(int expected, String... fragments) {
      assertEquals(expected, status, text());
      Map<String, Object> j = json();
      assertTrue(j.get("error") instanceof String, text());
      for (String f : fragments)
        assertTrue(((String) j.get("error")).contains(f), f + " in " + text());
      return j;
    }

    Reply ok() {
      assertEquals(200, status, text());
      return this;
    }
  }

  HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT);
    if (token != null) b.header("Authorization", "Bearer " + token);
    return b;
  }

  Reply send(HttpRequest r) throws IOException, InterruptedException {
    HttpResponse<byte[]> resp = http.send(r, HttpResponse.BodyHandlers.ofByteArray());
    return new Reply(resp.statusCode(), resp.headers().map(), resp.body());
  }

  CompletableFuture<Reply> sendAsync(HttpRequest r) {
    return http.sendAsync(r, HttpResponse.BodyHandlers.ofByteArray())
        .thenApply(resp -> new Reply(resp.statusCode(), resp.headers().map(), resp.body()));
  }

  Reply get(String path) throws IOException, InterruptedException {
    return send(request(path).GET().build());
  }

  Reply post(String path, String contentType, byte[] body, String... headers)
      throws IOException, InterruptedException {
    return send(postRequest(path, contentType, body, headers));
  }

  HttpRequest postRequest(String path, String contentType, byte[] body, String... headers) {
    HttpRequest.Builder b =
        request(path)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .header("Content-Type", contentType);
    for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
    return b.build();
  }

  Reply postJson(String path, String json) throws IOException, InterruptedException {
    return post(path, "application/json", json.getBytes(StandardCharsets.UTF_8));
  }

  /** The value of a sample line of /metrics that starts with {@code prefix} (NaN: none). */
  double metric(String prefix) throws IOException, InterruptedException {
    for (String line : get("/metrics").ok().text().split("\n")) {
      if (line.startsWith(prefix))
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
    return Double.NaN;
  }

  /** Whether curl is here. */
  static boolean hasCurl() {
    return Files.isExecutable(CURL);
  }

  /**
   * curl {@code args} on {@code path}: the status and body (headers in the map under their names,
   * from curl's -D dump).
   */
  Reply curl(String path, String... args) throws IOException, InterruptedException {
    Path headers = Files.createTempFile("curl", ".headers");
    Path body = Files.createTempFile("curl", ".body");
    try {
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  CURL.toString(),
                  "-sS",
                  "--max-time",
                  "60",
                  "-D",
                  headers.toString(),
                  "-o",
                  body.toString()));
      if (token != null) cmd.addAll(List.of("-H", "Authorization: Bearer " + token));
      cmd.addAll(List.of(args));
      cmd.add(base.resolve(path).toString());
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(90, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("curl timed out: " + cmd);
      }
      assertEquals(0, p.exitValue(), "curl " + cmd + ": " + out);
      Map<String, List<String>> h = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      int status = 0;
      for (String line : Files.readAllLines(headers, StandardCharsets.ISO_8859_1)) {
        if (line.startsWith("HTTP/")) {
          int s = Integer.parseInt(line.split(" ")[1]);
          if (s != 100) {
            status = s;
            h.clear();
          }
        } else if (line.indexOf(':') > 0) {
          int c = line.indexOf(':');
          h.computeIfAbsent(line.substring(0, c).strip(), k -> new ArrayList<>())
              .add(line.substring(c + 1).strip());
        }
      }
      return new Reply(status, h, Files.readAllBytes(body));
    } finally {
      Files.deleteIfExists(headers);
      Files.deleteIfExists(body);
    }
  }
}
