package dev.rsfs.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The driver's default, useEncryption=true, against `local --tls` and its throwaway CA. */
class TlsTest {
  private static LocalStack stack;

  @BeforeAll
  static void start() throws Exception {
    stack = LocalStack.start(true);
    assertTrue(stack.caCertificate != null, "local --tls printed no CA file");
  }

  @AfterAll
  static void stop() throws Exception {
    stack.close();
  }

  private static void assertQueries(Connection conn) throws Exception {
    try (Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("select 6 * 7 as answer")) {
      assertTrue(rs.next());
      assertEquals(42, rs.getLong(1));
    }
  }

  @Test
  void tlsRootCertsTrustsTheLocalCa() throws Exception {
    try (Connection conn =
        Stacks.connect(stack, "tlsRootCerts=" + stack.caCertificate, "useSystemTrustStore=false")) {
      assertQueries(conn);
    }
  }

  @Test
  void aTrustStoreWithTheCaWorksToo() throws Exception {
    Path store = stack.dir().resolve("truststore.p12");
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    try (InputStream pem = Files.newInputStream(stack.caCertificate)) {
      Certificate ca = CertificateFactory.getInstance("X.509").generateCertificate(pem);
      keys.setCertificateEntry("rsfs-local-ca", ca);
    }
    try (OutputStream out = Files.newOutputStream(store)) {
      keys.store(out, "changeit".toCharArray());
    }
    try (Connection conn =
        Stacks.connect(
            stack,
            "trustStore=" + store,
            "trustStorePassword=changeit",
            "useSystemTrustStore=false")) {
      assertQueries(conn);
    }
  }

  @Test
  void theSystemTrustStoreDoesNotTrustTheLocalCa() throws Exception {
    assertThrows(
        Exception.class,
        () -> {
          try (Connection conn = Stacks.connect(stack)) {
            assertQueries(conn);
          }
        });
  }

  @Test
  void plainTextIsRefusedOnTheTlsPort() throws Exception {
    Properties info = new Properties();
    info.setProperty("user", LocalStack.USER);
    info.setProperty("password", LocalStack.PASSWORD);
    String plain = stack.url().replace("useEncryption=true", "useEncryption=false");
    assertThrows(
        Exception.class,
        () -> {
          try (Connection conn = DriverManager.getConnection(plain, info)) {
            assertQueries(conn);
          }
        });
  }
}
