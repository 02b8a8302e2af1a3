package replica

import (
	"testing"
	"time"
)

// Under a steady write load the replica is never level with the database,
// yet it is only a second behind: the lag must say a second, not grow.
func TestLagIsTheAgeOfTheOldestUnshippedTransaction(t *testing.T) {
	s := &stream{}
	start := time.Unix(1000, 0)
	sample := func(i int) time.Time { return start.Add(time.Duration(i) * lagSampleInterval) }
	lag := func(now time.Time) time.Duration {
		if len(s.unshipped) == 0 {
			return 0
		}
		return now.Sub(s.unshipped[0].at)
	}

	// A new transaction every sample; the replica holds those up to ten
	// samples old, shipped once a second (every tenth sample).
	for i := 1; i <= 600; i++ {
		replicated := 0
		if i >= 10 {
			replicated = (i - 10) / 10 * 10
		}
		s.note(uint64(i), uint64(replicated), sample(i))
		if got := lag(sample(i)); got > 2*time.Second {
			t.Fatalf("sample %d: lag %v under a one-second replication delay", i, got)
		}
	}
	// The replica catches up: no lag.
	s.note(600, 600, sample(601))
	if got := lag(sample(601)); got != 0 {
		t.Fatalf("caught up, lag %v", got)
	}
	// The replica stops: the lag is the age of the first unshipped one.
	for i := 602; i <= 700; i++ {
		s.note(uint64(i), 600, sample(i))
	}
	if got, want := lag(sample(700)), sample(700).Sub(sample(602)); got != want {
		t.Fatalf("replica stopped: lag %v, want %v", got, want)
	}
}
