package collections

// Collection names, as created by pb_migrations; clients rely on them.
const (
	Users       = "users"
	Groups      = "groups"
	Memberships = "memberships"
	Invites     = "invites"
	Events      = "events"
	RSVPs       = "rsvps"
	Messages    = "messages"
)

// Names lists the Crews collections in the order their records are
// reported together (a group, its people, their memberships, then the
// group's content, parents before children).
var Names = []string{Groups, Users, Memberships, Invites, Events, RSVPs, Messages}

// Membership roles.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// RSVP statuses.
const (
	StatusGoing      = "going"
	StatusMaybe      = "maybe"
	StatusDeclined   = "declined"
	StatusWaitlisted = "waitlisted"
)
