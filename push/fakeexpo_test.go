package push_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
)

// fakeExpo is a local server that speaks Expo's push API as documented
// (docs.expo.dev, "Send notifications with the Expo Push Service", and
// expo-server-sdk-node): POST /--/api/v2/push/send takes a JSON array of
// at most 100 messages and answers {"data": [ticket, ...]}, one ticket per
// message in order, {"status": "ok", "id": ...} or {"status": "error",
// "message": ..., "details": {"error": "DeviceNotRegistered" | ...}};
// POST /--/api/v2/push/getReceipts takes {"ids": [...]} and answers
// {"data": {id: receipt}}, leaving out receipts it does not have yet.
// Errors of a whole request are {"errors": [{"code", "message"}]} with a
// non-200 status. The Expo push token of each message is checked; an
// access token, when set, must come as "Authorization: Bearer ...".
type fakeExpo struct {
	srv         *httptest.Server
	accessToken string

	mu sync.Mutex
	// sends holds every send request's messages, answered or not.
	sends [][]expoMessage
	// accepted holds the messages answered with an ok ticket, in order.
	accepted []expoMessage
	// tickets maps each ok ticket's id to its message.
	tickets map[string]expoMessage
	// receiptRequests holds the ids of every receipts request.
	receiptRequests [][]string
	// answers, when non-empty, answer the next send requests in order:
	// an answer writes the whole response itself and returns true, or
	// returns false to let the normal answer through.
	answers []func(w http.ResponseWriter, msgs []expoMessage) bool
	// ticketErrors and receiptErrors give a token's ticket or receipt
	// this details.error; pendingReceipts lists tokens whose receipts are
	// not ready yet.
	ticketErrors, receiptErrors map[string]string
	pendingReceipts             map[string]bool
}

type expoMessage struct {
	To       string         `json:"to"`
	Title    string         `json:"title"`
	Body     string         `json:"body"`
	Data     map[string]any `json:"data"`
	Sound    string         `json:"sound"`
	Priority string         `json:"priority"`
}

var expoToken = regexp.MustCompile(`^Expo(nent)?PushToken\[[^\]]+\]$`)

func newFakeExpo(t testing.TB) *fakeExpo {
	f := &fakeExpo{
		tickets:         map[string]expoMessage{},
		ticketErrors:    map[string]string{},
		receiptErrors:   map[string]string{},
		pendingReceipts: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /--/api/v2/push/send", f.send)
	mux.HandleFunc("POST /--/api/v2/push/getReceipts", f.receipts)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeExpo) URL() string { return f.srv.URL }

func expoError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": message}}})
}

// authorized checks the access token; it answers 401 itself when wrong.
func (f *fakeExpo) authorized(w http.ResponseWriter, r *http.Request) bool {
	if f.accessToken != "" && r.Header.Get("Authorization") != "Bearer "+f.accessToken {
		expoError(w, http.StatusUnauthorized, "UNAUTHORIZED", "The bearer token is invalid.")
		return false
	}
	return true
}

func (f *fakeExpo) send(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var msgs []expoMessage
	if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &msgs) != nil {
		expoError(w, http.StatusBadRequest, "VALIDATION_ERROR", "The request body must be a JSON array of push messages.")
		return
	}
	f.mu.Lock()
	f.sends = append(f.sends, msgs)
	f.mu.Unlock()
	if !f.authorized(w, r) {
		return
	}
	f.mu.Lock()
	var answer func(http.ResponseWriter, []expoMessage) bool
	if len(f.answers) > 0 {
		answer, f.answers = f.answers[0], f.answers[1:]
	}
	f.mu.Unlock()
	if answer != nil && answer(w, msgs) {
		return
	}
	if len(msgs) > 100 {
		expoError(w, http.StatusBadRequest, "PUSH_TOO_MANY_NOTIFICATIONS", "You are trying to send more than 100 push notifications in one request.")
		return
	}
	for _, m := range msgs {
		if !expoToken.MatchString(m.To) {
			expoError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("%q is not a valid Expo push token", m.To))
			return
		}
	}
	f.mu.Lock()
	tickets := make([]map[string]any, len(msgs))
	for i, m := range msgs {
		if code := f.ticketErrors[m.To]; code != "" {
			tickets[i] = map[string]any{"status": "error", "message": fmt.Sprintf("%q: %s", m.To, code), "details": map[string]any{"error": code, "expoPushToken": m.To}}
			continue
		}
		id := fmt.Sprintf("ticket-%d", len(f.tickets)+1)
		f.tickets[id] = m
		f.accepted = append(f.accepted, m)
		tickets[i] = map[string]any{"status": "ok", "id": id}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"data": tickets})
}

func (f *fakeExpo) receipts(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(w, r) {
		return
	}
	var body struct {
		IDs []string `json:"ids"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.IDs) == 0 {
		expoError(w, http.StatusBadRequest, "VALIDATION_ERROR", `The request body must be {"ids": [...]}.`)
		return
	}
	f.mu.Lock()
	f.receiptRequests = append(f.receiptRequests, body.IDs)
	receipts := map[string]any{}
	for _, id := range body.IDs {
		m, ok := f.tickets[id]
		switch {
		case !ok || f.pendingReceipts[m.To]:
		case f.receiptErrors[m.To] != "":
			receipts[id] = map[string]any{"status": "error", "message": "The recipient device is not registered with FCM.", "details": map[string]any{"error": f.receiptErrors[m.To]}}
		default:
			receipts[id] = map[string]any{"status": "ok"}
		}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"data": receipts})
}

// answer queues answers for the next send requests.
func (f *fakeExpo) answer(answers ...func(http.ResponseWriter, []expoMessage) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, answers...)
}

// status answers a send request with an HTTP error.
func status(code int) func(http.ResponseWriter, []expoMessage) bool {
	return func(w http.ResponseWriter, _ []expoMessage) bool {
		expoError(w, code, "ERROR", http.StatusText(code))
		return true
	}
}

// acceptedTo returns the accepted messages to token.
func (f *fakeExpo) acceptedTo(token string) []expoMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []expoMessage
	for _, m := range f.accepted {
		if m.To == token {
			out = append(out, m)
		}
	}
	return out
}

// snapshot returns copies of what the server saw.
func (f *fakeExpo) snapshot() (sends [][]expoMessage, accepted []expoMessage, receiptRequests [][]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]expoMessage(nil), f.sends...), append([]expoMessage(nil), f.accepted...), append([][]string(nil), f.receiptRequests...)
}
