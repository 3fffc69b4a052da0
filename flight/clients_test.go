package flight_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/dormousedb/dormouse/internal/testtools"
)

// The Python ADBC driver and the Flight SQL JDBC driver, as their users run
// them, against a real server: `make setup` installs both (the venv under
// .tools/venv, the driver jar under .tools/jdbc) and exports where they are.
// Without them these tests fail, unless DORMOUSE_SKIP_FLIGHT_CLIENTS=1
// skips them, loudly.

// tool returns the path an environment variable names, else the first
// existing match of a pattern under .tools, else fails or skips.
func tool(t *testing.T, env, pattern, what string) string {
	t.Helper()
	return testtools.Find(t, env, pattern, "DORMOUSE_SKIP_FLIGHT_CLIENTS", what)
}

func runClient(t *testing.T, cmd *exec.Cmd, done string) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(l, "INFO: ") && !strings.Contains(l, " org.apache.arrow.") {
			lines = append(lines, l) // drop the JDBC driver's allocator chatter
		}
	}
	text := strings.Join(lines, "\n")
	if err != nil || !strings.Contains(text, done) {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, text)
	}
	t.Log(text)
}

// TestPythonADBC runs flight/testdata/adbc_client.py: a query to a pyarrow
// table, parameterised queries, adbc_ingest.
func TestPythonADBC(t *testing.T) {
	python := tool(t, "DORMOUSE_TEST_PYTHON", "venv/bin/python", "the Python venv with adbc-driver-flightsql")
	if err := exec.Command(python, "-c", "import adbc_driver_flightsql, pyarrow").Run(); err != nil {
		t.Fatalf("%s lacks adbc_driver_flightsql or pyarrow (make pyenv installs them): %v", python, err)
	}
	s := serve(t, localStore(t), nil, false)
	runClient(t, exec.Command(python, "testdata/adbc_client.py", s.URI()), "python adbc: all checks passed")
}

// TestJDBC runs flight/testdata/JdbcClient.java with the Arrow Flight SQL
// JDBC driver: DatabaseMetaData, a query, a prepared query.
func TestJDBC(t *testing.T) {
	jar := tool(t, "DORMOUSE_TEST_FLIGHT_JDBC", "jdbc/flight-sql-jdbc-driver-*.jar", "the Flight SQL JDBC driver")
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatalf("no java: %v", err)
	}
	s := serve(t, localStore(t), nil, false)
	runClient(t, exec.Command(java, "--add-opens=java.base/java.nio=ALL-UNNAMED", "-cp", jar,
		"testdata/JdbcClient.java", s.addr(&s.Flight)), "jdbc: all checks passed")
}
