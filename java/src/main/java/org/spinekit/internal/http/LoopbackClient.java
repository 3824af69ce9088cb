package org.spinekit.internal.http;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * A keep-alive HTTP/1.1 client on one socket, for one thread: the request head and body written,
 * the answer read by its Content-Length. What a C++ load generator does, without the JDK
 * HttpClient's selector and executor threads, whose CPU time on a small machine is taken from the
 * server it talks to. Used by {@code spinekit serve}'s warm-up (requests to itself) and by {@code
 * bench serve --client socket}; not thread-safe.
 */
public final class LoopbackClient implements AutoCloseable {
  /** An answer: its status, its Server-Timing header ("" when none) and its body. */
  public record Answer(int status, String serverTiming, byte[] body) {}

  private final String host;
  private final int port;
  private Socket socket;
  private BufferedInputStream in;
  private OutputStream out;

  /** A client of {@code base} ({@code http://HOST:PORT}); it connects on the first request. */
  public LoopbackClient(URI base) {
    this.host = base.getHost();
    this.port = base.getPort();
  }

  /** POSTs {@code body} to {@code target} (path and query); reconnects after a failure. */
  public Answer post(String target, String contentType, byte[] body) throws IOException {
    return post(target, contentType, Map.of(), body);
  }

  /**
   * POSTs {@code body} to {@code target} (path and query) with {@code headers} besides Host,
   * Content-Type and Content-Length; reconnects after a failure.
   *
   * @throws IllegalArgumentException for a header name or value with a control character
   */
  public Answer post(String target, String contentType, Map<String, String> headers, byte[] body)
      throws IOException {
    StringBuilder r = new StringBuilder(256);
    if (target.indexOf(' ') >= 0 || !target.startsWith("/")) {
      throw new IllegalArgumentException(
          "target: expected a path without spaces, got '" + target + "'");
    }
    r.append("POST ").append(headerSafe(target)).append(" HTTP/1.1\r\nHost: ");
    r.append(host).append(':').append(port);
    r.append("\r\nContent-Type: ").append(headerSafe(contentType));
    r.append("\r\nContent-Length: ").append(body.length).append("\r\n");
    for (var e : headers.entrySet()) {
      r.append(headerSafe(e.getKey())).append(": ").append(headerSafe(e.getValue())).append("\r\n");
    }
    byte[] head = r.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    try {
      if (socket == null) connect();
      out.write(head);
      out.write(body);
      out.flush();
      String status = line();
      if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) {
        throw new IOException("not an HTTP/1.1 status line: " + status);
      }
      int code = Integer.parseInt(status.substring(9, 12));
      long length = -1;
      String timing = "";
      boolean close = false;
      for (String h; !(h = line()).isEmpty(); ) {
        int c = h.indexOf(':');
        if (c < 0) continue;
        String k = h.substring(0, c).trim().toLowerCase(Locale.ROOT);
        String v = h.substring(c + 1).trim();
        switch (k) {
          case "content-length" -> length = Long.parseLong(v);
          case "server-timing" -> timing = v;
          case "connection" -> close = v.equalsIgnoreCase("close");
          case "transfer-encoding" -> throw new IOException("a chunked answer: not read here");
          default -> {}
        }
      }
      if (length < 0 || length > Integer.MAX_VALUE) {
        throw new IOException("an answer without a usable Content-Length: " + length);
      }
      byte[] b = in.readNBytes((int) length);
      if (b.length < length) throw new EOFException("the answer ended after " + b.length);
      if (close) close();
      return new Answer(code, timing, b);
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private static String headerSafe(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x7f) {
        throw new IllegalArgumentException(
            "a request line or header with a control or non-ASCII character: "
                + s.replaceAll("[^\\x20-\\x7e]", "?"));
      }
    }
    return s;
  }

  private void connect() throws IOException {
    Socket s = new Socket();
    s.setTcpNoDelay(true);
    s.connect(new InetSocketAddress(host, port), 10_000);
    s.setSoTimeout(120_000);
    socket = s;
    in = new BufferedInputStream(s.getInputStream(), 1 << 16);
    out = s.getOutputStream();
  }

  /** One header line, without its CRLF. */
  private String line() throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c; (c = in.read()) != '\n'; ) {
      if (c < 0) throw new EOFException("the connection closed mid-answer");
      if (b.length() > 16_384) throw new IOException("a header line over 16 KiB");
      if (c != '\r') b.append((char) c);
    }
    return b.toString();
  }

  @Override
  public void close() {
    if (socket == null) return;
    try {
      socket.close();
    } catch (IOException e) {
      // closing a broken connection: nothing left to do
    }
    socket = null;
  }
}
