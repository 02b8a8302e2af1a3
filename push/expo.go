package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Expo's push API (docs.expo.dev, "Send notifications with the Expo Push
// Service"): POST a JSON array of at most 100 messages to /push/send and
// get one ticket per message, in order; POST {"ids": [...]} to
// /push/getReceipts and get a map from ticket id to receipt. Errors of the
// whole request come as {"errors": [{"code", "message"}]}, with a non-200
// status; errors of one message as a ticket or receipt with status "error"
// and details.error.
const (
	sendPath     = "/--/api/v2/push/send"
	receiptsPath = "/--/api/v2/push/getReceipts"

	// sendBatch is Expo's limit of messages per request.
	sendBatch = 100
	// receiptBatch is the receipt ids per request that Expo's own Node
	// SDK sends (expo-server-sdk-node's chunk size).
	receiptBatch = 300

	// maxResponse bounds what is read of an answer: 100 tickets are a few
	// kilobytes.
	maxResponse = 4 << 20
)

// The details.error codes Expo documents for tickets and receipts that
// need more than failing the push (MessageTooBig, and any code Expo adds,
// only fail it).
const (
	errDeviceNotRegistered = "DeviceNotRegistered"
	errMessageRateExceeded = "MessageRateExceeded"
	errInvalidCredentials  = "InvalidCredentials"
)

// message is one notification in Expo's message format.
type message struct {
	To       string          `json:"to"`
	Title    string          `json:"title"`
	Body     string          `json:"body"`
	Data     json.RawMessage `json:"data,omitempty"`
	Sound    string          `json:"sound,omitempty"`
	Priority string          `json:"priority,omitempty"`
}

// ticket is Expo's answer for one message of a send; a receipt, later, has
// the same shape without the id.
type ticket struct {
	Status  string `json:"status"`
	ID      string `json:"id"`
	Message string `json:"message"`
	Details struct {
		Error string `json:"error"`
	} `json:"details"`
}

// errorCode is what a failed ticket or receipt says went wrong.
func (t ticket) errorCode() string {
	if t.Details.Error != "" {
		return t.Details.Error
	}
	return t.Message
}

// sender delivers messages: to Expo, or to the log.
type sender interface {
	send(ctx context.Context, msgs []message) ([]ticket, error)
	receipts(ctx context.Context, ids []string) (map[string]ticket, error)
}

// requestError is a request that got no tickets or receipts: no answer at
// all (Status 0), or an error answer.
type requestError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
	Err        error
}

func (e *requestError) Error() string {
	switch {
	case e.Status == 0:
		return fmt.Sprintf("no usable answer: %v", e.Err)
	case e.Code != "":
		return fmt.Sprintf("HTTP %d: %s: %s", e.Status, e.Code, e.Message)
	default:
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}
}

func (e *requestError) Unwrap() error { return e.Err }

// transient reports whether the same request may succeed later: network
// errors, timeouts and answers that could not be read, rate limiting (429)
// and server errors (5xx). Other answers (400: a malformed request; 401 or
// 403: a wrong access token) will not change by themselves.
func (e *requestError) transient() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// expoSender talks to Expo's push API, or to any server that speaks it.
type expoSender struct {
	sendURL, receiptsURL string
	accessToken          string
	client               *http.Client
}

func newExpoSender(cfg Config) *expoSender {
	base := strings.TrimRight(cfg.URL, "/")
	return &expoSender{sendURL: base + sendPath, receiptsURL: base + receiptsPath, accessToken: cfg.AccessToken, client: cfg.Client}
}

func (s *expoSender) send(ctx context.Context, msgs []message) ([]ticket, error) {
	var tickets []ticket
	if err := s.post(ctx, s.sendURL, msgs, &tickets); err != nil {
		return nil, err
	}
	if len(tickets) != len(msgs) {
		return nil, &requestError{Err: fmt.Errorf("%d tickets for %d messages", len(tickets), len(msgs))}
	}
	return tickets, nil
}

func (s *expoSender) receipts(ctx context.Context, ids []string) (map[string]ticket, error) {
	receipts := map[string]ticket{}
	if err := s.post(ctx, s.receiptsURL, map[string][]string{"ids": ids}, &receipts); err != nil {
		return nil, err
	}
	return receipts, nil
}

// post sends body as JSON to url and decodes the "data" of the answer into
// out.
func (s *expoSender) post(ctx context.Context, url string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if s.accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.accessToken)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return &requestError{Err: err}
	}
	defer res.Body.Close()
	text, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return &requestError{Err: fmt.Errorf("read answer: %w", err)}
	}
	var answer struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	decodeErr := json.Unmarshal(text, &answer)
	if res.StatusCode != http.StatusOK || len(answer.Errors) > 0 {
		e := &requestError{Status: res.StatusCode, Message: strings.TrimSpace(string(text)), RetryAfter: retryAfter(res.Header)}
		if len(answer.Errors) > 0 {
			e.Code, e.Message = answer.Errors[0].Code, answer.Errors[0].Message
		}
		return e
	}
	if decodeErr != nil {
		return &requestError{Err: fmt.Errorf("decode answer: %w", decodeErr)}
	}
	if err := json.Unmarshal(answer.Data, out); err != nil {
		return &requestError{Err: fmt.Errorf("decode answer data: %w", err)}
	}
	return nil
}

// retryAfter reads a Retry-After header given in seconds; zero when absent.
func retryAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
