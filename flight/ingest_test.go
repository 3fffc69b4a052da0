package flight_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-adbc/go/adbc"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// ingestBatch builds rows id, name, … of the types a client may send:
// large strings, string views, large binaries, float32, int16.
func ingestBatch(ids ...int64) arrow.RecordBatch {
	mem := memory.DefaultAllocator
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "tag", Type: arrow.BinaryTypes.StringView, Nullable: true},
		{Name: "blob", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "small", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, sch)
	defer b.Release()
	for _, id := range ids {
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.LargeStringBuilder).Append("name " + strings.Repeat("x", int(id%3)))
		b.Field(2).(*array.StringViewBuilder).Append("a tag long enough not to be inlined in the view")
		b.Field(3).(*array.BinaryBuilder).Append([]byte{byte(id)})
		b.Field(4).(*array.Float32Builder).Append(float32(id) / 2)
		if id%2 == 0 {
			b.Field(5).AppendNull()
		} else {
			b.Field(5).(*array.Int16Builder).Append(int16(id))
		}
	}
	return b.NewRecordBatch()
}

func adbcIngest(cn adbc.Connection, table, mode string, recs ...arrow.RecordBatch) (int64, error) {
	st, err := cn.NewStatement()
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.SetOption(adbc.OptionKeyIngestTargetTable, table); err != nil {
		return 0, err
	}
	if err := st.SetOption(adbc.OptionKeyIngestMode, mode); err != nil {
		return 0, err
	}
	rdr, err := array.NewRecordReader(recs[0].Schema(), recs)
	if err != nil {
		return 0, err
	}
	if err := st.BindStream(background(), rdr); err != nil {
		return 0, err
	}
	return st.ExecuteUpdate(background())
}

func adbcStatus(err error) adbc.Status {
	var ae adbc.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return adbc.StatusUnknown
}

