package firebase

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Doc is one Firestore document: its full path ("groups/g1/members/u1")
// and its fields, as JSON decodes them (numbers as json.Number) with
// Firestore's own types as Timestamp, GeoPoint and Ref.
type Doc struct {
	Path   string
	Fields map[string]any
}

// Timestamp is a Firestore timestamp.
type Timestamp time.Time

// GeoPoint is a Firestore geopoint.
type GeoPoint struct{ Lat, Lon float64 }

// Ref is a Firestore document reference: the referenced document's path.
type Ref string

// DocReader yields the documents of an export one at a time.
type DocReader interface {
	// Next returns the next document; io.EOF after the last. A document
	// that cannot be read is a *RowError, after which reading goes on.
	Next() (*Doc, error)
	// Close stops reading.
	Close()
}

// NewDocReader reads r as newline-delimited JSON (one
// {"path":…,"data":{…}} per line) when its first line is such an object,
// else as node-firestore-import-export's JSON ({"__collections__":{…}}).
// Neither reads the whole file: memory stays bounded by the largest
// document (plus, for the nested form, its ancestors' fields).
func NewDocReader(r io.Reader) (DocReader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	first, err := br.Peek(br.Size())
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("firestore export: %w", err)
	}
	first = bytes.TrimLeft(first, " \t\r\n\xef\xbb\xbf")
	if len(first) == 0 {
		return nil, errors.New("firestore export: empty file")
	}
	if line, _, ok := bytes.Cut(first, []byte("\n")); ok || errors.Is(err, io.EOF) {
		var probe struct {
			Path *string         `json:"path"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(line, &probe) == nil && probe.Path != nil {
			return readAhead(&ndjsonReader{r: br}), nil
		}
	}
	return newNodeReader(br), nil
}

// ndjsonReader reads one document per line.
type ndjsonReader struct {
	r    *bufio.Reader
	line int
}

// maxLine bounds a line: Firestore's documents are at most 1 MiB, and
// their JSON a few times that.
const maxLine = 16 << 20

func (n *ndjsonReader) Next() (*Doc, error) {
	for {
		line, err := n.readLine()
		if err != nil {
			return nil, err
		}
		n.line++
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		where := fmt.Sprintf("line %d", n.line)
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var raw struct {
			Path string         `json:"path"`
			Data map[string]any `json:"data"`
		}
		if err := dec.Decode(&raw); err != nil {
			return nil, &RowError{Where: where, Reason: "not a JSON document: " + err.Error()}
		}
		if err := checkDocPath(raw.Path); err != nil {
			return nil, &RowError{Where: where, Reason: err.Error()}
		}
		fields, err := decodeFields(raw.Data)
		if err != nil {
			return nil, &RowError{Where: raw.Path, Reason: err.Error()}
		}
		return &Doc{Path: raw.Path, Fields: fields}, nil
	}
}

func (n *ndjsonReader) readLine() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := n.r.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLine {
			return nil, fmt.Errorf("firestore export: line %d longer than %d bytes", n.line+1, maxLine)
		}
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			return buf, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return buf, nil
		default:
			return nil, err
		}
	}
}

func (n *ndjsonReader) Close() {}

// readAhead reads r's documents in a goroutine, a bounded number ahead of
// the caller: decoding JSON then runs on the second core while the
// importer writes the documents before.
func readAhead(r DocReader) DocReader {
	n := &aheadReader{docs: make(chan aheadItem, 64), stop: make(chan struct{})}
	go func() {
		defer close(n.docs)
		for {
			d, err := r.Next()
			if errors.Is(err, io.EOF) || !n.send(aheadItem{doc: d, err: err}) {
				return
			}
			var row *RowError
			if err != nil && !errors.As(err, &row) {
				return
			}
		}
	}()
	return n
}

// checkDocPath refuses a path that does not name a document: collection
// and document ids alternate, so a document's path has an even number of
// non-empty segments.
func checkDocPath(p string) error {
	segs := strings.Split(p, "/")
	if p == "" || len(segs)%2 != 0 {
		return fmt.Errorf("path %q is not a document's path", p)
	}
	for _, s := range segs {
		if s == "" {
			return fmt.Errorf("path %q has an empty segment", p)
		}
	}
	return nil
}

// aheadReader hands over, one at a time, the documents a goroutine reads
// ahead: newNodeReader's walk of the nested JSON, or readAhead's.
type aheadReader struct {
	docs chan aheadItem
	stop chan struct{}
}

type aheadItem struct {
	doc *Doc
	err error
}

func newNodeReader(r io.Reader) *aheadReader {
	n := &aheadReader{docs: make(chan aheadItem, 64), stop: make(chan struct{})}
	go func() {
		defer close(n.docs)
		dec := json.NewDecoder(r)
		dec.UseNumber()
		w := &nodeWalker{dec: dec, out: n}
		if err := w.root(); err != nil && !errors.Is(err, errStopped) {
			n.send(aheadItem{err: fmt.Errorf("firestore export (JSON): %w", err)})
		}
	}()
	return n
}

var errStopped = errors.New("stopped")

func (n *aheadReader) send(it aheadItem) bool {
	select {
	case n.docs <- it:
		return true
	case <-n.stop:
		return false
	}
}

func (n *aheadReader) Next() (*Doc, error) {
	it, ok := <-n.docs
	if !ok {
		return nil, io.EOF
	}
	return it.doc, it.err
}

func (n *aheadReader) Close() {
	select {
	case <-n.stop:
	default:
		close(n.stop)
	}
	for range n.docs { // let the walker see the stop and end
	}
}

type nodeWalker struct {
	dec *json.Decoder
	out *aheadReader
}

// root reads {"__collections__": {...}, ...}: the export of a whole
// database (other keys, the root's own fields, are ignored).
func (w *nodeWalker) root() error {
	if err := expectDelim(w.dec, '{'); err != nil {
		return err
	}
	found := false
	for w.dec.More() {
		key, err := w.key()
		if err != nil {
			return err
		}
		if key == "__collections__" {
			found = true
			if err := w.collections(""); err != nil {
				return err
			}
			continue
		}
		var skip json.RawMessage
		if err := w.dec.Decode(&skip); err != nil {
			return err
		}
	}
	if !found {
		return errors.New(`no "__collections__" at the top: export the whole database (firestore-export -a credentials.json -b export.json)`)
	}
	return nil
}

func (w *nodeWalker) key() (string, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return "", err
	}
	k, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("expected a key, found %v", tok)
	}
	return k, nil
}

// collections reads {"name": {"docId": {...}}} under the document prefix.
func (w *nodeWalker) collections(prefix string) error {
	if err := expectDelim(w.dec, '{'); err != nil {
		return err
	}
	for w.dec.More() {
		name, err := w.key()
		if err != nil {
			return err
		}
		if err := expectDelim(w.dec, '{'); err != nil {
			return fmt.Errorf("collection %s%s: %w", prefix, name, err)
		}
		for w.dec.More() {
			id, err := w.key()
			if err != nil {
				return err
			}
			if err := w.document(prefix + name + "/" + id); err != nil {
				return err
			}
		}
		if err := expectDelim(w.dec, '}'); err != nil {
			return err
		}
	}
	return expectDelim(w.dec, '}')
}

// document reads one document's object: its fields, and its
// subcollections, whose documents are handed over as they are read.
func (w *nodeWalker) document(path string) error {
	if err := expectDelim(w.dec, '{'); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	raw := map[string]any{}
	for w.dec.More() {
		key, err := w.key()
		if err != nil {
			return err
		}
		if key == "__collections__" {
			if err := w.collections(path + "/"); err != nil {
				return err
			}
			continue
		}
		var v any
		if err := w.dec.Decode(&v); err != nil {
			return fmt.Errorf("%s: field %s: %w", path, key, err)
		}
		raw[key] = v
	}
	if err := expectDelim(w.dec, '}'); err != nil {
		return err
	}
	it := aheadItem{doc: &Doc{Path: path}}
	fields, err := decodeFields(raw)
	if err != nil {
		it = aheadItem{err: &RowError{Where: path, Reason: err.Error()}}
	} else {
		it.doc.Fields = fields
	}
	if !w.out.send(it) {
		return errStopped
	}
	return nil
}

// decodeFields turns the tool's encodings of Firestore's types
// ({"__datatype__": "timestamp" | "geopoint" | "documentReference",
// "value": …}) into Timestamp, GeoPoint and Ref, at any depth.
func decodeFields(raw map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		d, err := decodeValue(v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
		out[k] = d
	}
	return out, nil
}

func decodeValue(v any) (any, error) {
	switch t := v.(type) {
	case []any:
		for i, e := range t {
			d, err := decodeValue(e)
			if err != nil {
				return nil, err
			}
			t[i] = d
		}
		return t, nil
	case map[string]any:
		kind, typed := t["__datatype__"].(string)
		value, hasValue := t["value"]
		if !typed || !hasValue {
			return decodeFields(t)
		}
		return decodeTyped(kind, value)
	}
	return v, nil
}

func decodeTyped(kind string, value any) (any, error) {
	switch kind {
	case "timestamp":
		switch tv := value.(type) {
		case string: // the tool also accepts a date string
			ts, err := time.Parse(time.RFC3339Nano, tv)
			if err != nil {
				return nil, fmt.Errorf("timestamp %q: %w", tv, err)
			}
			return Timestamp(ts.UTC()), nil
		case map[string]any:
			sec, err1 := number(tv["_seconds"])
			nsec, err2 := number(tv["_nanoseconds"])
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("timestamp: %w", err)
			}
			return Timestamp(time.Unix(int64(sec), int64(nsec)).UTC()), nil
		}
		return nil, fmt.Errorf("timestamp: unexpected value %v", value)
	case "geopoint":
		m, ok := value.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("geopoint: unexpected value %v", value)
		}
		lat, err1 := number(m["_latitude"])
		lon, err2 := number(m["_longitude"])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("geopoint: %w", err)
		}
		return GeoPoint{Lat: lat, Lon: lon}, nil
	case "documentReference":
		p, ok := value.(string)
		if !ok || checkDocPath(strings.Trim(p, "/")) != nil {
			return nil, fmt.Errorf("document reference: not a document path: %v", value)
		}
		return Ref(strings.Trim(p, "/")), nil
	}
	return nil, fmt.Errorf("unknown __datatype__ %q", kind)
}

func number(v any) (float64, error) {
	switch n := v.(type) {
	case json.Number:
		return n.Float64()
	case float64:
		return n, nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("not a number: %v", v)
}
