package firebase

// ChangesScattered lets the external tests check the change log's index
// names against the migrated schema.
var ChangesScattered = changesScattered
