// Command firebasegen writes a generated Crews-shaped Firebase export for
// measuring `hearth import firebase`: users in `firebase auth:export`'s
// JSON, and Firestore documents (groups with members and messages
// subcollections, events with rsvps subcollections) as NDJSON or in
// node-firestore-import-export's nested JSON. The sizes follow from
// -users and -groups (per group: 6 members, 29 messages, 2 events with an
// RSVP of each member: 50 documents); -users 100000 -groups 20000 writes 1,000,000
// documents.
//
//	go run ./internal/cmd/firebasegen -dir /tmp/fb -users 100000 -groups 20000
//	hearth import firebase auth /tmp/fb/users.json --hash-config /tmp/fb/hash-config.json --dir pb_data
//	hearth import firebase firestore /tmp/fb/firestore.ndjson --mapping /tmp/fb/mapping.json --dir pb_data
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

// The firebase/scrypt README's parameters and user hash: every generated
// user carries it (an import does not check hashes, and 100,000 scrypt
// runs would take over an hour).
const (
	hashConfig = `{"algorithm":"SCRYPT","base64_signer_key":"jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==","base64_salt_separator":"Bw==","rounds":8,"mem_cost":14}`
	hash       = "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ=="
	salt       = "42xEC+ixf3L2lw=="
	mapping    = `{"collections": {"members": {"to": "memberships"}, "messages": {"fields": {"text": "body", "sentAt": "created"}},
  "groups": {"fields": {"createdBy": "created_by"}}, "events": {"fields": {"startsAt": "starts_at", "createdBy": "created_by"}}}}`
)

func main() {
	dir := flag.String("dir", ".", "output directory")
	users := flag.Int("users", 1000, "number of users")
	groups := flag.Int("groups", 200, "number of groups (50 documents each)")
	nested := flag.Bool("nested", false, "write node-firestore-import-export's nested JSON instead of NDJSON")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	for name, content := range map[string]string{"hash-config.json": hashConfig, "mapping.json": mapping} {
		if err := os.WriteFile(filepath.Join(*dir, name), []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	write(filepath.Join(*dir, "users.json"), func(w *bufio.Writer) { writeUsers(w, *users) })
	if *nested {
		write(filepath.Join(*dir, "firestore.json"), func(w *bufio.Writer) { writeNested(w, *users, *groups) })
	} else {
		write(filepath.Join(*dir, "firestore.ndjson"), func(w *bufio.Writer) { writeNDJSON(w, *users, *groups) })
	}
}

func write(path string, fill func(*bufio.Writer)) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func uid(i int) string { return fmt.Sprintf("uid%025d", i) }

func writeUsers(w *bufio.Writer, n int) {
	w.WriteString(`{"users": [`)
	for i := range n {
		if i > 0 {
			w.WriteString(",\n")
		}
		fmt.Fprintf(w, `{"localId":%q,"email":"user%d@gen.example","emailVerified":true,"passwordHash":%q,"salt":%q,"displayName":"User %d","createdAt":"%d"}`,
			uid(i), i, hash, salt, i, 1600000000000+int64(i)*1000)
	}
	w.WriteString("]}\n")
}

func ref(path string) string {
	return fmt.Sprintf(`{"__datatype__":"documentReference","value":%q}`, path)
}

func ts(sec int64) string {
	return fmt.Sprintf(`{"__datatype__":"timestamp","value":{"_seconds":%d,"_nanoseconds":0}}`, sec)
}

// doc is one generated document: its path and its fields' JSON.
type doc struct{ path, data string }

// group yields group g's 50 documents, the group first.
func group(g, users int, emit func(doc)) {
	member := func(k int) int { return (g*6 + k) % users }
	gp := fmt.Sprintf("groups/g%07d", g)
	emit(doc{gp, fmt.Sprintf(`{"name":"Group %d","description":"A generated crew","createdBy":%s}`, g, ref("users/"+uid(member(0))))})
	for k := range 6 {
		role := "member"
		if k == 0 {
			role = "owner"
		}
		emit(doc{fmt.Sprintf("%s/members/%s", gp, uid(member(k))), fmt.Sprintf(`{"user":%s,"role":%q}`, ref("users/"+uid(member(k))), role)})
	}
	for m := range 29 {
		emit(doc{fmt.Sprintf("%s/messages/m%02d", gp, m), fmt.Sprintf(`{"author":%s,"text":"Message %d of group %d, about the next outing","sentAt":%s}`,
			ref("users/"+uid(member(m%6))), m, g, ts(1700000000+int64(g*100+m)))})
	}
	for e := range 2 {
		ep := fmt.Sprintf("events/e%07d-%d", g, e)
		emit(doc{ep, fmt.Sprintf(`{"group":%s,"title":"Outing %d","startsAt":%s,"capacity":3,"createdBy":%s}`,
			ref(gp), e, ts(1900000000+int64(g)), ref("users/"+uid(member(0))))})
		for r := range 6 {
			status := []string{"going", "going", "going", "maybe", "declined", "waitlisted"}[r]
			emit(doc{fmt.Sprintf("%s/rsvps/%s", ep, uid(member(r))), fmt.Sprintf(`{"user":%q,"status":%q}`, uid(member(r)), status)})
		}
	}
}

func writeNDJSON(w *bufio.Writer, users, groups int) {
	for g := range groups {
		group(g, users, func(d doc) { fmt.Fprintf(w, `{"path":%q,"data":%s}`+"\n", d.path, d.data) })
	}
}

// writeNested writes the same documents nested: each top-level document
// with its subcollections inside it.
func writeNested(w *bufio.Writer, users, groups int) {
	w.WriteString(`{"__collections__":{"groups":{`)
	for g := range groups {
		if g > 0 {
			w.WriteString(",")
		}
		var docs []doc
		group(g, users, func(d doc) { docs = append(docs, d) })
		// docs: group, 6 members, 29 messages, then per event 1 + 6.
		fmt.Fprintf(w, "%q:%s", filepath.Base(docs[0].path), strip(docs[0].data))
		w.WriteString(`,"__collections__":{"members":{`)
		for i, d := range docs[1:7] {
			sep(w, i)
			fmt.Fprintf(w, "%q:%s}", filepath.Base(d.path), strip(d.data))
		}
		w.WriteString(`},"messages":{`)
		for i, d := range docs[7:36] {
			sep(w, i)
			fmt.Fprintf(w, "%q:%s}", filepath.Base(d.path), strip(d.data))
		}
		w.WriteString("}}}")
	}
	w.WriteString(`},"events":{`)
	first := true
	for g := range groups {
		var docs []doc
		group(g, users, func(d doc) { docs = append(docs, d) })
		for e := range 2 {
			ev := docs[36+e*7:]
			if !first {
				w.WriteString(",")
			}
			first = false
			fmt.Fprintf(w, "%q:%s", filepath.Base(ev[0].path), strip(ev[0].data))
			w.WriteString(`,"__collections__":{"rsvps":{`)
			for i, d := range ev[1:7] {
				sep(w, i)
				fmt.Fprintf(w, "%q:%s}", filepath.Base(d.path), strip(d.data))
			}
			w.WriteString("}}}")
		}
	}
	w.WriteString("}}}\n")
}

// strip drops an object's closing brace, so that a "__collections__" key
// can follow its fields.
func strip(obj string) string { return obj[:len(obj)-1] }

func sep(w *bufio.Writer, i int) {
	if i > 0 {
		w.WriteString(",")
	}
}
