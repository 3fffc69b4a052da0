package sql

import (
	"context"
	"sort"
	"strconv"

	"github.com/dormousedb/dormouse/engine/agg"
	"github.com/dormousedb/dormouse/engine/expr"
	"github.com/dormousedb/dormouse/storage/state"
)

// The relations of pg_catalog: their columns (PostgreSQL 15's, in
// order, with PostgreSQL's types) and how their rows are computed. A row
// is given by column name; columns it leaves out take the catalog's usual
// empty value (0, false, '' for "char", NULL otherwise).

// pgRow is one row of a catalog relation, by column name.
type pgRow map[string]any

// pgTableSpec is a catalog relation.
type pgTableSpec struct {
	name string
	cols []pgColSpec
	rows func(c *pgCatalog) ([]pgRow, error) // nil: always empty
}

var (
	pgTableSpecs = map[string]*pgTableSpec{}
	pgTableOrder []string
)

func pgTableDef(name, cols string, rows func(c *pgCatalog) ([]pgRow, error)) {
	pgTableSpecs[name] = &pgTableSpec{name: name, cols: parseColSpec(cols), rows: rows}
	pgTableOrder = append(pgTableOrder, name)
}

// pgCatalogTables are the catalog's relations as virtual tables over the
// binder's snapshot and session.
func (b *binder) pgCatalogTables() []*virtualTable {
	out := make([]*virtualTable, 0, len(pgTableOrder))
	for _, name := range pgTableOrder {
		out = append(out, b.pgCatalogTable(name))
	}
	return out
}

// pgCatalogTable is the catalog relation name, nil if there is none.
func (b *binder) pgCatalogTable(name string) *virtualTable {
	spec := pgTableSpecs[name]
	if spec == nil {
		return nil
	}
	v := &virtualTable{schema: "pg_catalog", name: name}
	for _, c := range spec.cols {
		v.cols = append(v.cols, virtualColumn{name: c.name, typ: c.typ})
	}
	v.rows = func(ctx context.Context, snap *snapshot) ([][]any, error) {
		if spec.rows == nil {
			return nil, nil
		}
		rows, err := spec.rows(newPgCatalog(ctx, b, snap))
		if err != nil {
			return nil, err
		}
		out := make([][]any, len(rows))
		for i, r := range rows {
			vals := make([]any, len(spec.cols))
			for j, c := range spec.cols {
				v, ok := r[c.name]
				if !ok {
					v = pgDefault(c.oid)
				}
				vals[j] = v
			}
			out[i] = vals
		}
		return out, nil
	}
	return v
}

// pgDefault is the value a catalog column takes when a row does not say.
func pgDefault(oid int64) any {
	switch oid {
	case oidBool:
		return false
	case oidInt2, oidInt4, oidInt8, oidOid, oidXid:
		return 0
	case oidFloat4:
		return float32(0)
	case oidChar:
		return ""
	case oidRegproc:
		return "-"
	}
	return nil
}

// user is the role the session runs as.
func (c *pgCatalog) user() string { return c.b.s.user() }

