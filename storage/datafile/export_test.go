package datafile

import (
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/dormousedb/dormouse/storage/schema"
)

// DefaultParquetProps are the Parquet writer properties a Writer with
// default options uses, for the benchmark's bare pqarrow writer.
func DefaultParquetProps(sch *schema.Schema) *parquet.WriterProperties {
	return parquetProps(sch, WriterOptions{}.withDefaults())
}
