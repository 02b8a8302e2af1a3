package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Apple's client secret is a JWT that Hearth signs with the team's Sign in
// with Apple key, in the form Apple documents ("Creating a client secret"):
// header alg ES256 and kid the key's id; claims iss the team id, iat, exp
// at most six months after iat, aud https://appleid.apple.com and sub the
// client id (the app's bundle id for a native sign-in, the Services ID for
// the web). The key is the .p8 file Apple lets one download once: a
// PKCS#8 EC P-256 private key in PEM.
const (
	AppleAudience = "https://appleid.apple.com"
	// AppleSecretLifetime is how long a generated secret is valid: Apple's
	// limit is 15777000 s (six months); a day less leaves room for clock
	// skew between here and Apple.
	AppleSecretLifetime = 15777000*time.Second - 24*time.Hour
	// AppleRenewBefore is how long before its expiry a secret is replaced:
	// the daily check then has a month of chances.
	AppleRenewBefore = 30 * 24 * time.Hour
)

// AppleKey is what Hearth needs to sign Apple client secrets
// (HEARTH_APPLE_TEAM_ID, HEARTH_APPLE_KEY_ID, HEARTH_APPLE_PRIVATE_KEY_FILE).
type AppleKey struct {
	TeamID string
	KeyID  string
	Key    *ecdsa.PrivateKey
}

// ReadAppleKey reads a .p8 file: one PEM block holding a PKCS#8 EC P-256
// private key.
func ReadAppleKey(path string) (*ecdsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseAppleKey(raw)
}

// ParseAppleKey parses the contents of a .p8 file (see ReadAppleKey).
func ParseAppleKey(pemBytes []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("not a PEM file (Apple's .p8 key starts with -----BEGIN PRIVATE KEY-----)")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS#8 private key: %w", err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("not an EC P-256 key, which Sign in with Apple keys are")
	}
	return key, nil
}

// Secret returns a client secret for clientID valid from now for
// AppleSecretLifetime, and when it expires.
func (k AppleKey) Secret(clientID string, now time.Time) (string, time.Time, error) {
	iat := now.Truncate(time.Second)
	exp := iat.Add(AppleSecretLifetime)
	token := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{
		Issuer:    k.TeamID,
		Subject:   clientID,
		Audience:  jwt.ClaimStrings{AppleAudience},
		IssuedAt:  jwt.NewNumericDate(iat),
		ExpiresAt: jwt.NewNumericDate(exp),
	})
	token.Header["kid"] = k.KeyID
	signed, err := token.SignedString(k.Key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign apple client secret: %w", err)
	}
	return signed, exp, nil
}

// appleSecretExpiry reads the exp claim of a stored secret without
// checking its signature (Hearth signed it; the question is only when to
// renew it). A secret that does not parse has expired.
func appleSecretExpiry(secret string) time.Time {
	claims := jwt.RegisteredClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(secret, &claims); err != nil || claims.ExpiresAt == nil {
		return time.Time{}
	}
	return claims.ExpiresAt.Time
}
