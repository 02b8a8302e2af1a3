package firebase

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/crews/hearth/internal/secret"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// idKey derives the Hearth record id of a Firestore document (or Firebase
// user, as "users/<uid>") from its path: 15 characters of [a-z0-9] from
// its HMAC-SHA-256 under a key kept in the data dir, PocketBase's id shape
// (a subcollection document's first 7 from its top-level document's: id).
// Ids follow from paths, so a reference is written as the id it will
// point to before the referenced document is read (references may point
// forward), and a rerun finds the record it wrote before.
//
// The key keeps the ids unknown to clients: a client may choose a record's
// id on create (docs/access-rules.md, "Record ids chosen by the client"),
// so an id anyone could compute from a path (a plain hash) could be taken
// before the import writes it: a group created under a crew's id would be
// overwritten by the crew and keep its creator as owner; an account signed
// up under a Firebase user's id would stop the users' import and then
// receive that user's memberships (TestImportedIdsCannotBeTaken). Such
// ids would also tell anyone whether a document was imported.
type idKey struct {
	// macs holds HMAC states under the key, reused (hmac).
	macs sync.Pool
	// clustered: subcollection documents' ids share their top-level
	// document's prefix (id).
	clustered bool
}

// newIDKey returns the idKey of key.
func newIDKey(key []byte) *idKey {
	k := &idKey{}
	k.macs.New = func() any { return hmac.New(sha256.New, key) }
	return k
}

// idKeyParam is the _params row (PocketBase's table of settings) that
// holds the key, created by the first import of a data dir.
const idKeyParam = "hearth_firebase_id_key"

// loadIDKey returns the data dir's id key, creating it at the first call.
func loadIDKey(app core.App) (*idKey, error) {
	key, err := secret.Load(app, idKeyParam)
	if err != nil {
		return nil, fmt.Errorf("import id key: %w", err)
	}
	k := newIDKey(key)
	// A data dir whose documents were imported before ids were clustered
	// (idKey.id) keeps flat ids, so that its reruns find their records;
	// any other one clusters, from now on.
	if _, err := app.DB().NewQuery(`INSERT OR IGNORE INTO {{_params}} ([[id]], [[value]])
		SELECT {:id}, 'true' WHERE NOT EXISTS (SELECT 1 FROM {{_firebase_docs}})`).
		Bind(dbx.Params{"id": clusteredParam}).Execute(); err != nil {
		return nil, fmt.Errorf("import id key: %w", err)
	}
	var n int
	if err := app.DB().NewQuery("SELECT count(*) FROM {{_params}} WHERE [[id]] = {:id}").
		Bind(dbx.Params{"id": clusteredParam}).Row(&n); err != nil {
		return nil, fmt.Errorf("import id key: %w", err)
	}
	k.clustered = n > 0
	return k, nil
}

// clusteredParam is the _params row that says the data dir's ids of
// subcollection documents are clustered (idKey.id).
const clusteredParam = "hearth_firebase_clustered_ids"

// id is the record id of the document or user at path. A document of a
// subcollection ("groups/g1/messages/m1") shares its first
// clusterPrefix characters with the id of its top-level ancestor
// ("groups/g1"), the rest from its own path's HMAC: the documents of one
// parent come together in an export, and with ids that share a prefix
// they go to one place of their table's id index, and of
// _firebase_docs' key (collection, record), instead of a random place
// each, so a batch changes a few pages of those B-trees per parent rather
// than pages all over them. The prefix tells no more than which parent a record belongs to, which its
// relation field says anyway; the other 15-clusterPrefix characters
// stay unknown without the key.
func (k *idKey) id(path string) string {
	own := k.hmac(path)
	top, sub := cutTopLevel(path)
	if !sub || !k.clustered {
		return own
	}
	return k.hmac(top)[:clusterPrefix] + own[clusterPrefix:]
}

// cutTopLevel returns the path "c/d" of the top-level document of
// "c/d/…", and whether anything (a subcollection) follows it.
func cutTopLevel(path string) (top string, sub bool) {
	i := strings.IndexByte(path, '/')
	if i < 0 {
		return path, false
	}
	j := strings.IndexByte(path[i+1:], '/')
	if j < 0 {
		return path, false
	}
	return path[:i+1+j], true
}

// clusterPrefix is the length of the id prefix a subcollection document
// takes from its top-level ancestor (idKey.id): 7 characters of base 36
// (7.8e10 values) tell 20,000 groups apart, and leave 8 (2.8e12 values)
// to the document's own HMAC.
const clusterPrefix = 7

// hmac is 15 characters of [a-z0-9] from path's HMAC-SHA-256 under k.
// The keyed hash states come from a pool: hmac.New hashes the key into
// its pads each time, which was a tenth of the import's CPU with a new
// one per id.
func (k *idKey) hmac(path string) string {
	mac := k.macs.Get().(hash.Hash)
	defer k.macs.Put(mac)
	mac.Reset()
	mac.Write([]byte(path))
	var sum [sha256.Size]byte
	return base36ID(mac.Sum(sum[:0]))
}

// pathHash is 15 characters of [a-z0-9] from the SHA-256 of s (file names).
func pathHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base36ID(sum[:])
}

// base36ID writes sum in base 36, left-padded, as PocketBase's id shape.
func base36ID(sum []byte) string {
	s := new(big.Int).SetBytes(sum).Text(36)
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
