package firebase

import (
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// idFor is the Hearth record id of the Firestore document (or Firebase
// user, as "users/<uid>") at path: 15 characters of [a-z0-9] from its
// SHA-256, PocketBase's id shape. Ids follow from paths, so a reference is
// written as the id it will point to before the referenced document is
// read (references may point forward), and a rerun finds the record it
// wrote before.
func idFor(path string) string {
	sum := sha256.Sum256([]byte(path))
	s := new(big.Int).SetBytes(sum[:]).Text(36)
	for len(s) < core.DefaultIdLength {
		s = "0" + s
	}
	return s[:core.DefaultIdLength]
}

// userPath is the path a user's id derives from.
func userPath(uid string) string { return "users/" + uid }

// The change log's table (changefeed, pb_migrations/1764115300_changelog.go):
// the importer writes its rows itself, in the same statements' transaction,
// because it writes records with SQL rather than through app.Save.
const changesTable = "_hearth_changes"

// logUsers appends one change row for each of ids (users), with the groups
// each is a member of, as changefeed's hooks would for a save.
func logUsers(app core.App, op string, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	params := dbx.Params{"at": at.UnixMilli(), "op": op}
	ph := make([]string, len(ids))
	for i, id := range ids {
		k := fmt.Sprintf("u%d", i)
		params[k] = id
		ph[i] = "{:" + k + "}"
	}
	_, err := app.DB().NewQuery(`INSERT INTO {{` + changesTable + `}} ([[at]], [[collection]], [[record]], [[op]], [[groups]], [[member]])
		SELECT {:at}, 'users', u.[[id]], {:op},
			COALESCE((SELECT group_concat(ms.[[group]]) FROM {{memberships}} ms WHERE ms.[[user]] = u.[[id]]), ''), ''
		FROM {{users}} u WHERE u.[[id]] IN (` + strings.Join(ph, ",") + `)`).Bind(params).Execute()
	if err != nil {
		return fmt.Errorf("change log of users: %w", err)
	}
	return nil
}
