package org.spinekit.serve;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Set;

/**
 * The token clients must present as {@code Authorization: Bearer <token>}. Compared in constant
 * time: both sides are hashed (SHA-256) and the digests compared with {@link
 * MessageDigest#isEqual}, so neither the position of the first difference nor the token's length
 * shows in the time taken.
 */
public final class BearerToken {
  /** Tokens shorter than this are refused: guessable. */
  static final int MIN_LENGTH = 16;

  private final byte[] digest;

  private BearerToken(String token) {
    this.digest = sha256(token);
  }

  /**
   * {@code token} itself.
   *
   * @throws IllegalArgumentException when it is shorter than 16 characters or holds characters
   *     other than RFC 6750's token68 (letters, digits, {@code -._~+/}, trailing {@code =})
   */
  public static BearerToken of(String token) {
    if (token.length() < MIN_LENGTH) {
      throw new IllegalArgumentException(
          "token: expected at least " + MIN_LENGTH + " characters, got " + token.length());
    }
    if (!token.matches("[A-Za-z0-9\\-._~+/]+=*")) {
      throw new IllegalArgumentException(
          "token: expected letters, digits and -._~+/ (then '=' padding), without spaces");
    }
    return new BearerToken(token);
  }

  /**
   * The token in {@code file}: its one line, surrounding blanks and the line break removed.
   *
   * @throws IllegalArgumentException naming the file when it is missing, not a regular file, empty,
   *     holds more than one line, or a malformed token
   */
  public static BearerToken read(Path file) throws IOException {
    String text;
    try {
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException(
            "token file '" + file + "': " + (Files.exists(file) ? "not a file" : "no such file"));
      }
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("token file '" + file + "': no such file", e);
    }
    String t = text.strip();
    if (t.isEmpty()) throw new IllegalArgumentException("token file '" + file + "': empty");
    if (t.indexOf('\n') >= 0 || t.indexOf('\r') >= 0) {
      throw new IllegalArgumentException(
          "token file '" + file + "': expected one line (one token), got several");
    }
    try {
      return of(t);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("token file '" + file + "': " + e.getMessage(), e);
    }
  }

  /** Whether other users than the owner may read {@code file} (false where unknown). */
  public static boolean readableByOthers(Path file) {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
      return p.contains(PosixFilePermission.OTHERS_READ)
          || p.contains(PosixFilePermission.GROUP_READ);
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** Whether an Authorization header value presents this token ({@code Bearer} in any case). */
  boolean accepts(String authorization) {
    if (authorization == null) return false;
    String a = authorization.strip();
    int sp = a.indexOf(' ');
    if (sp < 0 || !a.substring(0, sp).equalsIgnoreCase("Bearer")) return false;
    return MessageDigest.isEqual(digest, sha256(a.substring(sp + 1).strip()));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256: not available", e);
    }
  }

  @Override
  public String toString() {
    return "BearerToken[hidden]";
  }
}
