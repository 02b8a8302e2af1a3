package collections

import (
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// Messages is the collection's name in the schema; clients rely on it.
const Messages = "messages"

var messagesSpec = declare(Spec{
	Name:          Messages,
	Rank:          7,
	Hooks:         registerMessages,
	Scope:         Scope{Field: "group"},
	Synced:        true,
	Owner:         "author",
	ServerManaged: []string{"author"},
	Fixed:         []string{"group"},
	Query:         []string{"id", "group", "author", "body", "created", "updated"},
})

// EditWindow is how long after posting the author may edit a message.
const EditWindow = 15 * time.Minute

// Message wraps a messages record.
type Message struct {
	core.BaseRecordProxy
}

func (*Message) collection() string { return Messages }

// Group is the id of the message's group.
func (m *Message) Group() string { return m.GetString("group") }

// Author is the id of the user who posted the message.
func (m *Message) Author() string { return m.GetString("author") }

// Body is the message text.
func (m *Message) Body() string { return m.GetString("body") }

// Attachments are the stored file names.
func (m *Message) Attachments() []string { return m.GetStringSlice("attachments") }

// CanEditMessage reports whether a message posted at created may still be
// edited at at. The API rules already limit editing to the author; this adds
// the time limit, so that what others read and answered does not change
// under them.
func CanEditMessage(created, at time.Time) bool {
	return at.Sub(created) <= EditWindow
}

// validateMessageContent refuses a message with neither a body nor an
// attachment.
func validateMessageContent(m *Message) *Error {
	if strings.TrimSpace(m.Body()) == "" && !hasFiles(m.GetRaw("attachments")) {
		return fieldError("body", "validation_required", "A message needs a body or an attachment.")
	}
	return nil
}

func registerMessages(app core.App, cfg Config) {
	now := cfg.Now
	app.OnRecordValidate(Messages).BindFunc(func(e *core.RecordEvent) error {
		return mergeValidation(e.Next(), validateMessageContent(As[Message](e.Record)))
	})

	// The window binds clients; superusers moderate from the dashboard and
	// Go or JS hooks may rewrite messages (a word filter) at any time.
	app.OnRecordUpdateRequest(Messages).BindFunc(func(e *core.RecordRequestEvent) error {
		if e.HasSuperuserAuth() {
			return e.Next()
		}
		created := e.Record.Original().GetDateTime("created").Time()
		if !CanEditMessage(created, now()) {
			return APIError(Errorf(EFORBIDDEN,
				"Messages can only be edited for %d minutes after they are posted; this one was posted at %s.",
				int(EditWindow.Minutes()), created.UTC().Format(time.RFC3339)))
		}
		return e.Next()
	})
}

// hasFiles reports whether a file field's raw value (stored names and
// pending uploads alike) holds at least one file.
func hasFiles(raw any) bool {
	switch v := raw.(type) {
	case []any:
		return len(v) > 0
	case []string:
		return len(v) > 0
	case string:
		return v != ""
	case nil:
		return false
	}
	return true
}
