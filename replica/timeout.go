package replica

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/superfly/ltx"
)

// DefaultTimeout is how long a request to the replica may go without moving
// a byte before it is abandoned (HEARTH_REPLICA_TIMEOUT). Litestream's S3
// client would wait 24 hours for a server that holds the connection open
// and never answers.
const DefaultTimeout = 30 * time.Second

// errNoAnswer is the cause of a request abandoned by its watchdog.
var errNoAnswer = errors.New("no answer from the replica")

// timeoutClient abandons a request to the replica once no byte has moved
// for timeout: a call that waits for the server (a listing's first page or
// next one, a download's answer or the next bytes of its body), an upload
// while its file is read or its answer awaited. A large snapshot therefore
// takes as long as it needs while it progresses, and a hung server is
// noticed within timeout. The clock runs only while Litestream waits for
// the server: between two reads of a download it is stopped, since
// Litestream may hold several open and read them in turn.
type timeoutClient struct {
	litestream.ReplicaClient
	timeout time.Duration
}

// watchdog cancels a request's context once it has not been fed for its
// timeout.
type watchdog struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	timeout time.Duration
}

func (c timeoutClient) watch(ctx context.Context) *watchdog {
	w := &watchdog{timeout: c.timeout}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	w.timer = time.AfterFunc(c.timeout, func() {
		w.cancel(fmt.Errorf("%w for %s (HEARTH_REPLICA_TIMEOUT)", errNoAnswer, c.timeout))
	})
	return w
}

// feed restarts the clock; pause stops it until the next feed.
func (w *watchdog) feed()  { w.timer.Reset(w.timeout) }
func (w *watchdog) pause() { w.timer.Stop() }

// end stops the watchdog and says why err happened: the watchdog's cause
// when it fired.
func (w *watchdog) end(err error) error {
	w.timer.Stop()
	cause := context.Cause(w.ctx)
	w.cancel(nil)
	if err != nil && errors.Is(cause, errNoAnswer) {
		return fmt.Errorf("%w: %w", cause, err)
	}
	return err
}

func (c timeoutClient) Init(ctx context.Context) error {
	w := c.watch(ctx)
	return w.end(c.ReplicaClient.Init(w.ctx))
}

func (c timeoutClient) LTXFiles(ctx context.Context, level int, seek ltx.TXID, useMetadata bool) (ltx.FileIterator, error) {
	w := c.watch(ctx)
	itr, err := c.ReplicaClient.LTXFiles(w.ctx, level, seek, useMetadata)
	if err != nil {
		return nil, w.end(err)
	}
	w.pause()
	return &watchedIterator{FileIterator: itr, w: w}, nil
}

func (c timeoutClient) OpenLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, offset, size int64) (io.ReadCloser, error) {
	w := c.watch(ctx)
	rc, err := c.ReplicaClient.OpenLTXFile(w.ctx, level, minTXID, maxTXID, offset, size)
	if err != nil {
		return nil, w.end(err)
	}
	w.pause()
	return &watchedBody{ReadCloser: rc, w: w}, nil
}

func (c timeoutClient) WriteLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, r io.Reader) (*ltx.FileInfo, error) {
	w := c.watch(ctx)
	var body io.Reader = watchedReader{r: r, w: w}
	if rs, ok := r.(io.ReadSeeker); ok {
		// Litestream's S3 client uploads a seekable body in one sized
		// request, and the SDK seeks it back to retry.
		body = watchedReadSeeker{watchedReader{r: r, w: w}, rs}
	}
	info, err := c.ReplicaClient.WriteLTXFile(w.ctx, level, minTXID, maxTXID, body)
	return info, w.end(err)
}

func (c timeoutClient) DeleteLTXFiles(ctx context.Context, a []*ltx.FileInfo) error {
	w := c.watch(ctx)
	return w.end(c.ReplicaClient.DeleteLTXFiles(w.ctx, a))
}

func (c timeoutClient) DeleteAll(ctx context.Context) error {
	w := c.watch(ctx)
	return w.end(c.ReplicaClient.DeleteAll(w.ctx))
}

// watchedIterator runs its watchdog while it fetches the next item (a
// page may be fetched).
type watchedIterator struct {
	ltx.FileIterator
	w *watchdog
}

func (it *watchedIterator) Next() bool {
	it.w.feed()
	defer it.w.pause()
	return it.FileIterator.Next()
}

func (it *watchedIterator) Err() error { return it.w.endless(it.FileIterator.Err()) }

func (it *watchedIterator) Close() error {
	err := it.FileIterator.Close()
	return it.w.end(err)
}

// endless explains err like end, without stopping the watchdog.
func (w *watchdog) endless(err error) error {
	if cause := context.Cause(w.ctx); err != nil && errors.Is(cause, errNoAnswer) {
		return fmt.Errorf("%w: %w", cause, err)
	}
	return err
}

// watchedBody runs its watchdog during each read of the body.
type watchedBody struct {
	io.ReadCloser
	w *watchdog
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.w.feed()
	n, err := b.ReadCloser.Read(p)
	b.w.pause()
	if err != nil && err != io.EOF {
		err = b.w.endless(err)
	}
	return n, err
}

func (b *watchedBody) Close() error { return b.w.end(b.ReadCloser.Close()) }

// watchedReader feeds its watchdog as an upload reads its file.
type watchedReader struct {
	r io.Reader
	w *watchdog
}

func (r watchedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.w.feed()
	}
	return n, err
}

// watchedReadSeeker is a watchedReader over a seekable file.
type watchedReadSeeker struct {
	watchedReader
	s io.Seeker
}

func (r watchedReadSeeker) Seek(offset int64, whence int) (int64, error) {
	return r.s.Seek(offset, whence)
}
