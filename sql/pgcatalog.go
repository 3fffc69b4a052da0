package sql

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/storage/catalog"
)

// The PostgreSQL system catalog (pg_catalog.*), computed from the store's
// catalog for each statement, so that psql's \d, pgJDBC's
// DatabaseMetaData, pgx and Trino's PostgreSQL connector find Dormouse's
// tables where they look for PostgreSQL's. The relations are virtual
// tables like dormouse.*: every query feature works on them, and no query
// text is matched.
//
// Object identifiers. Clients carry OIDs from one catalog query to the
// next (psql reads a table's oid, then asks pg_attribute for attrelid =
// that oid) and cache type OIDs, so they must be stable across statements,
// sessions and processes:
//   - built-in types, catalog relations, namespaces, access methods and
//     collations have PostgreSQL 15's OIDs;
//   - a table's OIDs come from a hash of its id (which never changes) into
//     [2^24, 2^31), four per table: the table, its primary key index, the
//     primary key constraint and its row type. A collision (rare) moves the
//     later-created table to the next free slot;
//   - the dormouse.* and information_schema views number from 14000 in
//     the order the engine declares them.

// Fixed OIDs.
const (
	nspPgCatalog         = 11
	nspPublic            = 2200
	nspInformationSchema = 13207
	nspDormouse          = 16385
	oidDatabase          = 16384
	oidSuperuser         = 10
	oidDatabaseOwner     = 6171 // pg_database_owner, owner of public since PostgreSQL 15
	oidHeapAM            = 2
	oidBtreeAM           = 403
	oidDefaultCollation  = 100
	oidCCollation        = 950
	oidPosixCollation    = 951
	oidDefaultTablespace = 1663
	oidGlobalTablespace  = 1664
	tableOIDBase         = 1 << 24
	tableOIDSlots        = (1<<31 - tableOIDBase) / 4
	viewOIDBase          = 14000
	procOIDBase          = 9000 // functions of ours PostgreSQL has no OID for
)

// pgNamespaces are the schemas.
var pgNamespaces = []struct {
	oid   int64
	name  string
	owner int64
}{
	{nspPgCatalog, "pg_catalog", oidSuperuser},
	{nspPublic, "public", oidDatabaseOwner},
	{nspInformationSchema, "information_schema", oidSuperuser},
	{nspDormouse, "dormouse", oidSuperuser},
}

func nspOID(name string) int64 {
	for _, n := range pgNamespaces {
		if n.name == name {
			return n.oid
		}
	}
	return 0
}

func nspName(oid int64) string {
	for _, n := range pgNamespaces {
		if n.oid == oid {
			return n.name
		}
	}
	return ""
}

// pgCatalogRelOIDs are PostgreSQL's OIDs of the catalog relations.
var pgCatalogRelOIDs = map[string]int64{
	"pg_default_acl": 826, "pg_tablespace": 1213, "pg_shdepend": 1214, "pg_type": 1247, "pg_attribute": 1249,
	"pg_proc": 1255, "pg_class": 1259, "pg_authid": 1260, "pg_auth_members": 1261, "pg_database": 1262,
	"pg_foreign_server": 1417, "pg_user_mapping": 1418, "pg_sequence": 2224, "pg_foreign_data_wrapper": 2328,
	"pg_shdescription": 2396, "pg_aggregate": 2600, "pg_am": 2601, "pg_amop": 2602, "pg_amproc": 2603,
	"pg_attrdef": 2604, "pg_cast": 2605, "pg_constraint": 2606, "pg_conversion": 2607, "pg_depend": 2608,
	"pg_description": 2609, "pg_index": 2610, "pg_inherits": 2611, "pg_language": 2612, "pg_namespace": 2615,
	"pg_opclass": 2616, "pg_operator": 2617, "pg_rewrite": 2618, "pg_trigger": 2620, "pg_opfamily": 2753,
	"pg_db_role_setting": 2964, "pg_largeobject_metadata": 2995, "pg_extension": 3079, "pg_foreign_table": 3118,
	"pg_policy": 3256, "pg_partitioned_table": 3350, "pg_statistic_ext": 3381, "pg_init_privs": 3394,
	"pg_collation": 3456, "pg_event_trigger": 3466, "pg_enum": 3501, "pg_range": 3541, "pg_transform": 3576,
	"pg_seclabel": 3596, "pg_ts_dict": 3600, "pg_ts_parser": 3601, "pg_ts_config": 3602, "pg_ts_template": 3764,
	"pg_replication_origin": 6000, "pg_subscription": 6100, "pg_publication": 6104, "pg_publication_rel": 6106,
	"pg_publication_namespace": 6237, "pg_roles": 12000, "pg_shadow": 12005, "pg_group": 12010, "pg_user": 12014,
	"pg_views": 12028, "pg_tables": 12033, "pg_matviews": 12038, "pg_indexes": 12043, "pg_sequences": 12048,
	"pg_stats": 12053, "pg_locks": 12073, "pg_prepared_statements": 12095, "pg_settings": 12104,
	"pg_stat_all_tables": 12142, "pg_stat_user_tables": 12161, "pg_statio_user_tables": 12179,
	"pg_stat_all_indexes": 12183, "pg_stat_user_indexes": 12192, "pg_stat_activity": 12222,
	"pg_stat_database": 12266,
}

