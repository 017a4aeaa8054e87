package dev.rsfs.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Connecting as DBeaver and Tableau do: user/password, a bearer token, catalog and schema. */
class ConnectTest {

  private static String selectOne(Connection conn) throws SQLException {
    try (Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("select 1 as one")) {
      assertTrue(rs.next());
      return rs.getString(1);
    }
  }

  @Test
  void userAndPasswordConnectAndQuery() throws Exception {
    try (Connection conn = Stacks.connect()) {
      assertEquals("1", selectOne(conn));
      assertEquals(LocalStack.USER, conn.getMetaData().getUserName());
    }
  }

  @Test
  void aWrongPasswordIsRefusedWithTheServersReason() throws Exception {
    LocalStack stack = Stacks.plain();
    Properties info = new Properties();
    info.setProperty("user", LocalStack.USER);
    info.setProperty("password", "not-the-password");
    SQLException e =
        assertThrows(SQLException.class, () -> DriverManager.getConnection(stack.url(), info));
    String all = causes(e);
    assertTrue(all.contains("UNAUTHENTICATED"), all);
  }

  @Test
  void noCredentialsAreRefused() throws Exception {
    LocalStack stack = Stacks.plain();
    SQLException e =
        assertThrows(
            SQLException.class,
            () -> {
              try (Connection conn = DriverManager.getConnection(stack.url(), new Properties())) {
                selectOne(conn);
              }
            });
    assertTrue(causes(e).contains("authentication required"), causes(e));
  }

  @Test
  void aStaticTokenConnectsWithTheTokenProperty() throws Exception {
    LocalStack stack = Stacks.plain();
    try (Connection conn =
            DriverManager.getConnection(stack.url("token=" + LocalStack.TOKEN), new Properties());
        Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("select count(*) from category")) {
      assertTrue(rs.next());
      assertEquals(11, rs.getLong(1));
    }
  }

  @Test
  void aWrongTokenIsRefused() throws Exception {
    LocalStack stack = Stacks.plain();
    SQLException e =
        assertThrows(
            SQLException.class,
            () -> {
              try (Connection conn =
                  DriverManager.getConnection(
                      stack.url("token=not-a-token-of-this-gateway"), new Properties())) {
                selectOne(conn);
              }
            });
    assertTrue(causes(e).contains("UNAUTHENTICATED"), causes(e));
  }

  @Test
  void theCatalogPropertyPicksTheDatabaseQueriesRunIn() throws Exception {
    try (Connection plain = Stacks.connect();
        Statement st = plain.createStatement();
        ResultSet rs = st.executeQuery("select current_database()")) {
      assertTrue(rs.next());
      assertEquals("dev", rs.getString(1));
    }
    // The driver sends the catalog property as SetSessionOptions at connect.
    Connection conn = Stacks.connect("catalog=postgres");
    try {
      try (Statement st = conn.createStatement();
          ResultSet rs = st.executeQuery("select current_database()")) {
        assertTrue(rs.next());
        assertEquals("postgres", rs.getString(1));
      }
      try (Statement st = conn.createStatement()) {
        st.execute("create schema if not exists jdbc_schema_test");
        st.execute("drop table if exists jdbc_schema_test.marker");
        st.execute("create table jdbc_schema_test.marker (v int)");
        st.execute("insert into jdbc_schema_test.marker values (42)");
      }
      // Connection.setSchema only sets the driver's own field (it sends nothing):
      // BI tools name the schema in the SQL, as here.
      try (Statement st = conn.createStatement();
          ResultSet rs = st.executeQuery("select v from jdbc_schema_test.marker")) {
        assertTrue(rs.next());
        assertEquals(42, rs.getInt(1));
      }
    } finally {
      closeSessionConnection(conn);
    }
  }

  /**
   * Closes a connection made with the catalog property. Driver 18.3.0 closes its client twice:
   * the first CloseSession reaches the gateway, the second fails on the closed channel ("Channel
   * shutdown invoked"); 19.0.0 closes once. Any other error is the gateway's and fails the test.
   */
  static void closeSessionConnection(Connection conn) throws SQLException {
    try {
      conn.close();
    } catch (SQLException e) {
      if (!causes(e).contains("Channel shutdown invoked")) {
        throw e;
      }
    }
  }

  @Test
  void anUnknownCatalogIsRefusedWithRedshiftsMessage() throws Exception {
    SQLException e =
        assertThrows(
            SQLException.class,
            () -> {
              try (Connection conn = Stacks.connect("catalog=no_such_database")) {
                selectOne(conn);
              }
            });
    assertTrue(causes(e).contains("no_such_database"), causes(e));
  }

  @Test
  void badSqlRaisesAnSqlExceptionWithTheServersMessage() throws Exception {
    try (Connection conn = Stacks.connect();
        Statement st = conn.createStatement()) {
      SQLException e =
          assertThrows(SQLException.class, () -> st.executeQuery("select * from no_such_table"));
      assertTrue(causes(e).contains("no_such_table"), causes(e));
      // The connection is still good afterwards.
      assertEquals("1", selectOne(conn));
    }
  }

  /** The messages of an exception and all of its causes. */
  static String causes(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
    }
    return all.toString();
  }
}
