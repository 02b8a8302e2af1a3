// Package pb_migrations holds the versioned schema migrations, compiled in
// and applied at start. The package is named after its directory because
// that is the name `hearth migrate create` (PocketBase's migratecmd) writes
// into every new file; any other name would break the build.
package pb_migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The Crews schema: users (extended), groups, memberships, invites, events,
// rsvps and messages, with their API rules.
//
// A migration is a snapshot: the rule strings below are written out here,
// not imported, so that a later change of a rule is a later migration and
// this file keeps meaning what it meant when it ran.

const authed = `@request.auth.id != "" && @request.auth.collectionName = "users"`

// memberOf is true when the caller holds a membership in the group given by
// the field path g. Every condition on the "acl" alias refers to one and the
// same joined memberships row.
func memberOf(g string) string {
	return fmt.Sprintf(`(%s && @collection.memberships:acl.group ?= %s && @collection.memberships:acl.user ?= @request.auth.id)`, authed, g)
}

// roleIn is memberOf narrowed to the given roles.
func roleIn(g string, roles ...string) string {
	rule := fmt.Sprintf(`(%s && @collection.memberships:acl.group ?= %s && @collection.memberships:acl.user ?= @request.auth.id && (`, authed, g)
	for i, r := range roles {
		if i > 0 {
			rule += " || "
		}
		rule += fmt.Sprintf(`@collection.memberships:acl.role ?= "%s"`, r)
	}
	return rule + "))"
}

const inviteCodePattern = `[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}`

var imageTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

const (
	mb               = 1 << 20
	imageMaxSize     = 5 * mb
	attachmentMax    = 10 * mb
	maxAttachments   = 4
	nameMax          = 80
	titleMax         = 120
	descriptionMax   = 2000
	messageBodyMax   = 4000
	placeMax         = 200
	eventDescription = 5000
)

func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return fmt.Errorf("crews schema: find users: %w", err)
		}
		groups := core.NewBaseCollection("groups")
		memberships := core.NewBaseCollection("memberships")
		invites := core.NewBaseCollection("invites")
		events := core.NewBaseCollection("events")
		rsvps := core.NewBaseCollection("rsvps")
		messages := core.NewBaseCollection("messages")

		// Collections are saved first without rules: a rule may name a
		// collection (memberships) that must exist before it validates.
		buildGroups(groups, users)
		if err := app.Save(groups); err != nil {
			return fmt.Errorf("crews schema: groups: %w", err)
		}
		buildMemberships(memberships, groups, users)
		if err := app.Save(memberships); err != nil {
			return fmt.Errorf("crews schema: memberships: %w", err)
		}
		buildInvites(invites, groups, users)
		buildEvents(events, groups, users)
		if err := app.Save(invites); err != nil {
			return fmt.Errorf("crews schema: invites: %w", err)
		}
		if err := app.Save(events); err != nil {
			return fmt.Errorf("crews schema: events: %w", err)
		}
		buildRSVPs(rsvps, events, users)
		buildMessages(messages, groups, users)
		if err := app.Save(rsvps); err != nil {
			return fmt.Errorf("crews schema: rsvps: %w", err)
		}
		if err := app.Save(messages); err != nil {
			return fmt.Errorf("crews schema: messages: %w", err)
		}

		buildUsers(users)
		setRules(users, groups, memberships, invites, events, rsvps, messages)
		for _, c := range []*core.Collection{users, groups, memberships, invites, events, rsvps, messages} {
			if err := app.Save(c); err != nil {
				return fmt.Errorf("crews schema: rules of %s: %w", c.Name, err)
			}
		}
		return nil
	}, func(app core.App) error {
		for _, name := range []string{"messages", "rsvps", "events", "invites", "memberships", "groups"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				continue
			}
			if err := app.Delete(c); err != nil {
				return fmt.Errorf("crews schema down: %s: %w", name, err)
			}
		}
		return nil
	})
}

func timestamps(c *core.Collection) {
	c.Fields.Add(
		&core.AutodateField{Name: "created", OnCreate: true},
		&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
	)
}

