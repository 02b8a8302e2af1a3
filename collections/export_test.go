package collections

// RecordFromRow exposes recordFromRow to the external tests.
var RecordFromRow = recordFromRow
