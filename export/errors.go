package export

import "errors"

var (
	// ErrManifestExists refuses an export to a target that holds a
	// manifest, unless OVERWRITE is set.
	ErrManifestExists = errors.New("the target already holds an export (_manifest.json)")
	// ErrOutsideDir refuses a local target outside the directory exports
	// are confined to (the server's --export-dir).
	ErrOutsideDir = errors.New("local export path is outside the export directory")
	// ErrOption is wrapped by every refusal of an option or its value.
	ErrOption = errors.New("bad export option")
	// ErrTarget is wrapped by every refusal of a target URL or path.
	ErrTarget = errors.New("bad export target")
	// ErrNoInput is returned by an import whose source names no file.
	ErrNoInput = errors.New("no input files")
	// ErrInput wraps an input file that cannot be read as the table's
	// rows: unreadable, of the wrong format or schema, or holding a bad
	// value. Its message names the file (and row and column when known).
	ErrInput = errors.New("bad input")
	// ErrLost is the cause of a task's cancellation when its worker lost
	// the lease: another worker holds the task, or the export ended.
	ErrLost = errors.New("task lost")
	// ErrFailed is returned by Wait for an export that failed; the
	// export's error follows.
	ErrFailed = errors.New("export failed")
)
