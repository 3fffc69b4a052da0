package s3

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// putIfAbsentAttempts bounds PutIfAbsent's own retries.
const putIfAbsentAttempts = 6

// Put writes the object with one PutObject.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	k, err := s.fullKey(key)
	if err != nil {
		return fmt.Errorf("put: %w", err)
	}
	if _, err := s.client.PutObject(ctx, s.putInput(k, data)); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

func (s *Store) putInput(k *string, data []byte) *s3.PutObjectInput {
	return &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           k,
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	}
}

// PutIfAbsent writes the object with "If-None-Match: *". See the package
// documentation for how it retries without ever reporting a lost race it
// has in fact won.
func (s *Store) PutIfAbsent(ctx context.Context, key string, data []byte) error {
	k, err := s.fullKey(key)
	if err != nil {
		return fmt.Errorf("put if absent: %w", err)
	}
	maybeWritten := false // an earlier attempt failed in a way that may have written
	for attempt := 1; ; attempt++ {
		in := s.putInput(k, data)
		in.IfNoneMatch = aws.String("*")
		_, err = s.client.PutObject(ctx, in, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
		switch {
		case err == nil:
			return nil
		case isPreconditionFailed(err):
			if maybeWritten && s.holds(ctx, key, data) {
				return nil
			}
			return fmt.Errorf("put if absent %s: %w", key, objstore.ErrExists)
		case isConflict(err):
			// Another conditional write was in flight; ours was refused.
		case s.retry.IsErrorRetryable(err):
			maybeWritten = true
		default:
			return fmt.Errorf("put if absent %s: %w", key, err)
		}
		if attempt == putIfAbsentAttempts {
			return fmt.Errorf("put if absent %s: giving up after %d attempts: %w", key, attempt, err)
		}
		if err := sleep(ctx, time.Duration(10<<attempt)*time.Millisecond); err != nil {
			return fmt.Errorf("put if absent %s: %w", key, err)
		}
	}
}

// holds reports whether the object under key reads back as data.
func (s *Store) holds(ctx context.Context, key string, data []byte) bool {
	got, err := s.Get(ctx, key)
	return err == nil && bytes.Equal(got, data)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
