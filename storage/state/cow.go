package state

import (
	"hash/maphash"
)

// The state is cloned for every log entry, so neither cloning nor a small
// change may cost time in proportion to the number of files or references.
// Files, and each partition's references, live in copy-on-write maps split
// into shards: a clone shares every shard, and copies a shard only when it
// is about to change it. A shard may be changed in place only by the state
// that owns it, and only states that are not yet published ever change.

var shardSeed = maphash.MakeSeed()

// cowMap is a map from string keys split into shards owned by states.
type cowMap[V any] struct {
	owner  *State
	shards []*cowShard[V]
	n      int
}

type cowShard[V any] struct {
	owner *State
	m     map[string]V
}

func newCowMap[V any](owner *State, shards int) *cowMap[V] {
	return &cowMap[V]{owner: owner, shards: make([]*cowShard[V], shards)}
}

func (c *cowMap[V]) shard(key string) int {
	return int(maphash.String(shardSeed, key) % uint64(len(c.shards)))
}

func (c *cowMap[V]) get(key string) (V, bool) {
	sh := c.shards[c.shard(key)]
	if sh == nil {
		var zero V
		return zero, false
	}
	v, ok := sh.m[key]
	return v, ok
}

// writable returns c itself if s owns it, else a copy that s owns (sharing
// every shard).
func (c *cowMap[V]) writable(s *State) *cowMap[V] {
	if c.owner == s {
		return c
	}
	return &cowMap[V]{owner: s, shards: append([]*cowShard[V](nil), c.shards...), n: c.n}
}

// writableShard returns the shard for key, copied first unless c's owner
// owns it. c must be writable.
func (c *cowMap[V]) writableShard(key string) *cowShard[V] {
	i := c.shard(key)
	sh := c.shards[i]
	if sh != nil && sh.owner == c.owner {
		return sh
	}
	n := &cowShard[V]{owner: c.owner, m: map[string]V{}}
	if sh != nil {
		n.m = make(map[string]V, len(sh.m)+1)
		for k, v := range sh.m {
			n.m[k] = v
		}
	}
	c.shards[i] = n
	return n
}

// put sets key to v. c must be writable.
func (c *cowMap[V]) put(key string, v V) {
	sh := c.writableShard(key)
	if _, ok := sh.m[key]; !ok {
		c.n++
	}
	sh.m[key] = v
}

// del removes key. c must be writable.
func (c *cowMap[V]) del(key string) {
	if _, ok := c.get(key); !ok {
		return
	}
	delete(c.writableShard(key).m, key)
	c.n--
}

func (c *cowMap[V]) each(fn func(key string, v V)) {
	for _, sh := range c.shards {
		if sh == nil {
			continue
		}
		for k, v := range sh.m {
			fn(k, v)
		}
	}
}

const (
	fileShards = 256 // files of the whole table
	refShards  = 16  // references of one partition
)

// file returns the file with the given key.
func (s *State) file(key string) (*File, bool) { return s.files.get(key) }

// putFile stores f.
func (s *State) putFile(f *File) {
	s.files = s.files.writable(s)
	s.files.put(f.Key, f)
}

func (s *State) deleteFile(key string) {
	s.files = s.files.writable(s)
	s.files.del(key)
}

// eachFile calls fn for every file, in no particular order.
func (s *State) eachFile(fn func(*File)) { s.files.each(func(_ string, f *File) { fn(f) }) }

// ref returns the reference of partition p to file key.
func (s *State) ref(p, key string) (*FileRef, bool) {
	rs := s.refs[p]
	if rs == nil {
		return nil, false
	}
	return rs.get(key)
}

// writableRefs returns partition p's references, made writable by s.
func (s *State) writableRefs(p string) *cowMap[*FileRef] {
	rs := s.refs[p]
	if rs == nil {
		rs = newCowMap[*FileRef](s, refShards)
	} else {
		rs = rs.writable(s)
	}
	s.refs[p] = rs
	return rs
}
