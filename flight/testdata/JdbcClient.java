// Drives a Dormouse Flight SQL server with the Arrow Flight SQL JDBC driver,
// as DBeaver and other JDBC tools do: DatabaseMetaData, then queries.
//
//   java --add-opens=java.base/java.nio=ALL-UNNAMED -cp flight-sql-jdbc-driver.jar JdbcClient.java HOST:PORT
//
// Prints one line per check and exits non-zero at the first that fails.
import java.sql.*;
import java.util.*;

public class JdbcClient {
    static void check(String what, Object got, Object want) {
        if (!Objects.equals(got, want)) {
            System.out.println("FAIL " + what + ": got " + got + ", want " + want);
            System.exit(1);
        }
        System.out.println("ok " + what);
    }

    static List<String> column(ResultSet rs, String name) throws SQLException {
        List<String> out = new ArrayList<>();
        while (rs.next()) out.add(rs.getString(name));
        rs.close();
        return out;
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:arrow-flight-sql://" + args[0] + "?useEncryption=false&user=java&password=any";
        try (Connection conn = DriverManager.getConnection(url)) {
            try (Statement st = conn.createStatement()) {
                st.executeUpdate("CREATE TABLE jt (k bigint, name text, day date, PRIMARY KEY (k)) WITH (split_points = '10')");
                check("insert count", st.executeUpdate("INSERT INTO jt SELECT x, 'n' || x, DATE '2024-01-01' + x FROM generate_series(1, 20) AS g(x)"), 20);
            }

            DatabaseMetaData md = conn.getMetaData();
            check("product name", md.getDatabaseProductName(), "Dormouse");
            check("catalogs", column(md.getCatalogs(), "TABLE_CAT"), List.of("dormouse"));
            check("schemas hold public", column(md.getSchemas(), "TABLE_SCHEM").contains("public"), true);
            check("tables", column(md.getTables(null, "public", "%", new String[] {"TABLE"}), "TABLE_NAME"), List.of("jt"));
            check("system tables hold dormouse.partitions",
                column(md.getTables(null, "dormouse", "%", new String[] {"SYSTEM TABLE"}), "TABLE_NAME").contains("partitions"), true);
            List<String> types = new ArrayList<>();
            try (ResultSet rs = md.getColumns(null, "public", "jt", "%")) {
                while (rs.next()) types.add(rs.getString("COLUMN_NAME") + ":" + rs.getInt("DATA_TYPE"));
            }
            check("columns", types, List.of("k:" + Types.BIGINT, "name:" + Types.VARCHAR, "day:" + Types.DATE));
            check("primary keys", column(md.getPrimaryKeys(null, "public", "jt"), "COLUMN_NAME"), List.of("k"));
            check("table types", column(md.getTableTypes(), "TABLE_TYPE").containsAll(List.of("TABLE", "SYSTEM TABLE")), true);
            check("no imported keys", column(md.getImportedKeys(null, "public", "jt"), "PKCOLUMN_NAME"), List.of());
            // (getTypeInfo is Avatica's empty default in this driver, whatever the server.)

            try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery("SELECT k, name, day FROM jt ORDER BY k")) {
                List<String> rows = new ArrayList<>();
                while (rs.next()) rows.add(rs.getLong(1) + "|" + rs.getString(2) + "|" + rs.getDate(3));
                check("query rows", rows.size(), 20);
                check("first row", rows.get(0), "1|n1|2024-01-02");
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT name FROM jt WHERE k = ?")) {
                ps.setLong(1, 7);
                try (ResultSet rs = ps.executeQuery()) {
                    check("prepared query", column(rs, "name"), List.of("n7"));
                }
            }
        }
        System.out.println("jdbc: all checks passed");
    }
}
