package dev.rsfs.jdbc;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code redshift-flight-sql local} process (a throwaway PostgreSQL with the TICKIT sample,
 * the Data API emulator and the gateway, all on port 0), started for a test class and stopped with
 * SIGTERM when it closes.
 *
 * <p>The stack runs with {@code --auth basic,tokens}: user {@link #USER} with password {@link
 * #PASSWORD}, and the static API token {@link #TOKEN} for principal {@link #TOKEN_PRINCIPAL}.
 */
final class LocalStack implements AutoCloseable {
  static final String USER = "alice";
  static final String PASSWORD = "wonderland-7";
  static final String TOKEN_PRINCIPAL = "reporting";
  static final String TOKEN = "rsfs-test-token-0123456789abcdef";

  private static final Pattern FLIGHT_READY =
      Pattern.compile("^flight sql listening on (grpc(\\+tls)?)://([^:]+):(\\d+)\\s*$");
  private static final Pattern TLS_CA = Pattern.compile("^tls ca certificate: (\\S+)\\s*$");
  private static final long STARTUP_TIMEOUT_S = 180;

  private final Process process;
  private final Path dir;
  private final Path log;
  /** The gateway's host and port. */
  final String host;

  final int port;
  /** The throwaway CA that signed the server certificate ({@code --tls}), or null. */
  final Path caCertificate;

  private LocalStack(Process process, Path dir, String host, int port, Path ca) {
    this.process = process;
    this.dir = dir;
    this.log = dir.resolve("local.log");
    this.host = host;
    this.port = port;
    this.caCertificate = ca;
  }

  /** Starts a plain-text stack. */
  static LocalStack start() throws Exception {
    return start(false);
  }

  /** Starts a stack, with a throwaway CA and server certificate when {@code tls}. */
  static LocalStack start(boolean tls) throws Exception {
    return start(tls, List.of());
  }

  /** Starts a stack with {@code extra} flags of {@code local}. */
  static LocalStack start(boolean tls, List<String> extra) throws Exception {
    Path bin = Path.of(System.getProperty("rsfs.bin", "../../target/debug/redshift-flight-sql"));
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException(bin + " is missing: build it, or set -Drsfs.bin");
    }
    Path dir = Files.createTempDirectory("rsfs-jdbc-");
    Path users = dir.resolve("users");
    Files.writeString(users, hashPassword(bin, USER, PASSWORD) + "\n");
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, TOKEN_PRINCIPAL + ":" + sha256Hex(TOKEN) + ":reports\n");

    List<String> args = new ArrayList<>();
    args.add(bin.toString());
    args.add("local");
    args.add("--listen");
    args.add("127.0.0.1:0");
    args.add("--emulator-listen");
    args.add("127.0.0.1:0");
    args.add("--auth");
    args.add("basic,tokens");
    args.add("--users-file");
    args.add(users.toString());
    args.add("--tokens-file");
    args.add(tokens.toString());
    if (tls) {
      args.add("--tls");
    }
    args.addAll(extra);
    ProcessBuilder builder = new ProcessBuilder(args);
    builder.environment().keySet().removeIf(name -> name.startsWith("AWS_"));
    builder.environment().put("NO_COLOR", "1");
    builder.redirectErrorStream(false);
    builder.redirectError(dir.resolve("local.log").toFile());
    builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process process = builder.start();

    CompletableFuture<String[]> ready = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              String ca = null;
              try (BufferedReader out =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                  Matcher caLine = TLS_CA.matcher(line);
                  if (caLine.matches()) {
                    ca = caLine.group(1);
                  }
                  Matcher flight = FLIGHT_READY.matcher(line);
                  if (flight.matches()) {
                    ready.complete(new String[] {flight.group(3), flight.group(4), ca});
                  }
                }
                ready.completeExceptionally(
                    new IllegalStateException("the local stack closed stdout before it was ready"));
              } catch (IOException e) {
                ready.completeExceptionally(e);
              }
            },
            "rsfs-local-stdout");
    reader.setDaemon(true);
    reader.start();
    String[] found;
    try {
      found = ready.get(STARTUP_TIMEOUT_S, TimeUnit.SECONDS);
    } catch (Exception e) {
      process.destroyForcibly();
      throw new IllegalStateException(
          "could not start the local stack: " + e + "\n--- log ---\n" + tail(dir.resolve("local.log")),
          e);
    }
    Path ca = found[2] == null ? null : Path.of(found[2]);
    return new LocalStack(process, dir, found[0], Integer.parseInt(found[1]), ca);
  }

  /** A JDBC URL of this gateway, plain text, with extra {@code key=value} properties. */
  String url(String... properties) {
    StringBuilder url =
        new StringBuilder("jdbc:arrow-flight-sql://").append(host).append(':').append(port);
    url.append("?useEncryption=").append(caCertificate != null);
    for (String property : properties) {
      url.append('&').append(property);
    }
    return url.toString();
  }

  /** The stack's log (stderr), for failure messages. */
  String log() {
    return tail(log);
  }

  @Override
  public void close() throws Exception {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** The directory of this stack's files. */
  Path dir() {
    return dir;
  }

  private static String hashPassword(Path bin, String user, String password) throws Exception {
    Process hash = new ProcessBuilder(bin.toString(), "hash-password", user).start();
    hash.getOutputStream().write(password.getBytes(StandardCharsets.UTF_8));
    hash.getOutputStream().close();
    String line = new String(hash.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!hash.waitFor(60, TimeUnit.SECONDS) || hash.exitValue() != 0) {
      throw new IllegalStateException("hash-password failed: " + line);
    }
    return line;
  }

  static String sha256Hex(String text) throws NoSuchAlgorithmException {
    byte[] digest =
        MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(digest);
  }

  private static String tail(Path path) {
    try {
      String text = Files.readString(path);
      return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
