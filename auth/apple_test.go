package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/auth"
	"github.com/golang-jwt/jwt/v5"
)

// p8 writes key as Apple hands it out: a PKCS#8 PEM "PRIVATE KEY" file.
func p8(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "AuthKey_ABC123DEFG.p8")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func appleEnv(file string) map[string]string {
	return map[string]string{
		"HEARTH_OAUTH2_APPLE_CLIENT_ID": "app.crews.ios",
		"HEARTH_APPLE_TEAM_ID":          "TEAM123456",
		"HEARTH_APPLE_KEY_ID":           "ABC123DEFG",
		"HEARTH_APPLE_PRIVATE_KEY_FILE": file,
	}
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// The secret has the form Apple documents, and verifies against the
// public half of the .p8 key: header {alg ES256, kid}, claims {iss team,
// iat, exp within 15777000 s, aud https://appleid.apple.com, sub client}.
func TestAppleSecretForm(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := auth.FromEnv(getenv(appleEnv(p8(t, key))))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	secret, exp, err := cfg.AppleKey.Secret("app.crews.ios", now)
	if err != nil {
		t.Fatal(err)
	}

	parts := strings.Split(secret, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", secret)
	}
	var header map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(raw, &header); err != nil {
		t.Fatal(err)
	}
	if header["alg"] != "ES256" || header["kid"] != "ABC123DEFG" {
		t.Fatalf("header %v", header)
	}
	// ES256 signatures are r||s, 64 bytes (RFC 7518 3.4), not ASN.1.
	if sig, _ := base64.RawURLEncoding.DecodeString(parts[2]); len(sig) != 64 {
		t.Fatalf("signature is %d bytes, want 64", len(sig))
	}

	claims := jwt.MapClaims{}
	_, err = jwt.NewParser(jwt.WithValidMethods([]string{"ES256"}), jwt.WithTimeFunc(func() time.Time { return now })).
		ParseWithClaims(secret, claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil })
	if err != nil {
		t.Fatalf("secret does not verify with the key's public half: %v", err)
	}
	iat, _ := claims.GetIssuedAt()
	expClaim, _ := claims.GetExpirationTime()
	if claims["iss"] != "TEAM123456" || claims["sub"] != "app.crews.ios" || claims["aud"] != "https://appleid.apple.com" && !audIs(claims["aud"], "https://appleid.apple.com") {
		t.Fatalf("claims %v", claims)
	}
	if !iat.Time.Equal(now) || !expClaim.Time.Equal(exp) {
		t.Fatalf("iat %v exp %v, want %v and %v", iat, expClaim, now, exp)
	}
	if life := exp.Sub(now); life > 15777000*time.Second || life < 150*24*time.Hour {
		t.Fatalf("lifetime %v: Apple takes at most 15777000 s", life)
	}

	// Another key does not verify it.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := jwt.Parse(secret, func(*jwt.Token) (any, error) { return &other.PublicKey, nil }, jwt.WithTimeFunc(func() time.Time { return now })); err == nil {
		t.Fatal("verified with another key")
	}
}

func audIs(aud any, want string) bool {
	list, ok := aud.([]any)
	return ok && len(list) == 1 && list[0] == want
}

// Keys Apple never issues are refused at start, naming the variable.
func TestAppleKeyRefused(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	garbage := filepath.Join(t.TempDir(), "garbage.p8")
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	for name, file := range map[string]string{
		"P-384":   p8(t, p384),
		"RSA":     p8(t, rsaKey),
		"garbage": garbage,
		"missing": filepath.Join(t.TempDir(), "none.p8"),
	} {
		_, err := auth.FromEnv(getenv(appleEnv(file)))
		if err == nil || !strings.Contains(err.Error(), "HEARTH_APPLE_PRIVATE_KEY_FILE") {
			t.Errorf("%s key: %v", name, err)
		}
	}
}
