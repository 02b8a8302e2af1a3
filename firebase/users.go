package firebase

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
	"github.com/pocketbase/pocketbase/tools/types"
)

// noPassword is the password column of an imported user until their
// first sign-in: not a bcrypt hash, so no password matches it, and the
// sign-in hook (signin.go) checks the Firebase hash instead.
const noPassword = "firebase-import:no-password"

// Providers maps Firebase's provider ids to PocketBase's OAuth2 provider
// names, for the _externalAuths links of users who signed in with them.
var Providers = map[string]string{
	"google.com":   "google",
	"apple.com":    "apple",
	"facebook.com": "facebook",
	"twitter.com":  "twitter",
	"github.com":   "github",
}

// AuthOptions tune ImportAuth.
type AuthOptions struct {
	// Hash is the project's hash parameters; nil is refused when a user
	// has a password hash (ScanAuth tells beforehand).
	Hash *HashConfig
	// DryRun reads and checks everything and writes nothing.
	DryRun bool
	// Batch is the number of users written per transaction
	// (DefaultUserBatch when 0).
	Batch int
	// Progress receives progress output (nil for none); Total, when known,
	// draws a bar.
	Progress io.Writer
	Total    int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// ErrNoHashConfig refuses an import of users with password hashes without
// the project's hash parameters: without them no imported password could
// ever be checked.
var ErrNoHashConfig = errors.New("the export has password hashes: --hash-config with the project's password hash parameters is required (Firebase console: Authentication > Users > ⋮ > Password hash parameters)")

// ScanAuth reads an export once, without writing, and returns how many
// users it holds and whether any has a password hash.
func ScanAuth(r AuthReader) (users int, hashes bool, err error) {
	for {
		u, err := r.Next()
		if errors.Is(err, io.EOF) {
			return users, hashes, nil
		}
		var row *RowError
		if errors.As(err, &row) {
			users++
			continue
		}
		if err != nil {
			return users, hashes, err
		}
		users++
		hashes = hashes || u.PasswordHash != ""
	}
}

// DefaultUserBatch is the users written per transaction by default.
const DefaultUserBatch = 5000

// ImportAuth creates or updates one users record per Firebase user of r:
// email, verified flag, name, creation time, uid, password hash, claims,
// disabled flag, and the _externalAuths links of the users' Google,
// Apple, Facebook, Twitter and GitHub identities. A user found again by
// uid is updated (a rerun), except that a user who has signed in since
// keeps the PocketBase password they now have.
func ImportAuth(app core.App, r AuthReader, opts AuthOptions) (*Report, error) {
	if opts.Batch <= 0 {
		opts.Batch = DefaultUserBatch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	users, err := app.FindCollectionByNameOrId(collections.Users)
	if err != nil {
		return nil, fmt.Errorf("import users: %w", err)
	}
	key, err := loadIDKey(app)
	if err != nil {
		return nil, err
	}
	rep := newReport("users", opts.DryRun)
	start := opts.Now()
	prog := newProgress(opts.Progress, "users", opts.Total)
	defer func() { rep.Elapsed = opts.Now().Sub(start) }()
	var batch []*AuthUser
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := writeUsers(app, users, key, batch, opts, rep)
		batch = batch[:0]
		return err
	}
	for {
		u, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var row *RowError
		if errors.As(err, &row) {
			rep.Read++
			rep.skip(collections.Users, row.Where, row.Reason)
			continue
		}
		if err != nil {
			return rep, err
		}
		rep.Read++
		if u.PasswordHash != "" && opts.Hash == nil {
			return rep, ErrNoHashConfig
		}
		batch = append(batch, u)
		if len(batch) >= opts.Batch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
		prog.update(rep.Read)
	}
	if err := flush(); err != nil {
		return rep, err
	}
	prog.done()
	return rep, nil
}

// userRow is one user's column values, checked.
type userRow struct {
	id, uid, email, name, hash, claims string
	verified, disabled                 bool
	created                            types.DateTime
	providers                          []ProviderInfo
}

// checkUser turns u into a row or says why it cannot be one.
func checkUser(app core.App, users *core.Collection, key *idKey, u *AuthUser, cfg *HashConfig) (*userRow, string) {
	if u.UID == "" {
		return nil, "no uid (localId)"
	}
	if len(u.UID) > 128 {
		return nil, "uid longer than 128 characters"
	}
	if u.Email == "" {
		return nil, "no email: users who signed in by phone or anonymously only are not imported"
	}
	row := &userRow{id: key.id(userPath(u.UID)), uid: u.UID, email: strings.ToLower(strings.TrimSpace(u.Email)),
		verified: u.EmailVerified, disabled: u.Disabled, providers: u.Providers}
	rec := core.NewRecord(users)
	rec.Set(core.FieldNameEmail, row.email)
	if f := users.Fields.GetByName(core.FieldNameEmail); f != nil {
		if err := f.ValidateValue(nil, app, rec); err != nil {
			return nil, "email " + fmt.Sprintf("%q", u.Email) + ": " + err.Error()
		}
	}
	// users.name is required: a user without a display name is called
	// by the local part of their email, which they can change.
	row.name = strings.TrimSpace(u.DisplayName)
	if row.name == "" {
		row.name, _, _ = strings.Cut(row.email, "@")
	}
	if utf8.RuneCountInString(row.name) > 80 {
		row.name = string([]rune(row.name)[:80])
	}
	if u.CreatedAt > 0 {
		row.created, _ = types.ParseDateTime(time.UnixMilli(int64(u.CreatedAt)).UTC())
	}
	if u.Claims != "" {
		if !json.Valid([]byte(u.Claims)) {
			return nil, "customAttributes is not JSON"
		}
		row.claims = u.Claims
	}
	if u.PasswordHash != "" {
		salt, err1 := decodeBase64(u.Salt)
		hash, err2 := decodeBase64(u.PasswordHash)
		if err1 != nil || err2 != nil || len(hash) == 0 {
			return nil, "passwordHash or salt is not base64"
		}
		row.hash = Hash{Config: *cfg, Salt: salt, Hash: hash}.Encode()
	}
	return row, ""
}

// existingUser is what a rerun needs to know of a user already there.
type existingUser struct {
	ID          string `db:"id"`
	FirebaseUID string `db:"firebase_uid"`
	Password    string `db:"password"`
}

// userStmts are the statements a batch of users runs once per user,
// prepared once per batch's transaction.
type userStmts struct {
	byUID, byEmail, insert *dbx.Query
}

// prepareUsers prepares the batch's statements. Each lookup repeats its
// unique index's condition ("!= ”"), without which SQLite cannot use a
// partial index and scans the table once per imported user.
func prepareUsers(tx core.App) *userStmts {
	return &userStmts{
		byUID:   tx.DB().NewQuery("SELECT [[id]], [[firebase_uid]], [[password]] FROM {{users}} WHERE [[firebase_uid]] = {:uid} AND [[firebase_uid]] != ''").Prepare(),
		byEmail: tx.DB().NewQuery("SELECT [[id]], [[firebase_uid]], [[password]] FROM {{users}} WHERE [[email]] = {:email} AND [[email]] != ''").Prepare(),
		insert: tx.DB().NewQuery(`INSERT INTO {{users}} ([[id]], [[email]], [[emailVisibility]], [[verified]], [[name]], [[avatar]],
			[[password]], [[tokenKey]], [[created]], [[updated]], [[firebase_uid]], [[firebase_hash]], [[firebase_claims]], [[disabled]])
		VALUES ({:id}, {:email}, FALSE, {:verified}, {:name}, '', {:password}, {:tokenKey}, {:created}, {:updated}, {:uid}, {:hash}, {:claims}, {:disabled})`).Prepare(),
	}
}

func (s *userStmts) close() {
	s.byUID.Close()
	s.byEmail.Close()
	s.insert.Close()
}

// findExisting finds the user a row updates: by uid, else the user who
// holds its email.
func (s *userStmts) findExisting(row *userRow) (existingUser, error) {
	var found existingUser
	err := s.byUID.Bind(dbx.Params{"uid": row.uid}).One(&found)
	if !errors.Is(err, sql.ErrNoRows) {
		return found, err
	}
	err = s.byEmail.Bind(dbx.Params{"email": row.email}).One(&found)
	return found, err
}

func writeUsers(app core.App, users *core.Collection, key *idKey, batch []*AuthUser, opts AuthOptions, rep *Report) error {
	now, _ := types.ParseDateTime(opts.Now().UTC())
	write := func(tx core.App) error {
		var created, updated []string
		stmts := prepareUsers(tx)
		defer stmts.close()
		for _, u := range batch {
			row, reason := checkUser(tx, users, key, u, opts.Hash)
			if row == nil {
				rep.skip(collections.Users, "uid "+u.UID, reason)
				continue
			}
			found, err := stmts.findExisting(row)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if err := stmts.insertUser(row, now); err != nil {
					return err
				}
				created = append(created, row.id)
				rep.count(collections.Users).Created++
			case err != nil:
				return fmt.Errorf("import users: find %s: %w", row.uid, err)
			case found.FirebaseUID != row.uid:
				// Linking would hand this account the Firebase user's data
				// on the strength of an email address alone.
				rep.skip(collections.Users, "uid "+row.uid, "email "+row.email+" belongs to a Hearth user not imported from this uid")
				continue
			default:
				row.id = found.ID
				if found.Password != noPassword {
					// Signed in since the last import: the password is
					// theirs now, and the Firebase one must not come back.
					row.hash = ""
				}
				if err := updateUser(tx, row, found.Password == noPassword, now); err != nil {
					return err
				}
				updated = append(updated, row.id)
				rep.count(collections.Users).Updated++
			}
			if err := linkProviders(tx, users, key, row, now, rep); err != nil {
				return err
			}
		}
		at := opts.Now()
		if err := logUsers(tx, "create", created, at); err != nil {
			return err
		}
		return logUsers(tx, "update", updated, at)
	}
	if opts.DryRun {
		return dryRun(app, write)
	}
	return app.RunInTransaction(write)
}

