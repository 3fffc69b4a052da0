// JdbcCheck drives a server with pgJDBC as Trino's PostgreSQL connector
// does, and prints what it reads, one fact a line, for the Go test
// (pgwire/jdbc_test.go) to compare with what PostgreSQL 15 gives. Lines
// starting with "~" hold values that differ by design (statistics) and
// are checked by the Go test on their own.
//
// Usage: java -cp .:postgresql.jar JdbcCheck jdbc:postgresql://host:port/db user
import java.sql.*;
import java.util.*;

public class JdbcCheck {
    static void print(String s) { System.out.println(s); }

    static String row(ResultSet rs, String... cols) throws SQLException {
        StringBuilder b = new StringBuilder();
        for (String c : cols) {
            if (b.length() > 0) b.append(" | ");
            b.append(c).append('=').append(rs.getString(c));
        }
        return b.toString();
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", args[1]);
        p.setProperty("sslmode", "disable");
        try (Connection c = DriverManager.getConnection(args[0], p)) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS jdbc_events");
                s.execute("CREATE TABLE jdbc_events (id bigint PRIMARY KEY, name text, amount double precision, ts timestamp)");
            }
            // 10 000 rows through the COPY API (COPY FROM STDIN, one commit).
            StringBuilder data = new StringBuilder();
            for (int i = 1; i <= 10000; i++)
                data.append(i).append(",n").append(i % 10).append(',').append(i / 4.0).append(",2024-01-01 00:00:00\n");
            long copied = ((org.postgresql.PGConnection) c).getCopyAPI().copyIn(
                    "COPY jdbc_events (id, name, amount, ts) FROM STDIN (FORMAT csv)", new java.io.StringReader(data.toString()));
            print("copied: " + copied);
            // A PreparedStatement with int8 and varchar parameters, batched.
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jdbc_events (id, name, amount, ts) VALUES (?, ?, ?, ?)")) {
                for (int i = 10001; i <= 10003; i++) {
                    ps.setLong(1, i);
                    ps.setString(2, "n" + (i % 10));
                    ps.setDouble(3, i / 4.0);
                    ps.setTimestamp(4, Timestamp.valueOf("2024-01-01 00:00:00"));
                    ps.addBatch();
                }
                print("batch: " + Arrays.toString(ps.executeBatch()));
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT name, amount FROM jdbc_events WHERE id = ? AND name = ?")) {
                ps.setLong(1, 10002);
                ps.setString(2, "n2");
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) print("lookup: " + row(rs, "name", "amount"));
                }
            }
            DatabaseMetaData md = c.getMetaData();
            print("product: " + md.getDatabaseProductName());
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) {
                    String schema = rs.getString("TABLE_SCHEM");
                    if (schema.equals("public") || schema.equals("pg_catalog") || schema.equals("information_schema"))
                        print("schema: " + schema);
                }
            }
            try (ResultSet rs = md.getTables(null, "public", "jdbc_events", new String[] {"TABLE"})) {
                while (rs.next()) print("table: " + row(rs, "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE", "REMARKS"));
            }
            try (ResultSet rs = md.getColumns(null, "public", "jdbc_events", null)) {
                while (rs.next())
                    print("column: " + row(rs, "COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "COLUMN_SIZE", "DECIMAL_DIGITS",
                            "NULLABLE", "IS_NULLABLE", "ORDINAL_POSITION", "COLUMN_DEF", "IS_AUTOINCREMENT"));
            }
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "jdbc_events")) {
                while (rs.next()) print("primary key: " + row(rs, "TABLE_NAME", "COLUMN_NAME", "KEY_SEQ", "PK_NAME"));
            }

            // A read-only transaction reading 10 003 rows 100 at a time:
            // Execute with a row limit, answered PortalSuspended.
            c.setAutoCommit(false);
            c.setReadOnly(true);
            try (Statement s = c.createStatement()) {
                s.setFetchSize(100);
                long n = 0, sum = 0;
                try (ResultSet rs = s.executeQuery("SELECT id, name FROM jdbc_events ORDER BY id")) {
                    while (rs.next()) {
                        n++;
                        sum += rs.getLong(1);
                    }
                }
                print("fetched: " + n + " rows, sum " + sum);
            }
            // The statements Trino's PostgreSQL connector sends.
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT \"id\", \"name\", \"amount\" FROM \"public\".\"jdbc_events\" WHERE (\"id\" >= ? AND \"id\" <= ?) AND \"name\" IN (?,?) ORDER BY \"id\" ASC NULLS LAST LIMIT 5")) {
                ps.setLong(1, 10);
                ps.setLong(2, 100);
                ps.setString(3, "n1");
                ps.setString(4, "n3");
                ps.setFetchSize(2);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) print("range: " + row(rs, "id", "name", "amount"));
                }
            }
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT \"name\", \"_pfgnrtd_0\" FROM (SELECT \"name\", count(*) AS \"_pfgnrtd_0\" FROM \"public\".\"jdbc_events\" GROUP BY \"name\") o ORDER BY \"name\"")) {
                while (rs.next()) print("group: " + row(rs, "name", "_pfgnrtd_0"));
            }
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) AS n FROM \"" + c.getCatalog() + "\".\"public\".\"jdbc_events\" WHERE 1=1")) {
                while (rs.next()) print("three-part name: " + row(rs, "n"));
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1 x")) {
                while (rs.next()) print("select 1: " + row(rs, "x"));
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT \"id\" FROM \"public\".\"jdbc_events\" WHERE \"id\" IN (?,?) AND 1=1 ORDER BY \"id\" DESC NULLS FIRST")) {
                ps.setLong(1, 7);
                ps.setLong(2, 9999);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) print("in: " + row(rs, "id"));
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT reltuples FROM pg_class WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = ?) AND relname = ?")) {
                ps.setString(1, "public");
                ps.setString(2, "jdbc_events");
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) print("~reltuples: " + rs.getLong(1));
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT attname, null_frac, n_distinct, avg_width FROM pg_stats WHERE schemaname = ? AND tablename = ?")) {
                ps.setString(1, "public");
                ps.setString(2, "jdbc_events");
                try (ResultSet rs = ps.executeQuery()) {
                    int n = 0;
                    while (rs.next()) n++;
                    print("~pg_stats rows: " + n);
                }
            }
            c.commit();
            c.setReadOnly(false);
            // A write in a read-only transaction is refused.
            c.setReadOnly(true);
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO jdbc_events VALUES (0, 'x', 0, NULL)");
                print("read-only insert: accepted");
            } catch (SQLException e) {
                print("read-only insert: " + e.getSQLState());
            }
            c.rollback();
            c.setReadOnly(false);
            // Trino's page sink: autocommit off, batched INSERTs, then
            // COMMIT (or ROLLBACK when the query fails). Another
            // connection sees the rows only after COMMIT.
            try (Connection other = DriverManager.getConnection(args[0], p);
                 PreparedStatement ps = c.prepareStatement(
                         "INSERT INTO \"public\".\"jdbc_events\" (\"id\", \"name\", \"amount\", \"ts\") VALUES (?, ?, ?, ?)")) {
                String q = "SELECT count(*) FROM jdbc_events WHERE id > 20000";
                for (String end : new String[] {"rollback", "commit"}) {
                    for (int i = 20001; i <= 20005; i++) {
                        ps.setLong(1, i);
                        ps.setString(2, "t");
                        ps.setDouble(3, i);
                        ps.setTimestamp(4, Timestamp.valueOf("2024-01-02 00:00:00"));
                        ps.addBatch();
                    }
                    ps.executeBatch();
                    print("sink before " + end + ": own " + count(c, q) + ", other " + count(other, q));
                    if (end.equals("commit")) c.commit(); else c.rollback();
                    print("sink after " + end + ": own " + count(c, q) + ", other " + count(other, q));
                }
            }
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE jdbc_events");
            }
        }
    }
}
