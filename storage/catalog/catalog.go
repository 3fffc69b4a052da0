package catalog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/schema"
	"github.com/dormousedb/dormouse/storage/txlog"
	"github.com/google/uuid"
)

// ErrNoTable is returned for a table name the catalog does not hold.
var ErrNoTable = errors.New("no such table")

// ErrTableExists is returned when creating a table whose name is taken.
var ErrTableExists = errors.New("table already exists")

// TableDef defines a table. It is immutable once created.
type TableDef struct {
	Name   string         `json:"name"`
	ID     string         `json:"id"`
	Schema *schema.Schema `json:"schema"`
	// SplitPoints are plain encodings of values of the first row key at
	// which the table starts pre-split; strictly increasing.
	SplitPoints [][]byte   `json:"split_points,omitempty"`
	Properties  Properties `json:"properties,omitempty"`
	Created     time.Time  `json:"created"`
	// Order is the columns' names in the order the table was declared
	// with (SQL's SELECT * and INSERT without a column list follow it);
	// empty means storage order.
	Order []string `json:"order,omitempty"`
}

// DeclaredColumns returns the storage index of each column in declared
// order.
func (d *TableDef) DeclaredColumns() []int {
	cols := d.Schema.Columns()
	out := make([]int, 0, len(cols))
	if len(d.Order) != len(cols) {
		for i := range cols {
			out = append(out, i)
		}
		return out
	}
	for _, name := range d.Order {
		out = append(out, d.Schema.Index(name))
	}
	return out
}

// Prefix is where the table's objects live in the store.
func (d *TableDef) Prefix() string { return "tables/" + d.ID + "/" }

// Validate checks the definition's parts.
func (d *TableDef) Validate() error {
	if err := ValidName(d.Name); err != nil {
		return err
	}
	if d.Schema == nil {
		return fmt.Errorf("table %s has no schema", d.Name)
	}
	if err := d.Schema.Validate(); err != nil {
		return fmt.Errorf("table %s: %w", d.Name, err)
	}
	if err := d.Properties.Validate(); err != nil {
		return fmt.Errorf("table %s: %w", d.Name, err)
	}
	if _, err := d.Properties.SplitDimensions(d.Schema); err != nil {
		return fmt.Errorf("table %s: %w", d.Name, err)
	}
	if len(d.Order) > 0 {
		if len(d.Order) != len(d.Schema.Columns()) {
			return fmt.Errorf("table %s: column order names %d columns, schema has %d", d.Name, len(d.Order), len(d.Schema.Columns()))
		}
		seen := map[int]bool{}
		for _, n := range d.Order {
			i := d.Schema.Index(n)
			if i < 0 || seen[i] {
				return fmt.Errorf("table %s: column order names %q wrongly", d.Name, n)
			}
			seen[i] = true
		}
	}
	for i := 1; i < len(d.SplitPoints); i++ {
		if string(d.SplitPoints[i-1]) >= string(d.SplitPoints[i]) {
			return fmt.Errorf("table %s: split points must be strictly increasing", d.Name)
		}
	}
	return nil
}

// ValidName checks a table name: letters, digits and underscores, not
// starting with a digit, at most 63 bytes (PostgreSQL's identifier limit).
func ValidName(name string) error {
	if name == "" || len(name) > 63 {
		return fmt.Errorf("table name %q must have 1 to 63 characters", name)
	}
	for i, r := range name {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("table name %q may hold only letters, digits and underscores, and not start with a digit", name)
		}
	}
	return nil
}

// State is the catalog: table definitions by lower-case name, and the
// tables dropped whose objects the garbage collector has not yet deleted.
type State struct {
	Tables  map[string]*TableDef `json:"tables"`
	Dropped map[string]*Dropped  `json:"dropped,omitempty"` // by table id
}

// Dropped is a dropped table whose objects still wait for the garbage
// collector: they are kept for the table's gc_delay after the drop, so that
// queries that started before it, in any process, still read them.
type Dropped struct {
	Def *TableDef `json:"def"`
	At  time.Time `json:"at"`
}

// Txn is one catalog change; exactly one field is set.
type Txn struct {
	Create *TableDef  `json:"create,omitempty"`
	Drop   *DropTable `json:"drop,omitempty"`
	Alter  *TableDef  `json:"alter,omitempty"` // the whole new definition
	// Purge forgets a dropped table once its objects are deleted.
	Purge *PurgeTable `json:"purge,omitempty"`
}

// PurgeTable names a dropped table whose objects are gone.
type PurgeTable struct {
	ID string `json:"id"`
}

// DropTable names the table to drop by name and id, so that a drop never
// removes a newer table that took the name.
type DropTable struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

type machine struct{}

func (machine) New() *State {
	return &State{Tables: map[string]*TableDef{}, Dropped: map[string]*Dropped{}}
}

func (machine) Clone(s *State) *State {
	c := &State{Tables: make(map[string]*TableDef, len(s.Tables)), Dropped: make(map[string]*Dropped, len(s.Dropped))}
	for k, v := range s.Tables {
		c.Tables[k] = v
	}
	for k, v := range s.Dropped {
		c.Dropped[k] = v
	}
	return c
}

