package export

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/local"
	"github.com/dormousedb/dormouse/storage/objstore/s3"
)

// Target is where an export writes, or an import reads: a directory on a
// local disk or a prefix of an S3 bucket, and for an import a glob on the
// last element. Its fields are plain data, kept in the exports log.
type Target struct {
	// URL is the normalised target: file:///abs/dir/ or s3://bucket/prefix/
	// (with the glob, if any, at the end).
	URL string `json:"url"`
	// Dir is the local directory ("" for S3).
	Dir string `json:"dir,omitempty"`
	// Bucket and Prefix name the S3 location; Prefix is "" or ends in "/".
	Bucket string `json:"bucket,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	// Pattern is a glob (path.Match) on the names of the files under the
	// directory or prefix, for an import; "" means every file.
	Pattern string `json:"pattern,omitempty"`
	// File is one named file under the directory or prefix, for an import
	// of a single file.
	File string `json:"file,omitempty"`
}

// ParseTarget reads an export target: s3://bucket/prefix/, file:///abs/dir/
// or an absolute directory. S3's endpoint, region and credentials come
// the standard AWS way when the target is opened.
func ParseTarget(raw string) (Target, error) {
	t, err := parseLocation(raw)
	if err != nil {
		return t, err
	}
	if t.Pattern != "" {
		return t, fmt.Errorf("%w: %q: an export writes to a directory, not a pattern", ErrTarget, raw)
	}
	return t, nil
}

// ParseSource reads an import source: like a target, or with a glob in its
// last element (s3://bucket/data/*.parquet, /abs/dir/part-*.csv), or one
// file. Whether a local path without a glob is a file or a directory is
// decided by looking; an S3 key without a trailing slash is a file if an
// object of that name exists, else a prefix.
func ParseSource(ctx context.Context, raw string) (Target, error) {
	t, err := parseLocation(raw)
	if err != nil || t.Pattern != "" {
		return t, err
	}
	switch {
	case t.Dir != "":
		trimmed := strings.TrimSuffix(strings.TrimPrefix(raw, "file://"), "/")
		st, err := os.Stat(trimmed)
		if err != nil {
			return t, fmt.Errorf("%w: %s: %w", ErrInput, raw, err)
		}
		if !st.IsDir() {
			t.Dir, t.File = filepath.Dir(trimmed), filepath.Base(trimmed)
			t.URL = "file://" + trimmed
		}
	case !strings.HasSuffix(raw, "/") && t.Prefix != "":
		key := strings.TrimSuffix(t.Prefix, "/")
		dir, file := path.Split(key)
		parent := Target{Bucket: t.Bucket, Prefix: dir}
		store, err := parent.Open(ctx)
		if err != nil {
			return t, err
		}
		if _, err := store.Stat(ctx, file); err == nil {
			parent.File, parent.URL = file, "s3://"+t.Bucket+"/"+key
			return parent, nil
		} else if !errors.Is(err, objstore.ErrNotFound) {
			return t, fmt.Errorf("%w: %s: %w", ErrInput, raw, err)
		}
	}
	return t, nil
}

// ParseLocation reads a target or source without looking at it: what
// ParseSource returns before it decides between a file and a directory.
// Confinement (Within) is checked on it before anything is opened.
func ParseLocation(raw string) (Target, error) { return parseLocation(raw) }

func parseLocation(raw string) (Target, error) {
	var t Target
	switch {
	case strings.HasPrefix(raw, "s3://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return t, fmt.Errorf("%w: %q: want s3://BUCKET/PREFIX/", ErrTarget, raw)
		}
		t.Bucket = u.Host
		p := strings.TrimPrefix(u.Path, "/")
		t.Prefix, t.Pattern = splitGlob(p, "/")
		if t.Prefix != "" && !strings.HasSuffix(t.Prefix, "/") {
			t.Prefix += "/"
		}
		t.URL = "s3://" + t.Bucket + "/" + t.Prefix + t.Pattern
		return t, nil
	case strings.HasPrefix(raw, "file://"):
		p := strings.TrimPrefix(raw, "file://")
		if !strings.HasPrefix(p, "/") {
			return t, fmt.Errorf("%w: %q: want file:///ABSOLUTE/DIR/", ErrTarget, raw)
		}
		raw = p
	case strings.Contains(raw, "://"):
		return t, fmt.Errorf("%w: %q: want s3://BUCKET/PREFIX/, file:///DIR/ or an absolute directory", ErrTarget, raw)
	}
	if !filepath.IsAbs(raw) {
		return t, fmt.Errorf("%w: %q: a local path must be absolute", ErrTarget, raw)
	}
	dir, pattern := splitGlob(raw, string(filepath.Separator))
	t.Dir, t.Pattern = filepath.Clean(dir), pattern
	t.URL = "file://" + strings.TrimSuffix(t.Dir, "/") + "/" + pattern
	return t, nil
}

// splitGlob cuts a glob off the last element of p.
func splitGlob(p, sep string) (dir, pattern string) {
	i := strings.LastIndex(p, sep)
	last := p[i+1:]
	if !strings.ContainsAny(last, "*?[") {
		return p, ""
	}
	return p[:i+1], last
}

// Local reports whether the target is on a local disk.
func (t Target) Local() bool { return t.Dir != "" }

// Open returns the object store of the target's directory or prefix. A
// local directory is not created (Create does that).
func (t Target) Open(ctx context.Context) (objstore.Store, error) {
	if t.Dir != "" {
		st, err := os.Stat(t.Dir)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", t.URL, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%w: %s is not a directory", ErrTarget, t.Dir)
		}
		return local.New(t.Dir)
	}
	if t.Bucket == "" {
		return nil, fmt.Errorf("%w: empty target", ErrTarget)
	}
	return s3.New(ctx, t.Bucket, t.Prefix, s3.Options{})
}

// Create opens the target for writing, creating a local directory.
func (t Target) Create(ctx context.Context) (objstore.Store, error) {
	if t.Dir != "" {
		if err := os.MkdirAll(t.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", t.Dir, err)
		}
	}
	return t.Open(ctx)
}

// Within checks that a local target lies inside dir (after following
// symbolic links, as far as the path exists), as the server's
// --export-dir demands; S3 targets are not confined.
func (t Target) Within(dir string) error {
	if !t.Local() {
		return nil
	}
	root, err := realPath(dir)
	if err != nil {
		return fmt.Errorf("export directory %s: %w", dir, err)
	}
	p, err := realPath(t.Dir)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%w: %s is not below %s", ErrOutsideDir, t.Dir, root)
	}
	return nil
}

// realPath resolves symbolic links in the longest part of p that exists
// and appends the rest.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}
