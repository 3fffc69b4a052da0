package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
)

// TestOnce commits AddFiles with Once keys: a second commit of a key is
// ErrDuplicate whatever files it brings, the key survives a snapshot, and
// the state forgets the oldest keys past OnceHistoryLen.
func TestOnce(t *testing.T) {
	withOnce := func(id, once string, f File) *Txn {
		txn := add(id, f, "root")
		txn.AddFiles.Once = once
		return txn
	}
	s, errs := apply(t,
		withOnce("t1", "job-a", file("f1", 10, 1, 5)),
		withOnce("t2", "job-a", file("f2", 10, 1, 5)), // the retry of job-a, other files
		withOnce("t3", "job-b", file("f3", 10, 1, 5)),
		add("t4", file("f4", 10, 1, 5), "root"), // no key: always applies
	)
	if errs[0] != nil || errs[2] != nil || errs[3] != nil {
		t.Fatalf("errors %v", errs)
	}
	if !errors.Is(errs[1], ErrDuplicate) {
		t.Fatalf("second commit of job-a: %v, want ErrDuplicate", errs[1])
	}
	if _, ok := s.File("f2"); ok {
		t.Fatal("the refused retry added its file")
	}
	if !s.Committed("job-a") || !s.Committed("job-b") || s.Committed("job-c") || s.Committed("") {
		t.Fatal("Committed answers wrongly")
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Committed("job-a") {
		t.Fatal("a snapshot forgot the Once keys")
	}

	c := s.clone()
	for i := range OnceHistoryLen {
		if err := c.once(fmt.Sprintf("k%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.onces) != OnceHistoryLen || c.Committed("job-a") || !c.Committed("k0") {
		t.Fatalf("after %d more keys: %d kept, job-a kept %v", OnceHistoryLen, len(c.onces), c.Committed("job-a"))
	}
	if !s.Committed("job-a") || len(s.onces) != 2 {
		t.Fatal("a clone's keys changed the state it came from")
	}
}
