package sqlerr

import "context"

var errCanceled = context.Canceled
