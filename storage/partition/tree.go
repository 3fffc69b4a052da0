package partition

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dormousedb/dormouse/storage/schema"
)

// RootID is the id of every tree's root partition.
const RootID = "root"

// Range is a half-open range [Min, Max) of one row-key dimension, in plain
// key encodings. An empty Min is minus infinity; an empty Max is plus
// infinity (no value encodes to the empty string's successor, so an empty
// exclusive upper bound could never mean anything else).
type Range struct {
	Min []byte `json:"min,omitempty"`
	Max []byte `json:"max,omitempty"`
}

// Contains reports whether v lies in the range.
func (r Range) Contains(v []byte) bool {
	return bytes.Compare(v, r.Min) >= 0 && (len(r.Max) == 0 || bytes.Compare(v, r.Max) < 0)
}

// Overlaps reports whether the closed interval [lo, hi] meets the range.
// An empty hi means plus infinity.
func (r Range) Overlaps(lo, hi []byte) bool {
	if len(r.Max) > 0 && bytes.Compare(lo, r.Max) >= 0 {
		return false
	}
	return len(hi) == 0 || bytes.Compare(hi, r.Min) >= 0
}

// Partition is one node of the tree. Partitions are values: changing one
// means storing a changed copy.
type Partition struct {
	ID       string   `json:"id"`
	Parent   string   `json:"parent,omitempty"`
	Children []string `json:"children,omitempty"` // [left, right] once split
	Region   []Range  `json:"region"`             // one range per row-key column
	Dim      int      `json:"dim,omitempty"`      // the dimension it was split on
	Split    []byte   `json:"split,omitempty"`    // left holds < Split, right >= Split
}

// IsLeaf reports whether the partition has not been split.
func (p *Partition) IsLeaf() bool { return len(p.Children) == 0 }

// Tree is a partition tree. The zero Tree is not usable; use New.
type Tree struct {
	parts map[string]*Partition
}

// New returns a tree of one root partition covering the whole key space of
// dims row-key columns.
func New(dims int) *Tree {
	return &Tree{parts: map[string]*Partition{
		RootID: {ID: RootID, Region: make([]Range, dims)},
	}}
}

// FromSplitPoints returns a balanced tree whose leaves are split on
// dimension 0 at the given points, which must be strictly increasing plain
// encodings. newID names the partitions it creates.
func FromSplitPoints(dims int, points [][]byte, newID func() string) (*Tree, error) {
	for i := 1; i < len(points); i++ {
		if bytes.Compare(points[i-1], points[i]) >= 0 {
			return nil, fmt.Errorf("split points must be strictly increasing (point %d is not above point %d)", i+1, i)
		}
	}
	t := New(dims)
	var split func(id string, pts [][]byte) error
	split = func(id string, pts [][]byte) error {
		if len(pts) == 0 {
			return nil
		}
		mid := len(pts) / 2
		left, right := newID(), newID()
		if err := t.Split(id, 0, pts[mid], left, right); err != nil {
			return err
		}
		if err := split(left, pts[:mid]); err != nil {
			return err
		}
		return split(right, pts[mid+1:])
	}
	if err := split(RootID, points); err != nil {
		return nil, err
	}
	return t, nil
}

// Clone returns a copy that can be split without changing t.
func (t *Tree) Clone() *Tree {
	c := &Tree{parts: make(map[string]*Partition, len(t.parts))}
	for id, p := range t.parts {
		c.parts[id] = p
	}
	return c
}

// Dims is the number of row-key dimensions.
func (t *Tree) Dims() int { return len(t.parts[RootID].Region) }

// Len is the number of partitions, leaves and internal.
func (t *Tree) Len() int { return len(t.parts) }

// Get returns the partition with the given id. The caller must not change it.
func (t *Tree) Get(id string) (*Partition, bool) {
	p, ok := t.parts[id]
	return p, ok
}

// Root returns the root partition.
func (t *Tree) Root() *Partition { return t.parts[RootID] }

// Leaves returns the leaves in key order (an in-order walk: left before
// right at every split).
func (t *Tree) Leaves() []*Partition {
	var out []*Partition
	t.Walk(func(p *Partition) {
		if p.IsLeaf() {
			out = append(out, p)
		}
	})
	return out
}

