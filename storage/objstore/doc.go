// Package objstore defines the object store every other part of Dormouse
// keeps its data in: data files, sketches, the transaction logs and the
// catalog. It is the bottom layer and imports nothing of ours.
//
// The one primitive that makes the design work without any other database is
// PutIfAbsent, a create-if-absent write: S3 conditional writes
// (If-None-Match: *) and O_EXCL/link on a local disk. Two writers racing for
// log entry N can never both win.
//
// Backends live beside this package, one each (local/, s3/), and one
// conformance suite (objstoretest/) runs against every backend.
package objstore
