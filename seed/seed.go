package seed

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"
)

// ErrRealUsers is returned (wrapped) when the database holds users that
// are not demo users and Options.Force is not set.
var ErrRealUsers = errors.New("refusing to seed")

// passwordLength and passwordAlphabet give about 95 bits per password,
// without characters that are easy to misread when typed from a terminal.
const (
	passwordLength   = 16
	passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
)

// Options tune a seed run.
type Options struct {
	// Force seeds even when the database holds users that are not demo users.
	Force bool
	// ResetPasswords gives existing demo users new random passwords.
	ResetPasswords bool
}

// Login is how to sign in as a demo user.
type Login struct {
	Email, Name string
	// Password is set when this run chose it (a new user, or
	// ResetPasswords); empty when the stored password was left unchanged.
	Password string
}

// Report says what a seed run did.
type Report struct {
	// Created counts the records this run added, in every collection,
	// including those that hooks added (the owner memberships).
	Created int
	// OtherUsers counts the users that are not demo users (non-zero only
	// with Force).
	OtherUsers int
	Users      []Login
	// InviteGroup and InviteCode describe the demo invite.
	InviteGroup, InviteCode string
}

// seededCollections are counted before and after a run to report what it created.
var seededCollections = []string{
	collections.Users, collections.Groups, collections.Memberships, collections.Events,
	collections.RSVPs, collections.Messages, collections.Invites,
}

// Run applies pending migrations, then creates whatever demo data is
// missing, in one transaction: a failed run leaves the database as it was.
func Run(app core.App, opts Options) (*Report, error) {
	if err := app.RunAllMigrations(); err != nil {
		return nil, fmt.Errorf("seed: migrations: %w", err)
	}

	others, err := countOtherUsers(app)
	if err != nil {
		return nil, err
	}
	if others > 0 && !opts.Force {
		return nil, fmt.Errorf("%w: the database in %s has %s whose email is not @%s; "+
			"demo accounts with printed passwords do not belong beside real ones. "+
			"Use another --dir, or run `hearth seed --force` to add the demo data anyway",
			ErrRealUsers, app.DataDir(), userCount(others), DemoDomain)
	}

	report := &Report{OtherUsers: others}
	err = app.RunInTransaction(func(tx core.App) error {
		before, err := countRecords(tx)
		if err != nil {
			return err
		}
		ids, err := ensureUsers(tx, opts, report)
		if err != nil {
			return err
		}
		for _, r := range records(time.Now()) {
			if err := ensureRecord(tx, r, ids); err != nil {
				return err
			}
			if r.collection == collections.Groups {
				if err := ensureMembers(tx, r.id, ids); err != nil {
					return err
				}
			}
		}
		invite, err := collections.Find[collections.Invite](tx, climbersInvite)
		if err != nil {
			return fmt.Errorf("seed: demo invite: %w", err)
		}
		group, err := collections.Find[collections.Group](tx, climbers)
		if err != nil {
			return fmt.Errorf("seed: demo group: %w", err)
		}
		report.InviteCode, report.InviteGroup = invite.Code(), group.Name()

		after, err := countRecords(tx)
		report.Created = after - before
		return err
	})
	if err != nil {
		return nil, err
	}
	return report, nil
}

func countOtherUsers(app core.App) (int, error) {
	n, err := app.CountRecords(collections.Users,
		dbx.NewExp("[[email]] NOT LIKE {:demo}", dbx.Params{"demo": "%@" + DemoDomain}))
	if err != nil {
		return 0, fmt.Errorf("seed: count users: %w", err)
	}
	return int(n), nil
}

func countRecords(app core.App) (int, error) {
	total := 0
	for _, name := range seededCollections {
		n, err := app.CountRecords(name)
		if err != nil {
			return 0, fmt.Errorf("seed: count %s: %w", name, err)
		}
		total += int(n)
	}
	return total, nil
}

// ensureUsers finds or creates each demo user by email and returns their
// ids by Key.
func ensureUsers(app core.App, opts Options, report *Report) (map[string]string, error) {
	col, err := app.FindCachedCollectionByNameOrId(collections.Users)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	ids := map[string]string{}
	for _, u := range users {
		login := Login{Email: u.Email(), Name: u.Name}
		record, err := app.FindAuthRecordByEmail(col, u.Email())
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("seed: find user %s: %w", u.Email(), err)
		}
		if err != nil {
			record = core.NewRecord(col)
			record.SetEmail(u.Email())
			record.SetVerified(true)
			record.Set("name", u.Name)
		}
		if record.IsNew() || opts.ResetPasswords {
			login.Password = security.RandomStringWithAlphabet(passwordLength, passwordAlphabet)
			record.SetPassword(login.Password)
			if err := app.Save(record); err != nil {
				return nil, fmt.Errorf("seed: user %s: %w", u.Email(), err)
			}
		}
		ids[u.Key] = record.Id
		report.Users = append(report.Users, login)
	}
	return ids, nil
}

// ensureRecord creates r unless a record with its id exists.
func ensureRecord(app core.App, r record, ids map[string]string) error {
	switch _, err := app.FindRecordById(r.collection, r.id); {
	case err == nil:
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("seed: find %s/%s: %w", r.collection, r.id, err)
	}
	col, err := app.FindCachedCollectionByNameOrId(r.collection)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	record := core.NewRecord(col)
	record.Id = r.id
	for k, v := range r.data {
		if key, ok := v.(string); ok && isUserField(k) {
			v = ids[key]
		}
		record.Set(k, v)
	}
	if err := app.Save(record); err != nil {
		return fmt.Errorf("seed: %s/%s: %w", r.collection, r.id, err)
	}
	return nil
}

// ensureMembers adds the missing non-owner members of group.
func ensureMembers(app core.App, group string, ids map[string]string) error {
	for _, m := range members {
		if m.group != group {
			continue
		}
		switch _, err := collections.FindMembership(app, group, ids[m.user]); {
		case err == nil:
			continue
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("seed: %w", err)
		}
		if _, err := collections.AddMember(app, group, ids[m.user], m.role); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

func isUserField(name string) bool {
	for _, f := range userFields {
		if f == name {
			return true
		}
	}
	return false
}

// userCount says "1 user" or "n users".
func userCount(n int) string {
	if n == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", n)
}
