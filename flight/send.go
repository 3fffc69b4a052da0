package flight

import (
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// Sending query results without copying them on the way.
//
// arrow-go's Flight writer copies each batch's body into a buffer it
// reuses (flight.Writer), and gRPC's proto codec copies that again, into
// a pooled buffer it clears first, before the HTTP/2 framer copies it a
// third time into the connection's write buffer. Reading from the page
// cache over loopback, the first two copies and the clearing took about
// a fifth of the server's CPU. So DoGet of a query (the bulk of what the
// server sends) hands gRPC the batches' own buffers: bodyWriter, an
// ipc.PayloadWriter, sends each IPC message as a flightData, which
// flightCodec (the server's codec; every other message goes to the proto
// codec) turns into the protobuf encoding of a FlightData: the small
// fields and the body's tag and length in a buffer of their own, the
// body's Arrow buffers by reference, and only the framer copies them.
// gRPC writes a message after Send returns, so the batch is held until it
// has: each referenced buffer goes back through a bodyRef, which releases
// the batch once the last one is back.

// FlightData's field numbers (Flight.proto).
const (
	fieldDataHeader protowire.Number = 2
	fieldDataBody   protowire.Number = 1000
)

// flightData is an IPC message to send as a FlightData.
type flightData struct {
	head   []byte   // the encoded fields before the body's bytes
	pieces [][]byte // the body's bytes, in order
	ref    *bodyRef // holds the batch the pieces belong to; nil: none
	// marshaled is set once the codec has taken the message: from then
	// on gRPC gives the pieces back, which ends ref.
	marshaled atomic.Bool
}

// bodyRef releases a batch once gRPC has given back every buffer of it
// that a message referenced. It is the mem.BufferPool of those buffers:
// gRPC puts each back when it has written it.
type bodyRef struct {
	n    atomic.Int32
	done func() // releases the batch; safe to call more than once
}

// Get is not used: gRPC only puts back the buffers it was given.
func (r *bodyRef) Get(n int) *[]byte {
	b := make([]byte, n)
	return &b
}

func (r *bodyRef) Put(*[]byte) {
	if r.n.Add(-1) == 0 {
		r.done()
	}
}

// buffers returns the message's encoding: pieces too small for gRPC to
// count references to (mem.IsBelowBufferPoolingThreshold: padding,
// validity bitmaps of small batches) are copied together; the others
// are referenced, each given back to ref.
func (fd *flightData) buffers() mem.BufferSlice {
	fd.marshaled.Store(true)
	out := mem.BufferSlice{mem.SliceBuffer(fd.head)}
	held := int32(0)
	if fd.ref != nil {
		for _, p := range fd.pieces {
			if !mem.IsBelowBufferPoolingThreshold(len(p)) {
				held++
			}
		}
		fd.ref.n.Store(held)
	}
	var small []byte
	for _, p := range fd.pieces {
		if fd.ref == nil || mem.IsBelowBufferPoolingThreshold(len(p)) {
			small = append(small, p...)
			continue
		}
		if len(small) > 0 {
			out = append(out, mem.SliceBuffer(small))
			small = nil
		}
		p = p[:len(p):len(p)] // gRPC goes by capacity to decide whether to count
		out = append(out, mem.NewBuffer(&p, fd.ref))
	}
	if len(small) > 0 {
		out = append(out, mem.SliceBuffer(small))
	}
	if fd.ref != nil && held == 0 {
		fd.ref.done()
	}
	return out
}

// flightCodec is the server's gRPC codec: the proto codec, but for
// flightData, encoded without copying its body.
type flightCodec struct{ proto encoding.CodecV2 }

func newFlightCodec() flightCodec { return flightCodec{proto: encoding.GetCodecV2("proto")} }

func (c flightCodec) Name() string { return c.proto.Name() }

func (c flightCodec) Marshal(v any) (mem.BufferSlice, error) {
	if fd, ok := v.(*flightData); ok {
		return fd.buffers(), nil
	}
	return c.proto.Marshal(v)
}

func (c flightCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return c.proto.Unmarshal(data, v)
}

// bodyWriter sends the IPC messages of an ipc.Writer on a stream as
// flightData. rec is the batch being written (set around each Write):
// messages that reference its buffers hold it.
type bodyWriter struct {
	stream grpc.ServerStream
	rec    arrow.RecordBatch
}

// newBodyWriter returns an IPC writer of sch's batches to stream and its
// payload writer. The writer's own buffers (offsets of sliced arrays,
// shifted bitmaps) come from Go's allocator: they are released when the
// message has been handed to gRPC, which may still be reading them, and
// only Go's allocator keeps memory valid while it is referenced.
func newBodyWriter(stream grpc.ServerStream, sch *arrow.Schema) (*ipc.Writer, *bodyWriter) {
	bw := &bodyWriter{stream: stream}
	return ipc.NewWriterWithPayloadWriter(bw, ipc.WithSchema(sch), ipc.WithAllocator(memory.DefaultAllocator)), bw
}

// write writes one batch, which the caller still releases.
func (bw *bodyWriter) write(w *ipc.Writer, rec arrow.RecordBatch) error {
	bw.rec = rec
	defer func() { bw.rec = nil }()
	return w.Write(rec)
}

func (bw *bodyWriter) Start() error { return nil }
func (bw *bodyWriter) Close() error { return nil }

func (bw *bodyWriter) WritePayload(p ipc.Payload) error {
	meta := p.Meta()
	defer meta.Release()
	var body pieces
	if err := p.SerializeBody(&body); err != nil {
		return err
	}
	m := meta.Bytes()
	head := make([]byte, 0, len(m)+16)
	if len(m) > 0 {
		head = protowire.AppendTag(head, fieldDataHeader, protowire.BytesType)
		head = protowire.AppendBytes(head, m)
	}
	if body.n > 0 {
		head = protowire.AppendTag(head, fieldDataBody, protowire.BytesType)
		head = protowire.AppendVarint(head, uint64(body.n))
	}
	fd := &flightData{head: head, pieces: body.list}
	if bw.rec != nil && body.n > 0 {
		rec := bw.rec
		rec.Retain()
		fd.ref = &bodyRef{done: sync.OnceFunc(rec.Release)}
	}
	err := bw.stream.SendMsg(fd)
	if err != nil && fd.ref != nil && !fd.marshaled.Load() {
		fd.ref.done() // gRPC never took it
	}
	return err
}

// pieces collects what Payload.SerializeBody writes: the body's buffers
// and their padding, kept by reference (unlike an io.Writer's duty), as
// they stay valid while the batch is held.
type pieces struct {
	list [][]byte
	n    int
}

func (b *pieces) Write(p []byte) (int, error) {
	b.list = append(b.list, p)
	b.n += len(p)
	return len(p), nil
}

// flightService is the Flight service: flightsql's, but for DoGet of a
// query, whose batches go out through bodyWriter.
type flightService struct {
	flight.FlightServer
	s *Server
}

func (f *flightService) DoGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	handle, err := statementHandle(t.GetTicket())
	if err != nil { // another kind of ticket (catalog calls, prepared statements)
		return f.FlightServer.DoGet(t, stream)
	}
	ctx := stream.Context()
	sch, ch, err := f.s.DoGetStatement(ctx, statementTicket(handle))
	if err != nil {
		return err
	}
	defer func() {
		for chunk := range ch {
			if chunk.Data != nil {
				chunk.Data.Release()
			}
		}
	}()
	w, bw := newBodyWriter(stream, sch)
	defer w.Close() // sends the schema if no batch did
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case chunk, ok := <-ch:
			if !ok {
				return w.Close()
			}
			if chunk.Err != nil {
				return chunk.Err
			}
			err := bw.write(w, chunk.Data)
			chunk.Data.Release()
			if err != nil {
				return err
			}
		}
	}
}

// statementTicket is a query's statement handle as DoGetStatement takes
// it.
type statementTicket []byte

func (t statementTicket) GetStatementHandle() []byte { return t }