func init() {
	pgTableDef("pg_namespace", "oid oid, nspname name, nspowner oid, nspacl aclitem[]", func(c *pgCatalog) ([]pgRow, error) {
		var out []pgRow
		for _, n := range pgNamespaces {
			out = append(out, pgRow{"oid": n.oid, "nspname": n.name, "nspowner": n.owner})
		}
		return out, nil
	})
	pgTableDef("pg_class", "oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, "+
		"relfilenode oid, reltablespace oid, relpages integer, reltuples real, relallvisible integer, reltoastrelid oid, "+
		"relhasindex boolean, relisshared boolean, relpersistence \"char\", relkind \"char\", relnatts smallint, "+
		"relchecks smallint, relhasrules boolean, relhastriggers boolean, relhassubclass boolean, relrowsecurity boolean, "+
		"relforcerowsecurity boolean, relispopulated boolean, relreplident \"char\", relispartition boolean, relrewrite oid, "+
		"relfrozenxid xid, relminmxid xid, relacl aclitem[], reloptions text[], relpartbound pg_node_tree", pgClassRows)
	pgTableDef("pg_attribute", "attrelid oid, attname name, atttypid oid, attstattarget integer, attlen smallint, "+
		"attnum smallint, attndims integer, attcacheoff integer, atttypmod integer, attbyval boolean, attalign \"char\", "+
		"attstorage \"char\", attcompression \"char\", attnotnull boolean, atthasdef boolean, atthasmissing boolean, "+
		"attidentity \"char\", attgenerated \"char\", attisdropped boolean, attislocal boolean, attinhcount integer, "+
		"attcollation oid, attacl aclitem[], attoptions text[], attfdwoptions text[], attmissingval anyarray", pgAttributeRows)
	pgTableDef("pg_type", "oid oid, typname name, typnamespace oid, typowner oid, typlen smallint, typbyval boolean, "+
		"typtype \"char\", typcategory \"char\", typispreferred boolean, typisdefined boolean, typdelim \"char\", "+
		"typrelid oid, typsubscript regproc, typelem oid, typarray oid, typinput regproc, typoutput regproc, "+
		"typreceive regproc, typsend regproc, typmodin regproc, typmodout regproc, typanalyze regproc, typalign \"char\", "+
		"typstorage \"char\", typnotnull boolean, typbasetype oid, typtypmod integer, typndims integer, typcollation oid, "+
		"typdefaultbin pg_node_tree, typdefault text, typacl aclitem[]", pgTypeRows)
	pgTableDef("pg_database", "oid oid, datname name, datdba oid, encoding integer, datlocprovider \"char\", "+
		"datistemplate boolean, datallowconn boolean, datconnlimit integer, datfrozenxid xid, datminmxid xid, "+
		"dattablespace oid, datcollate text, datctype text, daticulocale text, datcollversion text, datacl aclitem[]",
		func(c *pgCatalog) ([]pgRow, error) {
			return []pgRow{{"oid": oidDatabase, "datname": "dormouse", "datdba": oidSuperuser, "encoding": 6,
				"datlocprovider": "c", "datallowconn": true, "datconnlimit": -1, "datminmxid": 1,
				"dattablespace": oidDefaultTablespace, "datcollate": "C", "datctype": "C"}}, nil
		})
	pgTableDef("pg_index", "indexrelid oid, indrelid oid, indnatts smallint, indnkeyatts smallint, indisunique boolean, "+
		"indnullsnotdistinct boolean, indisprimary boolean, indisexclusion boolean, indimmediate boolean, "+
		"indisclustered boolean, indisvalid boolean, indcheckxmin boolean, indisready boolean, indislive boolean, "+
		"indisreplident boolean, indkey int2vector, indcollation oidvector, indclass oidvector, indoption int2vector, "+
		"indexprs pg_node_tree, indpred pg_node_tree", pgIndexRows)
	pgTableDef("pg_constraint", "oid oid, conname name, connamespace oid, contype \"char\", condeferrable boolean, "+
		"condeferred boolean, convalidated boolean, conrelid oid, contypid oid, conindid oid, conparentid oid, "+
		"confrelid oid, confupdtype \"char\", confdeltype \"char\", confmatchtype \"char\", conislocal boolean, "+
		"coninhcount integer, connoinherit boolean, conkey smallint[], confkey smallint[], conpfeqop oid[], "+
		"conppeqop oid[], conffeqop oid[], confdelsetcols smallint[], conexclop oid[], conbin pg_node_tree", pgConstraintRows)
	pgTableDef("pg_description", "objoid oid, classoid oid, objsubid integer, description text", nil)
	pgTableDef("pg_shdescription", "objoid oid, classoid oid, description text", nil)
	pgTableDef("pg_attrdef", "oid oid, adrelid oid, adnum smallint, adbin pg_node_tree", nil)
	pgTableDef("pg_am", "oid oid, amname name, amhandler regproc, amtype \"char\"", func(c *pgCatalog) ([]pgRow, error) {
		return []pgRow{
			{"oid": oidHeapAM, "amname": "heap", "amhandler": "heap_tableam_handler", "amtype": "t"},
			{"oid": oidBtreeAM, "amname": "btree", "amhandler": "bthandler", "amtype": "i"},
		}, nil
	})
	pgTableDef("pg_collation", "oid oid, collname name, collnamespace oid, collowner oid, collprovider \"char\", "+
		"collisdeterministic boolean, collencoding integer, collcollate text, collctype text, colliculocale text, "+
		"collversion text", func(c *pgCatalog) ([]pgRow, error) {
		base := func(oid int64, name, provider string, locale any) pgRow {
			return pgRow{"oid": oid, "collname": name, "collnamespace": nspPgCatalog, "collowner": oidSuperuser,
				"collprovider": provider, "collisdeterministic": true, "collencoding": -1, "collcollate": locale, "collctype": locale}
		}
		return []pgRow{base(oidDefaultCollation, "default", "d", nil), base(oidCCollation, "C", "c", "C"),
			base(oidPosixCollation, "POSIX", "c", "POSIX")}, nil
	})
	pgTableDef("pg_inherits", "inhrelid oid, inhparent oid, inhseqno integer, inhdetachpending boolean", nil)
	pgTableDef("pg_tablespace", "oid oid, spcname name, spcowner oid, spcacl aclitem[], spcoptions text[]", func(c *pgCatalog) ([]pgRow, error) {
		return []pgRow{{"oid": oidDefaultTablespace, "spcname": "pg_default", "spcowner": oidSuperuser},
			{"oid": oidGlobalTablespace, "spcname": "pg_global", "spcowner": oidSuperuser}}, nil
	})
	pgTableDef("pg_authid", "oid oid, rolname name, rolsuper boolean, rolinherit boolean, rolcreaterole boolean, "+
		"rolcreatedb boolean, rolcanlogin boolean, rolreplication boolean, rolbypassrls boolean, rolconnlimit integer, "+
		"rolpassword text, rolvaliduntil timestamp with time zone", pgRoleRows)
	pgTableDef("pg_roles", "rolname name, rolsuper boolean, rolinherit boolean, rolcreaterole boolean, "+
		"rolcreatedb boolean, rolcanlogin boolean, rolreplication boolean, rolconnlimit integer, rolpassword text, "+
		"rolvaliduntil timestamp with time zone, rolbypassrls boolean, rolconfig text[], oid oid", func(c *pgCatalog) ([]pgRow, error) {
		rows, _ := pgRoleRows(c)
		for _, r := range rows {
			r["rolpassword"] = "********"
		}
		return rows, nil
	})
	pgTableDef("pg_user", "usename name, usesysid oid, usecreatedb boolean, usesuper boolean, userepl boolean, "+
		"usebypassrls boolean, passwd text, valuntil timestamp with time zone, useconfig text[]", func(c *pgCatalog) ([]pgRow, error) {
		return []pgRow{{"usename": c.user(), "usesysid": oidSuperuser, "usecreatedb": true, "usesuper": true,
			"userepl": true, "usebypassrls": true, "passwd": "********"}}, nil
	})
	pgTableDef("pg_auth_members", "roleid oid, member oid, grantor oid, admin_option boolean", nil)
	pgTableDef("pg_proc", "oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost real, "+
		"prorows real, provariadic oid, prosupport regproc, prokind \"char\", prosecdef boolean, proleakproof boolean, "+
		"proisstrict boolean, proretset boolean, provolatile \"char\", proparallel \"char\", pronargs smallint, "+
		"pronargdefaults smallint, prorettype oid, proargtypes oidvector, proallargtypes oid[], proargmodes \"char\"[], "+
		"proargnames text[], proargdefaults pg_node_tree, protrftypes oid[], prosrc text, probin text, "+
		"prosqlbody pg_node_tree, proconfig text[], proacl aclitem[]", pgProcRows)
	pgTableDef("pg_language", "oid oid, lanname name, lanowner oid, lanispl boolean, lanpltrusted boolean, "+
		"lanplcallfoid oid, laninline oid, lanvalidator oid, lanacl aclitem[]", func(c *pgCatalog) ([]pgRow, error) {
		return []pgRow{
			{"oid": 12, "lanname": "internal", "lanowner": oidSuperuser, "lanvalidator": 2246},
			{"oid": 13, "lanname": "c", "lanowner": oidSuperuser, "lanvalidator": 2247},
			{"oid": 14, "lanname": "sql", "lanowner": oidSuperuser, "lanpltrusted": true, "lanvalidator": 2248},
		}, nil
	})
	pgTableDef("pg_settings", "name text, setting text, unit text, category text, short_desc text, extra_desc text, "+
		"context text, vartype text, source text, min_val text, max_val text, enumvals text[], boot_val text, "+
		"reset_val text, sourcefile text, sourceline integer, pending_restart boolean", pgSettingsRows)
	pgTableDef("pg_stats", "schemaname name, tablename name, attname name, inherited boolean, null_frac real, "+
		"avg_width integer, n_distinct real, most_common_vals anyarray, most_common_freqs real[], "+
		"histogram_bounds anyarray, correlation real, most_common_elems anyarray, most_common_elem_freqs real[], "+
		"elem_count_histogram real[]", pgStatsRows)
	statTables := "relid oid, schemaname name, relname name, seq_scan bigint, seq_tup_read bigint, idx_scan bigint, " +
		"idx_tup_fetch bigint, n_tup_ins bigint, n_tup_upd bigint, n_tup_del bigint, n_tup_hot_upd bigint, " +
		"n_live_tup bigint, n_dead_tup bigint, n_mod_since_analyze bigint, n_ins_since_vacuum bigint, " +
		"last_vacuum timestamp with time zone, last_autovacuum timestamp with time zone, " +
		"last_analyze timestamp with time zone, last_autoanalyze timestamp with time zone, vacuum_count bigint, " +
		"autovacuum_count bigint, analyze_count bigint, autoanalyze_count bigint"
	pgTableDef("pg_stat_all_tables", statTables, pgStatTablesRows)
	pgTableDef("pg_stat_user_tables", statTables, pgStatTablesRows)
	pgTableDef("pg_tables", "schemaname name, tablename name, tableowner name, tablespace name, hasindexes boolean, "+
		"hasrules boolean, hastriggers boolean, rowsecurity boolean", func(c *pgCatalog) ([]pgRow, error) {
		var out []pgRow
		for _, r := range c.rels {
			if r.kind == 'r' {
				out = append(out, pgRow{"schemaname": nspName(r.nsp), "tablename": r.name, "tableowner": c.user(), "hasindexes": r.def != nil})
			}
		}
		return out, nil
	})
	pgTableDef("pg_views", "schemaname name, viewname name, viewowner name, definition text", func(c *pgCatalog) ([]pgRow, error) {
		var out []pgRow
		for _, r := range c.rels {
			if r.kind == 'v' {
				out = append(out, pgRow{"schemaname": nspName(r.nsp), "viewname": r.name, "viewowner": c.user()})
			}
		}
		return out, nil
	})
	pgTableDef("pg_matviews", "schemaname name, matviewname name, matviewowner name, tablespace name, "+
		"hasindexes boolean, ispopulated boolean, definition text", nil)
	pgTableDef("pg_indexes", "schemaname name, tablename name, indexname name, tablespace name, indexdef text", func(c *pgCatalog) ([]pgRow, error) {
		var out []pgRow
		for _, t := range c.tables {
			idx := c.byOID[t.index]
			out = append(out, pgRow{"schemaname": "public", "tablename": t.name, "indexname": idx.name, "indexdef": c.indexDef(idx, 0, false)})
		}
		return out, nil
	})
	pgTableDef("pg_sequences", "schemaname name, sequencename name, sequenceowner name, data_type regtype, "+
		"start_value bigint, min_value bigint, max_value bigint, increment_by bigint, cycle boolean, cache_size bigint, "+
		"last_value bigint", nil)
	// Catalogs of features Dormouse does not have: present, with the
	// columns clients read, and empty.
	pgTableDef("pg_extension", "oid oid, extname name, extowner oid, extnamespace oid, extrelocatable boolean, "+
		"extversion text, extconfig oid[], extcondition text[]", nil)
	pgTableDef("pg_foreign_table", "ftrelid oid, ftserver oid, ftoptions text[]", nil)
	pgTableDef("pg_foreign_server", "oid oid, srvname name, srvowner oid, srvfdw oid, srvtype text, srvversion text, "+
		"srvacl aclitem[], srvoptions text[]", nil)
	pgTableDef("pg_foreign_data_wrapper", "oid oid, fdwname name, fdwowner oid, fdwhandler oid, fdwvalidator oid, "+
		"fdwacl aclitem[], fdwoptions text[]", nil)
	pgTableDef("pg_policy", "oid oid, polname name, polrelid oid, polcmd \"char\", polpermissive boolean, "+
		"polroles oid[], polqual pg_node_tree, polwithcheck pg_node_tree", nil)
	pgTableDef("pg_publication", "oid oid, pubname name, pubowner oid, puballtables boolean, pubinsert boolean, "+
		"pubupdate boolean, pubdelete boolean, pubtruncate boolean, pubviaroot boolean", nil)
	pgTableDef("pg_publication_namespace", "oid oid, pnpubid oid, pnnspid oid", nil)
	pgTableDef("pg_publication_rel", "oid oid, prpubid oid, prrelid oid, prqual pg_node_tree, prattrs int2vector", nil)
	pgTableDef("pg_statistic_ext", "oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, "+
		"stxstattarget integer, stxkeys int2vector, stxkind \"char\"[], stxexprs pg_node_tree", nil)
	pgTableDef("pg_trigger", "oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype smallint, "+
		"tgenabled \"char\", tgisinternal boolean, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, "+
		"tgdeferrable boolean, tginitdeferred boolean, tgnargs smallint, tgattr int2vector, tgargs bytea, "+
		"tgqual pg_node_tree, tgoldtable name, tgnewtable name", nil)
	pgTableDef("pg_rewrite", "oid oid, rulename name, ev_class oid, ev_type \"char\", ev_enabled \"char\", "+
		"is_instead boolean, ev_qual pg_node_tree, ev_action pg_node_tree", nil)
	pgTableDef("pg_sequence", "seqrelid oid, seqtypid oid, seqstart bigint, seqincrement bigint, seqmax bigint, "+
		"seqmin bigint, seqcache bigint, seqcycle boolean", nil)
	pgTableDef("pg_partitioned_table", "partrelid oid, partstrat \"char\", partnatts smallint, partdefid oid, "+
		"partattrs int2vector, partclass oidvector, partcollation oidvector, partexprs pg_node_tree", nil)
	pgTableDef("pg_event_trigger", "oid oid, evtname name, evtevent name, evtowner oid, evtfoid oid, "+
		"evtenabled \"char\", evttags text[]", nil)
	pgTableDef("pg_enum", "oid oid, enumtypid oid, enumsortorder real, enumlabel name", nil)
	pgTableDef("pg_range", "rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid, "+
		"rngcanonical regproc, rngsubdiff regproc", nil)
	pgTableDef("pg_depend", "classid oid, objid oid, objsubid integer, refclassid oid, refobjid oid, "+
		"refobjsubid integer, deptype \"char\"", nil)
	pgTableDef("pg_init_privs", "objoid oid, classoid oid, objsubid integer, privtype \"char\", initprivs aclitem[]", nil)
	pgTableDef("pg_default_acl", "oid oid, defaclrole oid, defaclnamespace oid, defaclobjtype \"char\", "+
		"defaclacl aclitem[]", nil)
	pgTableDef("pg_subscription", "oid oid, subdbid oid, subskiplsn text, subname name, subowner oid, "+
		"subenabled boolean, subbinary boolean, substream boolean, subtwophasestate \"char\", subdisableonerr boolean, "+
		"subconninfo text, subslotname name, subsynccommit text, subpublications text[]", nil)
	pgTableDef("pg_cast", "oid oid, castsource oid, casttarget oid, castfunc oid, castcontext \"char\", castmethod \"char\"", nil)
	pgTableDef("pg_operator", "oid oid, oprname name, oprnamespace oid, oprowner oid, oprkind \"char\", "+
		"oprcanmerge boolean, oprcanhash boolean, oprleft oid, oprright oid, oprresult oid, oprcom oid, oprnegate oid, "+
		"oprcode regproc, oprrest regproc, oprjoin regproc", nil)
	pgTableDef("pg_conversion", "oid oid, conname name, connamespace oid, conowner oid, conforencoding integer, "+
		"contoencoding integer, conproc regproc, condefault boolean", nil)
	pgTableDef("pg_ts_config", "oid oid, cfgname name, cfgnamespace oid, cfgowner oid, cfgparser oid", nil)
	pgTableDef("pg_ts_dict", "oid oid, dictname name, dictnamespace oid, dictowner oid, dicttemplate oid, dictinitoption text", nil)
	pgTableDef("pg_ts_parser", "oid oid, prsname name, prsnamespace oid, prsstart regproc, prstoken regproc, "+
		"prsend regproc, prsheadline regproc, prslextype regproc", nil)
	pgTableDef("pg_ts_template", "oid oid, tmplname name, tmplnamespace oid, tmplinit regproc, tmpllexize regproc", nil)
	pgTableDef("pg_db_role_setting", "setdatabase oid, setrole oid, setconfig text[]", nil)
	pgTableDef("pg_opclass", "oid oid, opcmethod oid, opcname name, opcnamespace oid, opcowner oid, opcfamily oid, "+
		"opcintype oid, opcdefault boolean, opckeytype oid", nil)
	pgTableDef("pg_opfamily", "oid oid, opfmethod oid, opfname name, opfnamespace oid, opfowner oid", nil)
	pgTableDef("pg_aggregate", "aggfnoid regproc, aggkind \"char\", aggnumdirectargs smallint, aggtransfn regproc, "+
		"aggfinalfn regproc, aggcombinefn regproc, aggserialfn regproc, aggdeserialfn regproc, aggmtransfn regproc, "+
		"aggminvtransfn regproc, aggmfinalfn regproc, aggfinalextra boolean, aggmfinalextra boolean, "+
		"aggfinalmodify \"char\", aggmfinalmodify \"char\", aggsortop oid, aggtranstype oid, aggtransspace integer, "+
		"aggmtranstype oid, aggmtransspace integer, agginitval text, aggminitval text", nil)
	pgTableDef("pg_user_mapping", "oid oid, umuser oid, umserver oid, umoptions text[]", nil)
	pgTableDef("pg_transform", "oid oid, trftype oid, trflang oid, trffromsql regproc, trftosql regproc", nil)
	pgTableDef("pg_largeobject_metadata", "oid oid, lomowner oid, lomacl aclitem[]", nil)
	pgTableDef("pg_shdepend", "dbid oid, classid oid, objid oid, objsubid integer, refclassid oid, refobjid oid, "+
		"deptype \"char\"", nil)
	pgTableDef("pg_locks", "locktype text, database oid, relation oid, page integer, tuple smallint, virtualxid text, "+
		"transactionid xid, classid oid, objid oid, objsubid smallint, virtualtransaction text, pid integer, mode text, "+
		"granted boolean, fastpath boolean, waitstart timestamp with time zone", nil)
	pgTableDef("pg_prepared_statements", "name text, statement text, prepare_time timestamp with time zone, "+
		"parameter_types regtype[], from_sql boolean, generic_plans bigint, custom_plans bigint", nil)
	// The sessions of this process are not tracked: the session asking
	// sees itself.
	pgTableDef("pg_stat_activity", "datid oid, datname name, pid integer, leader_pid integer, usesysid oid, "+
		"usename name, application_name text, client_addr inet, client_hostname text, client_port integer, "+
		"backend_start timestamp with time zone, xact_start timestamp with time zone, "+
		"query_start timestamp with time zone, state_change timestamp with time zone, wait_event_type text, "+
		"wait_event text, state text, backend_xid xid, backend_xmin xid, query_id bigint, query text, "+
		"backend_type text", func(c *pgCatalog) ([]pgRow, error) {
		s := c.b.s
		return []pgRow{{"datid": oidDatabase, "datname": "dormouse", "pid": int32(s.id), "leader_pid": nil,
			"usesysid": oidSuperuser, "usename": c.user(), "application_name": s.settings["application_name"],
			"client_port": nil, "state": "active", "backend_xid": nil, "backend_xmin": nil, "query_id": nil,
			"backend_type": "client backend"}}, nil
	})
}

