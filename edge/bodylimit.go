package edge

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/crews/hearth/collections"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
)

// A record body is bounded by what the schema allows. PocketBase accepts
// up to 32 MB of JSON for any record (more with file fields) and decodes
// all of it, copies it into maps and hands it to the JS hooks before the
// schema's own length checks run: a 10 MB message cost seconds of CPU and
// over a GB of memory to be refused. A body can only be valid if it fits
// the collection's fields, so on the routes of a collection
// (/api/collections/{collection}/..., records and auth actions alike) the
// limit is computed from the live collection, a little above its largest
// valid record, and a batch's from the same sums. Every other route has
// its rule in the body policy (bodyroutes.go). A body over its limit is
// refused with a 413 before it is read past the limit.

// A JSON value's worst case: one character written as an escaped surrogate
// pair (\ud83e\uddd7) is 12 bytes; one byte written as \u0000 is 6.
const (
	escapedCharBytes = 12
	escapedByteBytes = 6
)

const (
	// keyBytes covers a key's quotes, colon, comma, a modifier ("+", "-",
	// ":autogenerate") and some whitespace.
	keyBytes = 32
	// scalarBytes is a number, bool, date or geo point.
	scalarBytes = 128
	// relationIDBytes is one record id (15 characters by default, longer
	// when a collection sets its own id pattern).
	relationIDBytes = 64
	// fileNameBytes is one stored file name, sent in JSON to keep or
	// remove a file.
	fileNameBytes = 256
	// emailBytes and urlBytes: the schema sets no maximum; an address is at
	// most 254 characters, and 16 KB is beyond any URL a browser keeps.
	emailBytes = 2 << 10
	urlBytes   = 16 << 10
	// bodySlack covers what a request adds around the fields: the OAuth2
	// code and redirect URL, whitespace, unknown keys PocketBase ignores.
	bodySlack = 8 << 10
	// partBytes is one multipart part's boundary and headers (a file
	// name included).
	partBytes = 1 << 10
	// formMemory is the memory a multipart body's files may take before Go
	// writes them to disk (PocketBase parses with 16 MB). Go caps the other
	// parts at formMemory+10 MB, and the parts at 1000; formFieldsOver has
	// bounded the other parts by the JSON limit before that.
	formMemory = 1 << 20
	// batchDefaultMaxBodySize is apis/batch.go's default for a batch
	// request, used when the settings leave it at 0.
	batchDefaultMaxBodySize = 128 << 20
)

func registerBodyLimits(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id: "hearthBodyLimit",
			// After the auth token is loaded and the rate limits, right
			// before PocketBase's own body limit, so that where both limits
			// are equal (its 32 MB) this one answers, naming it.
			Priority: apis.DefaultBodyLimitMiddlewarePriority - 1,
			Func:     limitBody,
		})
		return se.Next()
	})
}

// limitBody applies the rule of the route (bodyroutes.go) and reads the
// body under it at once, so that a body sent without a Content-Length
// (chunked) is refused here too, and nothing later reads an unbounded one:
// a multipart body is parsed (files spill to disk past formMemory; the
// form is then kept, so PocketBase does not parse it again), any other body
// is read through and rewound. It runs before the route's own middlewares
// (RequireSuperuserAuth and the like, at priority 0), so what it reads is
// what any caller may make the server read: bodyRuleOf holds the callers a
// superuser route will refuse to the default limit.
func limitBody(e *core.RequestEvent) error {
	rule, err := bodyRuleOf(e)
	if err != nil {
		return collections.APIError(fmt.Errorf("body limit: %w", err))
	}
	r := e.Request
	limit, kind := rule.limit, "a JSON body"
	switch {
	case rule.limit == 0:
		if r.ContentLength == 0 {
			return e.Next()
		}
		// A chunked body may still be empty: it is read, up to one byte.
	case isMultipart(r) && rule.files == 0:
		return collections.APIError(collections.Errorf(collections.EUNSUPPORTED,
			"Unsupported request body: multipart/form-data is taken only where files are, not by %s %s; send JSON of at most %d bytes.", r.Method, r.URL.Path, rule.limit))
	case isMultipart(r):
		limit, kind = rule.files, "a multipart/form-data body"
	case isForm(r):
		kind = "a url-encoded body"
	}
	if limit == unbounded {
		return e.Next()
	}
	tooLarge := collections.APIError(collections.Errorf(collections.ETOOLARGE, "Request body too large: %s for %s may have at most %d bytes.", kind, rule.what, limit))
	if limit == 0 {
		tooLarge = collections.APIError(collections.Errorf(collections.ETOOLARGE, "Request body too large: %s takes no request body (at most 0 bytes).", rule.what))
	}
	if r.ContentLength > limit {
		return tooLarge
	}
	body := &limitedBody{ReadCloser: r.Body, limit: limit, tooLarge: tooLarge}
	r.Body = body
	if isMultipart(r) && limit > 0 {
		var fieldsOver bool
		fieldsOver, err = formFieldsOver(r, body, rule.fields)
		if fieldsOver {
			return collections.APIError(collections.Errorf(collections.ETOOLARGE, "Request body too large: the fields of %s for %s besides its files may have at most %d bytes.", kind, rule.what, rule.fields))
		}
		if err == nil {
			err = r.ParseMultipartForm(formMemory)
		}
	} else {
		_, err = io.Copy(io.Discard, body)
		body.Reread()
	}
	if body.exceeded {
		return tooLarge
	}
	if errors.Is(err, multipart.ErrMessageTooLarge) {
		return collections.APIError(collections.Errorf(collections.ETOOLARGE, "Request body too large: %s for %s may have at most 10 MB of fields besides its files, and 1000 parts.", kind, rule.what))
	}
	if apiErr := (*router.ApiError)(nil); errors.As(err, &apiErr) {
		return apiErr // the 413 of a route's own limit (apis.BodyLimit)
	}
	if err != nil {
		return collections.APIError(&collections.Error{Code: collections.EINVALID, Message: "Failed to read the request body.", Err: err})
	}
	return e.Next()
}

