package firebase

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// Hash is one user's Firebase password hash with what checking it needs:
// the user's salt and the project's parameters.
type Hash struct {
	Config HashConfig
	Salt   []byte
	Hash   []byte
}

// derive computes Firebase's modified scrypt of password: scrypt with the
// user's salt followed by the project's salt separator (N = 2^mem_cost,
// r = rounds, p = 1, 32 bytes), used as an AES-256 key to encrypt the
// project's signer key in CTR mode with a zero IV. The result is what
// firebase auth:export calls the password hash.
func derive(password string, salt []byte, c HashConfig) ([]byte, error) {
	signer, err := decodeBase64(c.SignerKey)
	if err != nil {
		return nil, fmt.Errorf("signer key: %w", err)
	}
	sep, err := decodeBase64(c.SaltSeparator)
	if err != nil {
		return nil, fmt.Errorf("salt separator: %w", err)
	}
	s := make([]byte, 0, len(salt)+len(sep))
	s = append(append(s, salt...), sep...)
	key, err := scrypt.Key([]byte(password), s, 1<<c.MemCost, c.Rounds, 1, 32)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	out := make([]byte, len(signer))
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(out, signer)
	return out, nil
}

// Verify reports whether password is the one h was made from, comparing in
// constant time. It costs one scrypt: 128·r·N bytes (16 MiB at Firebase's
// rounds 8, mem_cost 14) and tens of milliseconds, so callers on a request
// path hold a slot of Limiter first.
func (h Hash) Verify(password string) (bool, error) {
	got, err := derive(password, h.Salt, h.Config)
	if err != nil {
		return false, err
	}
	return len(h.Hash) > 0 && subtle.ConstantTimeCompare(got, h.Hash) == 1, nil
}

// hashPrefix names the encoding of a stored Hash, so that another
// algorithm could be told apart later.
const hashPrefix = "firebase-scrypt"

var enc = base64.RawStdEncoding

// Encode writes h as the value of users.firebase_hash:
// firebase-scrypt$rounds$mem_cost$separator$signer_key$salt$hash, in
// unpadded standard base64. Each user's value carries the project's
// parameters, so that a sign-in needs nothing but the user's row (and
// users of two imported projects can both sign in).
func (h Hash) Encode() string {
	sep, _ := decodeBase64(h.Config.SaltSeparator)
	key, _ := decodeBase64(h.Config.SignerKey)
	return strings.Join([]string{hashPrefix, strconv.Itoa(h.Config.Rounds), strconv.Itoa(h.Config.MemCost),
		enc.EncodeToString(sep), enc.EncodeToString(key), enc.EncodeToString(h.Salt), enc.EncodeToString(h.Hash)}, "$")
}

// ErrBadStoredHash is a users.firebase_hash value that Encode did not write.
var ErrBadStoredHash = errors.New("firebase: malformed stored hash")

// DecodeHash reads a value written by Encode.
func DecodeHash(s string) (Hash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 7 || parts[0] != hashPrefix {
		return Hash{}, ErrBadStoredHash
	}
	rounds, err1 := strconv.Atoi(parts[1])
	mem, err2 := strconv.Atoi(parts[2])
	salt, err3 := enc.DecodeString(parts[5])
	hash, err4 := enc.DecodeString(parts[6])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return Hash{}, fmt.Errorf("%w: %v", ErrBadStoredHash, err)
	}
	h := Hash{Config: HashConfig{Algorithm: "SCRYPT", SaltSeparator: parts[3], SignerKey: parts[4], Rounds: rounds, MemCost: mem}, Salt: salt, Hash: hash}
	if err := h.Config.Check(); err != nil {
		return Hash{}, fmt.Errorf("%w: %v", ErrBadStoredHash, err)
	}
	return h, nil
}

// Limiter caps how many Firebase hashes are checked at once: each check
// holds 16 MiB and a core for tens of milliseconds, so a burst of sign-ins
// of migrated users would otherwise take the server's memory.
type Limiter chan struct{}

// NewLimiter returns a Limiter of n slots.
func NewLimiter(n int) Limiter { return make(Limiter, n) }

// Verify checks password against h in a slot, waiting for one until ctx
// ends (a client that hangs up stops waiting).
func (l Limiter) Verify(ctx context.Context, h Hash, password string) (bool, error) {
	select {
	case l <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-l }()
	return h.Verify(password)
}