func pgClassRows(c *pgCatalog) ([]pgRow, error) {
	var out []pgRow
	for _, r := range c.rels {
		row := pgRow{"oid": r.oid, "relname": r.name, "relnamespace": r.nsp, "reltype": r.rowType,
			"relowner": oidSuperuser, "relfilenode": r.oid, "relpersistence": "p", "relkind": string(r.kind),
			"relnatts": len(r.attrs), "relispopulated": true, "relreplident": "d", "reltuples": float32(-1)}
		switch r.kind {
		case 'r':
			row["relam"] = oidHeapAM
			if r.def != nil {
				ts, err := c.tableState(r)
				if err != nil {
					return nil, err
				}
				var bytes int64
				ts.state.EachFile(func(f *state.File) { bytes += f.Bytes })
				row["reltuples"] = float32(ts.state.TotalRows())
				row["relpages"] = int32((bytes + 8191) / 8192)
				row["relhasindex"] = true
			}
		case 'i':
			row["relam"] = oidBtreeAM
			ts, err := c.tableState(r)
			if err != nil {
				return nil, err
			}
			row["reltuples"] = float32(ts.state.TotalRows())
			row["relreplident"] = "n"
		case 'v':
			row["relreplident"] = "n"
		}
		out = append(out, row)
	}
	return out, nil
}

