package s3

import (
	"errors"

	"github.com/aws/smithy-go"
)

// errFinished is returned by a Writer used after Close or Abort.
var errFinished = errors.New("writer already closed or aborted")

// ErrChanged is returned by reads of an Object whose key was overwritten
// after Open.
var ErrChanged = errors.New("object changed since it was opened")

// httpStatus returns the HTTP status of a failed request, or 0.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// errorCode returns the S3 error code of a failed request, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNotFound reports whether the object (not the bucket) is missing.
// HEAD responses have no body, so their 404 carries no code.
func isNotFound(err error) bool {
	switch errorCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	case "NoSuchBucket":
		return false
	}
	return httpStatus(err) == 404
}

// isPreconditionFailed reports a failed If-None-Match or If-Match.
func isPreconditionFailed(err error) bool {
	return httpStatus(err) == 412 || errorCode(err) == "PreconditionFailed"
}

// isConflict reports a 409 ConditionalRequestConflict: another
// conditional write to the key was in flight and ours was refused, so try
// again. Other 409s are not about the race and are not retried.
func isConflict(err error) bool {
	code := errorCode(err)
	return code == "ConditionalRequestConflict" || code == "" && httpStatus(err) == 409
}

// isInvalidRange reports a 416: the range starts at or past the end.
func isInvalidRange(err error) bool {
	return httpStatus(err) == 416 || errorCode(err) == "InvalidRange"
}
