package push

import (
	"fmt"
	"testing"
)

// The remembered groups never outnumber maxCachedGroups: a full map is
// dropped and the new answer kept. An answer read at a generation that
// has moved since is not kept at all.
func TestPhonesMemoryBounded(t *testing.T) {
	var c phoneCheck
	for i := range maxCachedGroups + 5 {
		c.keep(0, fmt.Sprint(i), reachable{"u"})
		if len(c.groups) > maxCachedGroups {
			t.Fatalf("%d groups remembered, at most %d wanted", len(c.groups), maxCachedGroups)
		}
	}
	if len(c.groups) != 5 {
		t.Errorf("%d groups after the map was dropped, want the 5 kept since", len(c.groups))
	}
	if _, ok := c.groups[fmt.Sprint(maxCachedGroups+4)]; !ok {
		t.Error("the last answer is not remembered")
	}
	c.invalidate()
	c.keep(0, "late", reachable{"u"})
	if _, ok := c.groups["late"]; ok {
		t.Error("an answer read before a write is remembered after it")
	}
}
