package firebase

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// A large import writes its records without their tables' secondary
// indexes and builds them once, after the last document: each document
// otherwise costs an insert at a random place of every index of its
// collection and of _firebase_docs, which is most of the import's time,
// while building an index sorts once. Unique indexes stay, so that a
// document breaking one (a second membership of a user in a group) is
// still refused and reported on its own.
//
// The SQL of the dropped indexes is kept in PocketBase's _params table,
// written in the transaction that drops them, so a run that is killed
// before it rebuilds them leaves them recorded: its rerun (which resumes
// the import) builds them at its end.

// deferredKey is the _params row listing the dropped indexes.
const deferredKey = "firebase_deferred_indexes"

// deferredIndex is one dropped index: its name and its CREATE statement
// as sqlite_master held it.
type deferredIndex struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
}

// deferIndexes drops the non-unique indexes of table and records them.
func deferIndexes(tx core.App, table string) error {
	var found []struct {
		Name string `db:"name"`
		SQL  string `db:"sql"`
	}
	// sql is NULL for the indexes of PRIMARY KEY and UNIQUE constraints.
	err := tx.DB().NewQuery("SELECT [[name]], [[sql]] FROM sqlite_master WHERE [[type]] = 'index' AND [[tbl_name]] = {:t} AND [[sql]] IS NOT NULL").
		Bind(dbx.Params{"t": table}).All(&found)
	if err != nil {
		return fmt.Errorf("import documents: indexes of %s: %w", table, err)
	}
	list, err := deferredIndexes(tx)
	if err != nil {
		return err
	}
	dropped := false
	for _, ix := range found {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(ix.SQL)), "CREATE UNIQUE") {
			continue
		}
		if _, err := tx.DB().NewQuery("DROP INDEX [[" + ix.Name + "]]").Execute(); err != nil {
			return fmt.Errorf("import documents: defer index %s: %w", ix.Name, err)
		}
		list = append(list, deferredIndex{Name: ix.Name, SQL: ix.SQL})
		dropped = true
	}
	if !dropped {
		return nil
	}
	value, err := json.Marshal(list)
	if err != nil {
		return err
	}
	_, err = tx.DB().NewQuery(`INSERT INTO {{_params}} ([[id]], [[value]]) VALUES ({:id}, {:value})
		ON CONFLICT ([[id]]) DO UPDATE SET [[value]] = excluded.[[value]]`).
		Bind(dbx.Params{"id": deferredKey, "value": string(value)}).Execute()
	if err != nil {
		return fmt.Errorf("import documents: record deferred indexes: %w", err)
	}
	return nil
}

// deferredIndexes lists the indexes dropped and not yet rebuilt, by this
// run or by an earlier one that was stopped.
func deferredIndexes(app core.App) ([]deferredIndex, error) {
	var value string
	err := app.DB().NewQuery("SELECT [[value]] FROM {{_params}} WHERE [[id]] = {:id}").Bind(dbx.Params{"id": deferredKey}).Row(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("import documents: deferred indexes: %w", err)
	}
	var list []deferredIndex
	if err := json.Unmarshal([]byte(value), &list); err != nil {
		return nil, fmt.Errorf("import documents: deferred indexes: %w", err)
	}
	return list, nil
}

// rebuildIndexes builds every recorded index and forgets the record.
func rebuildIndexes(tx core.App) error {
	list, err := deferredIndexes(tx)
	if err != nil || len(list) == 0 {
		return err
	}
	for _, ix := range list {
		var n int
		if err := tx.DB().NewQuery("SELECT count(*) FROM sqlite_master WHERE [[type]] = 'index' AND [[name]] = {:n}").Bind(dbx.Params{"n": ix.Name}).Row(&n); err != nil {
			return fmt.Errorf("import documents: rebuild index %s: %w", ix.Name, err)
		}
		if n > 0 {
			continue
		}
		if _, err := tx.DB().NewQuery(ix.SQL).Execute(); err != nil {
			return fmt.Errorf("import documents: rebuild index %s: %w", ix.Name, err)
		}
	}
	if _, err := tx.DB().NewQuery("DELETE FROM {{_params}} WHERE [[id]] = {:id}").Bind(dbx.Params{"id": deferredKey}).Execute(); err != nil {
		return fmt.Errorf("import documents: deferred indexes: %w", err)
	}
	return nil
}
