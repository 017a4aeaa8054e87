package dev.rsfs.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The local stacks the test classes share: one plain-text stack started on first use and stopped
 * when the JVM exits (each start initialises a PostgreSQL cluster and loads TICKIT).
 */
final class Stacks {
  private static LocalStack plain;

  private Stacks() {}

  /** The shared plain-text stack. */
  static synchronized LocalStack plain() throws Exception {
    if (plain == null) {
      plain = LocalStack.start();
      LocalStack stack = plain;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      stack.close();
                    } catch (Exception e) {
                      // The JVM is exiting: nothing to report to.
                    }
                  }));
    }
    return plain;
  }

  /** A connection to the shared stack as {@link LocalStack#USER}. */
  static Connection connect(String... properties) throws Exception {
    return connect(plain(), properties);
  }

  /** A connection to {@code stack} as {@link LocalStack#USER}. */
  static Connection connect(LocalStack stack, String... properties) throws SQLException {
    Properties info = new Properties();
    info.setProperty("user", LocalStack.USER);
    info.setProperty("password", LocalStack.PASSWORD);
    return DriverManager.getConnection(stack.url(properties), info);
  }
}
