package changefeed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/crews/hearth/internal/secret"
	"github.com/pocketbase/pocketbase/core"
)

// Cursors leave the server sealed: encrypted and authenticated with a key
// of the data dir (AES-256-GCM, a fresh random nonce per token). A cursor
// holds a position in the change log that every crew shares, so an open
// one would tell a client how many writes the whole server made between
// two of its pages (found by the adversarial review of issue 17); and a
// client could edit one to ask about positions it was never given. Sealed,
// a token says nothing (two tokens of the same position differ) and only
// tokens this data dir issued are read.
//
// Inside the seal is the token of Cursor.String, the second version of
// the protocol's cursors; an unsealed one is answered like a cursor of
// another protocol version, 410, so clients that kept one resync once.

// cursorKeyParam is the _params row holding the sealing key, made when
// the server first starts: it travels with the database, so a restored
// data dir reads the cursors it issued and a new one reads none.
const cursorKeyParam = "hearth_sync_cursor_key"

// sealedVersion is the first byte of every sealed token. It is no byte an
// unsealed token decodes to first (those begin with a digit), and it is
// authenticated with the rest.
const sealedVersion = 2

// sealer seals and opens cursor tokens with one data dir's key.
type sealer struct{ aead cipher.AEAD }

// loadSealer reads (or, the first time, makes) app's cursor key.
func loadSealer(app core.App) (*sealer, error) {
	key, err := secret.Load(app, cursorKeyParam)
	if err != nil {
		return nil, fmt.Errorf("sync cursor key: %w", err)
	}
	return newSealer(key)
}

// newSealer seals with key, secret.Size bytes or more (the first are used).
func newSealer(key []byte) (*sealer, error) {
	block, err := aes.NewCipher(key[:secret.Size])
	if err != nil {
		return nil, fmt.Errorf("sync cursor key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sync cursor key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal returns the token a client stores for c: "0" for Start, which
// names no position, otherwise base64url of the version byte, a nonce and
// the sealed Cursor.String.
func (s *sealer) seal(c Cursor) string {
	if c.IsStart() {
		return "0"
	}
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(c.String())+s.aead.Overhead())
	out[0] = sealedVersion
	nonce := out[1:]
	rand.Read(nonce) // never fails (crypto/rand, Go 1.24+)
	out = s.aead.Seal(out, nonce, []byte(c.String()), out[:1])
	return base64.RawURLEncoding.EncodeToString(out)
}

// open reads a token made by seal. "0" is Start. A sealed token that does
// not open (edited, or issued by another data dir: the server's data was
// replaced) is a *GoneError, so the client resyncs; an unsealed one, or a
// bare number, is a *LegacyCursorError; anything else is an error.
func (s *sealer) open(token string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) == 0 || raw[0] != sealedVersion {
		c, err := ParseCursor(token)
		if err != nil || c.IsStart() {
			return c, err
		}
		return Cursor{}, &LegacyCursorError{Cursor: token}
	}
	n := s.aead.NonceSize()
	if len(raw) < 1+n+s.aead.Overhead() {
		return Cursor{}, fmt.Errorf("cursor %q is not one this server issued", token)
	}
	plain, err := s.aead.Open(nil, raw[1:1+n], raw[1+n:], raw[:1])
	if err != nil {
		return Cursor{}, &GoneError{Reason: "cursor was not issued by this server's data (it was edited, or the data was replaced)"}
	}
	c, err := ParseCursor(string(plain))
	if err != nil {
		return Cursor{}, fmt.Errorf("sealed cursor: %w", err)
	}
	return c, nil
}
