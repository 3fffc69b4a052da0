package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dormousedb/dormouse/storage/objstore"
)

// ManifestName is the manifest's name in the target. It is written after
// every data file, so its presence says the export is whole.
const ManifestName = "_manifest.json"

// Manifest describes a finished export: a reader that lists the files it
// names, and no others, reads exactly the query's result.
type Manifest struct {
	Version  int       `json:"version"`
	ExportID string    `json:"export_id"`
	Query    string    `json:"query"`
	Tables   []Pin     `json:"tables"`
	Format   string    `json:"format"`
	Columns  []Column  `json:"columns"`
	SortedBy []string  `json:"sorted_by,omitempty"`
	Files    []File    `json:"files"`
	Rows     int64     `json:"rows"`
	Bytes    int64     `json:"bytes"`
	Created  time.Time `json:"created"`
	// Compression is Parquet's codec; CSV's Header, Delimiter and Null
	// say how to read the text back.
	Compression string `json:"compression,omitempty"`
	Header      bool   `json:"header,omitempty"`
	Delimiter   string `json:"delimiter,omitempty"`
	Null        string `json:"null,omitempty"`
}

// manifestOf builds an export's manifest from its finished tasks. It
// depends only on the export's record, so two workers that both finalise
// one export write the same bytes.
func manifestOf(e *Export) *Manifest {
	m := &Manifest{Version: 1, ExportID: e.ID, Query: e.Query.SQL, Tables: e.Query.Tables, Format: e.Options.Format,
		Columns: e.Columns, Created: e.Created, Files: []File{}}
	for _, c := range e.SortedBy {
		m.SortedBy = append(m.SortedBy, e.Columns[c].Name)
	}
	for _, t := range e.Tasks {
		m.Files = append(m.Files, t.Files...)
	}
	m.Rows, m.Bytes = e.Rows()
	if e.Options.Format == FormatParquet {
		m.Compression = e.Options.Compression
	} else {
		m.Header, m.Delimiter, m.Null = e.Options.Header, string(e.Options.Delimiter), e.Options.Null
	}
	return m
}

// ReadManifest reads the manifest of a target store, or returns
// objstore.ErrNotFound.
func ReadManifest(ctx context.Context, store objstore.Store) (*Manifest, error) {
	data, err := store.Get(ctx, ManifestName)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", ManifestName, err)
	}
	return &m, nil
}

func writeManifest(ctx context.Context, store objstore.Store, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := store.Put(ctx, ManifestName, append(data, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", ManifestName, err)
	}
	return nil
}

// clearTarget makes way for an export: a manifest already there is
// refused, or with overwrite deleted together with the files it lists
// (the manifest first, so that no reader sees it name missing files).
func clearTarget(ctx context.Context, store objstore.Store, overwrite bool) error {
	old, err := ReadManifest(ctx, store)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil
	}
	if !overwrite {
		if err != nil {
			return fmt.Errorf("%w at %s; use OVERWRITE true to replace it", ErrManifestExists, store.URL())
		}
		return fmt.Errorf("%w at %s (export %s, %d rows); use OVERWRITE true to replace it", ErrManifestExists, store.URL(), old.ExportID, old.Rows)
	}
	if err := store.Delete(ctx, ManifestName); err != nil {
		return fmt.Errorf("delete the old %s: %w", ManifestName, err)
	}
	if old == nil {
		return nil
	}
	var errs []error
	for _, f := range old.Files {
		errs = append(errs, store.Delete(ctx, f.Name))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete the old export's files: %w", err)
	}
	return nil
}