// errDryRun rolls back a dry run's transaction: a dry run takes every
// step of a real one, lookups and constraints included, and keeps nothing.
var errDryRun = errors.New("dry run")

func dryRun(app core.App, fn func(tx core.App) error) error {
	err := app.RunInTransaction(func(tx core.App) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errDryRun
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
}

func (s *userStmts) insertUser(row *userRow, now types.DateTime) error {
	created := row.created
	if created.IsZero() {
		created = now
	}
	_, err := s.insert.Bind(dbx.Params{"id": row.id, "email": row.email, "verified": row.verified, "name": row.name, "password": noPassword,
		"tokenKey": security.RandomString(50), "created": created.String(), "updated": now.String(), "uid": row.uid,
		"hash": row.hash, "claims": nullableJSON(row.claims), "disabled": row.disabled}).Execute()
	if err != nil {
		return fmt.Errorf("import users: insert %s: %w", row.uid, err)
	}
	return nil
}

func updateUser(tx core.App, row *userRow, keepHash bool, now types.DateTime) error {
	// A user disabled since the last run loses the sessions they hold
	// (a new token key, as firebase.Register does for a save); SET reads
	// the row as it was.
	set := "[[email]] = {:email}, [[verified]] = {:verified}, [[name]] = {:name}, [[updated]] = {:updated}, [[firebase_claims]] = {:claims}, [[disabled]] = {:disabled}" +
		", [[tokenKey]] = CASE WHEN {:disabled} AND NOT [[disabled]] THEN {:tokenKey} ELSE [[tokenKey]] END"
	if keepHash {
		set += ", [[firebase_hash]] = {:hash}"
	}
	if !row.created.IsZero() {
		set += ", [[created]] = {:created}"
	}
	_, err := tx.DB().NewQuery("UPDATE {{users}} SET " + set + " WHERE [[id]] = {:id}").
		Bind(dbx.Params{"id": row.id, "email": row.email, "verified": row.verified, "name": row.name, "updated": now.String(),
			"claims": nullableJSON(row.claims), "disabled": row.disabled, "hash": row.hash, "created": row.created.String(),
			"tokenKey": security.RandomString(50)}).Execute()
	if err != nil {
		return fmt.Errorf("import users: update %s: %w", row.uid, err)
	}
	return nil
}

func nullableJSON(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// linkProviders writes an _externalAuths record for each of the user's
// OAuth2 identities PocketBase has a provider for, so that the next
// sign-in with Google or Apple lands on this account (PocketBase finds the
// account by provider and the provider's user id, Firebase's rawId). The
// providers themselves are configured in the users collection's settings.
func linkProviders(tx core.App, users *core.Collection, key *idKey, row *userRow, now types.DateTime, rep *Report) error {
	for _, p := range row.providers {
		provider, ok := Providers[p.ProviderID]
		if !ok || p.RawID == "" {
			continue
		}
		var owner string
		err := tx.DB().NewQuery("SELECT [[recordRef]] FROM {{_externalAuths}} WHERE [[collectionRef]] = {:c} AND [[provider]] = {:p} AND [[providerId]] = {:pid}").
			Bind(dbx.Params{"c": users.Id, "p": provider, "pid": p.RawID}).Row(&owner)
		switch {
		case err == nil && owner == row.id:
			continue
		case err == nil:
			rep.note("uid %s: its %s identity is already linked to another Hearth user; not linked", row.uid, provider)
			continue
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("import users: external auth of %s: %w", row.uid, err)
		}
		_, err = tx.DB().NewQuery(`INSERT INTO {{_externalAuths}} ([[id]], [[collectionRef]], [[recordRef]], [[provider]], [[providerId]], [[created]], [[updated]])
			VALUES ({:id}, {:c}, {:r}, {:p}, {:pid}, {:now}, {:now})`).
			Bind(dbx.Params{"id": key.id("externalAuths/" + provider + "/" + p.RawID), "c": users.Id, "r": row.id, "p": provider, "pid": p.RawID, "now": now.String()}).Execute()
		if err != nil {
			return fmt.Errorf("import users: link %s of %s: %w", provider, row.uid, err)
		}
	}
	return nil
}
