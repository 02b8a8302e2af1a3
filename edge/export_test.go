package edge

// BodyLimits and BatchBodyLimit are the limits the body limit tests cross.
var (
	BodyLimits     = collectionBodyLimits
	BatchBodyLimit = batchBodyLimit
)
