package collections

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Deleting one's account is the records API's delete of one's own user
// (what the SDK's pb.collection('users').delete(id) sends; the delete rule
// admits only the user themselves, and superusers). Everything below
// happens in the delete's one transaction, so the change log and realtime
// see each write as they see any other:
//
//   - each group the user is the last owner of passes to its
//     longest-standing admin, else to its longest-standing member; a group
//     with nobody else in it is deleted with everything in it;
//   - the schema's cascades then end the user's memberships (their future
//     RSVPs go with them), delete their RSVPs (each delete promotes the
//     waitlist it frees, through the RSVP hooks), their devices and mutes;
//   - their messages stay, with the author cleared (the relation is
//     optional): clients show such a message as from a deleted account.
//     Asked with ?messages=delete, the messages are deleted first instead;
//   - the groups, events and invites they created forget their creator the
//     same way.
//
// Usage, from the app:
//
//	await pb.collection('users').delete(me.id)                                // keep messages
//	await pb.collection('users').delete(me.id, { query: { messages: 'delete' } }) // delete them too

// MessagesParam is the query parameter of a user's delete that chooses
// what happens to their messages: MessagesKeep (the default) or
// MessagesDelete.
const (
	MessagesParam  = "messages"
	MessagesKeep   = "keep"
	MessagesDelete = "delete"
)

func registerAccountDeletion(app core.App) {
	app.OnRecordDeleteRequest(Users).BindFunc(func(e *core.RecordRequestEvent) error {
		switch e.Request.URL.Query().Get(MessagesParam) {
		case "", MessagesKeep:
			return e.Next()
		case MessagesDelete:
		default:
			return APIError(fieldError(MessagesParam, "validation_invalid_value",
				fmt.Sprintf("messages is %q or %q (the default).", MessagesKeep, MessagesDelete)))
		}
		// The messages and the account go together or not at all: the
		// request's delete runs in the transaction that deleted them.
		original := e.App
		defer func() { e.App = original }()
		return e.App.RunInTransaction(func(txApp core.App) error {
			e.App = txApp
			if err := deleteMessagesOf(txApp, e.Record.Id); err != nil {
				return err
			}
			return e.Next()
		})
	})

	app.OnRecordDelete(Users).BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(txApp core.App) error {
			if err := handOverGroups(txApp, e.Record.Id); err != nil {
				return err
			}
			return e.Next()
		})
	})
}

// handOverGroups gives each group of which user is the last owner a new
// owner (Successor), or deletes it when user is its only member. Call it
// inside the transaction that deletes user, before the delete.
func handOverGroups(app core.App, user string) error {
	var owned []*Membership
	err := app.RecordQuery(Memberships).
		AndWhere(dbx.HashExp{"user": user, "role": RoleOwner}).
		All(&owned)
	if err != nil {
		return fmt.Errorf("groups owned by %s: %w", user, err)
	}
	for _, m := range owned {
		owners, err := countOwners(app, m.Group())
		if err != nil {
			return err
		}
		if owners > 1 {
			continue
		}
		next, err := Successor(app, m.Group(), user)
		if err != nil {
			return err
		}
		if next == nil {
			g, err := app.FindRecordById(Groups, m.Group())
			if err != nil {
				return fmt.Errorf("group %s of departing owner %s: %w", m.Group(), user, err)
			}
			if err := app.Delete(g); err != nil {
				return fmt.Errorf("delete group %s left without members: %w", m.Group(), err)
			}
			continue
		}
		next.Set("role", RoleOwner)
		if err := app.Save(next); err != nil {
			return fmt.Errorf("hand group %s over to %s: %w", m.Group(), next.User(), err)
		}
	}
	return nil
}

// Successor returns the member of group who inherits it when departing,
// its last owner, leaves: the longest-standing admin, else the
// longest-standing member (membership order, then insertion order for
// memberships of the same millisecond); nil when nobody else is in it.
func Successor(app core.App, group, departing string) (*Membership, error) {
	for _, role := range []string{RoleAdmin, RoleMember} {
		m := &Membership{}
		err := app.RecordQuery(Memberships).
			AndWhere(dbx.HashExp{"group": group, "role": role}).
			AndWhere(dbx.Not(dbx.HashExp{"user": departing})).
			OrderBy("created ASC", "rowid ASC").
			Limit(1).
			One(m)
		if IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("successor of %s in %s: %w", departing, group, err)
		}
		return m, nil
	}
	return nil, nil
}

// deleteMessagesOf deletes every message user wrote, each through the
// record hooks (change log, realtime, the attachments' files).
func deleteMessagesOf(app core.App, user string) error {
	var msgs []*core.Record
	if err := app.RecordQuery(Messages).AndWhere(dbx.HashExp{"author": user}).All(&msgs); err != nil {
		return fmt.Errorf("messages of %s: %w", user, err)
	}
	for _, m := range msgs {
		if err := app.Delete(m); err != nil {
			return fmt.Errorf("delete message %s of %s: %w", m.Id, user, err)
		}
	}
	return nil
}