func pgAttributeRows(c *pgCatalog) ([]pgRow, error) {
	var out []pgRow
	for _, r := range c.rels {
		for i, a := range r.attrs {
			t := pgTypeByOID[a.typ]
			row := pgRow{"attrelid": r.oid, "attname": a.name, "atttypid": a.typ, "attstattarget": -1,
				"attnum": i + 1, "attcacheoff": -1, "atttypmod": a.typmod(), "attnotnull": a.notNull, "attislocal": true}
			if t != nil {
				row["attlen"] = t.len
				row["attbyval"] = t.byVal
				row["attalign"] = string(t.align)
				row["attstorage"] = string(t.storage)
				row["attcollation"] = t.collation
				if t.category == 'A' {
					row["attndims"] = 1
				}
			}
			if r.kind == 'i' {
				row["attstattarget"], row["attnotnull"], row["attislocal"] = 0, false, true
			}
			out = append(out, row)
		}
	}
	return out, nil
}

func pgTypeRows(c *pgCatalog) ([]pgRow, error) {
	var out []pgRow
	for i := range pgTypes {
		t := &pgTypes[i]
		out = append(out, pgRow{"oid": t.oid, "typname": t.name, "typnamespace": nspPgCatalog, "typowner": oidSuperuser,
			"typlen": t.len, "typbyval": t.byVal, "typtype": string(t.typtype), "typcategory": string(t.category),
			"typispreferred": t.preferred, "typisdefined": true, "typdelim": ",", "typsubscript": t.subscript,
			"typelem": t.elem, "typarray": t.array, "typinput": t.procs[0], "typoutput": t.procs[1],
			"typreceive": t.procs[2], "typsend": t.procs[3], "typmodin": t.procs[4], "typmodout": t.procs[5],
			"typanalyze": t.procs[6], "typalign": string(t.align), "typstorage": string(t.storage), "typtypmod": -1,
			"typcollation": t.collation})
	}
	// Each table's row type, a composite.
	for _, r := range c.tables {
		out = append(out, pgRow{"oid": r.rowType, "typname": r.name, "typnamespace": r.nsp, "typowner": oidSuperuser,
			"typlen": -1, "typtype": "c", "typcategory": "C", "typisdefined": true, "typdelim": ",", "typrelid": r.oid,
			"typinput": "record_in", "typoutput": "record_out", "typreceive": "record_recv", "typsend": "record_send",
			"typalign": "d", "typstorage": "x", "typtypmod": -1})
	}
	return out, nil
}

