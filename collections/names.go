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