// LeavesWhere returns the leaves that meets accepts, in the order of
// Leaves, skipping whole subtrees whose partition meets rejects: it must
// reject a partition only when it would reject every partition below
// (true of a test on regions, which enclose their children's), so that
// a point lookup visits one path of the tree instead of every leaf.
func (t *Tree) LeavesWhere(meets func(*Partition) bool) []*Partition {
	return t.leavesBelow(RootID, meets)
}

// leavesBelow returns the leaves at or below partition id, in key order,
// that meets (nil: any) accepts, not descending where it rejects.
func (t *Tree) leavesBelow(id string, meets func(*Partition) bool) []*Partition {
	var out []*Partition
	var walk func(id string)
	walk = func(id string) {
		p := t.parts[id]
		if meets != nil && !meets(p) {
			return
		}
		if p.IsLeaf() {
			out = append(out, p)
			return
		}
		for _, c := range p.Children {
			walk(c)
		}
	}
	walk(id)
	return out
}

// Walk visits every partition, parents before children, left before right.
func (t *Tree) Walk(fn func(*Partition)) {
	var walk func(id string)
	walk = func(id string) {
		p := t.parts[id]
		fn(p)
		for _, c := range p.Children {
			walk(c)
		}
	}
	walk(RootID)
}

// Descendants returns the leaves at or below partition id, in key order.
func (t *Tree) Descendants(id string) []*Partition { return t.leavesBelow(id, nil) }

// Split splits leaf id on dimension dim at point: the left child, leftID,
// holds keys below point and the right child, rightID, the rest.
func (t *Tree) Split(id string, dim int, point []byte, leftID, rightID string) error {
	p, ok := t.parts[id]
	switch {
	case !ok:
		return fmt.Errorf("split partition %s: no such partition", id)
	case !p.IsLeaf():
		return fmt.Errorf("split partition %s: already split", id)
	case dim < 0 || dim >= len(p.Region):
		return fmt.Errorf("split partition %s: dimension %d out of range", id, dim)
	case leftID == "" || rightID == "" || leftID == rightID:
		return fmt.Errorf("split partition %s: children need two distinct ids", id)
	}
	for _, c := range []string{leftID, rightID} {
		if _, taken := t.parts[c]; taken {
			return fmt.Errorf("split partition %s: id %s is taken", id, c)
		}
	}
	r := p.Region[dim]
	if bytes.Compare(point, r.Min) <= 0 || (len(r.Max) > 0 && bytes.Compare(point, r.Max) >= 0) {
		return fmt.Errorf("split partition %s: point is not strictly inside its range on dimension %d", id, dim)
	}
	left := &Partition{ID: leftID, Parent: id, Region: withRange(p.Region, dim, Range{Min: r.Min, Max: point})}
	right := &Partition{ID: rightID, Parent: id, Region: withRange(p.Region, dim, Range{Min: point, Max: r.Max})}
	split := *p
	split.Children = []string{leftID, rightID}
	split.Dim = dim
	split.Split = point
	t.parts[id] = &split
	t.parts[leftID] = left
	t.parts[rightID] = right
	return nil
}

func withRange(region []Range, dim int, r Range) []Range {
	out := append([]Range(nil), region...)
	out[dim] = r
	return out
}

// Check verifies the tree's invariants: every partition is reachable from
// the root, children name their parent, and each split divides its parent's
// region exactly in two, so the leaves cover the key space exactly once.
func (t *Tree) Check() error {
	root, ok := t.parts[RootID]
	if !ok {
		return fmt.Errorf("partition tree has no root")
	}
	for d, r := range root.Region {
		if len(r.Min) != 0 || len(r.Max) != 0 {
			return fmt.Errorf("root partition does not cover dimension %d", d)
		}
	}
	seen := map[string]bool{}
	var check func(p *Partition) error
	check = func(p *Partition) error {
		if seen[p.ID] {
			return fmt.Errorf("partition %s reached twice", p.ID)
		}
		seen[p.ID] = true
		if p.IsLeaf() {
			return nil
		}
		if len(p.Children) != 2 {
			return fmt.Errorf("partition %s has %d children", p.ID, len(p.Children))
		}
		r := p.Region[p.Dim]
		want := [2][]Range{
			withRange(p.Region, p.Dim, Range{Min: r.Min, Max: p.Split}),
			withRange(p.Region, p.Dim, Range{Min: p.Split, Max: r.Max}),
		}
		for i, cid := range p.Children {
			c, ok := t.parts[cid]
			if !ok {
				return fmt.Errorf("partition %s names missing child %s", p.ID, cid)
			}
			if c.Parent != p.ID {
				return fmt.Errorf("partition %s has parent %q, want %s", cid, c.Parent, p.ID)
			}
			if !regionsEqual(c.Region, want[i]) {
				return fmt.Errorf("partition %s does not cover its half of %s", cid, p.ID)
			}
			if err := check(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := check(root); err != nil {
		return err
	}
	if len(seen) != len(t.parts) {
		return fmt.Errorf("%d partitions are not reachable from the root", len(t.parts)-len(seen))
	}
	return nil
}

func regionsEqual(a, b []Range) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Min, b[i].Min) || !bytes.Equal(a[i].Max, b[i].Max) {
			return false
		}
	}
	return true
}

