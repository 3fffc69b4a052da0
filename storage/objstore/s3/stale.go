package s3

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// RemoveStaleTemp aborts the incomplete multipart uploads under prefix that
// nobody has added a part to since olderThan: those of writers killed
// before Close or Abort. Their parts are invisible to List yet billed until
// aborted. A live upload sends a part every part size, so an upload counts
// as stale by its newest part (or, with none, by when it started), not by
// its start: a long compaction output is not cut off mid-way.
//
// It returns how many uploads it aborted and the bytes of their parts.
func (s *Store) RemoveStaleTemp(ctx context.Context, prefix string, olderThan time.Time) (uploads int, bytes int64, err error) {
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: aws.String(s.prefix + prefix)}
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return uploads, bytes, fmt.Errorf("list multipart uploads under %q: %w", prefix, err)
		}
		for _, u := range page.Uploads {
			if !aws.ToTime(u.Initiated).Before(olderThan) {
				continue
			}
			last, size, err := s.uploadParts(ctx, u)
			if err != nil {
				return uploads, bytes, err
			}
			if last.After(olderThan) || last.Equal(olderThan) {
				continue
			}
			_, err = s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId,
			})
			if isNoSuchUpload(err) {
				continue // completed, aborted or collected meanwhile
			}
			if err != nil {
				return uploads, bytes, fmt.Errorf("abort multipart upload %s: %w", aws.ToString(u.Key), err)
			}
			uploads++
			bytes += size
		}
		if !aws.ToBool(page.IsTruncated) || page.NextKeyMarker == nil && page.NextUploadIdMarker == nil {
			return uploads, bytes, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}

// uploadParts returns when upload u last changed (its newest part, else its
// start) and the bytes of its parts.
func (s *Store) uploadParts(ctx context.Context, u types.MultipartUpload) (time.Time, int64, error) {
	last, size := aws.ToTime(u.Initiated), int64(0)
	p := s3.NewListPartsPaginator(s.client, &s3.ListPartsInput{Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNoSuchUpload(err) {
			return last, size, nil
		}
		if err != nil {
			return last, size, fmt.Errorf("list parts of %s: %w", aws.ToString(u.Key), err)
		}
		for _, part := range page.Parts {
			if t := aws.ToTime(part.LastModified); t.After(last) {
				last = t
			}
			size += aws.ToInt64(part.Size)
		}
	}
	return last, size, nil
}

// isNoSuchUpload reports an upload that no longer exists.
func isNoSuchUpload(err error) bool {
	return err != nil && (errorCode(err) == "NoSuchUpload" || httpStatus(err) == 404)
}
