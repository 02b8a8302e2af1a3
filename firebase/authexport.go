package firebase

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// AuthUser is one user of `firebase auth:export`, in either format.
type AuthUser struct {
	UID           string         `json:"localId"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"emailVerified"`
	PasswordHash  string         `json:"passwordHash"`
	Salt          string         `json:"salt"`
	DisplayName   string         `json:"displayName"`
	PhotoURL      string         `json:"photoUrl"`
	CreatedAt     flexInt        `json:"createdAt"`
	LastSignedIn  flexInt        `json:"lastSignedInAt"`
	PhoneNumber   string         `json:"phoneNumber"`
	Disabled      bool           `json:"disabled"`
	Claims        string         `json:"customAttributes"`
	Providers     []ProviderInfo `json:"providerUserInfo"`
}

// ProviderInfo is one identity provider a user signed in with.
type ProviderInfo struct {
	ProviderID  string `json:"providerId"`
	RawID       string `json:"rawId"`
	Email       string `json:"email"`
	DisplayName string `json:"displayName"`
	PhotoURL    string `json:"photoUrl"`
}

// flexInt is a millisecond time that the JSON export writes as a string
// ("1508893925000") and other tools as a number.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not a millisecond time: %s", b)
	}
	*f = flexInt(n)
	return nil
}

// AuthReader yields the users of an auth export one at a time, without
// reading the whole file.
type AuthReader interface {
	// Next returns the next user; io.EOF after the last. A user that cannot
	// be read is a *RowError, after which reading goes on.
	Next() (*AuthUser, error)
}

// RowError is a user of the export that could not be read.
type RowError struct {
	Where  string
	Reason string
}

func (e *RowError) Error() string { return e.Where + ": " + e.Reason }

// NewAuthReader reads r as JSON ({"users":[…]}) when its first non-blank
// character is "{", else as firebase-tools' CSV.
func NewAuthReader(r io.Reader) (AuthReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("auth export: empty file")
			}
			return nil, fmt.Errorf("auth export: %w", err)
		}
		switch b[0] {
		case ' ', '\n', '\r', '\t', 0xef, 0xbb, 0xbf: // blanks and a UTF-8 BOM
			_, _ = br.ReadByte()
			continue
		case '{':
			return newJSONAuthReader(br)
		}
		return newCSVAuthReader(br), nil
	}
}

type jsonAuthReader struct {
	dec *json.Decoder
	n   int
}

func newJSONAuthReader(r io.Reader) (*jsonAuthReader, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, fmt.Errorf("auth export (JSON): %w", err)
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("auth export (JSON): %w", err)
		}
		if tok == json.Delim('}') {
			return nil, errors.New(`auth export (JSON): no "users" array`)
		}
		if tok == "users" {
			break
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, fmt.Errorf("auth export (JSON): %w", err)
		}
	}
	if err := expectDelim(dec, '['); err != nil {
		return nil, fmt.Errorf(`auth export (JSON): "users": %w`, err)
	}
	return &jsonAuthReader{dec: dec}, nil
}

func (j *jsonAuthReader) Next() (*AuthUser, error) {
	if !j.dec.More() {
		return nil, io.EOF
	}
	j.n++
	var raw json.RawMessage
	if err := j.dec.Decode(&raw); err != nil {
		// The stream is broken: nothing after this point can be trusted.
		return nil, fmt.Errorf("auth export (JSON): user %d: %w", j.n, err)
	}
	var u AuthUser
	if err := json.Unmarshal(raw, &u); err != nil {
		return nil, &RowError{Where: fmt.Sprintf("user %d", j.n), Reason: err.Error()}
	}
	return &u, nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("expected %q, found %v", d, tok)
	}
	return nil
}

// The positional columns of firebase-tools' CSV export (accountExporter's
// transUserToArray): four per provider from its index on.
const (
	colUID = iota
	colEmail
	colVerified
	colHash
	colSalt
	colName
	colPhoto
	colGoogle   = 7
	colFacebook = 11
	colTwitter  = 15
	colGitHub   = 19
	colCreated  = 23
	colLastSeen = 24
	colPhone    = 25
	colDisabled = 26
	colClaims   = 27
	// Older exports end after the last sign-in time.
	csvMinColumns = colLastSeen + 1
)

var csvProviders = map[int]string{colGoogle: "google.com", colFacebook: "facebook.com", colTwitter: "twitter.com", colGitHub: "github.com"}

type csvAuthReader struct {
	r    *csv.Reader
	line int
}

func newCSVAuthReader(r io.Reader) *csvAuthReader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	// firebase-tools quotes a display name holding a comma without
	// doubling its quotes.
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	return &csvAuthReader{r: cr}
}

func (c *csvAuthReader) Next() (*AuthUser, error) {
	rec, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	c.line++
	where := fmt.Sprintf("line %d", c.line)
	if line, _ := c.r.FieldPos(0); line > 0 {
		where = fmt.Sprintf("line %d", line)
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &RowError{Where: where, Reason: pe.Err.Error()}
		}
		return nil, fmt.Errorf("auth export (CSV): %w", err)
	}
	if len(rec) < csvMinColumns {
		return nil, &RowError{Where: where, Reason: fmt.Sprintf("%d columns, firebase auth:export writes at least %d", len(rec), csvMinColumns)}
	}
	get := func(i int) string {
		if i < len(rec) {
			return rec[i]
		}
		return ""
	}
	u := &AuthUser{
		UID: get(colUID), Email: get(colEmail), PasswordHash: get(colHash), Salt: get(colSalt),
		DisplayName: get(colName), PhotoURL: get(colPhoto), PhoneNumber: get(colPhone), Claims: get(colClaims),
	}
	var bad []string
	parseBool := func(i int, name string, into *bool) {
		if s := get(i); s != "" {
			v, err := strconv.ParseBool(s)
			if err != nil {
				bad = append(bad, name+" "+strconv.Quote(s))
			}
			*into = v
		}
	}
	parseTime := func(i int, name string, into *flexInt) {
		if s := get(i); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				bad = append(bad, name+" "+strconv.Quote(s))
			}
			*into = flexInt(v)
		}
	}
	parseBool(colVerified, "emailVerified", &u.EmailVerified)
	parseBool(colDisabled, "disabled", &u.Disabled)
	parseTime(colCreated, "createdAt", &u.CreatedAt)
	parseTime(colLastSeen, "lastSignedInAt", &u.LastSignedIn)
	if len(bad) > 0 {
		return nil, &RowError{Where: where, Reason: "not readable: " + strings.Join(bad, ", ")}
	}
	for _, i := range []int{colGoogle, colFacebook, colTwitter, colGitHub} {
		if raw := get(i); raw != "" {
			u.Providers = append(u.Providers, ProviderInfo{ProviderID: csvProviders[i], RawID: raw, Email: get(i + 1), DisplayName: get(i + 2), PhotoURL: get(i + 3)})
		}
	}
	return u, nil
}