// TestIngest bulk-ingests with the ADBC driver in every mode, from the
// column types clients send, and checks that a failed or broken ingest
// commits nothing.
func TestIngest(t *testing.T) {
	s := serve(t, localStore(t), nil, false)
	cn := adbcConn(t, s, "")
	count := func(table string) string {
		_, rows := adbcQuery(t, cn, "SELECT count(*) FROM "+table, nil)
		return rows[0]
	}

	n, err := adbcIngest(cn, "ing", adbc.OptionValueIngestModeCreate, ingestBatch(3, 1, 2), ingestBatch(5, 4))
	if err != nil || n != 5 {
		t.Fatalf("create: %d, %v", n, err)
	}
	sch, rows := adbcQuery(t, cn, "SELECT * FROM ing ORDER BY id", nil)
	want := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tag", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "blob", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "small", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	if !sch.Equal(want) {
		t.Fatalf("ingested table has schema %s, want %s", sch, want)
	}
	const tag = "a tag long enough not to be inlined in the view"
	if rows[0] != "1|name x|"+tag+"|01|0.5|1" || rows[1] != "2|name xx|"+tag+"|02|1|NULL" {
		t.Fatalf("rows %q", rows[:2])
	}
	_, keys := adbcQuery(t, cn, "SELECT row_keys FROM dormouse.tables WHERE table_name = 'ing'", nil)
	if keys[0] != "id" {
		t.Fatalf("the ingested table's row keys are %q, want its first column", keys[0])
	}

	if _, err := adbcIngest(cn, "ing", adbc.OptionValueIngestModeCreate, ingestBatch(9)); adbcStatus(err) != adbc.StatusAlreadyExists {
		t.Fatalf("create of an existing table: %v", err)
	}
	if _, err := adbcIngest(cn, "nosuch", adbc.OptionValueIngestModeAppend, ingestBatch(9)); adbcStatus(err) != adbc.StatusNotFound {
		t.Fatalf("append to a missing table: %v", err)
	}
	if n, err := adbcIngest(cn, "ing", adbc.OptionValueIngestModeAppend, ingestBatch(6, 7)); err != nil || n != 2 {
		t.Fatalf("append: %d, %v", n, err)
	}
	if n, err := adbcIngest(cn, "ing", adbc.OptionValueIngestModeCreateAppend, ingestBatch(8)); err != nil || n != 1 {
		t.Fatalf("create_append to an existing table: %d, %v", n, err)
	}
	if got := count("ing"); got != "8" {
		t.Fatalf("%s rows after appends, want 8", got)
	}
	if n, err := adbcIngest(cn, "fresh", adbc.OptionValueIngestModeCreateAppend, ingestBatch(1)); err != nil || n != 1 {
		t.Fatalf("create_append of a new table: %d, %v", n, err)
	}

	// A NULL key fails the whole ingest.
	// (A stream may leave out nullable columns.)
	idName := func(valid bool) arrow.RecordBatch {
		sch := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{100, 0}, []bool{true, valid})
		b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
		return b.NewRecordBatch()
	}
	if _, err := adbcIngest(cn, "ing", adbc.OptionValueIngestModeAppend, idName(true), idName(false)); adbcStatus(err) != adbc.StatusInvalidArgument {
		t.Fatalf("a NULL key: %v, want InvalidArgument", err)
	}
	if got := count("ing"); got != "8" {
		t.Fatalf("%s rows after a failed ingest, want 8", got)
	}

	// Replace: the table takes the new stream's columns and rows.
	sch2 := arrow.NewSchema([]arrow.Field{{Name: "code", Type: arrow.BinaryTypes.String}, {Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch2)
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"b", "a"}, nil)
	b.Field(1).(*array.Int32Builder).AppendValues([]int32{2, 1}, nil)
	if n, err := adbcIngest(cn, "ing", adbc.OptionValueIngestModeReplace, b.NewRecordBatch()); err != nil || n != 2 {
		t.Fatalf("replace: %d, %v", n, err)
	}
	if _, rows := adbcQuery(t, cn, "SELECT * FROM ing ORDER BY code", nil); strings.Join(rows, ",") != "a|1,b|2" {
		t.Fatalf("after replace: %q", rows)
	}

	// Times, dates and booleans: any timestamp unit becomes microseconds.
	sch3 := arrow.NewSchema([]arrow.Field{{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true}, {Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}}, nil)
	b3 := array.NewRecordBuilder(memory.DefaultAllocator, sch3)
	b3.Field(0).(*array.TimestampBuilder).Append(arrow.Timestamp(1_709_210_096_789_012_345))
	b3.Field(1).(*array.Date32Builder).Append(arrow.Date32(19782))
	b3.Field(2).(*array.BooleanBuilder).Append(true)
	if n, err := adbcIngest(cn, "times", adbc.OptionValueIngestModeCreate, b3.NewRecordBatch()); err != nil || n != 1 {
		t.Fatalf("ingest of times: %d, %v", n, err)
	}
	sch, rows = adbcQuery(t, cn, "SELECT * FROM times", nil)
	if !arrow.TypeEqual(sch.Field(0).Type, &arrow.TimestampType{Unit: arrow.Microsecond}) || !arrow.TypeEqual(sch.Field(1).Type, arrow.FixedWidthTypes.Date32) ||
		rows[0] != "2024-02-29 12:34:56.789012|2024-02-29|true" {
		t.Fatalf("times: %s %q", sch, rows)
	}

	// Options name the keys, split points and properties of a created table.
	cl := rawClient(t, s)
	rdr, _ := array.NewRecordReader(ingestBatch(1).Schema(), []arrow.RecordBatch{ingestBatch(1, 2, 3, 4, 5, 6)})
	n, err = cl.ExecuteIngest(background(), rdr, &flightsql.ExecuteIngestOpts{
		TableDefinitionOptions: &flightsql.TableDefinitionOptions{
			IfNotExist: pb.CommandStatementIngest_TableDefinitionOptions_TABLE_NOT_EXIST_OPTION_CREATE,
			IfExists:   pb.CommandStatementIngest_TableDefinitionOptions_TABLE_EXISTS_OPTION_FAIL},
		Table:   "keyed",
		Options: map[string]string{"row_keys": "name, id", "split_points": "name x", "dormouse.split_threshold": "1000"},
	})
	if err != nil || n != 6 {
		t.Fatalf("ingest with options: %d, %v", n, err)
	}
	if _, rows := adbcQuery(t, cn, `SELECT row_keys, leaf_partitions, properties LIKE '%"split_threshold","1000"%' FROM dormouse.tables WHERE table_name = 'keyed'`, nil); rows[0] != "name, id|2|true" {
		t.Fatalf("keyed table: %q", rows)
	}
	if err := ingestGarbage(cl, "ing"); err == nil {
		t.Fatalf("a corrupt stream was accepted")
	}
	if got := count("ing"); got != "2" {
		t.Fatalf("%s rows after a broken stream, want 2", got)
	}
	if err := ingestGarbage(cl, "brandnew"); err == nil {
		t.Fatalf("a corrupt stream was accepted")
	}
	if _, rows := adbcQuery(t, cn, "SELECT count(*) FROM dormouse.tables WHERE table_name = 'brandnew'", nil); rows[0] != "0" {
		t.Fatalf("a broken stream created its table")
	}
}

// ingestGarbage sends a bulk ingest whose stream breaks after two good
// batches (a message that is not Arrow IPC), as a client that dies
// mid-write or a corrupted connection would.
func ingestGarbage(cl *flightsql.Client, table string) error {
	ctx, cancel := context.WithCancel(background())
	defer cancel()
	cmd := &pb.CommandStatementIngest{
		Table: table,
		TableDefinitionOptions: &pb.CommandStatementIngest_TableDefinitionOptions{
			IfNotExist: pb.CommandStatementIngest_TableDefinitionOptions_TABLE_NOT_EXIST_OPTION_CREATE,
			IfExists:   pb.CommandStatementIngest_TableDefinitionOptions_TABLE_EXISTS_OPTION_APPEND},
	}
	var a anypb.Any
	if err := a.MarshalFrom(cmd); err != nil {
		return err
	}
	body, _ := proto.Marshal(&a)
	stream, err := cl.Client.DoPut(ctx)
	if err != nil {
		return err
	}
	good := ingestBatch(1000, 1001)
	w := flight.NewRecordWriter(stream, ipc.WithSchema(good.Schema()))
	w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: body})
	for range 2 {
		if err := w.Write(good); err != nil {
			return err
		}
	}
	if err := stream.Send(&flight.FlightData{DataHeader: []byte("not an Arrow IPC message"), DataBody: []byte{1, 2, 3}}); err != nil {
		return err
	}
	stream.CloseSend()
	for {
		if _, err := stream.Recv(); err != nil {
			if strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "rpc error") {
				return nil // the server accepted it
			}
			return err
		}
	}
}

var _ = slices.Equal[[]string]