func relation(name string, to *core.Collection, required, cascade bool) *core.RelationField {
	return &core.RelationField{Name: name, CollectionId: to.Id, MaxSelect: 1, Required: required, CascadeDelete: cascade}
}

func buildUsers(users *core.Collection) {
	users.Fields.Add(
		&core.TextField{Name: "name", Required: true, Min: 1, Max: nameMax},
		// Protected like covers and attachments: an unprotected file is served
		// to anyone holding its URL, and users are visible only to co-members.
		&core.FileField{Name: "avatar", MaxSelect: 1, MaxSize: imageMaxSize, MimeTypes: imageTypes, Thumbs: []string{"100x100"}, Protected: true},
	)
}

func buildGroups(c, users *core.Collection) {
	c.Fields.Add(
		&core.TextField{Name: "name", Required: true, Min: 1, Max: nameMax, Presentable: true},
		&core.TextField{Name: "description", Max: descriptionMax},
		&core.FileField{Name: "cover", MaxSelect: 1, MaxSize: imageMaxSize, MimeTypes: imageTypes, Thumbs: []string{"100x100", "600x0"}, Protected: true},
		// Not required in the schema: when its creator deletes their
		// account, the group (handed over to another owner) stays and
		// created_by empties. The groups hook requires it at creation.
		relation("created_by", users, false, false),
	)
	timestamps(c)
	c.AddIndex("idx_groups_created_by", false, "created_by", "")
}

func buildMemberships(c, groups, users *core.Collection) {
	c.Fields.Add(
		relation("group", groups, true, true),
		relation("user", users, true, true),
		&core.SelectField{Name: "role", Required: true, MaxSelect: 1, Values: []string{"owner", "admin", "member"}},
	)
	timestamps(c)
	c.AddIndex("idx_memberships_group_user", true, "`group`, `user`", "")
	c.AddIndex("idx_memberships_user", false, "`user`", "")
}

func buildInvites(c, groups, users *core.Collection) {
	min := 0.0
	c.Fields.Add(
		relation("group", groups, true, true),
		// 12 characters from a 31-letter alphabet without 0/O, 1/I/L: about 59 bits,
		// from crypto/rand through PocketBase's RandomStringByRegex.
		&core.TextField{Name: "code", Required: true, Min: 12, Max: 12, Pattern: "^" + inviteCodePattern + "$", AutogeneratePattern: inviteCodePattern},
		relation("created_by", users, false, false),
		&core.DateField{Name: "expires"},
		&core.NumberField{Name: "max_uses", Min: &min, OnlyInt: true},
		&core.NumberField{Name: "uses", Min: &min, OnlyInt: true},
	)
	timestamps(c)
	c.AddIndex("idx_invites_code", true, "code", "")
	c.AddIndex("idx_invites_group", false, "`group`", "")
}

func buildEvents(c, groups, users *core.Collection) {
	min := 0.0
	c.Fields.Add(
		relation("group", groups, true, true),
		&core.TextField{Name: "title", Required: true, Min: 1, Max: titleMax, Presentable: true},
		&core.TextField{Name: "description", Max: eventDescription},
		&core.DateField{Name: "starts_at", Required: true},
		&core.DateField{Name: "ends_at"},
		&core.TextField{Name: "place", Max: placeMax},
		&core.GeoPointField{Name: "location"},
		&core.NumberField{Name: "capacity", Min: &min, OnlyInt: true},
		&core.NumberField{Name: "going_count", Min: &min, OnlyInt: true},
		relation("created_by", users, false, false),
	)
	timestamps(c)
	c.AddIndex("idx_events_group_starts_at", false, "`group`, starts_at", "")
	c.AddIndex("idx_events_created_by", false, "created_by", "")
}

func buildRSVPs(c, events, users *core.Collection) {
	c.Fields.Add(
		relation("event", events, true, true),
		relation("user", users, true, true),
		&core.SelectField{Name: "status", Required: true, MaxSelect: 1, Values: []string{"going", "maybe", "declined", "waitlisted"}},
	)
	timestamps(c)
	c.AddIndex("idx_rsvps_event_user", true, "event, `user`", "")
	c.AddIndex("idx_rsvps_user", false, "`user`", "")
	c.AddIndex("idx_rsvps_event_status_created", false, "event, status, created", "")
}

