package edge

// The limits the body limit tests cross.
var (
	BodyLimits     = collectionBodyLimits
	BatchBodyLimit = batchBodyLimit
)

const (
	DefaultBodyLimit   = defaultBodyLimit
	JoinBodyLimit      = joinBodyLimit
	RealtimeBodyLimit  = realtimeBodyLimit
	SuperuserBodyLimit = superuserBodyLimit
)
