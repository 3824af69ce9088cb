package org.spinekit.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;

/**
 * The server's metrics in a registry of its own (several servers in one JVM do not mix), written in
 * Prometheus' text format for {@code GET /metrics}:
 *
 * <ul>
 *   <li>{@code spinekit_requests_total{endpoint,code}} and {@code
 *       spinekit_request_duration_seconds{endpoint}}: every request, by route (the path's template,
 *       {@code /v2/models/{name}/infer}; {@code other} for none) and status code;
 *   <li>{@code spinekit_errors_total{endpoint,kind}}: refused and failed requests, by kind ({@code
 *       bad_request}, {@code unauthorized}, {@code not_found}, {@code too_large}, {@code
 *       unavailable}, {@code internal}, ...);
 *   <li>{@code spinekit_stage_duration_seconds{model,stage}}: the phases a study's prediction
 *       reports ({@code Result.seconds()}: decode, forward, ..., wait, total);
 *   <li>{@code spinekit_in_flight_requests} and {@code spinekit_queued_requests}: the bounded queue
 *       now;
 *   <li>{@code spinekit_native_physical_bytes} (the process' resident memory as JavaCPP reads it)
 *       and {@code spinekit_native_tracked_bytes} (what JavaCPP's pointers hold);
 *   <li>{@code jvm_memory_used_bytes{area}}, {@code jvm_memory_committed_bytes{area}}, {@code
 *       jvm_memory_max_bytes{area}} for the heap and the rest.
 * </ul>
 */
final class Metrics {
  /** Buckets from 5 ms to 10 minutes: health checks to a CT study on a small CPU. */
  static final double[] SECONDS = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300, 600
  };

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter requests;
  private final Counter errors;
  private final Histogram latency;
  private final Histogram stages;
  private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

  Metrics(Admission admission) {
    requests =
        Counter.builder()
            .name("spinekit_requests_total")
            .help("HTTP requests by route and status code")
            .labelNames("endpoint", "code")
            .register(registry);
    errors =
        Counter.builder()
            .name("spinekit_errors_total")
            .help("refused or failed requests by route and kind")
            .labelNames("endpoint", "kind")
            .register(registry);
    latency =
        Histogram.builder()
            .name("spinekit_request_duration_seconds")
            .help("time from a request's arrival to its response, by route")
            .labelNames("endpoint")
            .classicOnly()
            .classicUpperBounds(SECONDS)
            .register(registry);
    stages =
        Histogram.builder()
            .name("spinekit_stage_duration_seconds")
            .help("seconds of each phase of a study's prediction, by model")
            .labelNames("model", "stage")
            .classicOnly()
            .classicUpperBounds(SECONDS)
            .register(registry);
    GaugeWithCallback.builder()
        .name("spinekit_in_flight_requests")
        .help("inference and prediction requests running now")
        .callback(c -> c.call(admission.inFlight()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("spinekit_queued_requests")
        .help("inference and prediction requests waiting for a slot now")
        .callback(c -> c.call(admission.queued()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("spinekit_native_physical_bytes")
        .help("resident memory of the process (JavaCPP Pointer.physicalBytes)")
        .callback(c -> c.call(Pointer.physicalBytes()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("spinekit_native_tracked_bytes")
        .help("native memory held by JavaCPP pointers (Pointer.totalBytes)")
        .callback(c -> c.call(Pointer.totalBytes()))
        .register(registry);
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    GaugeWithCallback.builder()
        .name("jvm_memory_used_bytes")
        .help("JVM memory in use")
        .labelNames("area")
        .callback(c -> memory(c, memory, MemoryUsage::getUsed))
        .register(registry);
    GaugeWithCallback.builder()
        .name("jvm_memory_committed_bytes")
        .help("JVM memory committed")
        .labelNames("area")
        .callback(c -> memory(c, memory, MemoryUsage::getCommitted))
        .register(registry);
    GaugeWithCallback.builder()
        .name("jvm_memory_max_bytes")
        .help("JVM memory limit (-1: none)")
        .labelNames("area")
        .callback(c -> memory(c, memory, MemoryUsage::getMax))
        .register(registry);
  }

  private static void memory(
      GaugeWithCallback.Callback c,
      MemoryMXBean m,
      java.util.function.ToLongFunction<MemoryUsage> f) {
    c.call(f.applyAsLong(m.getHeapMemoryUsage()), "heap");
    c.call(f.applyAsLong(m.getNonHeapMemoryUsage()), "nonheap");
  }

  /** A request answered: its route, status and seconds. */
  void request(String endpoint, int status, double seconds, String errorKind) {
    requests.labelValues(endpoint, Integer.toString(status)).inc();
    latency.labelValues(endpoint).observe(seconds);
    if (status >= 400) {
      errors.labelValues(endpoint, errorKind != null ? errorKind : kind(status)).inc();
    }
  }

  /** The phases of one study's prediction by {@code model}. */
  void stages(String model, Map<String, Double> seconds) {
    for (var e : seconds.entrySet()) {
      if (e.getValue() != null && Double.isFinite(e.getValue())) {
        stages.labelValues(model, e.getKey()).observe(e.getValue());
      }
    }
  }

  /** The kind of an error status. */
  static String kind(int status) {
    return switch (status) {
      case 400 -> "bad_request";
      case 401 -> "unauthorized";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 413 -> "too_large";
      case 503 -> "unavailable";
      default -> status >= 500 ? "internal" : "client_error";
    };
  }

  /** The metrics in Prometheus' text format. */
  byte[] scrape() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writer.write(out, registry.scrape());
    return out.toByteArray();
  }

  /** The content type of {@link #scrape}. */
  String contentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }
}
