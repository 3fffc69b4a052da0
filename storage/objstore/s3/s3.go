package s3

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dormousedb/dormouse/storage/objstore"
)

const (
	// DefaultPartSize is the multipart part size Create uses by default.
	DefaultPartSize = 8 << 20
	// MinPartSize is the smallest part S3 accepts (but for the last part).
	MinPartSize = 5 << 20
	// DefaultRegion is used when neither Options nor the AWS configuration
	// name a region, which S3-compatible servers usually do not need.
	DefaultRegion = "us-east-1"

	// EnvPathStyle names the environment variable that forces path-style
	// addressing on ("true") or off ("false").
	EnvPathStyle = "DORMOUSE_S3_PATH_STYLE"
)

// Options override the AWS SDK's default configuration. The zero value
// uses the defaults throughout.
type Options struct {
	// Endpoint is the base URL of an S3-compatible server, such as
	// "http://127.0.0.1:7070". Empty means AWS_ENDPOINT_URL_S3,
	// AWS_ENDPOINT_URL or the shared config, else AWS itself.
	Endpoint string
	// Region overrides AWS_REGION and the shared config.
	Region string
	// PathStyle requests path-style addressing (http://host/bucket/key).
	PathStyle bool
	// AccessKeyID, SecretAccessKey and SessionToken, if AccessKeyID is
	// set, replace the default credential chain with static credentials.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// PartSize is Create's buffer and multipart part size; 0 means
	// DefaultPartSize. It must be at least MinPartSize.
	PartSize int64
}

// Store is an objstore.Store on one bucket and key prefix.
type Store struct {
	client   *s3.Client
	bucket   string
	prefix   string // "" or ends with "/"
	partSize int64
	retry    *retry.Standard // classifies errors for PutIfAbsent's retries
}

var _ objstore.Store = (*Store)(nil)

// New returns a Store for the objects under prefix in bucket. It does not
// contact the server; a wrong bucket or credentials show on first use.
func New(ctx context.Context, bucket, prefix string, opts Options) (*Store, error) {
	if bucket == "" {
		return nil, fmt.Errorf("s3 store: empty bucket name")
	}
	partSize := opts.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	if partSize < MinPartSize {
		return nil, fmt.Errorf("s3 store: part size %d below the S3 minimum %d", partSize, MinPartSize)
	}
	pathStyle, err := pathStyleFromEnv(opts.PathStyle)
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	cfg, err := loadConfig(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("s3 store: load aws config: %w", err)
	}
	if pathStyle == nil {
		custom := opts.Endpoint != "" || cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
		pathStyle = &custom
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = *pathStyle
		// S3-compatible servers often send no checksums; saying so on every
		// GET is noise, not news.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	prefix = strings.TrimLeft(prefix, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &Store{
		client:   client,
		bucket:   bucket,
		prefix:   prefix,
		partSize: partSize,
		retry:    retry.NewStandard(),
	}, nil
}

// loadConfig loads the default AWS configuration with opts applied.
func loadConfig(ctx context.Context, opts Options) (aws.Config, error) {
	var fns []func(*config.LoadOptions) error
	if opts.Region != "" {
		fns = append(fns, config.WithRegion(opts.Region))
	}
	if opts.AccessKeyID != "" {
		fns = append(fns, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			opts.AccessKeyID, opts.SecretAccessKey, opts.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, fns...)
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	// The SDK's default trailing checksums (aws-chunked bodies) are not
	// understood by every S3-compatible server; ask for them only where S3
	// requires them, unless the configuration says otherwise.
	if cfg.RequestChecksumCalculation == aws.RequestChecksumCalculationUnset {
		cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	}
	if cfg.ResponseChecksumValidation == aws.ResponseChecksumValidationUnset {
		cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	return cfg, nil
}

// pathStyleFromEnv returns true if want is set, else the value of
// DORMOUSE_S3_PATH_STYLE, else nil (decide from the endpoint).
func pathStyleFromEnv(want bool) (*bool, error) {
	if want {
		return &want, nil
	}
	v := os.Getenv(EnvPathStyle)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: want true or false", EnvPathStyle, v)
	}
	return &b, nil
}

// URL returns "s3://bucket/prefix" (without the prefix's trailing slash).
func (s *Store) URL() string {
	if s.prefix == "" {
		return "s3://" + s.bucket
	}
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

// Bucket returns the bucket the store keeps its objects in.
func (s *Store) Bucket() string { return s.bucket }

// Prefix returns the key prefix of the store's objects in the bucket: ""
// or a string ending in "/".
func (s *Store) Prefix() string { return s.prefix }

// fullKey checks key and returns the bucket key for it.
func (s *Store) fullKey(key string) (*string, error) {
	if key == "" || strings.HasPrefix(key, "/") {
		return nil, fmt.Errorf("invalid object key %q", key)
	}
	return aws.String(s.prefix + key), nil
}
