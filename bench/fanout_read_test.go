package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The read loops' parsing of a stream gives every event once, in order,
// however the socket's reads cut it: Hearth's hijacked stream (no
// framing) and net/http's chunked one (plain PocketBase), whose chunks
// here split events, hold several and carry an extension, cut at every
// byte and read a byte at a time.
func TestSSEConnFeed(t *testing.T) {
	names := []string{"PB_CONNECT", "messages/*", "messages/*", "messages/*"}
	var frames, want []string
	for i, name := range names {
		data := fmt.Sprintf(`{"n":%d,"body":"b-%d"}`, i, i)
		frames = append(frames, "id:c1\nevent:"+name+"\ndata:"+data+"\n\n")
		want = append(want, name+" "+data)
	}
	plain := strings.Join(frames, "")
	// Chunks of 7, 50 and the rest: boundaries inside and between events.
	cuts := []int{0, 7, 57, len(plain)}
	chunked := ""
	for i := 1; i < len(cuts); i++ {
		part := plain[cuts[i-1]:cuts[i]]
		ext := ""
		if i == 2 {
			ext = ";name=value"
		}
		chunked += fmt.Sprintf("%x%s\r\n%s\r\n", len(part), ext, part)
	}
	read := func(t *testing.T, isChunked bool, parts ...string) ([]string, error) {
		t.Helper()
		c := &sseConn{chunked: isChunked}
		var got []string
		var err error
		for _, p := range parts {
			if err = c.feed([]byte(p), func(name, data []byte) { got = append(got, string(name)+" "+string(data)) }); err != nil {
				break
			}
		}
		return got, err
	}
	for _, tc := range []struct {
		name    string
		stream  string
		chunked bool
	}{{"hijacked", plain, false}, {"chunked", chunked, true}} {
		t.Run(tc.name, func(t *testing.T) {
			for k := range len(tc.stream) + 1 {
				got, err := read(t, tc.chunked, tc.stream[:k], tc.stream[k:])
				if err != nil || !slices.Equal(got, want) {
					t.Fatalf("cut at %d: %q, %v; want %q", k, got, err, want)
				}
			}
			bytewise := strings.Split(tc.stream, "")
			if got, err := read(t, tc.chunked, bytewise...); err != nil || !slices.Equal(got, want) {
				t.Fatalf("a byte at a time: %q, %v", got, err)
			}
		})
	}
	if _, err := read(t, true, chunked+"0\r\n\r\n"); !errors.Is(err, errStreamEnded) {
		t.Errorf("the last chunk: %v, want errStreamEnded", err)
	}
	if _, err := read(t, true, "zz\r\n"); err == nil {
		t.Error("a bad chunk size was read")
	}
}
