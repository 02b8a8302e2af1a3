package collections

import (
	"errors"
	"fmt"
	"net/http"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Domain error codes, after WTF Dial: the domain says what went wrong, and
// only errors.go says which HTTP status that is.
const (
	EINVALID      = "invalid"      // the request breaks a rule; 400
	EUNAUTHORIZED = "unauthorized" // nobody is signed in; 401
	EFORBIDDEN    = "forbidden"    // the caller may not do this; 403
	ENOTFOUND     = "not_found"    // the thing asked for does not exist; 404
	ECONFLICT     = "conflict"     // the state changed under the request; 409
)

// Error is a domain error: a code, a message for people, and optionally the
// request field at fault with a machine-readable field code (the
// "validation_*" codes PocketBase clients already handle).
type Error struct {
	Code      string
	Message   string
	Field     string
	FieldCode string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// As lets errors.As find a *router.ApiError in a domain error, so PocketBase
// (the record API, the router's error handler) answers with the status and
// body below even when the error crossed its own save and delete code.
func (e *Error) As(target any) bool {
	p, ok := target.(**router.ApiError)
	if !ok {
		return false
	}
	*p = e.apiError()
	return true
}

var statusOf = map[string]int{
	EINVALID:      http.StatusBadRequest,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	ENOTFOUND:     http.StatusNotFound,
	ECONFLICT:     http.StatusConflict,
}

func (e *Error) apiError() *router.ApiError {
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var data any
	if e.Field != "" {
		data = validation.Errors{e.Field: validation.NewError(e.FieldCode, e.Message)}
	}
	return router.NewApiError(status, e.Message, data)
}

// Errorf returns a domain error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fieldError returns an EINVALID error naming field, with the field code
// clients switch on.
func fieldError(field, fieldCode, message string) *Error {
	return &Error{Code: EINVALID, Message: message, Field: field, FieldCode: fieldCode}
}

// ErrorCode returns the domain code of err, or "" when err is not a domain
// error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// apiError maps err to the HTTP error a handler returns: domain errors by
// their code, anything else as a 500 that does not leak its text.
func apiError(err error) *router.ApiError {
	var e *Error
	if errors.As(err, &e) {
		return e.apiError()
	}
	var apiErr *router.ApiError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return router.NewInternalServerError("", err)
}
