package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dormousedb/dormouse/storage/storagetest"
)

// TestServePostgres starts `dormouse serve` as `make run` does — a demo
// table made on first start — on a free port, reads the psql line it
// prints, queries the demo table with pgx, and stops it with SIGINT. A
// second start keeps the table as it is.
func TestServePostgres(t *testing.T) {
	store := storagetest.LocalStore(t)
	url, env := storagetest.URL(t, store)
	for _, want := range []int64{500, 500} {
		cmd := exec.Command(os.Args[0], "serve", "--store", url, "--demo", "500", "--listen", "127.0.0.1:0",
			"--flight-listen", "", "--compactor-workers", "0", "--split=false", "--gc=false")
		cmd.Env = append(append(os.Environ(), "DORMOUSE_TEST_AS_CLI=1"), env...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 10)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		var psql string
		select {
		case l := <-lines:
			psql, _ = strings.CutPrefix(l, "connect with: ")
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("serve printed no psql line within 30s")
		}
		f := strings.Fields(psql) // psql -h HOST -p PORT
		if len(f) != 5 || f[0] != "psql" || f[1] != "-h" || f[3] != "-p" {
			cmd.Process.Kill()
			t.Fatalf("serve printed %q, want a psql command line", psql)
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, "postgres://someone@"+f[2]+":"+f[4]+"/anything?sslmode=disable")
		if err != nil {
			cmd.Process.Kill()
			t.Fatal(err)
		}
		var n int64
		err = conn.QueryRow(ctx, "SELECT count(*) FROM demo").Scan(&n)
		conn.Close(ctx)
		if err != nil || n != want {
			t.Errorf("demo has %d rows (%v), want %d", n, err, want)
		}
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("serve did not stop cleanly on SIGINT: %v", err)
		}
	}
}
