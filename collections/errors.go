package collections

import (
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Domain error codes, after WTF Dial: the domain says what went wrong, and
// only this file says which HTTP status that is.
const (
	EINVALID      = "invalid"      // the request breaks a rule; 400
	EUNAUTHORIZED = "unauthorized" // nobody is signed in; 401
	EFORBIDDEN    = "forbidden"    // the caller may not do this; 403
	ENOTFOUND     = "not_found"    // the thing asked for does not exist; 404
	ECONFLICT     = "conflict"     // the state changed under the request; 409
	ETOOLARGE     = "too_large"    // the request body is over its limit; 413
	EUNSUPPORTED  = "unsupported"  // the request body's media type is not taken here; 415
)

// Error is a domain error: a code, a message for people, and the request
// fields at fault, each with the machine-readable code clients switch on
// (the "validation_*" codes PocketBase clients already handle). Err is the
// cause, if any: a not-found error wraps sql.ErrNoRows.
type Error struct {
	Code    string
	Message string
	Fields  map[string]FieldError
	Err     error
}

// FieldError is one request field's fault. Params fill the message's
// placeholders ({{.max}}), as PocketBase's own validators do.
type FieldError struct {
	Code    string
	Message string
	Params  map[string]any
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Code, strings.Join(slices.Sorted(maps.Keys(e.Fields)), ", "), e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

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
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	EUNSUPPORTED:  http.StatusUnsupportedMediaType,
}

func (e *Error) apiError() *router.ApiError {
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var data any
	if len(e.Fields) > 0 {
		data = e.validationErrors()
	}
	return router.NewApiError(status, e.Message, data)
}

func (e *Error) validationErrors() validation.Errors {
	errs := validation.Errors{}
	for field, f := range e.Fields {
		errs[field] = validation.NewError(f.Code, f.Message).SetParams(f.Params)
	}
	return errs
}

// Errorf returns a domain error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fieldError returns an EINVALID error naming field, with the field code
// clients switch on.
func fieldError(field, fieldCode, message string) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: map[string]FieldError{field: {Code: fieldCode, Message: message}}}
}

// invalid returns an EINVALID error with message for the whole request and
// the faults of fields, or nil when fields is empty.
func invalid(message string, fields map[string]FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// InvalidFields is invalid for faults found by validation.Error checks
// (the request-body checks), keeping their codes, messages and params.
func InvalidFields(message string, errs validation.Errors) error {
	fields := map[string]FieldError{}
	for field, err := range errs {
		f := FieldError{Code: "validation_invalid_value", Message: err.Error()}
		if v, ok := err.(validation.Error); ok {
			f = FieldError{Code: v.Code(), Message: v.Message(), Params: v.Params()}
		}
		fields[field] = f
	}
	return invalid(message, fields)
}

// notFound is the package's one not-found error: ENOTFOUND for the edge,
// wrapping err (sql.ErrNoRows) for callers that test it with IsNotFound.
func notFound(err error, format string, args ...any) *Error {
	return &Error{Code: ENOTFOUND, Message: fmt.Sprintf(format, args...), Err: err}
}

// IsNotFound reports whether err says that something does not exist: a
// domain ENOTFOUND or a store's sql.ErrNoRows.
func IsNotFound(err error) bool {
	return ErrorCode(err) == ENOTFOUND || errors.Is(err, sql.ErrNoRows)
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

// APIError maps err to the HTTP error a handler or request hook returns:
// domain errors by their code, PocketBase's own API errors as they are,
// anything else as a 500 that does not leak its text.
func APIError(err error) *router.ApiError {
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

// mergeValidation adds the field faults of own to the field validators'
// error err, so that a client sees every invalid field in one response.
func mergeValidation(err error, own *Error) error {
	if own == nil {
		return err
	}
	if err == nil {
		return own.validationErrors()
	}
	if errs, ok := err.(validation.Errors); ok {
		for k, v := range own.validationErrors() {
			if _, taken := errs[k]; !taken {
				errs[k] = v
			}
		}
		return errs
	}
	return err
}
