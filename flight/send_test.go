package flight

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// sentStream is a grpc.ServerStream that encodes what is sent with the
// server's codec, as gRPC does, and keeps the encodings until the test
// frees them (gRPC frees them once written to the connection).
type sentStream struct {
	grpc.ServerStream
	codec flightCodec
	sent  []mem.BufferSlice
}

func (s *sentStream) Context() context.Context { return context.Background() }

func (s *sentStream) SendMsg(m any) error {
	b, err := s.codec.Marshal(m)
	if err != nil {
		return err
	}
	s.sent = append(s.sent, b)
	return nil
}

// flightDataBytes collects what arrow-go's own Flight writer sends,
// encoded by the proto codec.
type flightDataBytes [][]byte

func (f *flightDataBytes) Send(fd *flight.FlightData) error {
	b, err := proto.Marshal(fd)
	*f = append(*f, b)
	return err
}

// TestBodyWriterEncodesFlightData checks the messages bodyWriter sends
// are byte for byte those of arrow-go's Flight writer and the proto
// codec, for whole and sliced batches (whose offsets and bitmaps the IPC
// writer makes anew), with NULLs, big buffers (referenced) and small
// ones (copied); and that each batch is held until gRPC gives back the
// buffers of its messages, and released then.
func TestBodyWriterEncodesFlightData(t *testing.T) {
	alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
	sch := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(alloc, sch)
	for i := range 5000 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%7 == 3 {
			b.Field(1).AppendNull()
			b.Field(2).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("value-%d", i*i))
			b.Field(2).(*array.Float64Builder).Append(float64(i) / 3)
		}
	}
	whole := b.NewRecordBatch()
	b.Release()
	batches := []arrow.RecordBatch{whole, whole.NewSlice(1234, 4321), whole.NewSlice(10, 13)}

	var want flightDataBytes
	fw := flight.NewRecordWriter(&want, ipc.WithSchema(sch))
	for _, rec := range batches {
		if err := fw.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}

	stream := &sentStream{codec: newFlightCodec()}
	w, bw := newBodyWriter(stream, sch)
	for _, rec := range batches {
		if err := bw.write(w, rec); err != nil {
			t.Fatal(err)
		}
		rec.Release() // the messages hold it now
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(stream.sent) != len(want) {
		t.Fatalf("%d messages sent, want %d", len(stream.sent), len(want))
	}
	for i, got := range stream.sent {
		if g := got.Materialize(); !bytes.Equal(g, want[i]) {
			t.Fatalf("message %d: %d bytes, want %d bytes as the proto codec encodes it", i, len(g), len(want[i]))
		}
	}
	if alloc.CurrentAlloc() == 0 {
		t.Fatal("the batches were released while gRPC still held their buffers")
	}
	for _, s := range stream.sent {
		s.Free()
	}
	alloc.AssertSize(t, 0)
}
