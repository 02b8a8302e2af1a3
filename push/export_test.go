package push

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Enqueued reports whether a write's context says it stored an outbox
// row, which is what wakes the worker after the commit.
var Enqueued = enqueued

// PhonesCollections are the collections whose writes end the phones
// question's remembered answers.
var PhonesCollections = phonesCollections

// ReachableQuestion is the SQL the phones question sends when it has no
// answer in memory.
const ReachableQuestion = reachableQuestion

// Reaches answers the phones question for a change in group by actor as
// the triggers do, from memory where it can.
func Reaches(app core.App, group, actor string) (bool, error) {
	w, err := workerOf(app)
	if err != nil {
		return false, err
	}
	return w.phones.reaches(app, entry{Group: group, Actor: actor})
}

// ReachesUncached asks the database the phones question, as the triggers
// asked it before the answers were remembered.
func ReachesUncached(app core.App, group, actor string) (bool, error) {
	var reach bool
	err := app.ConcurrentDB().NewQuery(`SELECT EXISTS (SELECT 1 ` + othersPhones + `)`).
		Bind(dbx.Params{"group": group, "actor": actor}).Row(&reach)
	return reach, err
}

// Generation is the phones question's generation: it moves with every
// write that may change an answer.
func Generation(app core.App) uint64 {
	w, err := workerOf(app)
	if err != nil {
		panic(err)
	}
	return w.phones.gen.Load()
}
