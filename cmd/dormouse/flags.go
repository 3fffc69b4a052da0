package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/dormousedb/dormouse/storage"
	"github.com/dormousedb/dormouse/storage/table"
)

// newFlags returns a flag set for a sub-command with the --store flag every
// command shares.
func newFlags(name, argsUsage string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("dormouse "+name, flag.ContinueOnError)
	def := os.Getenv(storage.EnvStore)
	if def == "" {
		def = storage.DefaultStore
	}
	store := fs.String("store", def, "store URL: file:///dir or s3://bucket/prefix (env "+storage.EnvStore+")")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: dormouse %s [flags] %s\n\nflags:\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return fs, store
}

// parseFlags parses flags that may come before, between or after the
// positional arguments, and returns the positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, errHelp
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// errHelp ends a command that printed its help.
var errHelp = usageError{"help requested"}

func openDB(ctx context.Context, url string) (*storage.DB, error) {
	return storage.Open(ctx, url)
}

// openTable opens the store at url and the named table in it.
func openTable(ctx context.Context, url, name string) (*table.Table, error) {
	db, err := openDB(ctx, url)
	if err != nil {
		return nil, err
	}
	return db.Table(ctx, name)
}

// multiFlag collects a repeatable flag's values.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// byteSize is a flag holding a size such as 512MiB, 2GB or 1048576.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	v, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(v)
	return nil
}

func parseByteSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 512MiB, 2GB)", s)
	}
	return int64(v * float64(mult)), nil
}

// isTerminal reports whether w is a terminal, where progress bars belong;
// never in CI logs.
func isTerminal(w io.Writer) bool {
	if os.Getenv("CI") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
