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

	// Devices and Mutes are each one user's alone: the phones that get
	// their pushes, the groups they muted.
	Devices = "devices"
	Mutes   = "mutes"

	// PushOutbox and Pushes are read-only views of the push outbox for
	// superusers (package push).
	PushOutbox = "push_outbox"
	Pushes     = "pushes"
)

// Names lists the Crews collections in the order their records are
// reported together (a group, its people, their memberships, then the
// group's content, parents before children), followed by the collections
// no group reports: those private to one user, then the push views.
var Names = []string{Groups, Users, Memberships, Invites, Events, RSVPs, Messages, Devices, Mutes, PushOutbox, Pushes}

// Membership roles.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Device platforms.
const (
	PlatformIOS     = "ios"
	PlatformAndroid = "android"
)

// RSVP statuses.
const (
	StatusGoing      = "going"
	StatusMaybe      = "maybe"
	StatusDeclined   = "declined"
	StatusWaitlisted = "waitlisted"
)
