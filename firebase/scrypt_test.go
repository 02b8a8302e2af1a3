package firebase

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"testing"

	"golang.org/x/crypto/scrypt"
)

// The example published with Firebase's scrypt tool
// (github.com/firebase/scrypt, README.md, "Using the utility"), verbatim.
const (
	readmeSignerKey     = "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="
	readmeSaltSeparator = "Bw=="
	readmeRounds        = 8
	readmeMemCost       = 14
	readmeSalt          = "42xEC+ixf3L2lw=="
	readmePassword      = "user1password"
	readmeHash          = "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ=="
)

var readmeConfig = HashConfig{Algorithm: "SCRYPT", SignerKey: readmeSignerKey, SaltSeparator: readmeSaltSeparator, Rounds: readmeRounds, MemCost: readmeMemCost}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := decodeBase64(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKnownAnswerFromFirebaseScryptReadme(t *testing.T) {
	h := Hash{Config: readmeConfig, Salt: mustB64(t, readmeSalt), Hash: mustB64(t, readmeHash)}
	for _, c := range []struct {
		password string
		want     bool
	}{{readmePassword, true}, {"user1passworD", false}, {"", false}, {readmePassword + " ", false}} {
		ok, err := h.Verify(c.password)
		if err != nil || ok != c.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", c.password, ok, err, c.want)
		}
	}
}

// TestComputedVectors builds the expected hash from the algorithm's
// description with the libraries directly (scrypt, then AES-256-CTR of the
// signer key under a zero IV) for other parameters, salts and separators,
// and checks Verify against it, so that a mix-up of rounds and mem_cost or
// of salt and separator that happens to pass the single published vector
// fails here.
func TestComputedVectors(t *testing.T) {
	for _, c := range []struct {
		name            string
		rounds, memCost int
		salt, sep, key  []byte
		password        string
	}{
		{"small", 4, 10, []byte("salt-one"), []byte{0x07}, bytes.Repeat([]byte{0xab}, 64), "hunter2"},
		{"no separator", 8, 11, []byte{1, 2, 3}, nil, []byte("a short signer key"), "pässwörd"},
		{"long separator", 2, 12, []byte("s"), []byte("separator!"), bytes.Repeat([]byte("k"), 40), "x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dk, err := scrypt.Key([]byte(c.password), append(append([]byte{}, c.salt...), c.sep...), 1<<c.memCost, c.rounds, 1, 32)
			if err != nil {
				t.Fatal(err)
			}
			block, _ := aes.NewCipher(dk)
			want := make([]byte, len(c.key))
			cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(want, c.key)
			cfg := HashConfig{Algorithm: "SCRYPT", SignerKey: enc.EncodeToString(c.key), SaltSeparator: enc.EncodeToString(c.sep), Rounds: c.rounds, MemCost: c.memCost}
			h := Hash{Config: cfg, Salt: c.salt, Hash: want}
			if ok, err := h.Verify(c.password); !ok || err != nil {
				t.Fatalf("Verify(right password) = %v, %v", ok, err)
			}
			if ok, _ := h.Verify(c.password + "x"); ok {
				t.Fatal("Verify(wrong password) = true")
			}
			swapped := h
			swapped.Config.Rounds, swapped.Config.MemCost = c.memCost, c.rounds
			if ok, _ := swapped.Verify(c.password); ok && c.rounds != c.memCost {
				t.Fatal("rounds and mem_cost swapped still verify")
			}
		})
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	h := Hash{Config: readmeConfig, Salt: mustB64(t, readmeSalt), Hash: mustB64(t, readmeHash)}
	back, err := DecodeHash(h.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := back.Verify(readmePassword); !ok || err != nil {
		t.Fatalf("decoded hash: Verify = %v, %v", ok, err)
	}
	for _, bad := range []string{"", "bcrypt$x", "firebase-scrypt$8$14$Bw$a$b", "firebase-scrypt$8$99$Bw$a$b$c", "firebase-scrypt$x$14$Bw$a$b$c"} {
		if _, err := DecodeHash(bad); err == nil {
			t.Errorf("DecodeHash(%q) accepted", bad)
		}
	}
}

func TestURLSafeBase64Accepted(t *testing.T) {
	std := mustB64(t, readmeHash)
	url := mustB64(t, "lSrfV15cpx95_sZS2W9c9Kp6i_LVgQNDNC_qzrCnh1SAyZvqmZqAjTdn3aoItz-VHjoZilo78198JAdRuid5lQ")
	if !bytes.Equal(std, url) {
		t.Fatal("URL-safe unpadded base64 decodes differently")
	}
}

func TestHashConfigCheck(t *testing.T) {
	if err := readmeConfig.Check(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*HashConfig){
		"algorithm":  func(c *HashConfig) { c.Algorithm = "BCRYPT" },
		"signer key": func(c *HashConfig) { c.SignerKey = "not base64!" },
		"empty key":  func(c *HashConfig) { c.SignerKey = "" },
		"separator":  func(c *HashConfig) { c.SaltSeparator = "%%" },
		"rounds":     func(c *HashConfig) { c.Rounds = 0 },
		"mem_cost":   func(c *HashConfig) { c.MemCost = 40 },
	} {
		c := readmeConfig
		mutate(&c)
		if c.Check() == nil {
			t.Errorf("%s: bad config accepted", name)
		}
	}
}

func TestLimiterWaitsForASlot(t *testing.T) {
	l := NewLimiter(1)
	l <- struct{}{} // the only slot taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h := Hash{Config: readmeConfig, Salt: mustB64(t, readmeSalt), Hash: mustB64(t, readmeHash)}
	if _, err := l.Verify(ctx, h, readmePassword); err == nil {
		t.Fatal("Verify ran without a free slot")
	}
	<-l
	if ok, err := l.Verify(context.Background(), h, readmePassword); !ok || err != nil {
		t.Fatalf("Verify with a free slot = %v, %v", ok, err)
	}
}
