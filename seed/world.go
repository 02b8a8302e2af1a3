package seed

import (
	"time"

	"github.com/crews/hearth/collections"
)

// DemoDomain is the email domain that marks a demo user.
const DemoDomain = "demo.crews.invalid"

// demoUser is a demo account; Key names it in the records below.
type demoUser struct {
	Key, Name string
}

// Email is the demo user's sign-in email.
func (u demoUser) Email() string { return u.Key + "@" + DemoDomain }

// The demo world. Ada owns Sunday Climbers, where Ben is an admin and Cleo
// a member; Cleo owns Board Game Night, where Ada is a member. Ben is an
// outsider to Board Game Night, so every role and the outsider view can be
// tried by signing in as one of them.
var users = []demoUser{
	{"ada", "Ada Demo"},
	{"ben", "Ben Demo"},
	{"cleo", "Cleo Demo"},
}

// Fixed ids make a second run find what the first one created.
const (
	climbers   = "democlimbers001"
	boardGames = "demoboardgames1"

	bouldering = "demoevent000001"
	cragDay    = "demoevent000002"
	catan      = "demoevent000003"

	climbersInvite = "demoinvite00001"
)

type member struct {
	group, user, role string
}

// Owners are made by the groups hook when the group is created.
var members = []member{
	{climbers, "ben", collections.RoleAdmin},
	{climbers, "cleo", collections.RoleMember},
	{boardGames, "ada", collections.RoleMember},
}

// record is a demo record; in data, a value naming a demo user's Key in a
// user field (userFields) is replaced by that user's id.
type record struct {
	collection, id string
	data           map[string]any
}

var userFields = []string{"created_by", "user", "author"}

// records returns the demo records in dependency order, with dates
// relative to now so that events are always upcoming on a fresh seed.
func records(now time.Time) []record {
	day := now.UTC().Truncate(24 * time.Hour)
	at := func(days, hour int) string {
		return day.Add(time.Duration(days)*24*time.Hour + time.Duration(hour)*time.Hour).Format("2006-01-02 15:04:05.000Z")
	}
	return []record{
		{collections.Groups, climbers, map[string]any{"name": "Sunday Climbers", "description": "Indoor bouldering in the week, a crag when the weather holds.", "created_by": "ada"}},
		{collections.Groups, boardGames, map[string]any{"name": "Board Game Night", "description": "Bring a game, bring a snack.", "created_by": "cleo"}},

		{collections.Events, bouldering, map[string]any{"group": climbers, "title": "Bouldering at the gym", "starts_at": at(3, 18), "ends_at": at(3, 21), "place": "Boulder Hall", "location": map[string]any{"lon": 13.4050, "lat": 52.5200}, "capacity": 4, "created_by": "ben"}},
		{collections.Events, cragDay, map[string]any{"group": climbers, "title": "Crag day", "description": "Car pool from the station at 8.", "starts_at": at(9, 8), "place": "Elbsandstein", "created_by": "ada"}},
		{collections.Events, catan, map[string]any{"group": boardGames, "title": "Catan evening", "starts_at": at(5, 19), "capacity": 4, "created_by": "cleo"}},

		{collections.RSVPs, "demorsvp0000001", map[string]any{"event": bouldering, "user": "ada", "status": collections.StatusGoing}},
		{collections.RSVPs, "demorsvp0000002", map[string]any{"event": bouldering, "user": "ben", "status": collections.StatusGoing}},
		{collections.RSVPs, "demorsvp0000003", map[string]any{"event": bouldering, "user": "cleo", "status": collections.StatusMaybe}},
		{collections.RSVPs, "demorsvp0000004", map[string]any{"event": cragDay, "user": "ben", "status": collections.StatusGoing}},
		{collections.RSVPs, "demorsvp0000005", map[string]any{"event": cragDay, "user": "cleo", "status": collections.StatusDeclined}},
		{collections.RSVPs, "demorsvp0000006", map[string]any{"event": catan, "user": "cleo", "status": collections.StatusGoing}},
		{collections.RSVPs, "demorsvp0000007", map[string]any{"event": catan, "user": "ada", "status": collections.StatusGoing}},

		{collections.Messages, "demomessage0001", map[string]any{"group": climbers, "author": "ada", "body": "Welcome to Sunday Climbers! Shoes can be rented at the gym."}},
		{collections.Messages, "demomessage0002", map[string]any{"group": climbers, "author": "ben", "body": "I booked the bouldering slot for Thursday."}},
		{collections.Messages, "demomessage0003", map[string]any{"group": climbers, "author": "cleo", "body": "Might be late, keep a mat for me."}},
		{collections.Messages, "demomessage0004", map[string]any{"group": boardGames, "author": "cleo", "body": "Catan this week, Ada brings the expansion."}},
		{collections.Messages, "demomessage0005", map[string]any{"group": boardGames, "author": "ada", "body": "Packed it already."}},

		{collections.Invites, climbersInvite, map[string]any{"group": climbers, "created_by": "ada", "max_uses": 10, "expires": at(30, 0)}},
	}
}
