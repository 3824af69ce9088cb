package org.spinekit.internal.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The loopback client against the JDK's HTTP server on loopback: the body goes out whole, the
 * status, Server-Timing and body come back, extra headers go out and ones that would split the
 * request are refused, requests share one connection until the server closes it, and a dead server
 * is an IOException.
 */
class LoopbackClientTest {
  @Test
  void postsOnOneConnectionAndReadsTheAnswer() throws Exception {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    AtomicInteger connections = new AtomicInteger();
    Set<String> peers = ConcurrentHashMap.newKeySet();
    server.createContext(
        "/echo",
        x -> {
          byte[] in = x.getRequestBody().readAllBytes();
          if (peers.add(x.getRemoteAddress().toString())) connections.incrementAndGet();
          String extra = x.getRequestHeaders().getFirst("X-Extra");
          byte[] out =
              (x.getRequestURI().getQuery()
                      + ":"
                      + in.length
                      + ":"
                      + in[in.length - 1]
                      + (extra != null ? ":" + extra : ""))
                  .getBytes(StandardCharsets.UTF_8);
          x.getResponseHeaders().add("Server-Timing", "receive;dur=1.5");
          if ("close".equals(x.getRequestURI().getQuery())) {
            x.getResponseHeaders().add("Connection", "close");
          }
          x.sendResponseHeaders(in.length > 100_000 ? 200 : 400, out.length);
          x.getResponseBody().write(out);
          x.close();
        });
    server.start();
    URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    byte[] body = new byte[300_000];
    body[body.length - 1] = 7;
    try (LoopbackClient c = new LoopbackClient(base)) {
      for (int i = 0; i < 3; i++) {
        LoopbackClient.Answer a = c.post("/echo?n" + i, "application/zip", body);
        assertEquals(200, a.status());
        assertEquals("receive;dur=1.5", a.serverTiming());
        assertArrayEquals(("n" + i + ":300000:7").getBytes(StandardCharsets.UTF_8), a.body());
      }
      assertEquals(1, connections.get(), "three requests on one connection");
      LoopbackClient.Answer h =
          c.post("/echo?h", "application/zip", Map.of("X-Extra", "warm up"), body);
      assertArrayEquals("h:300000:7:warm up".getBytes(StandardCharsets.UTF_8), h.body());
      assertThrows(
          IllegalArgumentException.class,
          () -> c.post("/echo", "application/zip", Map.of("X-Extra", "a\r\nX-Evil: 1"), body));
      assertThrows(
          IllegalArgumentException.class, () -> c.post("/echo x", "application/zip", body));
      assertEquals(1, connections.get(), "refused headers are not sent");
      assertEquals(400, c.post("/echo?small", "application/zip", new byte[10]).status());
      c.post("/echo?close", "application/zip", body);
      c.post("/echo?after", "application/zip", body);
      assertEquals(2, connections.get(), "a new connection after Connection: close");
    } finally {
      server.stop(0);
    }
    try (LoopbackClient c = new LoopbackClient(base)) {
      assertThrows(IOException.class, () -> c.post("/echo", "application/zip", body));
    }
  }
}
