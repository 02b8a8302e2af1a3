package push

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// ReminderLead is how long before an event starts its going members are
// reminded.
const ReminderLead = time.Hour

// ScheduleReminders writes a reminder to the outbox for every event that
// starts within ReminderLead after now and has none for its current start
// time, and returns how many it wrote. The cron job runs it every minute
// and the worker when it starts.
//
// Each reminder is keyed by its event and start time, and the key is
// unique in the outbox, so running late, twice, or again after a restart
// adds nothing; an event moved to another time has a new key and is
// reminded at the new time (the worker skips the old key's reminder when
// it no longer matches); an event deleted is not found, and a reminder
// written before the deletion finds no event to expand into.
func ScheduleReminders(app core.App, now time.Time) (int64, error) {
	res, err := app.DB().NewQuery(`INSERT INTO {{` + outboxTable + `}} ([[created]], [[kind]], [[record]], [[group]], [[actor]], [[key]])
		SELECT {:created}, 'reminder', e.[[id]], e.[[group]], '', 'reminder:' || e.[[id]] || '@' || e.[[starts_at]]
		FROM {{events}} e
		WHERE e.[[starts_at]] > {:now} AND e.[[starts_at]] <= {:until}
		ON CONFLICT ([[key]]) DO NOTHING`).
		Bind(dbx.Params{"created": now.UnixMilli(), "now": dateOf(now), "until": dateOf(now.Add(ReminderLead))}).
		Execute()
	if err != nil {
		return 0, fmt.Errorf("push: schedule reminders: %w", err)
	}
	return res.RowsAffected()
}

// remind schedules the reminders due now and wakes the loop for them.
func (w *worker) remind() error {
	n, err := ScheduleReminders(w.app, w.cfg.Now())
	if n > 0 {
		w.poke()
	}
	return err
}
