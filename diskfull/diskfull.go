// Package diskfull keeps Hearth up when the data dir's disk fills: a write
// that SQLite refuses for want of space (SQLITE_FULL) is answered 503 with
// a JSON error naming the cause (data.disk.code "disk_full") instead of
// PocketBase's 400 "Failed to create record", and with Retry-After. SQLite
// rolls the whole transaction back, so nothing of it is stored and nothing
// acknowledged before is touched; reads go on. The first write that
// succeeds afterwards (space freed) ends the state.
//
// The state is in GET /api/health (data.disk, while the disk is full), in
// the metrics (hearth_storage_disk_full, hearth_storage_disk_full_writes_total)
// and in an ERROR log line when it begins.
//
// Usage (main.go):
//
//	diskfull.Register(app)
package diskfull

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crews/hearth/internal/healthdata"
	"github.com/crews/hearth/metrics"
)

// Code is the error code of a write refused for a full disk
// (data.disk.code in the answer).
const Code = "disk_full"

// Message is the answer's message.
const Message = "The server's disk is full: the write was not stored. Try again later."

// retryAfter is the Retry-After of the answer, in seconds.
const retryAfter = "30"

// sqliteFull is SQLite's primary result code SQLITE_FULL.
const sqliteFull = 13

// Register answers writes refused for a full disk with a 503 and reports
// the state.
func Register(app core.App) {
	st := &state{}
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		if err := metrics.Add(e.App, collector{st}); err != nil {
			return err
		}
		e.Router.BindFunc(func(re *core.RequestEvent) error {
			if healthdata.Is(re) {
				if since, full := st.get(); full {
					return healthdata.Add(re, "disk", map[string]any{"full": true, "since": since})
				}
				return re.Next()
			}
			err := re.Next()
			switch {
			case err != nil && IsDiskFull(err):
				if st.set(time.Now()) {
					re.App.Logger().Error("storage: the data dir's disk is full: writes are refused with 503 until space is freed",
						"dir", re.App.DataDir(), "error", err.Error())
				}
				re.Response.Header().Set("Retry-After", retryAfter)
				return router.NewApiError(http.StatusServiceUnavailable, Message,
					validation.Errors{"disk": validation.NewError(Code, Message)})
			case err == nil && isWrite(re.Request.Method) && re.Status() < 400:
				if since, was := st.clear(); was {
					re.App.Logger().Info("storage: writes succeed again", "fullSeconds", time.Since(since).Seconds())
				}
			}
			return err
		})
		return e.Next()
	})
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// IsDiskFull reports whether err, or the error a PocketBase API error was
// made from, is SQLite's SQLITE_FULL ("database or disk is full").
func IsDiskFull(err error) bool {
	for depth := 0; err != nil && depth < 8; depth++ {
		var coded interface{ Code() int }
		if errors.As(err, &coded) && coded.Code()&0xff == sqliteFull {
			return true
		}
		if strings.Contains(err.Error(), "database or disk is full") {
			return true
		}
		var apiErr *router.ApiError
		if !errors.As(err, &apiErr) {
			return false
		}
		raw, _ := apiErr.RawData().(error)
		if raw == err {
			return false
		}
		err = raw
	}
	return false
}

// state is whether the disk is full, since when, and how many writes it
// refused.
type state struct {
	mu      sync.Mutex
	since   time.Time
	refused int64
}

// set notes a refused write; true when the disk was not known full.
func (s *state) set(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused++
	if !s.since.IsZero() {
		return false
	}
	s.since = now
	return true
}

// clear ends the state; it returns when it began, and whether it was on.
func (s *state) clear() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	since := s.since
	s.since = time.Time{}
	return since, !since.IsZero()
}

func (s *state) get() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.since, !s.since.IsZero()
}

var (
	fullDesc = prometheus.NewDesc("hearth_storage_disk_full",
		"1 while writes are refused because the data dir's disk is full (from a refused write until one succeeds).", nil, nil)
	refusedDesc = prometheus.NewDesc("hearth_storage_disk_full_writes_total",
		"Writes answered 503 because the data dir's disk was full.", nil, nil)
)

type collector struct{ s *state }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- fullDesc
	ch <- refusedDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.Lock()
	full, refused := !c.s.since.IsZero(), c.s.refused
	c.s.mu.Unlock()
	v := 0.0
	if full {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(fullDesc, prometheus.GaugeValue, v)
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(refused))
}
