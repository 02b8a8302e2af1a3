package realtime_test

import (
	"bytes"
	"testing"

	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// Hearth's connections write each message's SSE frame in one piece
// (connect.go); the bytes must stay those of PocketBase's own
// Message.WriteSSE, which the SDK parses, for this PocketBase version and
// the next.
func TestFrameMatchesWriteSSE(t *testing.T) {
	msgs := []subscriptions.Message{
		{Name: "PB_CONNECT", Data: []byte(`{"clientId":"abc"}`)},
		{Name: "messages/*", Data: []byte(`{"action":"create","record":{"id":"x","body":"a\nb"}}`)},
		{Name: "messages/x?options={\"query\":{\"expand\":\"author\"}}", Data: nil},
	}
	frame := []byte("left over from the last message, longer than the next")
	for _, msg := range msgs {
		var want bytes.Buffer
		if err := msg.WriteSSE(&want, "client1"); err != nil {
			t.Fatal(err)
		}
		frame = realtime.AppendFrame(frame[:0], "client1", &msg)
		if !bytes.Equal(frame, want.Bytes()) {
			t.Errorf("frame of %s:\n got %q\nwant %q", msg.Name, frame, want.Bytes())
		}
	}
}
