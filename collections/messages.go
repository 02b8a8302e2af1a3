package collections

import (
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
)

func registerMessages(app core.App) {
	// A message says something: a body, an attachment or both. The error
	// names body, the field a chat client most likely left empty.
	app.OnRecordValidate(Messages).BindFunc(func(e *core.RecordEvent) error {
		var own validation.Errors
		if strings.TrimSpace(e.Record.GetString("body")) == "" && !hasFiles(e.Record.GetRaw("attachments")) {
			own = validation.Errors{"body": validation.NewError("validation_empty_message", "A message needs a body or an attachment.")}
		}
		return mergeValidation(e.Next(), own)
	})
}

// hasFiles reports whether a file field's raw value (file names and
// pending uploads) holds at least one file.
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
