// Command sltpg fills in the expected results of sqllogictest files from a
// real PostgreSQL, so that the files are correct by construction:
//
//	./scripts/with-pg.sh go run ./sql/slt/cmd/sltpg sql/testdata/*.slt
//
// Each file runs in a fresh schema of the database DORMOUSE_TEST_PG_URL
// (or -url) names, as engine "postgresql" (so `onlyif dormouse` records
// are left alone), and every record whose outcome differs is rewritten in
// place: results, column types, ok/error and SQLSTATEs. Review the diff.
// With -all, the results of every query are re-written, also those that
// agree (after a change of format). With -check, nothing is written: it lists the differences and exits 1
// if there are any.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dormousedb/dormouse/sql/slt"
	"github.com/dormousedb/dormouse/sql/slt/pgoracle"
)

func main() {
	url := flag.String("url", os.Getenv(pgoracle.EnvURL), "PostgreSQL URL (default $"+pgoracle.EnvURL+")")
	check := flag.Bool("check", false, "only report differences; change no file")
	all := flag.Bool("all", false, "re-write the results of every query, also those that agree (to re-format)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: sltpg [-url URL] [-check] FILE.slt...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *url == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx := context.Background()
	conn, err := pgoracle.Connect(ctx, *url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sltpg:", err)
		os.Exit(1)
	}
	defer conn.Close(ctx)
	differ := 0
	for _, path := range flag.Args() {
		n, err := runFile(ctx, conn, path, !*check, *all)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sltpg:", err)
			os.Exit(1)
		}
		differ += n
	}
	if *check && differ > 0 {
		os.Exit(1)
	}
}

// runFile runs one file in a fresh schema and returns how many records
// differed (and were rewritten, if rewrite).
func runFile(ctx context.Context, conn *pgoracle.Conn, path string, rewrite, all bool) (int, error) {
	if err := conn.UseNewSchema(ctx, filepath.Base(path)); err != nil {
		return 0, err
	}
	defer conn.DropSchema(ctx)
	r := &slt.Runner{Engine: "postgresql", Rewrite: rewrite, RewriteAll: all}
	rep, err := r.RunFile(ctx, path, conn)
	if err != nil {
		return 0, err
	}
	for _, f := range rep.Failures {
		if rewrite {
			fmt.Printf("%s:%d: rewritten\n", f.File, f.Line)
		} else {
			fmt.Println(f.Error())
		}
	}
	fmt.Printf("%s: %d records run, %d skipped, %d differed\n", path, rep.Ran, rep.Skipped, len(rep.Failures))
	return len(rep.Failures), nil
}