// pgRel is one relation of pg_class.
type pgRel struct {
	oid  int64
	nsp  int64
	name string
	kind byte // 'r' table, 'i' index, 'v' view
	// def is the table of a table and of its primary key index.
	def *catalog.TableDef
	vt  *virtualTable // a view
	// attrs are the columns, attnum i+1.
	attrs []pgAttr
	// A table's row type, primary key index and constraint, and the
	// attnums of its row keys.
	rowType, index, constraint int64
	keys                       []int16
	table                      int64 // an index's table
}

// pgAttr is one column of a relation.
type pgAttr struct {
	name string
	typ  int64
	// length is a varchar(n)'s n, 0 for none: atttypmod is n+4, as in
	// PostgreSQL.
	length  int
	notNull bool
}

// typmod is the attribute's atttypmod.
func (a pgAttr) typmod() int32 {
	if a.length > 0 {
		return int32(a.length) + 4
	}
	return -1
}

// pgCatalog is the catalog as one statement sees it.
type pgCatalog struct {
	b      *binder
	ctx    context.Context
	snap   *snapshot
	rels   []*pgRel
	byOID  map[int64]*pgRel
	procs  []pgProc
	tables []*pgRel // the tables, in the snapshot's order
}

// pgCatalog returns the catalog of the binder's snapshot. It is cheap to
// build (table states are pinned only when a relation's rows need them),
// so each use builds its own.
func (b *binder) pgCatalog(ctx context.Context) *pgCatalog { return newPgCatalog(ctx, b, b.snap) }

// newPgCatalog is the catalog of snap, for the binder's session.
func newPgCatalog(ctx context.Context, b *binder, snap *snapshot) *pgCatalog {
	c := &pgCatalog{b: b, ctx: ctx, snap: snap, byOID: map[int64]*pgRel{}}
	c.addTables(snap.defs)
	for i, v := range b.virtualTables() {
		oid, ok := pgCatalogRelOIDs[v.name]
		if !ok || v.schema != "pg_catalog" {
			oid = int64(viewOIDBase + i)
		}
		kind := byte('v')
		if v.schema == "pg_catalog" && oid < 12000 {
			kind = 'r' // a system catalog table in PostgreSQL (pg_roles and up are views)
		}
		r := &pgRel{oid: oid, nsp: nspOID(v.schema), name: v.name, kind: kind, vt: v}
		types := pgColumnTypes(v)
		for j, col := range v.cols {
			r.attrs = append(r.attrs, pgAttr{name: col.name, typ: types[j]})
		}
		c.add(r)
	}
	c.procs = pgProcs()
	return c
}