func buildMessages(c, groups, users *core.Collection) {
	c.Fields.Add(
		relation("group", groups, true, true),
		relation("author", users, false, false),
		&core.TextField{Name: "body", Max: messageBodyMax},
		&core.FileField{Name: "attachments", MaxSelect: maxAttachments, MaxSize: attachmentMax, Thumbs: []string{"100x100", "480x0"}, Protected: true},
	)
	timestamps(c)
	c.AddIndex("idx_messages_group_created", false, "`group`, created", "")
	c.AddIndex("idx_messages_author", false, "author", "")
}

func setRules(users, groups, memberships, invites, events, rsvps, messages *core.Collection) {
	self := `id = @request.auth.id`
	// Two memberships rows, one the caller's and one the viewed user's, in the same group.
	sharesGroup := `(@collection.memberships:mine.user ?= @request.auth.id && @collection.memberships:theirs.user ?= id && @collection.memberships:theirs.group ?= @collection.memberships:mine.group)`
	users.ListRule = types.Pointer(fmt.Sprintf(`%s && (%s || %s)`, authed, self, sharesGroup))
	users.ViewRule = users.ListRule
	users.CreateRule = types.Pointer("")
	users.UpdateRule = types.Pointer(authed + " && " + self)
	users.DeleteRule = users.UpdateRule
	users.ManageRule = nil

	groups.ListRule = types.Pointer(memberOf("id"))
	groups.ViewRule = groups.ListRule
	groups.CreateRule = types.Pointer(authed)
	groups.UpdateRule = types.Pointer(roleIn("id", "owner", "admin"))
	groups.DeleteRule = types.Pointer(roleIn("id", "owner"))

	memberships.ListRule = types.Pointer(memberOf("group"))
	memberships.ViewRule = memberships.ListRule
	memberships.CreateRule = nil
	// Owners change any role; admins change non-owner roles and never grant owner.
	memberships.UpdateRule = types.Pointer(fmt.Sprintf(`%s || (%s && role != "owner" && @request.body.role != "owner")`,
		roleIn("group", "owner"), roleIn("group", "admin")))
	// Leave, or removal by an owner, or by an admin of a non-owner.
	memberships.DeleteRule = types.Pointer(fmt.Sprintf(`(%s && user = @request.auth.id) || %s || (%s && role != "owner")`,
		authed, roleIn("group", "owner"), roleIn("group", "admin")))

	invites.ListRule = types.Pointer(roleIn("group", "owner", "admin"))
	invites.ViewRule = invites.ListRule
	invites.CreateRule = invites.ListRule
	invites.UpdateRule = nil
	invites.DeleteRule = invites.ListRule

	events.ListRule = types.Pointer(memberOf("group"))
	events.ViewRule = events.ListRule
	events.CreateRule = events.ListRule
	events.UpdateRule = types.Pointer(fmt.Sprintf(`(%s && created_by = @request.auth.id) || %s`, memberOf("group"), roleIn("group", "owner", "admin")))
	events.DeleteRule = events.UpdateRule

	rsvps.ListRule = types.Pointer(memberOf("event.group"))
	rsvps.ViewRule = rsvps.ListRule
	rsvps.CreateRule = types.Pointer(fmt.Sprintf(`%s && (@request.body.user:isset = false || @request.body.user = @request.auth.id)`, memberOf("event.group")))
	rsvps.UpdateRule = types.Pointer(fmt.Sprintf(`%s && user = @request.auth.id`, memberOf("event.group")))
	rsvps.DeleteRule = types.Pointer(fmt.Sprintf(`%s && user = @request.auth.id`, authed))

	messages.ListRule = types.Pointer(memberOf("group"))
	messages.ViewRule = messages.ListRule
	messages.CreateRule = messages.ListRule
	messages.UpdateRule = types.Pointer(fmt.Sprintf(`%s && author = @request.auth.id`, memberOf("group")))
	messages.DeleteRule = types.Pointer(fmt.Sprintf(`(%s && author = @request.auth.id) || %s`, authed, roleIn("group", "owner", "admin")))
}
