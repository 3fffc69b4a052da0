package storage

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/iterator"
	"github.com/dormousedb/dormouse/storage/objstore"
	"github.com/dormousedb/dormouse/storage/objstore/local"
	"github.com/dormousedb/dormouse/storage/objstore/s3"
	"github.com/dormousedb/dormouse/storage/table"
)

// EnvStore names the environment variable holding the default store URL.
const EnvStore = "DORMOUSE_STORE"

// DefaultStore is the store used when neither a flag nor EnvStore names one:
// the embedded local directory.
const DefaultStore = "file://./data"

// OpenStore opens the object store a URL names:
//
//	file:///abs/dir, file://./rel/dir, or a bare path  a local directory
//	s3://bucket/prefix                                  an S3 bucket
//
// S3 endpoint, region and credentials come the standard AWS way
// (AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_ACCESS_KEY_ID, profiles, ...).
func OpenStore(ctx context.Context, rawURL string) (objstore.Store, error) {
	if rawURL == "" {
		rawURL = DefaultStore
	}
	switch {
	case strings.HasPrefix(rawURL, "s3://"):
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("store URL %q: %w", rawURL, err)
		}
		prefix := strings.Trim(u.Path, "/")
		if prefix != "" {
			prefix += "/"
		}
		return s3.New(ctx, u.Host, prefix, s3.Options{})
	case strings.HasPrefix(rawURL, "file://"):
		return openDir(strings.TrimPrefix(rawURL, "file://"))
	case strings.Contains(rawURL, "://"):
		return nil, fmt.Errorf("store URL %q: want file://DIR or s3://BUCKET/PREFIX", rawURL)
	default:
		return openDir(rawURL)
	}
}

func openDir(dir string) (objstore.Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("store directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	return local.New(abs)
}

// DB is an open store with its catalog. It is safe for concurrent use.
type DB struct {
	Store   objstore.Store
	Catalog *catalog.Catalog

	mu     sync.Mutex
	tables map[string]*table.Table // by table id
}

// Open opens the store a URL names (see OpenStore) and its catalog.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	store, err := OpenStore(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	return OpenDB(ctx, store)
}

// OpenDB opens the catalog of an already open object store.
func OpenDB(ctx context.Context, store objstore.Store) (*DB, error) {
	cat, err := catalog.Open(ctx, store)
	if err != nil {
		return nil, err
	}
	return &DB{Store: store, Catalog: cat, tables: map[string]*table.Table{}}, nil
}

// CreateTable adds a table to the catalog and opens it. Its iterators
// (aggregations, age_off) must fit its schema (iterator.ErrInvalid).
func (db *DB) CreateTable(ctx context.Context, def catalog.TableDef) (*table.Table, error) {
	if _, err := table.InitialTree(&def); err != nil {
		return nil, err
	}
	if def.Schema != nil {
		if _, err := iterator.FromDef(&def); err != nil {
			return nil, fmt.Errorf("table %s: %w", def.Name, err)
		}
	}
	created, err := db.Catalog.Create(ctx, def)
	if err != nil {
		return nil, err
	}
	return db.open(ctx, created)
}

// SetProperties changes properties of a table, after checking that its
// iterators still fit its schema, and returns the new definition.
func (db *DB) SetProperties(ctx context.Context, name string, set map[string]string) (*catalog.TableDef, error) {
	def, err := db.Catalog.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	next := *def
	for k, v := range set {
		if next.Properties, err = next.Properties.With(k, v); err != nil {
			return nil, err
		}
	}
	// The schema never changes, so only a concurrent change of the other
	// iterator property can make this check stale; scans and compactions
	// check again (iterator.FromDef) and report the error, which a later
	// ALTER fixes.
	if _, err := iterator.FromDef(&next); err != nil {
		return nil, fmt.Errorf("table %s: %w", name, err)
	}
	return db.Catalog.SetProperties(ctx, name, set)
}

// Table opens a table by name, following the catalog to its newest
// definition.
func (db *DB) Table(ctx context.Context, name string) (*table.Table, error) {
	def, err := db.Catalog.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return db.open(ctx, def)
}

// TableOf opens the table of a definition already read from the catalog
// (DB.Tables), without reading the catalog again: a statement that has
// listed the catalog opens its tables as that list defines them.
func (db *DB) TableOf(ctx context.Context, def *catalog.TableDef) (*table.Table, error) {
	return db.open(ctx, def)
}

func (db *DB) open(ctx context.Context, def *catalog.TableDef) (*table.Table, error) {
	db.mu.Lock()
	t, ok := db.tables[def.ID]
	db.mu.Unlock()
	if ok {
		if t.Def != def {
			t = t.WithDef(def)
			db.mu.Lock()
			db.tables[def.ID] = t
			db.mu.Unlock()
		}
		return t, nil
	}
	t, err := table.Open(ctx, db.Store, def)
	if err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if cached, ok := db.tables[def.ID]; ok {
		return cached, nil // another goroutine opened it first
	}
	db.tables[def.ID] = t
	return t, nil
}

// Tables lists the catalog's tables.
func (db *DB) Tables(ctx context.Context) ([]*catalog.TableDef, error) {
	return db.Catalog.List(ctx)
}

// DropTable removes a table from the catalog. Its objects stay for the
// table's gc_delay, so that queries that started before the drop in any
// process still read them, and the garbage collector deletes them then
// (gc.Dropped).
func (db *DB) DropTable(ctx context.Context, name string) error {
	def, err := db.Catalog.Drop(ctx, name)
	if err != nil {
		return err
	}
	db.mu.Lock()
	delete(db.tables, def.ID)
	db.mu.Unlock()
	return nil
}
