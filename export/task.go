package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// runExport writes one export task's rows: its partition's part of the
// query, as files rolled at MaxFileRows. On failure it deletes what it
// wrote.
func (w *Worker) runExport(ctx context.Context, e *Export, i int) (*Finish, error) {
	t := e.Tasks[i]
	store, err := e.Target.Create(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := w.Runner.RunQuery(ctx, e.Query, t.Partition)
	if err != nil {
		return nil, fmt.Errorf("run the query: %w", err)
	}
	defer rows.Close()
	pw := &partWriter{ctx: ctx, store: store, partition: t.Partition, always: i == 0, progress: w.Progress,
		cfg: &writerConfig{opts: e.Options, schema: rows.Schema(), sortedBy: e.SortedBy, alloc: w.Alloc}}
	files, err := writeRows(ctx, rows, pw)
	if err != nil {
		return nil, errors.Join(err, pw.Abort())
	}
	fin := &Finish{Files: files}
	for _, f := range files {
		fin.Rows += f.Rows
		fin.Bytes += f.Bytes
	}
	return fin, nil
}

func writeRows(ctx context.Context, rows Rows, pw *partWriter) ([]File, error) {
	for {
		rec, err := rows.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		err = pw.Write(rec)
		rec.Release()
		if err != nil {
			return nil, err
		}
	}
	return pw.Close()
}

// clean deletes what a failed export wrote — every file of its tasks'
// names, including those of attempts that died before committing, and the
// manifest if it is this export's — and commits Cleaned. An import wrote
// nothing outside the table: a task that failed committed nothing.
func (w *Worker) clean(ctx context.Context, e *Export) error {
	if e.Kind == KindExport {
		if err := cleanTarget(ctx, e); err != nil {
			return err
		}
	}
	err := w.Log.commit(ctx, &Txn{Cleaned: &Complete{Export: e.ID}})
	if err != nil && !Refused(err) {
		return err
	}
	return nil
}

func cleanTarget(ctx context.Context, e *Export) error {
	store, err := e.Target.Open(ctx)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a local target never created: nothing to clean
		}
		return err
	}
	infos, err := store.List(ctx, "part-")
	if err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, t := range e.Tasks {
		mine["part-"+orAll(t.Partition)+"-"] = true
	}
	var errs []error
	for _, in := range infos {
		name := in.Key
		if !strings.HasSuffix(name, "."+e.Options.Ext()) {
			continue
		}
		if j := strings.LastIndexByte(name, '-'); j > 0 && mine[name[:j+1]] {
			errs = append(errs, store.Delete(ctx, name))
		}
	}
	if m, err := ReadManifest(ctx, store); err == nil && m.ExportID == e.ID {
		errs = append(errs, store.Delete(ctx, ManifestName))
	} else if err != nil && !errors.Is(err, objstore.ErrNotFound) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func orAll(p string) string {
	if p == "" {
		return "all"
	}
	return p
}