// formFieldsOver reads r's multipart body through once, before it is
// parsed, and reports whether its parts other than files hold more than
// limit bytes. Go's form parser keeps such parts in memory up to 10 MB
// whatever it is told, so a 10 MB text in a form would otherwise be read
// whole, only to be refused by the length check. The body is rewound for
// the parser (router.RereadableReadCloser keeps what was read, spilling
// to disk past PocketBase's in-memory size).
func formFieldsOver(r *http.Request, body *limitedBody, limit int64) (bool, error) {
	defer body.Reread()
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false, err
	}
	parts := multipart.NewReader(body, params["boundary"])
	var fields int64
	for {
		part, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if part.FileName() != "" {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return false, err
			}
			continue
		}
		n, err := io.Copy(io.Discard, io.LimitReader(part, limit-fields+1))
		if fields += n; fields > limit {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

func batchEnabled(app core.App) bool {
	s := app.Settings().Batch
	return s.Enabled && s.MaxRequests > 0
}

// batchBodyLimit is the limit of a batch request: its JSON may hold
// MaxRequests record bodies of the largest collection, and never more than
// PocketBase's own batch limit, which alone bounds a multipart batch (its
// files may go to any collection).
func batchBodyLimit(app core.App, withFiles bool) (int64, error) {
	s := app.Settings().Batch
	limit := s.MaxBodySize
	if limit <= 0 {
		limit = batchDefaultMaxBodySize
	}
	if withFiles {
		return limit, nil
	}
	all, err := app.FindAllCollections()
	if err != nil {
		return 0, err
	}
	var largest int64
	for _, c := range all {
		jsonLimit, _ := collectionBodyLimits(c)
		largest = max(largest, jsonLimit)
	}
	return min(int64(s.MaxRequests)*largest, limit), nil
}

// collectionBodyLimits returns the largest body a valid write to c can
// need: as JSON (or urlencoded), and as multipart/form-data, which adds the
// files at their maximum size and count, and each part's headers.
func collectionBodyLimits(c *core.Collection) (jsonLimit, multipartLimit int64) {
	jsonLimit = bodySlack
	parts := int64(1) // @jsonPayload
	var files int64
	for _, f := range c.Fields {
		jsonLimit += fieldJSONBytes(f)
		parts++
		if file, ok := f.(*core.FileField); ok {
			files += file.CalculateMaxBodySize()
			parts += int64(max(file.MaxSelect, 1))
		}
	}
	return jsonLimit, jsonLimit + files + parts*partBytes
}

// fieldJSONBytes is the most a valid value of f takes in a JSON body, its
// key included.
func fieldJSONBytes(f core.Field) int64 {
	key := int64(len(f.GetName())) + keyBytes
	switch f := f.(type) {
	case *core.TextField:
		return key + int64(textMax(f))*escapedCharBytes
	case *core.PasswordField:
		// password, passwordConfirm and oldPassword
		maxLength := f.Max
		if maxLength <= 0 {
			maxLength = 71 // core/field_password.go: bcrypt's limit
		}
		return 3 * (key + int64(maxLength)*escapedCharBytes)
	case *core.EditorField:
		return key + f.CalculateMaxBodySize()*escapedByteBytes
	case *core.JSONField:
		return key + f.CalculateMaxBodySize()
	case *core.SelectField:
		longest := 0
		for _, v := range f.Values {
			longest = max(longest, len(v))
		}
		return key + int64(max(f.MaxSelect, 1))*(int64(longest)*escapedByteBytes+keyBytes)
	case *core.RelationField:
		return key + int64(max(f.MaxSelect, 1))*relationIDBytes
	case *core.FileField:
		return key + int64(max(f.MaxSelect, 1))*fileNameBytes
	case *core.EmailField:
		return key + emailBytes
	case *core.URLField:
		return key + urlBytes
	case core.MaxBodySizeCalculator:
		// a field type added by a plugin that knows its size
		return key + f.CalculateMaxBodySize()
	}
	return key + scalarBytes
}

// textMax is the most characters a text field accepts (core/field_text.go:
// 0 means 5000).
func textMax(f *core.TextField) int {
	if f.Max == 0 {
		return 5000
	}
	return f.Max
}

// limitedBody fails a read that goes past limit. Like PocketBase's own
// limit reader it passes Reread on and counts from the start again, since
// PocketBase rereads the body (router.RereadableReadCloser), which also
// starts over by itself at EOF. A body found too large stays so.
type limitedBody struct {
	io.ReadCloser
	limit, read int64
	exceeded    bool
	tooLarge    error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.exceeded {
		return 0, b.tooLarge
	}
	// One byte past the limit is enough to know it was crossed.
	if room := b.limit - b.read + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if b.read > b.limit {
		b.exceeded = true
		return n - int(b.read-b.limit), b.tooLarge
	}
	if err == io.EOF {
		b.read = 0
	}
	return n, err
}

// Reread implements router.Rereader.
func (b *limitedBody) Reread() {
	if r, ok := b.ReadCloser.(router.Rereader); ok {
		r.Reread()
		b.read = 0
	}
}
