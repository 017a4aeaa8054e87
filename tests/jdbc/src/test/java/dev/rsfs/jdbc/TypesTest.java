package dev.rsfs.jdbc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every Redshift type the converter supports, read back through the JDBC getters BI tools use. The
 * JVM runs in UTC (surefire's argLine), as the gateway's timestamps are.
 */
class TypesTest {
  private static Connection conn;
  private static String table;

  @BeforeAll
  static void createTable() throws Exception {
    conn = Stacks.connect();
    table = "jdbc_types_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Statement st = conn.createStatement()) {
      st.execute(
          "create table "
              + table
              + " (id int, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,"
              + " n numeric(38,10), n2 numeric(8,2), b boolean, ch char(5), vc varchar(40),"
              + " d date, ts timestamp, tstz timestamptz, by bytea)");
      st.execute(
          "insert into "
              + table
              + " values (1, -32768, -2147483648, -9223372036854775808, -1.5, -2.5e300,"
              + " '-1234567890123456789012345678.1234567890', '-0.01', false, 'ab',"
              + " 'naïve café 日本語', '1969-12-31', '1901-12-13 20:45:52.123456',"
              + " '2021-06-01 12:34:56.789+05:30', '\\x00ff10'::bytea),"
              + " (2, null, null, null, null, null, null, null, null, null, null, null, null,"
              + " null, null)");
    }
  }

  @AfterAll
  static void close() throws Exception {
    try (Statement st = conn.createStatement()) {
      st.execute("drop table if exists " + table);
    }
    conn.close();
  }

  @Test
  void everyTypeThroughGetObjectAndTheTypedGetters() throws Exception {
    try (Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("select * from " + table + " order by id")) {
      assertTrue(rs.next());
      assertEquals((short) -32768, rs.getObject("i2"));
      assertEquals(-2147483648, rs.getObject("i4"));
      assertEquals(Long.MIN_VALUE, rs.getObject("i8"));
      assertEquals(-1.5f, rs.getObject("f4"));
      assertEquals(-2.5e300, rs.getObject("f8"));
      assertEquals(new BigDecimal("-1234567890123456789012345678.1234567890"), rs.getObject("n"));
      assertEquals(new BigDecimal("-1234567890123456789012345678.1234567890"), rs.getBigDecimal("n"));
      assertEquals(new BigDecimal("-0.01"), rs.getBigDecimal("n2"));
      assertEquals("-0.01", rs.getString("n2"));
      assertEquals(false, rs.getObject("b"));
      assertFalse(rs.getBoolean("b"));
      assertEquals("ab   ", rs.getString("ch"));
      assertEquals("naïve café 日本語", rs.getString("vc"));
      assertEquals(LocalDate.of(1969, 12, 31), rs.getDate("d").toLocalDate());
      Timestamp ts = rs.getTimestamp("ts");
      assertEquals(LocalDateTime.of(1901, 12, 13, 20, 45, 52, 123_456_000), ts.toLocalDateTime());
      Timestamp tstz = rs.getTimestamp("tstz");
      assertEquals(Instant.parse("2021-06-01T07:04:56.789Z"), tstz.toInstant());
      assertArrayEquals(new byte[] {0x00, (byte) 0xff, 0x10}, rs.getBytes("by"));
      assertFalse(rs.wasNull());

      assertTrue(rs.next());
      for (String column :
          new String[] {"i2", "i4", "i8", "f4", "f8", "n", "n2", "b", "ch", "vc", "d", "ts", "tstz", "by"}) {
        assertNull(rs.getObject(column), column);
        assertTrue(rs.wasNull(), column);
      }
      assertEquals(0, rs.getInt("i4"));
      assertTrue(rs.wasNull());
      assertNull(rs.getBigDecimal("n"));
      assertNull(rs.getTimestamp("ts"));
      assertNull(rs.getString("vc"));
      assertFalse(rs.next());
    }
  }

  @Test
  void resultSetMetaDataNamesTypesPrecisionAndScale() throws Exception {
    try (Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("select * from " + table + " order by id")) {
      ResultSetMetaData md = rs.getMetaData();
      assertEquals(15, md.getColumnCount());
      assertEquals("i2", md.getColumnName(2));
      assertEquals(Types.SMALLINT, md.getColumnType(2));
      assertEquals(Types.INTEGER, md.getColumnType(3));
      assertEquals(Types.BIGINT, md.getColumnType(4));
      // The driver reports Arrow's Float32 as FLOAT (its mapping, not the gateway's).
      assertEquals(Types.FLOAT, md.getColumnType(5));
      assertEquals(Types.DOUBLE, md.getColumnType(6));
      assertEquals(Types.DECIMAL, md.getColumnType(7));
      assertEquals(38, md.getPrecision(7));
      assertEquals(10, md.getScale(7));
      assertEquals(8, md.getPrecision(8));
      assertEquals(2, md.getScale(8));
      assertEquals(Types.BOOLEAN, md.getColumnType(9));
      assertEquals(Types.VARCHAR, md.getColumnType(11));
      assertEquals(Types.DATE, md.getColumnType(12));
      assertEquals(Types.TIMESTAMP, md.getColumnType(13));
      // getColumnTypeName is the driver's name of the Arrow type (DECIMAL), not
      // ARROW:FLIGHT:SQL:TYPE_NAME; precision, scale and table come from that metadata.
      assertEquals(table, md.getTableName(2));
      // isNullable is always columnNoNulls: the driver never reads Field.isNullable.
    }
  }

  @Test
  void aLargeResultStreamsEveryRow() throws Exception {
    long rows = 0;
    long sum = 0;
    try (Statement st = conn.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select g as n, 'row ' || g as label from generate_series(1, 200000) as g")) {
      while (rs.next()) {
        rows++;
        sum += rs.getLong(1);
        if (rows == 123_456) {
          assertEquals("row " + rs.getLong(1), rs.getString(2));
        }
      }
    }
    assertEquals(200_000, rows);
    assertEquals(200_000L * 200_001L / 2, sum);
  }

  @Test
  void aTickitJoinAgreesWithTheSameAggregateInSql() throws Exception {
    BigDecimal total = BigDecimal.ZERO;
    int groups = 0;
    try (Statement st = conn.createStatement();
        ResultSet rs =
            st.executeQuery(
                "select c.catname, sum(s.pricepaid) as revenue from sales s"
                    + " join event e using (eventid) join category c using (catid)"
                    + " group by 1 order by 1")) {
      while (rs.next()) {
        groups++;
        total = total.add(rs.getBigDecimal("revenue"));
      }
    }
    try (Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("select sum(pricepaid) from sales")) {
      assertTrue(rs.next());
      assertEquals(rs.getBigDecimal(1), total);
    }
    assertTrue(groups > 1, "groups: " + groups);
  }
}