func pgIndexRows(c *pgCatalog) ([]pgRow, error) {
	var out []pgRow
	for _, t := range c.tables {
		keys, colls, class, opts := make([]any, len(t.keys)), make([]any, len(t.keys)), make([]any, len(t.keys)), make([]any, len(t.keys))
		for i, k := range t.keys {
			keys[i] = k
			colls[i] = int64(0)
			if pt := pgTypeByOID[t.attrs[k-1].typ]; pt != nil {
				colls[i] = pt.collation
			}
			class[i], opts[i] = int64(0), int16(0)
		}
		// The primary key orders and partitions rows but does not make
		// them unique (a table is a sorted multiset): indisunique is false.
		out = append(out, pgRow{"indexrelid": t.index, "indrelid": t.oid, "indnatts": len(keys), "indnkeyatts": len(keys),
			"indisprimary": true, "indimmediate": true, "indisvalid": true, "indisready": true, "indislive": true,
			"indkey": keys, "indcollation": colls, "indclass": class, "indoption": opts})
	}
	return out, nil
}

func pgConstraintRows(c *pgCatalog) ([]pgRow, error) {
	var out []pgRow
	for _, t := range c.tables {
		keys := make([]any, len(t.keys))
		for i, k := range t.keys {
			keys[i] = k
		}
		out = append(out, pgRow{"oid": t.constraint, "conname": t.name + "_pkey", "connamespace": t.nsp, "contype": "p",
			"convalidated": true, "conrelid": t.oid, "conindid": t.index, "confupdtype": " ", "confdeltype": " ",
			"confmatchtype": " ", "conislocal": true, "connoinherit": true, "conkey": keys})
	}
	return out, nil
}