// addTables gives each table its OIDs, in creation order so that a
// collision moves the newer table.
func (c *pgCatalog) addTables(defs []*catalog.TableDef) {
	order := append([]*catalog.TableDef(nil), defs...)
	sort.SliceStable(order, func(i, j int) bool {
		if !order[i].Created.Equal(order[j].Created) {
			return order[i].Created.Before(order[j].Created)
		}
		return order[i].ID < order[j].ID
	})
	used := map[int64]bool{}
	byDef := map[*catalog.TableDef]*pgRel{}
	for _, d := range order {
		h := fnv.New32a()
		h.Write([]byte(d.ID))
		slot := int64(h.Sum32()) % tableOIDSlots
		for used[slot] {
			slot = (slot + 1) % tableOIDSlots
		}
		used[slot] = true
		base := tableOIDBase + 4*slot
		t := &pgRel{oid: base, nsp: nspPublic, name: d.Name, kind: 'r', def: d, index: base + 1, constraint: base + 2, rowType: base + 3}
		all := d.Schema.Columns()
		declared := d.DeclaredColumns()
		for _, i := range declared {
			col := all[i]
			t.attrs = append(t.attrs, pgAttr{name: col.Name, typ: columnTypeOID(col), length: col.Length, notNull: !col.Nullable})
		}
		idx := &pgRel{oid: base + 1, nsp: nspPublic, name: d.Name + "_pkey", kind: 'i', def: d, table: base}
		for k := range d.Schema.RowKeys {
			for pos, i := range declared {
				if i == k {
					t.keys = append(t.keys, int16(pos+1))
					idx.attrs = append(idx.attrs, t.attrs[pos])
				}
			}
		}
		byDef[d] = t
		c.add(t)
		c.add(idx)
	}
	for _, d := range defs {
		c.tables = append(c.tables, byDef[d])
	}
}

func (c *pgCatalog) add(r *pgRel) {
	c.rels = append(c.rels, r)
	c.byOID[r.oid] = r
}

// relOID is the OID of the relation a scan reads.
func (c *pgCatalog) relOID(sc *scanRel) (int64, bool) {
	switch {
	case sc.ts != nil:
		for _, r := range c.tables {
			if r.def.ID == sc.ts.t.Def.ID {
				return r.oid, true
			}
		}
	case sc.vt != nil:
		if r := c.lookup(sc.vt.schema, sc.vt.name); r != nil {
			return r.oid, true
		}
	}
	return 0, false
}

// rowTypes maps the tables' row type OIDs to their names, for format_type.
func (c *pgCatalog) rowTypes() map[int64]string {
	m := map[int64]string{}
	for _, t := range c.tables {
		m[t.rowType] = t.name
	}
	return m
}

// tableSnapshot pins the state of a table relation.
func (c *pgCatalog) tableState(r *pgRel) (*tableSnapshot, error) {
	return c.snap.table(c.ctx, r.def.Name)
}

// lookup finds a relation by name: qualified, or along the search path
// (pg_catalog, then public), then in dormouse as FROM does.
func (c *pgCatalog) lookup(schemaName, name string) *pgRel {
	var path []int64
	if schemaName != "" {
		path = []int64{nspOID(schemaName)}
	} else {
		path = []int64{nspPgCatalog, nspPublic, nspDormouse}
	}
	for _, nsp := range path {
		for _, r := range c.rels {
			if r.nsp == nsp && r.name == name {
				return r
			}
		}
	}
	return nil
}

// visible reports whether a relation is found by its bare name: it is in
// a schema on the search path and no relation earlier on it has the name.
func (c *pgCatalog) visible(r *pgRel) bool {
	if r.nsp != nspPgCatalog && r.nsp != nspPublic {
		return false
	}
	return c.lookup("", r.name) == r
}

// regclassName is a relation's name as regclass prints it: qualified
// when it is not visible.
func (c *pgCatalog) regclassName(oid int64) string {
	r := c.byOID[oid]
	if r == nil {
		return fmt.Sprint(oid)
	}
	if c.visible(r) {
		return quoteIdentIfNeeded(r.name)
	}
	return quoteIdentIfNeeded(nspName(r.nsp)) + "." + quoteIdentIfNeeded(r.name)
}

