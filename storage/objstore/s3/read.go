package s3

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// Get reads the whole object with one GET.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	k, err := s.fullKey(key)
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	data, err := s.get(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: k})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return data, nil
}

// GetRange reads length bytes at offset with a Range header, cut short at
// the end of the object; length < 0 reads to the end. An offset at or
// past the end gives an empty slice.
func (s *Store) GetRange(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	if offset < 0 {
		return nil, fmt.Errorf("get range %s: negative offset %d", key, offset)
	}
	if length == 0 {
		// No HTTP range means zero bytes; just check that the key exists.
		if _, err := s.head(ctx, key); err != nil {
			return nil, fmt.Errorf("get range %s: %w", key, err)
		}
		return []byte{}, nil
	}
	k, err := s.fullKey(key)
	if err != nil {
		return nil, fmt.Errorf("get range: %w", err)
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: k, Range: httpRange(offset, length)}
	data, err := s.get(ctx, in)
	if isInvalidRange(err) {
		return []byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get range %s: %w", key, err)
	}
	return data, nil
}

// httpRange returns the Range header for length bytes (length != 0) at
// offset; length < 0 means to the end.
func httpRange(offset, length int64) *string {
	if length < 0 {
		return aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	return aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1))
}

// get runs a GetObject and reads the body, mapping a missing key to
// objstore.ErrNotFound.
func (s *Store) get(ctx context.Context, in *s3.GetObjectInput) ([]byte, error) {
	out, err := s.client.GetObject(ctx, in)
	if isNotFound(err) {
		return nil, objstore.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	n := aws.ToInt64(out.ContentLength)
	if n <= 0 {
		return io.ReadAll(out.Body)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(out.Body, buf); err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return buf, nil
}

// Stat returns the object's size and modification time from a HEAD.
func (s *Store) Stat(ctx context.Context, key string) (objstore.Info, error) {
	out, err := s.head(ctx, key)
	if err != nil {
		return objstore.Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	return objstore.Info{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

func (s *Store) head(ctx context.Context, key string) (*s3.HeadObjectOutput, error) {
	k, err := s.fullKey(key)
	if err != nil {
		return nil, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: k})
	if isNotFound(err) {
		return nil, objstore.ErrNotFound
	}
	return out, err
}

// Open issues a HEAD for the size and ETag and returns a reader that GETs
// the ranges asked for. ctx governs every later read, so it must outlive
// the Object.
func (s *Store) Open(ctx context.Context, key string) (objstore.Object, error) {
	out, err := s.head(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return &object{
		s:    s,
		ctx:  ctx,
		key:  key,
		size: aws.ToInt64(out.ContentLength),
		etag: out.ETag,
	}, nil
}

// object reads an object by ranged GETs. It is safe for concurrent use.
type object struct {
	s    *Store
	ctx  context.Context
	key  string
	size int64
	etag *string // If-Match on every read; nil if the server sent none
}

func (o *object) Size() int64 { return o.size }

func (o *object) Close() error { return nil }

// ReadAt fills p from off with one ranged GET. As io.ReaderAt requires, it
// returns io.EOF with fewer bytes when p runs past the end.
func (o *object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", o.key, off)
	}
	if off >= o.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	want := min(int64(len(p)), o.size-off)
	out, err := o.s.client.GetObject(o.ctx, &s3.GetObjectInput{
		Bucket:  &o.s.bucket,
		Key:     aws.String(o.s.prefix + o.key),
		Range:   httpRange(off, want),
		IfMatch: o.etag,
	})
	switch {
	case isNotFound(err):
		return 0, fmt.Errorf("read %s: %w", o.key, objstore.ErrNotFound)
	case isPreconditionFailed(err):
		return 0, fmt.Errorf("read %s: %w", o.key, ErrChanged)
	case err != nil:
		return 0, fmt.Errorf("read %s: %w", o.key, err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p[:want])
	if err != nil {
		return n, fmt.Errorf("read %s: %w", o.key, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
