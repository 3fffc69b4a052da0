package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// List pages through ListObjectsV2. S3 returns keys in UTF-8 byte order,
// which is Go's string order, so the result is sorted as it arrives.
func (s *Store) List(ctx context.Context, prefix string) ([]objstore.Info, error) {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket,
		Prefix: aws.String(s.prefix + prefix),
	})
	out := []objstore.Info{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %q: %w", prefix, err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || key == "" || strings.HasSuffix(key, "/") {
				// Not ours, or a directory marker some servers list.
				continue
			}
			out = append(out, objstore.Info{Key: key, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// Delete removes the object. S3 does not report missing keys; servers that
// do get the same answer: no error.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := s.fullKey(key)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: k})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}
