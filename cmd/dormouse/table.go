package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/dormousedb/dormouse/storage/catalog"
	"github.com/dormousedb/dormouse/storage/schema"
)

func runTable(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{"usage: dormouse table create|list|describe|drop|snapshot ..."}
	}
	switch args[0] {
	case "create":
		return tableCreate(ctx, args[1:])
	case "list":
		return tableList(ctx, args[1:])
	case "describe":
		return tableDescribe(ctx, args[1:])
	case "drop":
		return tableDrop(ctx, args[1:])
	case "snapshot":
		return tableSnapshot(ctx, args[1:])
	}
	return usageError{fmt.Sprintf("unknown table command %q (want create, list, describe, drop or snapshot)", args[0])}
}

func tableCreate(ctx context.Context, args []string) error {
	fs, store := newFlags("table create", "NAME --schema SPEC")
	spec := fs.String("schema", "", `columns as name:type[:key|sort|notnull], e.g. "id:varchar:key, ts:timestamp:sort, v:bigint"`)
	splits := fs.String("split-points", "", "comma-separated values of the first row key to pre-split at")
	var props multiFlag
	fs.Var(&props, "property", "table property name=value (repeatable); see `dormouse table describe`")
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 1 || *spec == "" {
		return orUsage(err, fs, "table create takes one table name and --schema")
	}
	sch, err := schema.Parse(*spec)
	if err != nil {
		return err
	}
	def := catalog.TableDef{Name: pos[0], Schema: sch, Properties: catalog.Properties{}}
	if *splits != "" {
		for _, p := range strings.Split(*splits, ",") {
			enc, err := schema.ParseValue(sch.RowKeys[0].Type, strings.TrimSpace(p))
			if err != nil {
				return fmt.Errorf("split point: %w", err)
			}
			def.SplitPoints = append(def.SplitPoints, enc)
		}
	}
	for _, p := range props {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return usageError{fmt.Sprintf("--property %q: want name=value", p)}
		}
		if def.Properties, err = def.Properties.With(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return err
		}
	}
	db, err := openDB(ctx, *store)
	if err != nil {
		return err
	}
	t, err := db.CreateTable(ctx, def)
	if err != nil {
		return err
	}
	fmt.Printf("created table %s (%s) in %d partitions\n", t.Def.Name, t.Def.Schema, len(t.Def.SplitPoints)+1)
	return nil
}

func tableList(ctx context.Context, args []string) error {
	fs, store := newFlags("table list", "")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return orUsage(err, fs, "")
	}
	db, err := openDB(ctx, *store)
	if err != nil {
		return err
	}
	defs, err := db.Tables(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(defs)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCOLUMNS\tCREATED")
	for _, d := range defs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Name, d.Schema, d.Created.Format("2006-01-02 15:04:05"))
	}
	return tw.Flush()
}

func tableDescribe(ctx context.Context, args []string) error {
	fs, store := newFlags("table describe", "NAME")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 1 {
		return orUsage(err, fs, "table describe takes one table name")
	}
	t, err := openTable(ctx, *store, pos[0])
	if err != nil {
		return err
	}
	rep, err := t.Report(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(map[string]any{"table": t.Def, "properties": t.Def.Properties.All(), "rows": rep.Rows, "log_seq": rep.Seq,
			"partitions": len(rep.Partitions), "files": len(rep.Files)})
	}
	fmt.Printf("table %s (id %s), log %d\n\n", t.Def.Name, t.Def.ID, rep.Seq)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tROLE")
	for i, c := range t.Def.Schema.Columns() {
		role := "value"
		switch {
		case i < len(t.Def.Schema.RowKeys):
			role = "row key"
		case i < t.Def.Schema.NumKeys():
			role = "sort key"
		case !c.Nullable:
			role = "value, not null"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Type, role)
	}
	tw.Flush()
	leaves := 0
	for _, p := range rep.Partitions {
		if p.Leaf {
			leaves++
		}
	}
	fmt.Printf("\n%d rows, %d files, %d partitions (%d leaves)\n\nproperties:\n", rep.Rows, len(rep.Files), len(rep.Partitions), leaves)
	tw = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	for _, kv := range t.Def.Properties.All() {
		fmt.Fprintf(tw, "  %s\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

func tableDrop(ctx context.Context, args []string) error {
	fs, store := newFlags("table drop", "NAME")
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 1 {
		return orUsage(err, fs, "table drop takes one table name")
	}
	db, err := openDB(ctx, *store)
	if err != nil {
		return err
	}
	if err := db.DropTable(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Printf("dropped table %s\n", pos[0])
	return nil
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// tableSnapshot writes a snapshot of a table's state now, so that readers
// stop replaying the log entries before it.
func tableSnapshot(ctx context.Context, args []string) error {
	fs, store := newFlags("table snapshot", "NAME")
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) != 1 {
		return orUsage(err, fs, "table snapshot takes one table name")
	}
	t, err := openTable(ctx, *store, pos[0])
	if err != nil {
		return err
	}
	seq, err := t.Snapshot(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("snapshot of %s at log %d\n", t.Def.Name, seq)
	return nil
}
