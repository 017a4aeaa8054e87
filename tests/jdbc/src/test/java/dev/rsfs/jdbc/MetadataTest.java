package dev.rsfs.jdbc;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** DatabaseMetaData as BI tools read it at connect and in their object trees. */
class MetadataTest {
  private static Connection conn;
  private static DatabaseMetaData meta;

  @BeforeAll
  static void connect() throws Exception {
    conn = Stacks.connect();
    meta = conn.getMetaData();
  }

  @AfterAll
  static void close() throws Exception {
    conn.close();
  }

  /**
   * What DBeaver and Tableau call right after connecting. The driver unboxes SqlInfo values and
   * throws when the server leaves one out, so each must answer.
   */
  @Test
  void theMethodsBiToolsCallAtConnectAllAnswer() {
    List<Executable> calls = new ArrayList<>();
    calls.add(() -> assertEquals("redshift-flight-sql", meta.getDatabaseProductName()));
    calls.add(() -> assertFalse(meta.getDatabaseProductVersion().isEmpty()));
    calls.add(() -> assertEquals("\"", meta.getIdentifierQuoteString()));
    calls.add(() -> assertNotNull(meta.getSQLKeywords()));
    calls.add(() -> assertNotNull(meta.getNumericFunctions()));
    calls.add(() -> assertNotNull(meta.getStringFunctions()));
    calls.add(() -> assertNotNull(meta.getSystemFunctions()));
    calls.add(() -> assertNotNull(meta.getTimeDateFunctions()));
    calls.add(() -> assertEquals("\\", meta.getSearchStringEscape()));
    calls.add(() -> assertNotNull(meta.getExtraNameCharacters()));
    calls.add(() -> assertEquals("database", meta.getCatalogTerm()));
    calls.add(() -> assertEquals("schema", meta.getSchemaTerm()));
    calls.add(() -> assertNotNull(meta.getProcedureTerm()));
    calls.add(() -> assertEquals(".", meta.getCatalogSeparator()));
    calls.add(() -> assertTrue(meta.isCatalogAtStart()));
    calls.add(() -> assertTrue(meta.supportsTransactions()));
    calls.add(() -> assertFalse(meta.supportsSavepoints()));
    // The driver answers these two from Avatica's defaults, not from SqlInfo.
    calls.add(() -> assertDoesNotThrow(() -> meta.storesLowerCaseIdentifiers()));
    calls.add(() -> assertDoesNotThrow(() -> meta.storesUpperCaseIdentifiers()));
    calls.add(() -> assertDoesNotThrow(() -> meta.supportsMixedCaseIdentifiers()));
    calls.add(() -> assertDoesNotThrow(() -> meta.supportsMixedCaseQuotedIdentifiers()));
    calls.add(() -> assertTrue(meta.supportsSchemasInTableDefinitions()));
    calls.add(() -> assertDoesNotThrow(() -> meta.supportsCatalogsInTableDefinitions()));
    calls.add(() -> assertTrue(meta.getMaxColumnNameLength() > 0));
    calls.add(() -> assertTrue(meta.getMaxTableNameLength() > 0));
    calls.add(() -> assertDoesNotThrow(() -> meta.getDefaultTransactionIsolation()));
    calls.add(() -> assertTrue(meta.supportsGroupBy()));
    calls.add(() -> assertTrue(meta.supportsOuterJoins()));
    calls.add(() -> assertTrue(meta.supportsUnion()));
    calls.add(() -> assertDoesNotThrow(() -> meta.nullsAreSortedHigh()));
    calls.add(() -> assertDoesNotThrow(() -> meta.supportsBatchUpdates()));
    calls.add(() -> assertDoesNotThrow(() -> meta.supportsStoredProcedures()));
    calls.add(() -> assertDoesNotThrow(() -> meta.supportsSubqueriesInExists()));
    calls.add(() -> assertDoesNotThrow(() -> meta.supportsConvert()));
    calls.add(() -> assertFalse(meta.isReadOnly()));
    assertAll(calls);
  }

  private static List<String> column(ResultSet rs, String name) throws Exception {
    List<String> values = new ArrayList<>();
    try (rs) {
      while (rs.next()) {
        values.add(rs.getString(name));
      }
    }
    return values;
  }

