package hearthtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/core"
)

// The fixture world. Climbers: Alice owns it, Bob is an admin, Carol a
// member. Chess: Dave owns it, Erin is a member. Nobody belongs to both, so
// each user is an outsider to the other group.
const (
	Alice = "alice0000000001"
	Bob   = "bob000000000001"
	Carol = "carol0000000001"
	Dave  = "dave00000000001"
	Erin  = "erin00000000001"

	Climbers = "climbers0000001"
	Chess    = "chess0000000001"

	// ClimbEvent is Carol's event in Climbers (capacity 2, Carol going);
	// ChessEvent is Dave's in Chess (no capacity, Erin going).
	ClimbEvent = "climbevent00001"
	ChessEvent = "chessevent00001"

	CarolRSVP = "carolrsvp000001"
	ErinRSVP  = "erinrsvp0000001"

	// ClimbMessage is Carol's in Climbers; ChessMessage is Dave's in Chess.
	ClimbMessage = "climbmessage001"
	ChessMessage = "chessmessage001"

	// ClimbInvite is Alice's in Climbers; ChessInvite is Dave's in Chess.
	ClimbInvite = "climbinvite0001"
	ChessInvite = "chessinvite0001"

	// CarolDevice is Carol's phone, registered with CarolToken; CarolMute
	// is her mute of Climbers, which therefore sends her no pushes. Nobody
	// else has a phone.
	CarolDevice = "caroldevice0001"
	CarolToken  = "ExponentPushToken[carol-phone-0001]"
	CarolMute   = "carolmute000001"

	// Password is every fixture user's password.
	Password       = "password123456"
	SuperuserEmail = "root@hearth.test"
)

// Email returns the fixture email of a fixture user id.
func Email(userID string) string {
	return strings.TrimRight(userID, "0123456789") + "@crews.test"
}

func buildWorld(app core.App) error {
	superusers, err := app.FindCollectionByNameOrId(core.CollectionNameSuperusers)
	if err != nil {
		return err
	}
	root := core.NewRecord(superusers)
	root.SetEmail(SuperuserEmail)
	root.SetPassword(Password)
	if err := app.Save(root); err != nil {
		return fmt.Errorf("superuser: %w", err)
	}

	for _, u := range []struct{ id, name string }{
		{Alice, "Alice"}, {Bob, "Bob"}, {Carol, "Carol"}, {Dave, "Dave"}, {Erin, "Erin"},
	} {
		if _, err := save(app, collections.Users, u.id, map[string]any{
			"name": u.name, "email": Email(u.id),
			"password": Password, "passwordConfirm": Password, "verified": true,
		}); err != nil {
			return err
		}
	}

	if _, err := save(app, collections.Groups, Climbers, map[string]any{"name": "Climbers", "created_by": Alice}); err != nil {
		return err
	}
	if _, err := save(app, collections.Groups, Chess, map[string]any{"name": "Chess", "created_by": Dave}); err != nil {
		return err
	}
	for _, m := range []struct{ group, user, role string }{
		{Climbers, Bob, collections.RoleAdmin},
		{Climbers, Carol, collections.RoleMember},
		{Chess, Erin, collections.RoleMember},
	} {
		if _, err := collections.AddMember(app, m.group, m.user, m.role); err != nil {
			return err
		}
	}

	soon := time.Now().Add(7 * 24 * time.Hour).UTC().Format("2006-01-02 15:04:05.000Z")
	records := []struct {
		collection, id string
		data           map[string]any
	}{
		{collections.Events, ClimbEvent, map[string]any{"group": Climbers, "title": "Bouldering night", "starts_at": soon, "capacity": 2, "created_by": Carol}},
		{collections.Events, ChessEvent, map[string]any{"group": Chess, "title": "Blitz tournament", "starts_at": soon, "created_by": Dave}},
		{collections.RSVPs, CarolRSVP, map[string]any{"event": ClimbEvent, "user": Carol, "status": collections.StatusGoing}},
		{collections.RSVPs, ErinRSVP, map[string]any{"event": ChessEvent, "user": Erin, "status": collections.StatusGoing}},
		{collections.Messages, ClimbMessage, map[string]any{"group": Climbers, "author": Carol, "body": "Who brings the rope?"}},
		{collections.Messages, ChessMessage, map[string]any{"group": Chess, "author": Dave, "body": "Clocks are in the club room."}},
		{collections.Invites, ClimbInvite, map[string]any{"group": Climbers, "created_by": Alice}},
		{collections.Invites, ChessInvite, map[string]any{"group": Chess, "created_by": Dave}},
		{collections.Devices, CarolDevice, map[string]any{"user": Carol, "token": CarolToken, "platform": collections.PlatformIOS}},
		{collections.Mutes, CarolMute, map[string]any{"user": Carol, "group": Climbers}},
	}
	for _, r := range records {
		if _, err := save(app, r.collection, r.id, r.data); err != nil {
			return err
		}
	}
	return nil
}

func save(app core.App, collection, id string, data map[string]any) (*core.Record, error) {
	record, err := app.FindRecordById(collection, id)
	if err != nil {
		col, err := app.FindCollectionByNameOrId(collection)
		if err != nil {
			return nil, err
		}
		record = core.NewRecord(col)
		record.Id = id
	}
	record.Load(data)
	if pw, ok := data["password"].(string); ok {
		record.SetPassword(pw)
	}
	if err := app.Save(record); err != nil {
		return nil, fmt.Errorf("save %s/%s: %w", collection, id, err)
	}
	return record, nil
}
