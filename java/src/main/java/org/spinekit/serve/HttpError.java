package org.spinekit.serve;

/**
 * A request the server refuses: the status, the message of the JSON error body, and the file or zip
 * entry at fault when there is one. Unchecked, so that it passes through the JDK's streams (a zip
 * being inflated) unchanged.
 */
final class HttpError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String file;
  private final int retryAfter;

  HttpError(int status, String message, String file, int retryAfter) {
    super(message);
    this.status = status;
    this.file = file;
    this.retryAfter = retryAfter;
  }

  HttpError(int status, String message) {
    this(status, message, null, 0);
  }

  /** 400: a malformed request. */
  static HttpError bad(String message) {
    return new HttpError(400, message);
  }

  /** 400 naming the file or zip entry at fault. */
  static HttpError bad(String file, String message) {
    return new HttpError(400, message, file, 0);
  }

  /** 413: more than a limit allows. */
  static HttpError tooLarge(String file, String message) {
    return new HttpError(413, message, file, 0);
  }

  /** 404: no such model. */
  static HttpError notFound(String message) {
    return new HttpError(404, message);
  }

  /** 503 with Retry-After: overloaded or shutting down. */
  static HttpError unavailable(String message, int retryAfter) {
    return new HttpError(503, message, null, retryAfter);
  }

  int status() {
    return status;
  }

  /** The file or zip entry at fault, or null. */
  String file() {
    return file;
  }

  /** Seconds for a Retry-After header (0: none). */
  int retryAfter() {
    return retryAfter;
  }
}