func pgRoleRows(c *pgCatalog) ([]pgRow, error) {
	return []pgRow{
		{"oid": oidSuperuser, "rolname": c.user(), "rolsuper": true, "rolinherit": true, "rolcreaterole": true,
			"rolcreatedb": true, "rolcanlogin": true, "rolreplication": true, "rolbypassrls": true, "rolconnlimit": -1},
		{"oid": oidDatabaseOwner, "rolname": "pg_database_owner", "rolinherit": true, "rolconnlimit": -1},
	}, nil
}

// pgProc is one function of pg_proc.
type pgProc struct {
	oid      int64
	name     string
	kind     byte // f function, a aggregate, w window
	ret      int64
	args     []int64
	variadic bool
}

// pgProcs lists the functions: those the built-in types name (with
// PostgreSQL's OIDs), then the engine's scalar, aggregate and window
// functions.
func pgProcs() []pgProc {
	var out []pgProc
	seen := map[string]bool{}
	for _, p := range pgBuiltinProcs {
		out = append(out, pgProc{oid: p.oid, name: p.name, kind: 'f', ret: p.ret, args: p.args})
		seen[p.name] = true
	}
	next := int64(procOIDBase)
	for _, f := range expr.Functions() {
		p := pgProc{oid: next, name: f.Name, kind: 'f', ret: arrowTypeOID(f.Result), variadic: f.Variadic}
		next++
		for _, a := range f.Args {
			if a == nil {
				p.args = append(p.args, 2276) // "any"
			} else {
				p.args = append(p.args, arrowTypeOID(a))
			}
		}
		out = append(out, p)
	}
	for _, name := range agg.Names() {
		out = append(out, pgProc{oid: next, name: name, kind: 'a', ret: 2283, args: []int64{2283}})
		next++
	}
	for _, name := range []string{"row_number", "rank", "dense_rank"} {
		out = append(out, pgProc{oid: next, name: name, kind: 'w', ret: oidInt8})
		next++
	}
	return out
}

