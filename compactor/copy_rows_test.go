package compactor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dormousedb/dormouse/internal/cores"
	"github.com/dormousedb/dormouse/storage/datafile"
	"github.com/dormousedb/dormouse/storage/objstore/local"
	"github.com/dormousedb/dormouse/storage/schema"
)

// batchSource gives n batches of rows sorted keys, then err (io.EOF when
// nil), each batch from mem.
type batchSource struct {
	mem       memory.Allocator
	sch       *schema.Schema
	n, rows   int
	err       error
	given     int
	closedErr error
}

func (s *batchSource) Schema() *arrow.Schema { return s.sch.Arrow() }

func (s *batchSource) Next(context.Context) (arrow.RecordBatch, error) {
	if s.given == s.n {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	kb := array.NewStringBuilder(s.mem)
	vb := array.NewInt64Builder(s.mem)
	for r := range s.rows {
		kb.Append(fmt.Sprintf("k%06d", s.given*s.rows+r))
		vb.Append(int64(r))
	}
	k, v := kb.NewArray(), vb.NewArray()
	kb.Release()
	vb.Release()
	rec := array.NewRecordBatch(s.Schema(), []arrow.Array{k, v}, int64(s.rows))
	k.Release()
	v.Release()
	s.given++
	return rec, nil
}

func (s *batchSource) Close() error { return s.closedErr }

// TestCopyRowsBothWays checks copyRows with and without reading ahead:
// every row written, a reader's error returned, and every batch
// released either way.
func TestCopyRowsBothWays(t *testing.T) {
	sch, err := schema.Parse("k:varchar:key, v:bigint")
	if err != nil {
		t.Fatal(err)
	}
	store, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	broken := errors.New("input broken")
	for _, ahead := range []bool{false, true} {
		for _, fail := range []bool{false, true} {
			t.Run(fmt.Sprintf("ahead=%v/fail=%v", ahead, fail), func(t *testing.T) {
				ctx := context.Background()
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				src := &batchSource{mem: mem, sch: sch, n: 7, rows: 1000}
				if fail {
					src.err = broken
				}
				w, err := datafile.NewWriter(ctx, store, fmt.Sprintf("out-%v-%v.parquet", ahead, fail), sch, datafile.WriterOptions{})
				if err != nil {
					t.Fatal(err)
				}
				err = copyRows(ctx, src, w, ahead)
				if fail {
					if !errors.Is(err, broken) {
						t.Fatalf("copyRows: %v, want the input's error", err)
					}
					if err := w.Abort(); err != nil {
						t.Fatal(err)
					}
				} else {
					if err != nil {
						t.Fatal(err)
					}
					info, err := w.Close()
					if err != nil || info.Rows != 7000 {
						t.Fatalf("wrote %d rows, %v; want 7000", info.Rows, err)
					}
				}
				mem.AssertSize(t, 0)
			})
		}
	}
}

// TestReadAheadWhileCoresSpare: a run reads ahead only while the runs in
// progress leave a core spare.
func TestReadAheadWhileCoresSpare(t *testing.T) {
	defer running.Store(running.Load())
	running.Store(int64(cores.N()) - 1)
	if !readAhead() {
		t.Errorf("%d runs on %d cores: no read-ahead", running.Load(), cores.N())
	}
	running.Store(int64(cores.N()))
	if readAhead() {
		t.Errorf("%d runs on %d cores: read-ahead", running.Load(), cores.N())
	}
}
