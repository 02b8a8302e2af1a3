package collections

import (
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
)

func registerEvents(app core.App) {
	// An event cannot end before it starts, whoever writes it.
	app.OnRecordValidate(Events).BindFunc(func(e *core.RecordEvent) error {
		var own validation.Errors
		starts, ends := e.Record.GetDateTime("starts_at"), e.Record.GetDateTime("ends_at")
		if !starts.IsZero() && !ends.IsZero() && ends.Before(starts) {
			own = validation.Errors{"ends_at": validation.NewError("validation_ends_before_start", "Must not be before starts_at.")}
		}
		return mergeValidation(e.Next(), own)
	})
}

// mergeValidation returns the field validators' error err with own added,
// so that a client sees every invalid field in one response.
func mergeValidation(err error, own validation.Errors) error {
	if len(own) == 0 {
		return err
	}
	if err == nil {
		return own
	}
	if errs, ok := err.(validation.Errors); ok {
		for k, v := range own {
			if _, taken := errs[k]; !taken {
				errs[k] = v
			}
		}
		return errs
	}
	return err
}
