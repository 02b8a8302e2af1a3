package edge

import (
	"strconv"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// checkType refuses a value that does not have its field's type.
// PocketBase would cast it and keep going: "abc" for a number becomes 0,
// "tomorrow" for an optional date becomes no date, {"x":1} for a text
// becomes "". Each is a client bug that would be stored silently, so it is
// a 400 naming the field instead (bodychecks.go). Form bodies carry every
// value as a string, so a string that parses as the type is accepted too;
// a form key sent twice is a list, which no scalar field takes.
func checkType(field core.Field, value any) error {
	switch field.(type) {
	case *core.NumberField:
		switch v := value.(type) {
		case float64: // every JSON number
			return nil
		case string:
			if _, err := strconv.ParseFloat(v, 64); v == "" || err == nil {
				return nil
			}
		}
		return validation.NewError("validation_invalid_number", "Must be a number.")
	case *core.BoolField:
		switch v := value.(type) {
		case bool:
			return nil
		case string:
			if _, err := strconv.ParseBool(v); v == "" || err == nil {
				return nil
			}
		}
		return validation.NewError("validation_invalid_bool", "Must be true or false.")
	case *core.DateField, *core.AutodateField:
		if v, ok := value.(string); ok {
			if d, err := types.ParseDateTime(v); v == "" || (err == nil && !d.IsZero()) {
				return nil
			}
		}
		return validation.NewError("validation_invalid_date", "Must be a date such as 2026-01-31 18:30:00.000Z.")
	case *core.TextField, *core.EditorField, *core.EmailField, *core.URLField, *core.PasswordField:
		if _, ok := value.(string); ok {
			return nil
		}
		return validation.NewError("validation_invalid_text", "Must be a string.")
	}
	return nil
}
