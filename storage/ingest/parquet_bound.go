package ingest

import (
	"bytes"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/dormousedb/dormouse/storage/schema"
)

// KeyBounder is a RecordReader that can tell, before its rows are read, a
// lower bound of their row keys. A merge of sorted inputs (Write) leaves
// such an input unread until the rows before that bound are written, so
// that inputs whose key ranges follow one another are read one or two at
// a time, whatever their number.
type KeyBounder interface {
	RecordReader
	// KeyBound returns a byte string that sorts at or before
	// schema.AppendRowKey of every row the reader will return; ok is
	// false when the reader cannot tell. A reader that opens its input on
	// first use may open it to answer, and close it again.
	KeyBound() (bound []byte, ok bool, err error)
}

// KeyBound returns the smallest value that the statistics of the file's
// row groups give for the table's first row key column, in its composite
// encoding: a prefix of every row key at or after it. It reads only the
// footer. ok is false when a row group has no statistics for the column or
// its type is not one whose statistics are used (strings and binaries,
// signed integers, dates, microsecond timestamps).
func (r *ParquetReader) KeyBound() ([]byte, bool, error) {
	p := r.plan[0]
	if r.pf == nil || p.file < 0 {
		return nil, false, nil
	}
	md := r.pf.MetaData()
	col := md.Schema.ColumnIndexByName(r.fileSchema.Field(p.file).Name)
	if col < 0 {
		return nil, false, nil
	}
	var (
		minBytes []byte
		minInt   int64
		found    bool
	)
	for g := range md.NumRowGroups() {
		rg := md.RowGroup(g)
		if rg.NumRows() == 0 {
			continue
		}
		cc, err := rg.ColumnChunk(col)
		if err != nil {
			return nil, false, err
		}
		if set, err := cc.StatsSet(); err != nil || !set {
			return nil, false, err
		}
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasMinMax() {
			return nil, false, err
		}
		switch s := st.(type) {
		case *metadata.ByteArrayStatistics:
			if !found || bytes.Compare(s.Min(), minBytes) < 0 {
				minBytes = s.Min()
			}
		case *metadata.Int64Statistics:
			if !found || s.Min() < minInt {
				minInt = s.Min()
			}
		case *metadata.Int32Statistics:
			if !found || int64(s.Min()) < minInt {
				minInt = int64(s.Min())
			}
		default:
			return nil, false, nil
		}
		found = true
	}
	if !found {
		return nil, false, nil
	}
	arr := boundArray(r.fileSchema.Field(p.file).Type, p.dt, minBytes, minInt)
	if arr == nil {
		return nil, false, nil
	}
	defer arr.Release()
	return schema.AppendComposite(nil, arr, 0), true, nil
}

// boundArray makes a one-value array of the table's type dt holding a
// statistic of a file column of type fileType, or returns nil when the
// statistic cannot be taken as one (another type or unit, unsigned
// integers, whose statistics order differently).
func boundArray(fileType, dt arrow.DataType, b []byte, i int64) arrow.Array {
	alloc := memory.DefaultAllocator
	switch fileType.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		switch dt.ID() {
		case arrow.STRING:
			bl := array.NewStringBuilder(alloc)
			defer bl.Release()
			bl.Append(string(b))
			return bl.NewArray()
		case arrow.BINARY:
			bl := array.NewBinaryBuilder(alloc, arrow.BinaryTypes.Binary)
			defer bl.Release()
			bl.Append(b)
			return bl.NewArray()
		}
	case arrow.INT64, arrow.INT32:
		switch dt.ID() {
		case arrow.INT64:
			bl := array.NewInt64Builder(alloc)
			defer bl.Release()
			bl.Append(i)
			return bl.NewArray()
		case arrow.INT32:
			bl := array.NewInt32Builder(alloc)
			defer bl.Release()
			bl.Append(int32(i))
			return bl.NewArray()
		}
	case arrow.DATE32:
		if dt.ID() == arrow.DATE32 {
			bl := array.NewDate32Builder(alloc)
			defer bl.Release()
			bl.Append(arrow.Date32(i))
			return bl.NewArray()
		}
	case arrow.TIMESTAMP:
		if ts, ok := fileType.(*arrow.TimestampType); ok && ts.Unit == arrow.Microsecond && dt.ID() == arrow.TIMESTAMP {
			bl := array.NewTimestampBuilder(alloc, dt.(*arrow.TimestampType))
			defer bl.Release()
			bl.Append(arrow.Timestamp(i))
			return bl.NewArray()
		}
	}
	return nil
}
