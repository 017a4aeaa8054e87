package dev.rsfs.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A result past the Data API's cap reaches a JDBC client whole: the driver's queries are prepared
 * and answered before they run, so the gateway finds the refusal in DoGet and streams the result
 * through UNLOAD there. The stack's emulator caps results at 300 kB (local unloads to a directory
 * of its own); the URL property {@code rsfs-unload} becomes the header of the same name.
 */
class UnloadTest {
  private static final String BIG =
      "select g as n, repeat('z', 100) as pad from generate_series(1, 20000) g";
  private static LocalStack capped;

  @BeforeAll
  static void start() throws Exception {
    capped = LocalStack.start(false, List.of("--max-result-bytes", "300000"));
  }

  @AfterAll
  static void stop() throws Exception {
    capped.close();
  }

  @Test
  void aResultPastTheCapArrivesWholeThroughUnload() throws Exception {
    try (Connection conn = Stacks.connect(capped);
        Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery(BIG)) {
      long rows = 0;
      long sum = 0;
      while (rs.next()) {
        rows++;
        sum += rs.getInt("n");
        assertEquals(100, rs.getString("pad").length());
      }
      assertEquals(20000, rows, capped.log());
      assertEquals(20000L * 20001 / 2, sum);
    }
  }

  @Test
  void withUnloadOffTheDataApisRefusalIsTheAnswer() throws Exception {
    try (Connection conn = Stacks.connect(capped, "rsfs-unload=off");
        Statement st = conn.createStatement()) {
      SQLException refused =
          assertThrows(
              SQLException.class,
              () -> {
                try (ResultSet rs = st.executeQuery(BIG)) {
                  while (rs.next()) {
                    // read to the end: the refusal may come with the stream
                  }
                }
              });
      String message = String.valueOf(refused.getMessage()) + " " + refused.getCause();
      assertTrue(message.contains("exceeds the limit"), message);
    }
  }

  @Test
  void unloadOnGivesTheSameRowsAsThePages() throws Exception {
    String sql = "select g as n, md5(g::text) as h from generate_series(1, 3000) g order by g";
    try (Connection on = Stacks.connect(capped, "rsfs-unload=on");
        Connection off = Stacks.connect(capped, "rsfs-unload=off");
        Statement a = on.createStatement();
        Statement b = off.createStatement();
        ResultSet x = a.executeQuery(sql);
        ResultSet y = b.executeQuery(sql)) {
      int rows = 0;
      while (x.next()) {
        assertTrue(y.next(), "the page path has fewer rows");
        assertEquals(y.getInt(1), x.getInt(1), "ORDER BY keeps its order through UNLOAD");
        assertEquals(y.getString(2), x.getString(2));
        rows++;
      }
      assertTrue(!y.next(), "the page path has more rows");
      assertEquals(3000, rows);
    }
  }
}