// LeafFor returns the leaf whose region holds the row key with the given
// plain per-dimension encodings.
func (t *Tree) LeafFor(key [][]byte) *Partition {
	p := t.parts[RootID]
	for !p.IsLeaf() {
		if bytes.Compare(key[p.Dim], p.Split) < 0 {
			p = t.parts[p.Children[0]]
		} else {
			p = t.parts[p.Children[1]]
		}
	}
	return p
}

// MarshalJSON writes the partitions as a list ordered by id.
func (t *Tree) MarshalJSON() ([]byte, error) {
	list := make([]*Partition, 0, len(t.parts))
	for _, p := range t.parts {
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return json.Marshal(list)
}

// UnmarshalJSON reads a list of partitions and checks the tree.
func (t *Tree) UnmarshalJSON(data []byte) error {
	var list []*Partition
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	t.parts = make(map[string]*Partition, len(list))
	for _, p := range list {
		if p == nil {
			return fmt.Errorf("null partition")
		}
		if _, dup := t.parts[p.ID]; dup {
			return fmt.Errorf("partition %s appears twice", p.ID)
		}
		t.parts[p.ID] = p
	}
	return t.Check()
}

// Describe renders a region for people, e.g. "[a, m) x [-inf, +inf)".
func Describe(types []schema.Type, region []Range) string {
	var b strings.Builder
	for d, r := range region {
		if d > 0 {
			b.WriteString(" × ")
		}
		lo, hi := "-inf", "+inf"
		if len(r.Min) > 0 {
			lo = schema.FormatValue(types[d], r.Min)
		}
		if len(r.Max) > 0 {
			hi = schema.FormatValue(types[d], r.Max)
		}
		fmt.Fprintf(&b, "[%s, %s)", lo, hi)
	}
	return b.String()
}

// Router finds the leaf of rows of Arrow record batches quickly. It holds a
// scratch buffer, so one Router serves one goroutine.
type Router struct {
	nodes  []routeNode
	leaves []*Partition
	buf    []byte
}

type routeNode struct {
	dim         int
	split       []byte
	left, right int32 // node index, or ^leafIndex for a leaf
}

// NewRouter builds a router over t's current leaves. Leaf indexes follow
// the order of t.Leaves().
func NewRouter(t *Tree) *Router {
	r := &Router{leaves: t.Leaves()}
	leafIndex := make(map[string]int32, len(r.leaves))
	for i, p := range r.leaves {
		leafIndex[p.ID] = int32(i)
	}
	var build func(id string) int32
	build = func(id string) int32 {
		p := t.parts[id]
		if p.IsLeaf() {
			return ^leafIndex[id]
		}
		i := int32(len(r.nodes))
		r.nodes = append(r.nodes, routeNode{dim: p.Dim, split: p.Split})
		l := build(p.Children[0])
		rr := build(p.Children[1])
		r.nodes[i].left, r.nodes[i].right = l, rr
		return i
	}
	if root := build(RootID); root < 0 {
		r.nodes = nil // a lone root leaf: every row goes to leaf 0
	}
	return r
}

// Leaves returns the leaves in index order.
func (r *Router) Leaves() []*Partition { return r.leaves }

// Leaf returns the index of the leaf holding row of rec, whose first
// columns are the row keys.
func (r *Router) Leaf(rec arrow.RecordBatch, row int) int {
	if len(r.nodes) == 0 {
		return 0
	}
	n := int32(0)
	for n >= 0 {
		node := &r.nodes[n]
		r.buf = schema.AppendValue(r.buf[:0], rec.Column(node.dim), row)
		if bytes.Compare(r.buf, node.split) < 0 {
			n = node.left
		} else {
			n = node.right
		}
	}
	return int(^n)
}
