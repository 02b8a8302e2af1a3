package changefeed

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"reflect"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/secret"
)

func testSealer(t *testing.T) *sealer {
	t.Helper()
	key := make([]byte, secret.Size)
	rand.Read(key)
	s, err := newSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSealedCursors: a token opens to the cursor it was sealed from, says
// nothing (two tokens of one cursor differ, no digit of the position
// shows), and opens only unchanged and under the key that sealed it.
func TestSealedCursors(t *testing.T) {
	t.Parallel()
	s, other := testSealer(t), testSealer(t)
	if got := s.seal(Start); got != "0" {
		t.Errorf("Start sealed to %q, want 0", got)
	}
	for _, c := range []Cursor{
		{Seq: 42},
		{Seq: 42, Collections: []string{collections.Events, collections.Messages}},
		{Seq: 7, Item: &Item{}},
		{Seq: 987654321, Collections: []string{collections.Users}, Item: &Item{Collection: collections.Users, ID: "abc"}},
	} {
		a, b := s.seal(c), s.seal(c)
		if a == b {
			t.Errorf("%+v sealed twice to the same token %s", c, a)
		}
		for _, tok := range []string{a, b} {
			back, err := s.open(tok)
			if err != nil || !reflect.DeepEqual(back, c) {
				t.Errorf("%+v -> %s -> %+v, %v", c, tok, back, err)
			}
			raw, _ := base64.RawURLEncoding.DecodeString(tok)
			if bytes.Contains(raw, []byte(c.String())) {
				t.Errorf("token %s shows the cursor %s", tok, c.String())
			}
		}

		var gone *GoneError
		if _, err := other.open(a); !errors.As(err, &gone) {
			t.Errorf("%+v opened under another key: %v, want a GoneError", c, err)
		}
		raw, _ := base64.RawURLEncoding.DecodeString(a)
		for i := 1; i < len(raw); i++ {
			edited := bytes.Clone(raw)
			edited[i] ^= 1
			if got, err := s.open(base64.RawURLEncoding.EncodeToString(edited)); !errors.As(err, &gone) {
				t.Fatalf("%+v with byte %d edited: %+v, %v, want a GoneError", c, i, got, err)
			}
		}
		// Too short to hold a nonce and a tag: malformed, not a stale cursor.
		for _, short := range [][]byte{raw[:1], raw[:1+s.aead.NonceSize()+s.aead.Overhead()-1]} {
			if got, err := s.open(base64.RawURLEncoding.EncodeToString(short)); err == nil || errors.As(err, &gone) {
				t.Errorf("%+v cut to %d bytes: %+v, %v, want an invalid cursor", c, len(short), got, err)
			}
		}

		// A token of the unsealed format (what servers before the seal
		// issued) is from another protocol version: the client resyncs.
		var legacy *LegacyCursorError
		if _, err := s.open(c.String()); !errors.As(err, &legacy) {
			t.Errorf("unsealed %s: %v, want a LegacyCursorError", c.String(), err)
		}
	}
	for _, start := range []string{"0", "00", "000"} {
		if c, err := s.open(start); err != nil || !c.IsStart() {
			t.Errorf("%q opened to %+v, %v, want Start", start, c, err)
		}
	}
}
