package iterator

import "errors"

// ErrInvalid wraps every reason the aggregations or age_off property of a
// table does not fit its schema.
var ErrInvalid = errors.New("invalid table iterators")
