// Package testtools finds the real clients that tests run against
// Dormouse (Python with pyarrow, DuckDB and the ADBC driver; the Flight
// SQL JDBC driver), which `make setup` and `make pyenv` install under the
// module's .tools directory. A test that needs one fails when it is
// missing, unless the skip variable named for it is 1: then it skips,
// loudly. Nothing here is used outside tests.
package testtools

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Root returns the module's root directory (the one holding go.mod),
// searched for upwards from the test's working directory.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Find returns the path of a tool: env's value when it names a file,
// else the last match of pattern under .tools. When there is none it
// skips the test if skipEnv is 1, else fails it; what names the tool in
// the message.
func Find(t testing.TB, env, pattern, skipEnv, what string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if m, _ := filepath.Glob(filepath.Join(Root(t), ".tools", pattern)); len(m) > 0 {
		return m[len(m)-1]
	}
	if os.Getenv(skipEnv) == "1" {
		t.Skipf("SKIPPED: %s is not installed (make setup installs it); %s=1", what, skipEnv)
	}
	t.Fatalf("%s is not installed: run make setup (or set %s), or %s=1 to skip", what, env, skipEnv)
	return ""
}

// Python returns the test venv's Python (DORMOUSE_TEST_PYTHON, else
// .tools/venv/bin/python; DORMOUSE_SKIP_PYTHON=1 skips without it).
func Python(t testing.TB) string {
	t.Helper()
	return Find(t, "DORMOUSE_TEST_PYTHON", "venv/bin/python", "DORMOUSE_SKIP_PYTHON", "the Python venv (make pyenv)")
}

// PythonLines runs a Python script of the module (a path from its root)
// with the venv's Python and returns the lines it printed; the test fails
// if the script does.
func PythonLines(t testing.TB, script string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(Python(t), append([]string{filepath.Join(Root(t), script)}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", script, args, err)
	}
	text := strings.TrimSuffix(string(out), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}
