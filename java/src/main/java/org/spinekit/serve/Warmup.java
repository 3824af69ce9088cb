package org.spinekit.serve;

import java.time.Duration;
import java.util.List;

/**
 * Requests a server sends itself over loopback once it listens and before it reports ready ({@link
 * Server#start(List, Server.Options, Warmup)}), through the same endpoints, parser, unzipping and
 * predictors as a client's: so that the JIT compiler has compiled the whole request path, Jetty's
 * included, before the first client's request, instead of competing with the first minutes of
 * requests for the cores. Warm-up requests count in no metric and need no token; readiness is false
 * while they run.
 *
 * @param requests what is sent; each in turn, {@code count} times at most
 * @param count the most times each request is sent
 * @param time once this long has passed for a request and {@link #MIN_COUNT} of it are done, it
 *     stops
 * @param clients connections sending at once (at most the server's in-flight requests)
 */
public record Warmup(List<Request> requests, int count, Duration time, int clients) {
  /** Times each request is sent whatever {@code time} says (fewer only when {@code count} is). */
  public static final int MIN_COUNT = 3;

  /**
   * One request: a POST of {@code body} to {@code target}.
   *
   * @param target the path and query, e.g. {@code /v1/lumbar/predict?model=NAME}
   * @param contentType its Content-Type
   * @param body its body
   */
  public record Request(String target, String contentType, byte[] body) {
    public Request {
      if (target == null || !target.startsWith("/")) {
        throw new IllegalArgumentException("target: expected a path, got " + target);
      }
      if (contentType == null || body == null) {
        throw new IllegalArgumentException("contentType and body: expected both");
      }
    }
  }

  /**
   * What one request's warm-up did.
   *
   * @param target the request's path and query
   * @param sent how many times it was answered 200
   * @param seconds how long it took in all
   */
  public record Done(String target, int sent, double seconds) {}

  public Warmup {
    requests = List.copyOf(requests);
    if (count < 1) throw new IllegalArgumentException("count: expected at least 1, got " + count);
    if (time == null || time.isNegative()) {
      throw new IllegalArgumentException("time: expected a duration >= 0, got " + time);
    }
    if (clients < 1)
      throw new IllegalArgumentException("clients: expected at least 1, got " + clients);
  }
}
