// Package s3 is the objstore.Store backend on Amazon S3 and S3-compatible
// servers (versitygw, MinIO, R2, ...). Objects live in one bucket under a
// key prefix, so many stores (and many test runs) can share a bucket.
//
// The create-if-absent primitive is a conditional PutObject with
// "If-None-Match: *": S3 answers 412 Precondition Failed when the key
// exists, which PutIfAbsent reports as objstore.ErrExists. A 409
// ConditionalRequestConflict (a concurrent conditional write in flight)
// is retried until it resolves into a win or a 412. PutIfAbsent retries
// itself rather than through the SDK so that it knows when an earlier
// attempt may have landed: a 412 after such an attempt is checked by
// reading the object back, and our own bytes count as a win.
//
// Create buffers up to Options.PartSize bytes; an object that fits is one
// PutObject, a larger one a multipart upload whose parts are sent as the
// buffer fills and which Abort (or a failed Close) aborts.
//
// Open returns a reader that issues one ranged GET per ReadAt, pinned to
// the ETag seen when the object was opened, so a replaced object fails
// reads instead of mixing two versions.
//
// Configuration follows the AWS SDK defaults (environment, shared config
// files, profiles, instance roles); Options override them. Path-style
// addressing is used when Options.PathStyle is set, when the environment
// variable DORMOUSE_S3_PATH_STYLE is true, or when a custom endpoint is
// configured and DORMOUSE_S3_PATH_STYLE is not explicitly false.
package s3
