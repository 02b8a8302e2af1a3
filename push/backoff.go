package push

import (
	"math/rand/v2"
	"time"
)

// backoff is how long a push waits after its n-th failed attempt (n >= 1):
// d = base·2^(n-1), at most limit, and a random delay from d/2 to d, so
// that pushes failed together do not all come back at the same moment
// ("equal jitter": never less than half the exponential step). A
// Retry-After the server asked for is honoured, up to limit.
func backoff(n int, base, limit, retryAfter time.Duration) time.Duration {
	d := limit
	if n < 32 && base<<(n-1) > 0 && base<<(n-1) < limit {
		d = base << (n - 1)
	}
	d = d/2 + rand.N(d/2+1)
	if retryAfter > d {
		d = min(retryAfter, limit)
	}
	return d
}
