// Command adbc shows Dormouse's Arrow Flight SQL front door from Go with the
// ADBC driver: a bulk ingest of Arrow record batches into a new table, then
// a query whose results arrive as Arrow record batches — one stream per
// partition, read in parallel by the driver.
//
//	bin/dormouse serve &                    # Flight SQL on 127.0.0.1:32010
//	go run ./examples/adbc [grpc://127.0.0.1:32010]
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/apache/arrow-adbc/go/adbc"
	"github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func main() {
	uri := "grpc://127.0.0.1:32010"
	if len(os.Args) > 1 {
		uri = os.Args[1]
	}
	ctx := context.Background()
	db, err := flightsql.NewDriver(memory.DefaultAllocator).NewDatabase(map[string]string{
		adbc.OptionKeyURI:      uri,
		adbc.OptionKeyUsername: "example", // any user, until authentication arrives
		adbc.OptionKeyPassword: "example",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	cn, err := db.Open(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer cn.Close()

	// Bulk ingest: the batch's first column becomes the table's row key.
	n, err := ingest(ctx, cn, "adbc_example", cities())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ingested %d rows\n", n)

	// A query: Arrow batches straight from the engine.
	st, err := cn.NewStatement()
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if err := st.SetSqlQuery("SELECT city, population FROM adbc_example WHERE population > $1 ORDER BY city"); err != nil {
		log.Fatal(err)
	}
	if err := st.Prepare(ctx); err != nil {
		log.Fatal(err)
	}
	if err := st.Bind(ctx, param(500_000)); err != nil {
		log.Fatal(err)
	}
	rdr, _, err := st.ExecuteQuery(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer rdr.Release()
	for rdr.Next() {
		rec := rdr.RecordBatch()
		city, pop := rec.Column(0).(*array.String), rec.Column(1).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			fmt.Printf("%-10s %9d\n", city.Value(i), pop.Value(i))
		}
	}
	if err := rdr.Err(); err != nil {
		log.Fatal(err)
	}
}

// ingest creates table (replacing one of that name) from a batch in one
// commit.
func ingest(ctx context.Context, cn adbc.Connection, table string, rec arrow.RecordBatch) (int64, error) {
	st, err := cn.NewStatement()
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.SetOption(adbc.OptionKeyIngestTargetTable, table); err != nil {
		return 0, err
	}
	if err := st.SetOption(adbc.OptionKeyIngestMode, adbc.OptionValueIngestModeReplace); err != nil {
		return 0, err
	}
	if err := st.Bind(ctx, rec); err != nil {
		return 0, err
	}
	return st.ExecuteUpdate(ctx)
}

func cities() arrow.RecordBatch {
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "city", Type: arrow.BinaryTypes.String},
		{Name: "population", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sch)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"Cheltenham", "Leeds", "London", "Manchester"}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{118_000, 812_000, 8_866_000, 568_000}, nil)
	return b.NewRecordBatch()
}

func param(v int64) arrow.RecordBatch {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(v)
	col := b.NewArray()
	sch := arrow.NewSchema([]arrow.Field{{Name: "$1", Type: arrow.PrimitiveTypes.Int64}}, nil)
	return array.NewRecordBatch(sch, []arrow.Array{col}, 1)
}
