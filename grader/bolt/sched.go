package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// The scheduler's buckets (schema version 2). status/queued stays the set of
// queued submissions (counted, listed, capped); these say in which order
// they are claimed:
//
//	sched/<class>/ring       turn (8 bytes) -> tenant; one entry per tenant with work
//	sched/<class>/tenants    tenant -> its turn in ring
//	sched/<class>/members    prefix(tenant) + turn -> member; one per member with work
//	sched/<class>/positions  prefix(tenant) + prefix(member) -> its turn in members
//	sched/<class>/fifo       prefix(tenant) + prefix(member) + id -> empty
//	sched/delayed            RetryAt (8 bytes, unix ns) + id -> empty
//
// <class> is "0" live, "1" normal, "2" batch. Turns come from the class
// bucket's sequence (offset by 1<<63), so they only grow: ring's first key
// is the tenant whose turn it is, and a tenant that is served gets a new,
// last, turn. A submission requeued after a crash takes the first turn
// instead (one below the first), since it had already been given its turn.
// Inside a tenant the members rotate the same way, and a member's own
// submissions are first in, first out (ids sort by creation). So a claim
// is a few seeks whatever the queue's length, and the turns are in the file:
// they survive a restart. A submission waiting to be retried is in delayed,
// not in a class, until its time comes; ClaimNext moves the due ones first.
var (
	bucketSched      = []byte("sched")
	bucketDelayed    = []byte("delayed")
	bucketRing       = []byte("ring")
	bucketTenants    = []byte("tenants")
	bucketMembers    = []byte("members")
	bucketPositions  = []byte("positions")
	bucketFIFO       = []byte("fifo")
	schedClasses     = [][]byte{[]byte("0"), []byte("1"), []byte("2")}
	schedClassBucket = [][]byte{bucketRing, bucketTenants, bucketMembers, bucketPositions, bucketFIFO}
)

// classOf is the class bucket name of a priority; an unknown one (which
// Service.Create refuses) is normal.
func classOf(p grader.Priority) []byte {
	switch p {
	case grader.PriorityLive:
		return schedClasses[0]
	case grader.PriorityBatch:
		return schedClasses[2]
	}
	return schedClasses[1]
}

// class is one priority class's buckets.
type class struct {
	root, ring, tenants, members, positions, fifo *bbolt.Bucket
}

func schedClass(tx *bbolt.Tx, name []byte) (class, error) {
	sched := tx.Bucket(bucketSched)
	if sched == nil {
		return class{}, errors.New("store has no scheduler bucket")
	}
	root := sched.Bucket(name)
	if root == nil {
		return class{}, fmt.Errorf("store has no scheduler class %q", name)
	}
	c := class{root: root, ring: root.Bucket(bucketRing), tenants: root.Bucket(bucketTenants),
		members: root.Bucket(bucketMembers), positions: root.Bucket(bucketPositions), fifo: root.Bucket(bucketFIFO)}
	if c.ring == nil || c.tenants == nil || c.members == nil || c.positions == nil || c.fifo == nil {
		return class{}, fmt.Errorf("scheduler class %q is missing a bucket", name)
	}
	return c, nil
}

func delayedBucket(tx *bbolt.Tx) (*bbolt.Bucket, error) {
	sched := tx.Bucket(bucketSched)
	if sched == nil {
		return nil, errors.New("store has no scheduler bucket")
	}
	d := sched.Bucket(bucketDelayed)
	if d == nil {
		return nil, errors.New("store has no delayed bucket")
	}
	return d, nil
}