func (machine) Apply(s *State, t *Txn, at txlog.Meta) error {
	if s.Dropped == nil { // a snapshot from before drops were kept
		s.Dropped = map[string]*Dropped{}
	}
	switch {
	case t == nil:
		return fmt.Errorf("null catalog transaction")
	case t.Create != nil:
		if err := t.Create.Validate(); err != nil {
			return err
		}
		key := strings.ToLower(t.Create.Name)
		if _, ok := s.Tables[key]; ok {
			return fmt.Errorf("%w: %s", ErrTableExists, t.Create.Name)
		}
		for _, d := range s.Tables {
			if d.ID == t.Create.ID {
				return fmt.Errorf("table id %s is taken", d.ID)
			}
		}
		s.Tables[key] = t.Create
	case t.Drop != nil:
		key := strings.ToLower(t.Drop.Name)
		d, ok := s.Tables[key]
		if !ok || d.ID != t.Drop.ID {
			return fmt.Errorf("%w: %s", ErrNoTable, t.Drop.Name)
		}
		delete(s.Tables, key)
		s.Dropped[d.ID] = &Dropped{Def: d, At: at.Time}
	case t.Purge != nil:
		if _, ok := s.Dropped[t.Purge.ID]; !ok {
			return fmt.Errorf("%w: no dropped table with id %s", ErrNoTable, t.Purge.ID)
		}
		delete(s.Dropped, t.Purge.ID)
	case t.Alter != nil:
		if err := t.Alter.Validate(); err != nil {
			return err
		}
		key := strings.ToLower(t.Alter.Name)
		d, ok := s.Tables[key]
		if !ok || d.ID != t.Alter.ID {
			return fmt.Errorf("%w: %s", ErrNoTable, t.Alter.Name)
		}
		s.Tables[key] = t.Alter
	default:
		return fmt.Errorf("empty catalog transaction")
	}
	return nil
}

// Catalog is the table list of one store.
type Catalog struct {
	log *txlog.Log[*State, *Txn]

	// listed is List's answer for the state listedOf: every statement
	// lists the tables, and the catalog seldom changes.
	mu       sync.Mutex
	listedOf *State
	listed   []*TableDef
}

// Open loads the catalog of a store.
func Open(ctx context.Context, store objstore.Store) (*Catalog, error) {
	l, err := txlog.Open[*State, *Txn](ctx, store, "catalog/", machine{}, txlog.Options{})
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	return &Catalog{log: l}, nil
}

// Create adds a table. The id, creation time and nil maps are filled in;
// the stored definition is returned.
func (c *Catalog) Create(ctx context.Context, def TableDef) (*TableDef, error) {
	if def.ID == "" {
		def.ID = NewID()
	}
	if def.Created.IsZero() {
		def.Created = time.Now().UTC()
	}
	if def.Properties == nil {
		def.Properties = Properties{}
	}
	if _, err := c.log.Commit(ctx, &Txn{Create: &def}); err != nil {
		return nil, fmt.Errorf("create table %s: %w", def.Name, err)
	}
	return &def, nil
}

// Drop removes a table from the catalog. Its objects become garbage, which
// the garbage collector deletes after the table's gc_delay (DroppedTables,
// Purge).
func (c *Catalog) Drop(ctx context.Context, name string) (*TableDef, error) {
	def, err := c.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	if _, err := c.log.Commit(ctx, &Txn{Drop: &DropTable{Name: def.Name, ID: def.ID}}); err != nil {
		return nil, fmt.Errorf("drop table %s: %w", name, err)
	}
	return def, nil
}

// SetProperties changes properties of a table and returns the new definition.
func (c *Catalog) SetProperties(ctx context.Context, name string, set map[string]string) (*TableDef, error) {
	def, err := c.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	next := *def
	for k, v := range set {
		if next.Properties, err = next.Properties.With(k, v); err != nil {
			return nil, err
		}
	}
	if _, err := c.log.Commit(ctx, &Txn{Alter: &next}); err != nil {
		return nil, fmt.Errorf("alter table %s: %w", name, err)
	}
	return &next, nil
}

// DroppedTables returns the dropped tables whose objects are not yet
// deleted, oldest drop first.
func (c *Catalog) DroppedTables(ctx context.Context) ([]*Dropped, error) {
	s, _, err := c.log.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Dropped, 0, len(s.Dropped))
	for _, d := range s.Dropped {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// Purge forgets a dropped table whose objects the garbage collector has
// deleted. Purging one another collector purged already is not an error.
func (c *Catalog) Purge(ctx context.Context, id string) error {
	_, err := c.log.Commit(ctx, &Txn{Purge: &PurgeTable{ID: id}})
	if err != nil && errors.Is(err, ErrNoTable) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("purge dropped table %s: %w", id, err)
	}
	return nil
}

// Get returns the definition of a table, reading the newest catalog.
func (c *Catalog) Get(ctx context.Context, name string) (*TableDef, error) {
	s, _, err := c.log.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	d, ok := s.Tables[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoTable, name)
	}
	return d, nil
}

// List returns every table sorted by name, reading the newest catalog. The
// slice is shared by every caller until the catalog changes: read it only.
func (c *Catalog) List(ctx context.Context) ([]*TableDef, error) {
	s, _, err := c.log.Refresh(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listedOf == s {
		return c.listed, nil
	}
	out := make([]*TableDef, 0, len(s.Tables))
	for _, d := range s.Tables {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	c.listedOf, c.listed = s, out
	return out, nil
}

// NewID returns a fresh random id for a table, partition or job.
func NewID() string { return strings.ReplaceAll(uuid.NewString(), "-", "")[:16] }
