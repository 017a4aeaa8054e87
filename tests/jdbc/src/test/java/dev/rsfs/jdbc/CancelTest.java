package dev.rsfs.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Statement.cancel() and setQueryTimeout end a long query within seconds, and the query stops on
 * the server too. The driver can do neither while GetFlightInfo blocks, so the gateway answers a
 * prepared query's GetFlightInfo at once and the statement runs while DoGet waits for it.
 */
class CancelTest {
  /** Longer than any bound below: a query still running after it was not cancelled. */
  private static final String SLEEP = "select pg_sleep(30) as slept";

  /** How many backends run the sleeping query (the emulator is PostgreSQL). */
  private static long sleepers(Connection monitor, String marker) throws SQLException {
    try (Statement st = monitor.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select count(*) from pg_stat_activity where state = 'active' and query like '%"
                    + marker
                    + "%' and query not like '%pg_stat_activity%'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Polls until {@code sleepers} is {@code expected}, for at most {@code seconds}. */
  private static void awaitSleepers(Connection monitor, String marker, long expected, int seconds)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (sleepers(monitor, marker) != expected) {
      assertTrue(
          System.nanoTime() < deadline,
          "expected " + expected + " running '" + marker + "' queries within " + seconds + " s");
      Thread.onSpinWait();
    }
  }

  @Test
  void cancelEndsARunningQueryAndTheStatementOnTheServer() throws Exception {
    String marker = "cancel_me_" + System.nanoTime();
    try (Connection conn = Stacks.connect();
        Connection monitor = Stacks.connect();
        Statement st = conn.createStatement()) {
      CompletableFuture<Object> running =
          CompletableFuture.supplyAsync(
              () -> {
                try (ResultSet rs = st.executeQuery(SLEEP.replace("slept", marker))) {
                  return rs.next();
                } catch (SQLException e) {
                  return e;
                }
              });
      awaitSleepers(monitor, marker, 1, 20);
      long cancelled = System.nanoTime();
      st.cancel();
      Object outcome = running.get(10, TimeUnit.SECONDS);
      assertInstanceOf(SQLException.class, outcome, "the query ended by itself: " + outcome);
      assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - cancelled) < 10);
      // The gateway cancelled the Data API statement: PostgreSQL stops running it.
      awaitSleepers(monitor, marker, 0, 20);
    }
  }

  @Test
  void aQueryTimeoutEndsALongQuery() throws Exception {
    String marker = "timeout_me_" + System.nanoTime();
    try (Connection conn = Stacks.connect();
        Connection monitor = Stacks.connect()) {
      long started = System.nanoTime();
      Object outcome;
      try (Statement st = conn.createStatement()) {
        st.setQueryTimeout(2);
        CompletableFuture<Object> running =
            CompletableFuture.supplyAsync(
                () -> {
                  try (ResultSet rs = st.executeQuery(SLEEP.replace("slept", marker))) {
                    return rs.next();
                  } catch (SQLException | RuntimeException e) {
                    return e;
                  }
                });
        try {
          outcome = running.get(15, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
          throw new AssertionError("setQueryTimeout(2) did not end pg_sleep(30) within 15 s", e);
        }
        assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) < 15);
        assertTrue(
            ConnectTest.causes((Throwable) outcome).contains("timed out"),
            "the query was not timed out: " + outcome);
      }
      // Closing the timed-out statement ends its stream: the gateway cancels the query.
      awaitSleepers(monitor, marker, 0, 20);
      // The connection still works after the timeout.
      try (Statement again = conn.createStatement();
          ResultSet rs = again.executeQuery("select 7")) {
        assertTrue(rs.next());
        assertEquals(7, rs.getInt(1));
      }
    }
  }

  @Test
  void aCancelledStatementCanRunTheNextQuery() throws Exception {
    try (Connection conn = Stacks.connect();
        Statement st = conn.createStatement()) {
      st.cancel();
      SQLException none =
          assertThrows(SQLException.class, () -> st.executeQuery("select * from no_such_relation"));
      assertTrue(ConnectTest.causes(none).contains("no_such_relation"));
    }
  }
}