// parseQualified splits a possibly qualified, possibly quoted name
// ("public.t", "\"My Table\"") as regclass input reads it.
func parseQualified(s string) []string {
	var parts []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' && quoted && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case ch == '"':
			quoted = !quoted
		case ch == '.' && !quoted:
			parts = append(parts, cur.String())
			cur.Reset()
		case !quoted:
			cur.WriteString(strings.ToLower(string(ch)))
		default:
			cur.WriteByte(ch)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

// indexDef is pg_get_indexdef of a primary key index; pretty leaves the
// table unqualified when it is visible.
func (c *pgCatalog) indexDef(r *pgRel, column int, pretty bool) string {
	if column > 0 {
		if column <= len(r.attrs) {
			return quoteIdentIfNeeded(r.attrs[column-1].name)
		}
		return ""
	}
	t := c.byOID[r.table]
	cols := make([]string, len(r.attrs))
	for i, a := range r.attrs {
		cols[i] = quoteIdentIfNeeded(a.name)
	}
	table := "public." + quoteIdentIfNeeded(t.name)
	if pretty && c.visible(t) {
		table = quoteIdentIfNeeded(t.name)
	}
	return fmt.Sprintf("CREATE INDEX %s ON %s USING btree (%s)", quoteIdentIfNeeded(r.name), table, strings.Join(cols, ", "))
}

// constraintDef is pg_get_constraintdef of a primary key constraint.
func (c *pgCatalog) constraintDef(oid int64) (string, bool) {
	for _, t := range c.tables {
		if t.constraint == oid {
			idx := c.byOID[t.index]
			cols := make([]string, len(idx.attrs))
			for i, a := range idx.attrs {
				cols[i] = quoteIdentIfNeeded(a.name)
			}
			return "PRIMARY KEY (" + strings.Join(cols, ", ") + ")", true
		}
	}
	return "", false
}

// virtualTables lists every virtual table: dormouse.*, information_schema
// and pg_catalog.
func (b *binder) virtualTables() []*virtualTable {
	out := append(systemTables(), informationSchema()...)
	return append(out, b.pgCatalogTables()...)
}

// findVirtual finds a virtual table by schema and name. An unqualified
// name finds pg_catalog's relations first (pg_catalog is always first on
// PostgreSQL's search path), then dormouse's.
func (b *binder) findVirtual(schemaName, name string) *virtualTable {
	if schemaName == "" || schemaName == "pg_catalog" {
		if v := b.pgCatalogTable(name); v != nil {
			return v
		}
	}
	return findVirtual(schemaName, name)
}

// pgColumnTypes are the PostgreSQL types of a virtual table's columns:
// those of its declaration for the catalog's relations, else those of the
// Arrow types.
func pgColumnTypes(v *virtualTable) []int64 {
	out := make([]int64, len(v.cols))
	spec := pgTableSpecs[v.name]
	for i, col := range v.cols {
		if v.schema == "pg_catalog" && spec != nil && i < len(spec.cols) {
			out[i] = spec.cols[i].oid
			continue
		}
		out[i] = arrowTypeOID(col.typ)
	}
	return out
}

// pgColSpec is a column of a catalog relation.
type pgColSpec struct {
	name string
	oid  int64 // PostgreSQL type
	typ  arrow.DataType
}

// parseColSpec reads "name type, name type, …" with PostgreSQL type
// names ("char", aclitem[], timestamp with time zone).
func parseColSpec(spec string) []pgColSpec {
	var out []pgColSpec
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, typ, _ := strings.Cut(part, " ")
		typ = strings.TrimSpace(typ)
		arr := strings.HasSuffix(typ, "[]")
		typ = strings.Trim(strings.TrimSuffix(typ, "[]"), `"`)
		t := lookupPgType([]string{typ})
		if t == nil {
			panic("pg_catalog spec: unknown type " + typ)
		}
		oid := t.oid
		if arr {
			oid = t.array
		}
		at, ok := pgArrowType(oid)
		if !ok {
			panic("pg_catalog spec: no Arrow type for " + typ)
		}
		out = append(out, pgColSpec{name: name, oid: oid, typ: at})
	}
	return out
}
