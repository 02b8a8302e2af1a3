package hearthtest

import (
	"bufio"
	"io"
	"strings"
)

// SSEEvent is one server-sent event of a realtime stream.
type SSEEvent struct {
	Name string
	Data string
}

// ReadSSE sends each event of the server-sent event stream r to out,
// until r ends, then closes out. A line may hold up to 16 MB: a payload
// with its expanded records is one line.
func ReadSSE(r io.Reader, out chan<- SSEEvent) {
	defer close(out)
	lines := bufio.NewScanner(r)
	lines.Buffer(nil, 16<<20)
	var ev SSEEvent
	for lines.Scan() {
		line := lines.Text()
		switch {
		case line == "":
			if ev.Name != "" {
				out <- ev
			}
			ev = SSEEvent{}
		case strings.HasPrefix(line, "event:"):
			ev.Name = strings.TrimPrefix(line, "event:")
		case strings.HasPrefix(line, "data:"):
			ev.Data = strings.TrimPrefix(line, "data:")
		}
	}
}
