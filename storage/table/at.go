package table

import (
	"context"
	"fmt"

	"github.com/dormousedb/dormouse/storage/state"
)

// StateAt returns the table's state after log entry seq, the snapshot a
// reader in another process was handed (a Flight SQL ticket, a split). It
// costs nothing when seq is the newest state this process has seen, and a
// replay from the nearest snapshot otherwise. The state is never changed
// afterwards.
func (t *Table) StateAt(ctx context.Context, seq uint64) (*state.State, error) {
	s, err := t.log.At(ctx, seq)
	if err != nil {
		return nil, fmt.Errorf("table %s at log %d: %w", t.Def.Name, seq, err)
	}
	return s, nil
}