func pgProcRows(c *pgCatalog) ([]pgRow, error) {
	var out []pgRow
	for _, p := range c.procs {
		args := make([]any, len(p.args))
		for i, a := range p.args {
			args[i] = a
		}
		row := pgRow{"oid": p.oid, "proname": p.name, "pronamespace": nspPgCatalog, "proowner": oidSuperuser,
			"prolang": 12, "procost": float32(1), "prokind": string(p.kind), "proisstrict": true,
			"provolatile": "i", "proparallel": "s", "pronargs": len(p.args), "prorettype": p.ret,
			"proargtypes": args, "prosrc": p.name}
		if p.variadic && len(p.args) > 0 {
			row["provariadic"] = p.args[len(p.args)-1]
		}
		out = append(out, row)
	}
	return out, nil
}

// readOnlySettings are settings PostgreSQL reports that a session cannot
// change; pgJDBC reads max_index_keys.
var readOnlySettings = [][2]string{
	{"block_size", "8192"}, {"data_checksums", "off"}, {"lc_collate", "C"}, {"lc_ctype", "C"},
	{"max_function_args", "100"}, {"max_identifier_length", "63"}, {"max_index_keys", "32"},
	{"segment_size", "131072"}, {"wal_block_size", "8192"},
}

func pgSettingsRows(c *pgCatalog) ([]pgRow, error) {
	s := c.b.s
	names := make([]string, 0, len(s.settings))
	for k := range s.settings {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []pgRow
	vartype := func(v string) string {
		switch v {
		case "on", "off":
			return "bool"
		}
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			return "integer"
		}
		return "string"
	}
	for _, k := range names {
		v, def := s.settings[k], defaultSetting(k, s)
		context, source := "user", "default"
		switch k {
		case "server_version", "server_version_num", "server_encoding", "integer_datetimes", "is_superuser", "transaction_isolation":
			context = "internal"
		}
		if v != def {
			source = "session"
		}
		out = append(out, pgRow{"name": k, "setting": v, "short_desc": settingDesc(k), "context": context,
			"vartype": vartype(v), "source": source, "boot_val": def, "reset_val": def, "pending_restart": false})
	}
	for _, kv := range readOnlySettings {
		out = append(out, pgRow{"name": kv[0], "setting": kv[1], "context": "internal", "vartype": vartype(kv[1]),
			"source": "default", "boot_val": kv[1], "reset_val": kv[1], "pending_restart": false})
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["name"].(string) < out[j]["name"].(string) })
	return out, nil
}

func pgStatTablesRows(c *pgCatalog) ([]pgRow, error) {
	var out []pgRow
	for _, t := range c.tables {
		ts, err := c.tableState(t)
		if err != nil {
			return nil, err
		}
		rows := ts.state.TotalRows()
		out = append(out, pgRow{"relid": t.oid, "schemaname": "public", "relname": t.name, "n_tup_ins": rows,
			"n_live_tup": rows})
	}
	return out, nil
}
