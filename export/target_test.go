package export

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseTarget(t *testing.T) {
	cases := []struct {
		raw, url, dir, bucket, prefix, pattern string
		err                                    error
	}{
		{raw: "s3://b/x/y/", url: "s3://b/x/y/", bucket: "b", prefix: "x/y/"},
		{raw: "s3://b/x", url: "s3://b/x/", bucket: "b", prefix: "x/"},
		{raw: "s3://b", url: "s3://b/", bucket: "b"},
		{raw: "s3://b/in/*.parquet", url: "s3://b/in/*.parquet", bucket: "b", prefix: "in/", pattern: "*.parquet"},
		{raw: "file:///data/out/", url: "file:///data/out/", dir: "/data/out"},
		{raw: "/data/out", url: "file:///data/out/", dir: "/data/out"},
		{raw: "/data/in/part-*.csv", url: "file:///data/in/part-*.csv", dir: "/data/in", pattern: "part-*.csv"},
		{raw: "file://relative/x", err: ErrTarget},
		{raw: "relative/x", err: ErrTarget},
		{raw: "gs://b/x", err: ErrTarget},
		{raw: "s3:///x", err: ErrTarget},
	}
	for _, c := range cases {
		got, err := ParseLocation(c.raw)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: error %v, want %v", c.raw, err, c.err)
			}
			continue
		}
		if err != nil || got.URL != c.url || got.Dir != c.dir || got.Bucket != c.bucket || got.Prefix != c.prefix || got.Pattern != c.pattern {
			t.Errorf("%s: %+v, %v", c.raw, got, err)
		}
	}
	if _, err := ParseTarget("/data/*.parquet"); !errors.Is(err, ErrTarget) {
		t.Errorf("an export to a pattern: %v", err)
	}
}

func TestWithin(t *testing.T) {
	root := t.TempDir()
	exports := filepath.Join(root, "exports")
	os.MkdirAll(filepath.Join(exports, "in"), 0o755)
	os.Symlink(root, filepath.Join(exports, "up"))
	for _, c := range []struct {
		path string
		ok   bool
	}{
		{exports, true},
		{filepath.Join(exports, "in"), true},
		{filepath.Join(exports, "new", "deeper"), true},
		{filepath.Join(exports, "..", "elsewhere"), false},
		{filepath.Join(exports, "up", "elsewhere"), false},
		{root, false},
		{exports + "2", false},
	} {
		tg, err := ParseLocation(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := tg.Within(exports); (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrOutsideDir)) {
			t.Errorf("%s within %s: %v, want ok %v", c.path, exports, err, c.ok)
		}
	}
	s3, _ := ParseLocation("s3://b/anything/")
	if err := s3.Within(exports); err != nil {
		t.Errorf("S3 is not confined: %v", err)
	}
}

func TestOptions(t *testing.T) {
	o := DefaultOptions()
	if err := o.Check(); err != nil || o.Format != FormatParquet || o.Compression != CompressionZstd {
		t.Fatalf("defaults %+v: %v", o, err)
	}
	for _, c := range []struct {
		set  [][3]string // name, value, "" when absent
		want string      // substring of the error, "" for none
	}{
		{[][3]string{{"format", "csv", "v"}, {"header", "", ""}, {"delimiter", "|", "v"}, {"null", "NA", "v"}}, ""},
		{[][3]string{{"FORMAT", "xml", "v"}}, `FORMAT "xml" is not supported`},
		{[][3]string{{"compression", "lz4", "v"}}, "COMPRESSION"},
		{[][3]string{{"format", "csv", "v"}, {"compression", "zstd", "v"}}, "FORMAT parquet only"},
		{[][3]string{{"header", "", ""}}, "FORMAT csv only"},
		{[][3]string{{"max_file_rows", "0", "v"}}, "positive"},
		{[][3]string{{"overwrite", "maybe", "v"}}, "true or false"},
		{[][3]string{{"delimiter", "ab", "v"}}, "DELIMITER"},
		{[][3]string{{"colour", "red", "v"}}, `"colour" is not supported`},
	} {
		o := DefaultOptions()
		var err error
		for _, s := range c.set {
			if err = o.Set(s[0], s[1], s[2] != ""); err != nil {
				break
			}
		}
		if err == nil {
			err = o.Check()
		}
		if (c.want == "") != (err == nil) || (err != nil && (!errors.Is(err, ErrOption) || !strings.Contains(err.Error(), c.want))) {
			t.Errorf("%v: %v, want %q", c.set, err, c.want)
		}
	}
}