  @Test
  void catalogsAndSchemas() throws Exception {
    assertTrue(column(meta.getCatalogs(), "TABLE_CAT").contains("dev"));
    List<String> schemas = column(meta.getSchemas("dev", null), "TABLE_SCHEM");
    assertTrue(schemas.contains("public"), schemas.toString());
    assertFalse(schemas.contains("pg_toast"), schemas.toString());
  }

  @Test
  void tablesOfTheTickitSample() throws Exception {
    List<String> tables =
        column(meta.getTables("dev", "public", "%", new String[] {"TABLE"}), "TABLE_NAME");
    for (String t : List.of("users", "venue", "category", "date", "event", "listing", "sales")) {
      assertTrue(tables.contains(t), t + " in " + tables);
    }
    assertEquals(
        List.of("sales"), column(meta.getTables("dev", "public", "sal%", null), "TABLE_NAME"));
  }

  /** getColumns: JDBC types, sizes, decimal digits and nullability. */
  @Test
  void columnsOfSales() throws Exception {
    Map<String, Object[]> columns = new LinkedHashMap<>();
    try (ResultSet rs = meta.getColumns("dev", "public", "sales", null)) {
      while (rs.next()) {
        columns.put(
            rs.getString("COLUMN_NAME"),
            new Object[] {
              rs.getInt("DATA_TYPE"),
              rs.getString("TYPE_NAME"),
              rs.getObject("COLUMN_SIZE"),
              rs.getObject("DECIMAL_DIGITS"),
              rs.getInt("NULLABLE"),
              rs.getInt("ORDINAL_POSITION")
            });
      }
    }
    assertEquals(
        List.of(
            "salesid", "listid", "sellerid", "buyerid", "eventid", "dateid", "qtysold",
            "pricepaid", "commission", "saletime"),
        new ArrayList<>(columns.keySet()));
    Object[] salesid = columns.get("salesid");
    assertEquals(Types.INTEGER, salesid[0]);
    assertEquals("int4", salesid[1]);
    assertEquals(DatabaseMetaData.columnNoNulls, salesid[4]);
    assertEquals(1, salesid[5]);
    Object[] dateid = columns.get("dateid");
    assertEquals(Types.SMALLINT, dateid[0]);
    Object[] pricepaid = columns.get("pricepaid");
    assertEquals(Types.DECIMAL, pricepaid[0]);
    assertEquals("numeric", pricepaid[1]);
    assertEquals(8, pricepaid[2]);
    assertEquals(2, pricepaid[3]);
    assertEquals(DatabaseMetaData.columnNullable, pricepaid[4]);
    Object[] saletime = columns.get("saletime");
    assertEquals(Types.TIMESTAMP, saletime[0]);
    assertEquals("timestamp", saletime[1]);
  }

  @Test
  void primaryAndImportedKeys() throws Exception {
    try (Statement st = conn.createStatement()) {
      st.execute("drop table if exists jdbc_child");
      st.execute("drop table if exists jdbc_parent");
      st.execute("create table jdbc_parent (a int, b int, primary key (a, b))");
      st.execute(
          "create table jdbc_child (id int primary key, pa int, pb int,"
              + " foreign key (pa, pb) references jdbc_parent (a, b))");
    }
    List<String> keys = new ArrayList<>();
    try (ResultSet rs = meta.getPrimaryKeys("dev", "public", "jdbc_parent")) {
      while (rs.next()) {
        keys.add(rs.getString("COLUMN_NAME") + "#" + rs.getInt("KEY_SEQ"));
      }
    }
    assertEquals(List.of("a#1", "b#2"), keys);
    List<String> imported = new ArrayList<>();
    try (ResultSet rs = meta.getImportedKeys("dev", "public", "jdbc_child")) {
      while (rs.next()) {
        imported.add(
            rs.getString("PKTABLE_NAME")
                + "."
                + rs.getString("PKCOLUMN_NAME")
                + "<-"
                + rs.getString("FKCOLUMN_NAME"));
      }
    }
    assertEquals(List.of("jdbc_parent.a<-pa", "jdbc_parent.b<-pb"), imported);
  }

  @Test
  void typeInfoAnswers() throws Exception {
    // The driver builds getTypeInfo() itself, without calling the server: it must not throw.
    try (ResultSet rs = meta.getTypeInfo()) {
      assertNotNull(rs.getMetaData());
    }
  }
}
