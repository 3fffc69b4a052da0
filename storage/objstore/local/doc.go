// Package local is the objstore.Store backend on a local (or shared POSIX)
// file system: the object "a/b/c" is the file root/a/b/c.
//
// Every write goes to a temporary file in the object's own directory, is
// fsynced and then switched into place, so readers never see a partial
// object:
//
//   - Put renames the temporary file over the key (replace).
//   - PutIfAbsent hard-links it to the key; link(2) fails with EEXIST when
//     the key exists, which makes the create-if-absent atomic across
//     goroutines and processes (also on NFS, where O_EXCL historically was
//     not). The temporary file is removed afterwards.
//   - Create streams into the temporary file and renames it on Close.
//
// Temporary files are named with the prefix ".dormouse-tmp-"; List skips
// them and keys whose path components start with it are rejected. A crash
// can leave such a file behind; it is never visible as an object.
//
// A key cannot name both an object and a "directory" of other objects
// ("a" and "a/b"), as it can on S3; Dormouse's key layout never does that.
// Delete removes directories it leaves empty, and writers retry if such a
// directory disappears under them.
package local