// createSchedBuckets creates the scheduler's buckets that are missing.
func createSchedBuckets(tx *bbolt.Tx) error {
	sched, err := tx.CreateBucketIfNotExists(bucketSched)
	if err != nil {
		return err
	}
	if _, err := sched.CreateBucketIfNotExists(bucketDelayed); err != nil {
		return err
	}
	for _, name := range schedClasses {
		root, err := sched.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		for _, b := range schedClassBucket {
			if _, err := root.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// toVersion2 is the migration from version 1 (a FIFO queue: status/queued
// in id order) to 2: it (re)builds the scheduler's buckets from
// status/queued, oldest first, so tenants take their first turns in the
// order of their oldest waiting submission and nothing queued is lost.
func toVersion2(tx *bbolt.Tx) error {
	if tx.Bucket(bucketSched) != nil {
		if err := tx.DeleteBucket(bucketSched); err != nil {
			return err
		}
	}
	if err := createSchedBuckets(tx); err != nil {
		return err
	}
	b, err := open(tx)
	if err != nil {
		return err
	}
	queue, err := b.index(grader.StatusQueued)
	if err != nil {
		return err
	}
	var stale [][]byte
	err = queue.ForEach(func(k, _ []byte) error {
		sub, err := load(b, k)
		if err != nil {
			return err
		}
		if sub == nil || sub.Status != grader.StatusQueued {
			stale = append(stale, append([]byte(nil), k...))
			return nil
		}
		return enqueue(tx, append([]byte(nil), k...), sub, false)
	})
	if err != nil {
		return err
	}
	// An index entry without a queued record could never be claimed.
	for _, k := range stale {
		if err := queue.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// turnBase offsets the turns handed out at the back, so that turns taken at
// the front (one below the first) stay above zero.
const turnBase = 1 << 63

func turnKey(n uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], n)
	return k[:]
}

func delayKey(at time.Time, key []byte) []byte {
	k := make([]byte, 8, 8+len(key))
	binary.BigEndian.PutUint64(k, uint64(max(at.UnixNano(), 0)))
	return append(k, key...)
}

// schedKeys are a submission's places in its class.
type schedKeys struct {
	tenant []byte // prefix(tenant)
	member []byte // prefix(tenant) + prefix(member)
	entry  []byte // member + id
}

func keysOf(key []byte, sub *grader.Submission) schedKeys {
	t := fieldPrefix(sub.Tenant())
	m := append(append([]byte(nil), t...), fieldPrefix(sub.Member())...)
	return schedKeys{tenant: t, member: m, entry: append(append([]byte(nil), m...), key...)}
}

// enqueue puts a queued submission in its scheduling place: delayed while
// its RetryAt is set, else in its member's FIFO (by id, so by age), the
// member and the tenant taking the last turns if they had no work waiting,
// or the first turns when front is set (work interrupted by a crash).
func enqueue(tx *bbolt.Tx, key []byte, sub *grader.Submission, front bool) error {
	if !sub.RetryAt.IsZero() {
		d, err := delayedBucket(tx)
		if err != nil {
			return err
		}
		return d.Put(delayKey(sub.RetryAt, key), nil)
	}
	c, err := schedClass(tx, classOf(sub.Priority))
	if err != nil {
		return err
	}
	k := keysOf(key, sub)
	if err := c.fifo.Put(k.entry, nil); err != nil {
		return err
	}
	if front {
		if err := c.dropMember(k); err != nil {
			return err
		}
		if err := c.dropTenant(k.tenant); err != nil {
			return err
		}
		if err := c.putMember(k, []byte(sub.Member()), c.frontMemberTurn(k.tenant)); err != nil {
			return err
		}
		return c.putTenant(k.tenant, c.frontTenantTurn())
	}
	if c.positions.Get(k.member) == nil {
		if err := c.addMember(k, []byte(sub.Member())); err != nil {
			return err
		}
	}
	if c.tenants.Get(k.tenant) == nil {
		return c.addTenant(k.tenant)
	}
	return nil
}

// frontTenantTurn is a turn before every tenant's, or 0 (take the next
// turn at the back) when the ring is empty.
func (c class) frontTenantTurn() uint64 {
	k, _ := c.ring.Cursor().First()
	if len(k) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(k) - 1
}

// frontMemberTurn is a turn before every member's of tenant, or 0.
func (c class) frontMemberTurn(tenant []byte) uint64 {
	k, _ := c.members.Cursor().Seek(tenant)
	if k == nil || !bytes.HasPrefix(k, tenant) || len(k) != len(tenant)+8 {
		return 0
	}
	return binary.BigEndian.Uint64(k[len(tenant):]) - 1
}

// addMember gives a member the last turn of its tenant.
func (c class) addMember(k schedKeys, member []byte) error {
	return c.putMember(k, member, 0)
}

// putMember gives a member the turn n of its tenant, or the last when n is 0.
func (c class) putMember(k schedKeys, member []byte, n uint64) error {
	if n == 0 {
		seq, err := c.root.NextSequence()
		if err != nil {
			return err
		}
		n = turnBase + seq
	}
	turn := turnKey(n)
	if err := c.members.Put(append(append([]byte(nil), k.tenant...), turn...), member); err != nil {
		return err
	}
	return c.positions.Put(k.member, turn)
}

// addTenant gives a tenant the last turn of the class.
func (c class) addTenant(tenant []byte) error {
	return c.putTenant(tenant, 0)
}

// putTenant gives a tenant the turn n of the class, or the last when n is 0.
func (c class) putTenant(tenant []byte, n uint64) error {
	if n == 0 {
		seq, err := c.root.NextSequence()
		if err != nil {
			return err
		}
		n = turnBase + seq
	}
	turn := turnKey(n)
	if err := c.ring.Put(turn, tenant); err != nil {
		return err
	}
	return c.tenants.Put(tenant, turn)
}

// dropMember takes a member out of its tenant's rotation.
func (c class) dropMember(k schedKeys) error {
	if turn := c.positions.Get(k.member); turn != nil {
		if err := c.members.Delete(append(append([]byte(nil), k.tenant...), turn...)); err != nil {
			return err
		}
	}
	return c.positions.Delete(k.member)
}

// dropTenant takes a tenant out of the class's rotation.
func (c class) dropTenant(tenant []byte) error {
	if turn := c.tenants.Get(tenant); turn != nil {
		if err := c.ring.Delete(append([]byte(nil), turn...)); err != nil {
			return err
		}
	}
	return c.tenants.Delete(tenant)
}

// hasPrefix reports whether bucket holds a key that starts with prefix.
func hasPrefix(b *bbolt.Bucket, prefix []byte) bool {
	k, _ := b.Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// dequeue takes a submission that leaves the queued status out of its
// scheduling place; a member or tenant left with nothing waiting leaves the
// rotation. sub is the record as it was while queued.
func dequeue(tx *bbolt.Tx, key []byte, sub *grader.Submission) error {
	if !sub.RetryAt.IsZero() {
		d, err := delayedBucket(tx)
		if err != nil {
			return err
		}
		return d.Delete(delayKey(sub.RetryAt, key))
	}
	c, err := schedClass(tx, classOf(sub.Priority))
	if err != nil {
		return err
	}
	return c.remove(keysOf(key, sub))
}

func (c class) remove(k schedKeys) error {
	if err := c.fifo.Delete(k.entry); err != nil {
		return err
	}
	if hasPrefix(c.fifo, k.member) {
		return nil
	}
	if err := c.dropMember(k); err != nil {
		return err
	}
	if hasPrefix(c.members, k.tenant) {
		return nil
	}
	return c.dropTenant(k.tenant)
}

// promote moves every delayed submission whose RetryAt is not after now
// into its class, clearing RetryAt.
func promote(tx *bbolt.Tx, b buckets, now time.Time) error {
	d, err := delayedBucket(tx)
	if err != nil {
		return err
	}
	bound := uint64(max(now.UnixNano(), 0))
	for {
		k, _ := d.Cursor().First()
		if k == nil || len(k) < 8 || binary.BigEndian.Uint64(k[:8]) > bound {
			return nil
		}
		dk := append([]byte(nil), k...)
		key := dk[8:]
		if err := d.Delete(dk); err != nil {
			return err
		}
		sub, err := load(b, key)
		if err != nil {
			return err
		}
		if sub == nil || sub.Status != grader.StatusQueued {
			continue // a stale entry: nothing to schedule
		}
		sub.RetryAt = time.Time{}
		data, err := json.Marshal(sub)
		if err != nil {
			return err
		}
		if err := b.subs.Put(key, data); err != nil {
			return err
		}
		if err := enqueue(tx, key, sub, false); err != nil {
			return err
		}
	}
}

// next returns the key of the submission whose turn it is, in the first
// class that has one, after moving its member and tenant to the last turns
// (the submission itself stays in its FIFO: the caller's status change
// dequeues it), with its class and places so that a caller that finds the
// record unfit can remove exactly that entry. It returns nil when nothing
// is ready. Entries that lead
// nowhere (a ring entry with no member, a member with no submission) are
// mended as they are met, so one bad entry cannot stop the queue.
func next(tx *bbolt.Tx) ([]byte, class, schedKeys, error) {
	for _, name := range schedClasses {
		c, err := schedClass(tx, name)
		if err != nil {
			return nil, class{}, schedKeys{}, err
		}
		for {
			turn, tenant := c.ring.Cursor().First()
			if turn == nil {
				break
			}
			turn, tenant = append([]byte(nil), turn...), append([]byte(nil), tenant...)
			mk, member := c.members.Cursor().Seek(tenant)
			if mk == nil || !bytes.HasPrefix(mk, tenant) || len(mk) != len(tenant)+8 {
				if err := c.ring.Delete(turn); err != nil {
					return nil, class{}, schedKeys{}, err
				}
				if err := c.tenants.Delete(tenant); err != nil {
					return nil, class{}, schedKeys{}, err
				}
				continue
			}
			mk, member = append([]byte(nil), mk...), append([]byte(nil), member...)
			mprefix := append(append([]byte(nil), tenant...), fieldPrefix(string(member))...)
			ek, _ := c.fifo.Cursor().Seek(mprefix)
			if ek == nil || !bytes.HasPrefix(ek, mprefix) || len(ek) != len(mprefix)+len(id{}) {
				if err := c.members.Delete(mk); err != nil {
					return nil, class{}, schedKeys{}, err
				}
				if err := c.positions.Delete(mprefix); err != nil {
					return nil, class{}, schedKeys{}, err
				}
				continue
			}
			ek = append([]byte(nil), ek...)
			key := ek[len(mprefix):]
			// Served: the member and the tenant go to the back.
			if err := c.members.Delete(mk); err != nil {
				return nil, class{}, schedKeys{}, err
			}
			k := schedKeys{tenant: tenant, member: mprefix, entry: ek}
			if err := c.addMember(k, member); err != nil {
				return nil, class{}, schedKeys{}, err
			}
			if err := c.ring.Delete(turn); err != nil {
				return nil, class{}, schedKeys{}, err
			}
			if err := c.addTenant(tenant); err != nil {
				return nil, class{}, schedKeys{}, err
			}
			return key, c, k, nil
		}
	}
	return nil, class{}, schedKeys{}, nil
}
