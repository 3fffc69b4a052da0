package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// Create returns a Writer that buffers up to the part size and switches to
// a multipart upload when the buffer fills. ctx governs every request the
// Writer makes, so it must outlive the Writer.
func (s *Store) Create(ctx context.Context, key string) (objstore.Writer, error) {
	k, err := s.fullKey(key)
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	return &upload{s: s, ctx: ctx, key: key, fullKey: k}, nil
}

// upload is a streamed write. It is not safe for concurrent use.
type upload struct {
	s       *Store
	ctx     context.Context
	key     string
	fullKey *string

	buf   []byte                // bytes not yet sent; never more than the part size
	id    *string               // multipart upload ID once one was started
	parts []types.CompletedPart // parts sent so far
	err   error                 // first failure; every later call returns it
	done  bool                  // Close or Abort was called
}

func (u *upload) Write(p []byte) (int, error) {
	if u.done {
		return 0, fmt.Errorf("write %s: %w", u.key, errFinished)
	}
	if u.err != nil {
		return 0, u.err
	}
	written := 0
	for len(p) > 0 {
		n := min(len(p), int(u.s.partSize)-len(u.buf))
		u.buf = append(u.buf, p[:n]...)
		p, written = p[n:], written+n
		if int64(len(u.buf)) == u.s.partSize {
			if err := u.sendPart(); err != nil {
				u.err = fmt.Errorf("write %s: %w", u.key, err)
				return written, u.err
			}
		}
	}
	return written, nil
}

// sendPart uploads the buffer as the next part, starting the multipart
// upload first if this is the first part.
func (u *upload) sendPart() error {
	if u.id == nil {
		out, err := u.s.client.CreateMultipartUpload(u.ctx, &s3.CreateMultipartUploadInput{
			Bucket: &u.s.bucket, Key: u.fullKey,
		})
		if err != nil {
			return fmt.Errorf("start multipart upload: %w", err)
		}
		u.id = out.UploadId
	}
	num := aws.Int32(int32(len(u.parts) + 1))
	out, err := u.s.client.UploadPart(u.ctx, &s3.UploadPartInput{
		Bucket:        &u.s.bucket,
		Key:           u.fullKey,
		UploadId:      u.id,
		PartNumber:    num,
		Body:          bytes.NewReader(u.buf),
		ContentLength: aws.Int64(int64(len(u.buf))),
	})
	if err != nil {
		return fmt.Errorf("upload part %d: %w", *num, err)
	}
	u.parts = append(u.parts, types.CompletedPart{ETag: out.ETag, PartNumber: num})
	u.buf = u.buf[:0]
	return nil
}

// Close publishes the object: one PutObject if it never filled a part,
// else the last part and CompleteMultipartUpload. On error nothing is
// published and a multipart upload is aborted.
func (u *upload) Close() error {
	if u.done {
		return fmt.Errorf("close %s: %w", u.key, errFinished)
	}
	u.done = true
	if u.err != nil {
		return errors.Join(u.err, u.abort())
	}
	if u.id == nil {
		_, err := u.s.client.PutObject(u.ctx, u.s.putInput(u.fullKey, u.buf))
		u.buf = nil
		if err != nil {
			return fmt.Errorf("close %s: %w", u.key, err)
		}
		return nil
	}
	if err := u.complete(); err != nil {
		return errors.Join(fmt.Errorf("close %s: %w", u.key, err), u.abort())
	}
	return nil
}

func (u *upload) complete() error {
	if len(u.buf) > 0 {
		if err := u.sendPart(); err != nil {
			return err
		}
	}
	u.buf = nil
	_, err := u.s.client.CompleteMultipartUpload(u.ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &u.s.bucket,
		Key:             u.fullKey,
		UploadId:        u.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload: %w", err)
	}
	return nil
}

// Abort discards the buffer and aborts a multipart upload. After Close or
// Abort it does nothing, so "defer w.Abort()" is a safe pattern.
func (u *upload) Abort() error {
	if u.done {
		return nil
	}
	u.done = true
	return u.abort()
}

func (u *upload) abort() error {
	u.buf = nil
	if u.id == nil {
		return nil
	}
	// Abort even if the Writer's context has ended: leftover parts cost
	// money until a lifecycle rule removes them.
	ctx := context.WithoutCancel(u.ctx)
	_, err := u.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &u.s.bucket, Key: u.fullKey, UploadId: u.id,
	})
	if err != nil {
		return fmt.Errorf("abort multipart upload %s: %w", u.key, err)
	}
	return nil
}
