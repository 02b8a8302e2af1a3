package firebase

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// HashConfig is a Firebase project's password hash parameters, the
// hash_config block the console shows under Authentication > Users >
// Password hash parameters, written as JSON:
//
//	{"algorithm":"SCRYPT","base64_signer_key":"…","base64_salt_separator":"…","rounds":8,"mem_cost":14}
type HashConfig struct {
	Algorithm     string `json:"algorithm"`
	SignerKey     string `json:"base64_signer_key"`
	SaltSeparator string `json:"base64_salt_separator"`
	Rounds        int    `json:"rounds"`
	MemCost       int    `json:"mem_cost"`
}

// ReadHashConfig reads and checks a hash config file.
func ReadHashConfig(path string) (HashConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return HashConfig{}, fmt.Errorf("hash config: %w", err)
	}
	var c HashConfig
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return HashConfig{}, fmt.Errorf("hash config %s: %w", path, err)
	}
	if err := c.Check(); err != nil {
		return HashConfig{}, fmt.Errorf("hash config %s: %w", path, err)
	}
	return c, nil
}

// Check refuses parameters Firebase never produces or that this importer
// cannot verify: another algorithm, a signer key or separator that is not
// base64, rounds or mem_cost out of scrypt's range.
func (c HashConfig) Check() error {
	if !strings.EqualFold(c.Algorithm, "SCRYPT") {
		return fmt.Errorf("algorithm %q: only SCRYPT (Firebase's modified scrypt) is supported", c.Algorithm)
	}
	if key, err := decodeBase64(c.SignerKey); err != nil || len(key) == 0 {
		return fmt.Errorf("base64_signer_key: not base64 or empty")
	}
	if _, err := decodeBase64(c.SaltSeparator); err != nil {
		return fmt.Errorf("base64_salt_separator: not base64")
	}
	// Firebase's own values are rounds 8 and mem_cost 14; the bounds keep
	// a typo from asking for gigabytes per sign-in.
	if c.Rounds < 1 || c.Rounds > 32 {
		return fmt.Errorf("rounds %d: must be between 1 and 32", c.Rounds)
	}
	if c.MemCost < 1 || c.MemCost > 20 {
		return fmt.Errorf("mem_cost %d: must be between 1 and 20", c.MemCost)
	}
	return nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not:
// firebase-tools writes standard base64, the Admin SDK and the REST API
// URL-safe.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	return base64.RawStdEncoding.DecodeString(s)
}
