package dev.rsfs.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PreparedStatement as JVM tools use it: typed setters, reuse, updates and batches. */
class PreparedTest {
  private static Connection conn;
  private static String table;

  @BeforeAll
  static void createTable() throws Exception {
    conn = Stacks.connect();
    table = "jdbc_prepared_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Statement st = conn.createStatement()) {
      st.execute(
          "create table "
              + table
              + " (id int, name varchar(40), amount numeric(10,2), at timestamp, day date)");
    }
  }

  @AfterAll
  static void close() throws Exception {
    try (Statement st = conn.createStatement()) {
      st.execute("drop table if exists " + table);
    }
    conn.close();
  }

  private static long count(String where) throws Exception {
    try (Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("select count(*) from " + table + " where " + where)) {
      assertTrue(rs.next());
      return rs.getLong(1);
    }
  }

  @Test
  void typedSettersInsertValuesThatReadBackExactly() throws Exception {
    try (PreparedStatement insert =
        conn.prepareStatement("insert into " + table + " values (?, ?, ?, ?, ?)")) {
      insert.setInt(1, 1);
      insert.setString(2, "naïve 'quoted'");
      insert.setBigDecimal(3, new BigDecimal("12345678.90"));
      insert.setTimestamp(4, Timestamp.valueOf(LocalDateTime.of(2008, 2, 29, 23, 59, 58, 125_000_000)));
      insert.setDate(5, Date.valueOf(LocalDate.of(1969, 7, 20)));
      assertEquals(1, insert.executeUpdate());
      // Reused with new parameters, one of them NULL.
      insert.setInt(1, 2);
      insert.setNull(2, Types.VARCHAR);
      insert.setBigDecimal(3, new BigDecimal("-0.01"));
      insert.setNull(4, Types.TIMESTAMP);
      insert.setNull(5, Types.DATE);
      assertEquals(1, insert.executeUpdate());
    }
    try (PreparedStatement select =
        conn.prepareStatement("select name, amount, at, day from " + table + " where id = ?")) {
      select.setInt(1, 1);
      try (ResultSet rs = select.executeQuery()) {
        assertTrue(rs.next());
        assertEquals("naïve 'quoted'", rs.getString(1));
        assertEquals(new BigDecimal("12345678.90"), rs.getBigDecimal(2));
        assertEquals(
            LocalDateTime.of(2008, 2, 29, 23, 59, 58, 125_000_000),
            rs.getTimestamp(3).toLocalDateTime());
        assertEquals(LocalDate.of(1969, 7, 20), rs.getDate(4).toLocalDate());
        assertFalse(rs.next());
      }
      select.setInt(1, 2);
      try (ResultSet rs = select.executeQuery()) {
        assertTrue(rs.next());
        assertNull(rs.getString(1));
        assertTrue(rs.wasNull());
        assertEquals(new BigDecimal("-0.01"), rs.getBigDecimal(2));
        assertNull(rs.getTimestamp(3));
        assertNull(rs.getDate(4));
      }
    }
  }

  @Test
  void parametersCompareWithEveryColumnType() throws Exception {
    try (Statement st = conn.createStatement()) {
      st.execute(
          "insert into "
              + table
              + " values (100, 'cmp', 5.25, '2020-01-02 03:04:05', '2020-01-02')");
    }
    try (PreparedStatement select =
        conn.prepareStatement(
            "select id from "
                + table
                + " where name = ? and amount >= ? and at < ? and day = ? and id between ? and ?")) {
      select.setString(1, "cmp");
      select.setBigDecimal(2, new BigDecimal("5.25"));
      select.setTimestamp(3, Timestamp.valueOf("2020-01-02 03:04:06"));
      select.setDate(4, Date.valueOf("2020-01-02"));
      select.setInt(5, 99);
      select.setLong(6, 101L);
      try (ResultSet rs = select.executeQuery()) {
        assertTrue(rs.next());
        assertEquals(100, rs.getInt(1));
        assertFalse(rs.next());
      }
    }
  }

  @Test
  void updatesCountTheirRows() throws Exception {
    try (Statement st = conn.createStatement()) {
      assertEquals(
          3,
          st.executeUpdate(
              "insert into " + table + " (id, name) values (200, 'u'), (201, 'u'), (202, 'u')"));
    }
    try (PreparedStatement update =
        conn.prepareStatement("update " + table + " set name = ? where id >= ? and name = 'u'")) {
      update.setString(1, "updated");
      update.setInt(2, 201);
      assertEquals(2, update.executeUpdate());
    }
    try (PreparedStatement delete =
        conn.prepareStatement("delete from " + table + " where name = ?")) {
      delete.setString(1, "updated");
      assertEquals(2, delete.executeUpdate());
    }
    assertEquals(1, count("id = 200"));
  }

  @Test
  void executeBatchInsertsEveryRow() throws Exception {
    try (PreparedStatement insert =
        conn.prepareStatement("insert into " + table + " (id, name) values (?, ?)")) {
      for (int i = 0; i < 5; i++) {
        insert.setInt(1, 300 + i);
        insert.setString(2, "batch-" + i);
        insert.addBatch();
      }
      int[] counts = insert.executeBatch();
      // The driver answers one count for the whole batch (its limit, not the gateway's).
      assertTrue(counts.length >= 1, "counts: " + counts.length);
    }
    assertEquals(5, count("id between 300 and 304 and name like 'batch-%'"));
    List<Integer> ids = new ArrayList<>();
    try (Statement st = conn.createStatement();
        ResultSet rs =
            st.executeQuery("select id from " + table + " where name like 'batch-%' order by id")) {
      while (rs.next()) {
        ids.add(rs.getInt(1));
      }
    }
    assertEquals(List.of(300, 301, 302, 303, 304), ids);
  }

  @Test
  void autoCommitOffCommitAndRollbackDoNotFail() throws Exception {
    // The driver's commit() and rollback() send nothing and setAutoCommit(false) opens no
    // transaction: statements run in autocommit mode whatever these calls say.
    try (Connection c = Stacks.connect()) {
      assertDoesNotThrow(() -> c.setAutoCommit(false));
      try (Statement st = c.createStatement()) {
        assertEquals(1, st.executeUpdate("insert into " + table + " (id) values (400)"));
      }
      assertDoesNotThrow(() -> c.commit());
      assertDoesNotThrow(() -> c.rollback());
    }
    assertEquals(1, count("id = 400"));
  }

  @Test
  void theParameterMetaDataNamesTheColumnTypes() throws Exception {
    try (PreparedStatement ps =
        conn.prepareStatement("select id from " + table + " where id = ? and name = ?")) {
      assertEquals(2, ps.getParameterMetaData().getParameterCount());
      assertArrayEquals(
          new int[] {Types.INTEGER, Types.VARCHAR},
          new int[] {
            ps.getParameterMetaData().getParameterType(1),
            ps.getParameterMetaData().getParameterType(2)
          });
    }
  }
}
