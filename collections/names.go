package collections

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
