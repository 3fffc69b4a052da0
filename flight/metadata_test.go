package flight_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apache/arrow-adbc/go/adbc"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
)

// readAll reads every endpoint of a FlightInfo and returns its rows as
// JSON lines.
func readAll(t testing.TB, cl *flightsql.Client, call func() (*flight.FlightInfo, error)) string {
	t.Helper()
	info, err := call()
	if err != nil {
		t.Fatal(err)
	}
	if info.Schema == nil {
		t.Fatal("FlightInfo without a schema")
	}
	var b bytes.Buffer
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(background(), ep.Ticket)
		if err != nil {
			t.Fatal(err)
		}
		for rdr.Next() {
			if err := array.RecordToJSON(rdr.RecordBatch(), &b); err != nil {
				t.Fatal(err)
			}
		}
		if err := rdr.Err(); err != nil {
			t.Fatal(err)
		}
		rdr.Release()
	}
	return b.String()
}

func recordsJSON(t testing.TB, rdr array.RecordReader, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	var b bytes.Buffer
	for rdr.Next() {
		if err := array.RecordToJSON(rdr.RecordBatch(), &b); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustContain(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %s:\n%s", what, w, got)
		}
	}
}

// TestMetadata checks the catalog calls through the ADBC driver and the
// raw client.
func TestMetadata(t *testing.T) {
	s := serve(t, localStore(t), nil, false)
	cn := adbcConn(t, s, "")
	adbcUpdate(t, cn, "CREATE TABLE events (user_id text, ts timestamp, amount bigint, PRIMARY KEY (user_id, ts)) WITH (split_points = 'm')")
	ctx := background()
	j := func(r array.RecordReader, err error) string { return recordsJSON(t, r, err) }

	info := j(cn.GetInfo(ctx, []adbc.InfoCode{adbc.InfoVendorName, adbc.InfoVendorVersion}))
	mustContain(t, "GetInfo", info, `"Dormouse"`)

	mustContain(t, "GetTableTypes", j(cn.GetTableTypes(ctx)), `"TABLE"`, `"SYSTEM TABLE"`)

	sch, err := cn.GetTableSchema(ctx, nil, nil, "events")
	if err != nil {
		t.Fatal(err)
	}
	want := arrow.NewSchema([]arrow.Field{
		{Name: "user_id", Type: arrow.BinaryTypes.String},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
		{Name: "amount", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	if !sch.Equal(want) {
		t.Fatalf("GetTableSchema: %s, want %s", sch, want)
	}
	if qs, _ := adbcQuery(t, cn, "SELECT * FROM events", nil); !qs.Equal(sch) {
		t.Fatalf("SELECT * has schema %s, GetTableSchema %s", qs, sch)
	}

	name := "events"
	objs := j(cn.GetObjects(ctx, adbc.ObjectDepthAll, nil, nil, &name, nil, nil))
	mustContain(t, "GetObjects", objs, `"catalog_name":"dormouse"`, `"db_schema_name":"public"`, `"table_name":"events"`,
		`"table_type":"TABLE"`, `"column_name":"user_id"`, `"column_name":"amount"`)
	all := j(cn.GetObjects(ctx, adbc.ObjectDepthTables, nil, nil, nil, nil, []string{"SYSTEM TABLE"}))
	mustContain(t, "GetObjects of system tables", all, `"db_schema_name":"dormouse"`, `"table_name":"partitions"`,
		`"db_schema_name":"information_schema"`, `"table_name":"columns"`)
	if strings.Contains(all, `"table_name":"events"`) {
		t.Errorf("GetObjects of system tables lists a table")
	}

	cl := rawClient(t, s)
	pk := readAll(t, cl, func() (*flight.FlightInfo, error) {
		return cl.GetPrimaryKeys(ctx, flightsql.TableRef{Table: "events"})
	})
	mustHaveLine(t, "GetPrimaryKeys", pk, `"column_name":"user_id"`, `"key_sequence":1`)
	mustHaveLine(t, "GetPrimaryKeys", pk, `"column_name":"ts"`, `"key_sequence":2`)
	if strings.Contains(pk, "amount") {
		t.Errorf("GetPrimaryKeys lists a value column: %s", pk)
	}
	for _, empty := range []func() (*flight.FlightInfo, error){
		func() (*flight.FlightInfo, error) {
			return cl.GetExportedKeys(ctx, flightsql.TableRef{Table: "events"})
		},
		func() (*flight.FlightInfo, error) {
			return cl.GetImportedKeys(ctx, flightsql.TableRef{Table: "events"})
		},
	} {
		if got := readAll(t, cl, empty); got != "" {
			t.Errorf("foreign keys: %s", got)
		}
	}
	types := readAll(t, cl, func() (*flight.FlightInfo, error) { return cl.GetXdbcTypeInfo(ctx, nil) })
	for name, code := range map[string]string{"bigint": "-5", "text": "12", "timestamp": "93", "date": "91", "bytea": "-3",
		"boolean": "16", "integer": "4", "double precision": "8"} {
		mustHaveLine(t, "GetXdbcTypeInfo", types, `"type_name":"`+name+`"`, `"data_type":`+code+`,`)
	}
	schemas := readAll(t, cl, func() (*flight.FlightInfo, error) { return cl.GetDBSchemas(ctx, &flightsql.GetDBSchemasOpts{}) })
	mustContain(t, "GetDBSchemas", schemas, `"public"`, `"dormouse"`, `"information_schema"`)
	like := "info%"
	schemas = readAll(t, cl, func() (*flight.FlightInfo, error) {
		return cl.GetDBSchemas(ctx, &flightsql.GetDBSchemasOpts{DbSchemaFilterPattern: &like})
	})
	if strings.Contains(schemas, "public") || !strings.Contains(schemas, "information_schema") {
		t.Errorf("GetDBSchemas info%%: %s", schemas)
	}
	sqlInfo := readAll(t, cl, func() (*flight.FlightInfo, error) {
		return cl.GetSqlInfo(ctx, []flightsql.SqlInfo{flightsql.SqlInfoFlightSqlServerName, flightsql.SqlInfoFlightSqlServerReadOnly,
			flightsql.SqlInfoTransactionsSupported, flightsql.SqlInfoKeywords})
	})
	mustContain(t, "GetSqlInfo", sqlInfo, `"Dormouse"`, `"info_name":3,"value":[1,false]`, `"info_name":563,"value":[1,false]`, `"EXPLAIN"`)
}

// mustHaveLine checks that one line of got holds every one of subs.
func mustHaveLine(t testing.TB, what, got string, subs ...string) {
	t.Helper()
	for _, line := range strings.Split(got, "\n") {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			return
		}
	}
	t.Errorf("%s has no line with %q:\n%s", what, subs, got)
}
