// Package secret keeps a data dir's server-side keys: random bytes made
// once and stored in PocketBase's _params table, so that they travel with
// the database (backups, replicas, restores) and never leave the server.
//
// A key lives in the database rather than in the environment because what
// it protects lives there too: a restored data dir must still open the
// tokens and derive the ids its key made, and a new data dir must not.
//
// Usage:
//
//	key, err := secret.Load(app, "hearth_sync_cursor_key")
//	if err != nil {
//		return fmt.Errorf("sync: %w", err)
//	}
package secret

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Size is the length of every key, in bytes (256 bits: an AES-256 or
// HMAC-SHA-256 key).
const Size = 32

// Load returns the key stored under name, making it at the first call.
// Callers that race at the first call get the same key: the insert is
// ignored when another one wrote first, and the stored row is what
// everyone reads. The row's value is a JSON string of hex, as PocketBase
// stores its _params values.
func Load(app core.App, name string) ([]byte, error) {
	fresh := make([]byte, Size)
	rand.Read(fresh) // never fails (crypto/rand, Go 1.24+)
	value, _ := json.Marshal(hex.EncodeToString(fresh))
	if _, err := app.DB().NewQuery("INSERT OR IGNORE INTO {{_params}} ([[id]], [[value]]) VALUES ({:id}, {:value})").
		Bind(dbx.Params{"id": name, "value": string(value)}).Execute(); err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	var stored string
	if err := app.DB().NewQuery("SELECT [[value]] FROM {{_params}} WHERE [[id]] = {:id}").
		Bind(dbx.Params{"id": name}).Row(&stored); err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	var h string
	if err := json.Unmarshal([]byte(stored), &h); err != nil {
		return nil, fmt.Errorf("key %s: _params row is not a JSON string: %w", name, err)
	}
	key, err := hex.DecodeString(h)
	if err != nil || len(key) < Size {
		return nil, fmt.Errorf("key %s: _params row is not a key", name)
	}
	return key, nil
}
