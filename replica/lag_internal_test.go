package replica

import (
	"testing"
	"time"
)

// Under a steady write load the replica is never level with the database,
// yet it is only a second behind: the lag must say a second, not grow.
func TestLagIsTheAgeOfTheOldestUnshippedTransaction(t *testing.T) {
	var b lagBook
	start := time.Unix(1000, 0)
	sample := func(i int) time.Time { return start.Add(time.Duration(i) * monitorInterval) }
	lag := func(now time.Time) time.Duration {
		if since := b.behindSince(); !since.IsZero() {
			return now.Sub(since)
		}
		return 0
	}

	// A new transaction every sample; the replica holds those up to four
	// samples old, shipped once a second (every fourth sample).
	for i := 1; i <= 600; i++ {
		b.taken(uint64(i), sample(i))
		if i >= 4 {
			b.shipped(uint64((i - 4) / 4 * 4))
		}
		if got := lag(sample(i)); got > 2*time.Second {
			t.Fatalf("sample %d: lag %v under a one-second replication delay", i, got)
		}
	}
	// The replica catches up: no lag.
	b.shipped(600)
	if got := lag(sample(601)); got != 0 {
		t.Fatalf("caught up, lag %v", got)
	}
	// The replica stops: the lag is the age of the first unshipped one.
	for i := 602; i <= 700; i++ {
		b.taken(uint64(i), sample(i))
	}
	if got, want := lag(sample(700)), sample(700).Sub(sample(602)); got != want {
		t.Fatalf("replica stopped: lag %v, want %v", got, want)
	}
}

// The lag survives a restart through the position kept on disk, and
// changes made while replication does not take the WAL in count from when
// they were seen until a snapshot that holds them is shipped.
func TestLagAcrossRestartAndDetachment(t *testing.T) {
	t0 := time.Unix(2000, 0)
	var b lagBook
	b.taken(10, t0)
	b.shipped(9)
	kept := b.position()
	if kept.Replicated != 9 || !kept.BehindSince.Equal(t0) {
		t.Fatalf("kept position %+v", kept)
	}

	// Restarted: the replica is still behind since t0, whatever happens
	// while replication cannot take the WAL in.
	b = newLagBook(kept)
	b.changedDetached(t0.Add(time.Minute))
	if got := b.behindSince(); !got.Equal(t0) {
		t.Fatalf("after the restart, behind since %v, want %v", got, t0)
	}
	// Replication takes the WAL in again (a snapshot, transaction 11): the
	// replica lacks everything up to 11, and shipping 10 is not enough.
	b.taken(11, t0.Add(2*time.Minute))
	b.shipped(10)
	if got := b.behindSince(); !got.Equal(t0) {
		t.Fatalf("snapshot not shipped yet, behind since %v, want %v", got, t0)
	}
	b.shipped(11)
	if got := b.behindSince(); !got.IsZero() {
		t.Fatalf("snapshot shipped, still behind since %v", got)
	}

	// Local files dropped: what was noted waits for the snapshot that
	// replaces them, whatever number it gets.
	b.taken(20, t0.Add(3*time.Minute))
	b.taken(30, t0.Add(4*time.Minute))
	b.forget()
	b.taken(12, t0.Add(5*time.Minute)) // the snapshot after the replica's 11
	b.shipped(11)
	if got := b.behindSince(); !got.Equal(t0.Add(3 * time.Minute)) {
		t.Fatalf("after a drop, behind since %v, want %v", got, t0.Add(3*time.Minute))
	}
	b.shipped(12)
	if got := b.behindSince(); !got.IsZero() {
		t.Fatalf("snapshot after the drop shipped, still behind since %v", got)
	}
}
