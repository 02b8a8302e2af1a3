package replica

import (
	"math"
	"time"
)

// pending is the transaction number of changes seen while replication was
// not taking the WAL in (detached): their number is not known yet. It is
// resolved to Litestream's position once replication has taken the WAL in
// again, which then includes them.
const pending = math.MaxUint64

// seen is a local transaction and when it was first seen.
type seen struct {
	txid uint64
	at   time.Time
}

// maxUnshipped bounds the lag bookkeeping while the replica is unreachable
// (four samples a second): past it the newest are not noted, which leaves
// the oldest, and so the lag, right.
const maxUnshipped = 100_000

// lagBook keeps the changes not yet in the replica, oldest first, so that
// the lag is the age of the oldest change not yet shipped, not the time
// since the replica was last level with the database, which a steady write
// load never lets happen.
type lagBook struct {
	// replicated is the last transaction stored in the replica.
	replicated uint64
	unshipped  []seen
}

// newLagBook starts from the position kept on disk: changes older than
// the restart that the replica lacks count from when they were first seen.
func newLagBook(p position) lagBook {
	b := lagBook{replicated: p.Replicated}
	if !p.BehindSince.IsZero() {
		b.unshipped = []seen{{pending, p.BehindSince}}
	}
	return b
}

// taken notes that replication has taken the WAL in up to local.
func (b *lagBook) taken(local uint64, now time.Time) {
	for i := range b.unshipped {
		if b.unshipped[i].txid == pending {
			b.unshipped[i].txid = local
		}
	}
	n := len(b.unshipped)
	if local > b.replicated && (n == 0 || local > b.unshipped[n-1].txid) && n < maxUnshipped {
		b.unshipped = append(b.unshipped, seen{local, now})
	}
	b.drop()
}

// changedDetached notes a change committed while replication is not taking
// the WAL in.
func (b *lagBook) changedDetached(now time.Time) {
	n := len(b.unshipped)
	if (n == 0 || b.unshipped[n-1].txid != pending) && n < maxUnshipped {
		b.unshipped = append(b.unshipped, seen{pending, now})
	}
}

// shipped notes that the replica holds every transaction up to replicated.
func (b *lagBook) shipped(replicated uint64) {
	b.replicated = replicated
	b.drop()
}

// forget makes every noted change pending again: the local transaction
// files were dropped, and the snapshot that replaces them gets a number of
// its own.
func (b *lagBook) forget() {
	if len(b.unshipped) > 0 {
		b.unshipped = []seen{{pending, b.unshipped[0].at}}
	}
}

func (b *lagBook) drop() {
	i := 0
	for i < len(b.unshipped) && b.unshipped[i].txid <= b.replicated {
		i++
	}
	b.unshipped = b.unshipped[i:]
}

// behindSince is when the oldest change the replica lacks was first seen;
// zero when it lacks none.
func (b *lagBook) behindSince() time.Time {
	if len(b.unshipped) == 0 {
		return time.Time{}
	}
	return b.unshipped[0].at
}

// position is what is kept on disk.
func (b *lagBook) position() position {
	return position{Replicated: b.replicated, BehindSince: b.behindSince()}
}
