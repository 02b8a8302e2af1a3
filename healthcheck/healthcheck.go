// Package healthcheck is the `hearth healthcheck` command: it asks the
// running server's /api/health endpoint whether it is up and exits 0 or 1.
// It exists so that a container image without a shell or curl (Hearth's
// runtime image is FROM scratch) can still have a Docker HEALTHCHECK.
//
// The command must run before PocketBase bootstraps: bootstrapping opens the
// data dir, runs system migrations and clears pb_data's temp dir, none of
// which a probe beside a live server should do. So main dispatches it first:
//
//	if healthcheck.Invoked(os.Args) {
//		os.Exit(healthcheck.Run(cfg.HTTPAddr, os.Stderr))
//	}
//
//	# Dockerfile
//	HEALTHCHECK CMD ["/hearth", "healthcheck"]
package healthcheck

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Name is the command's name on the command line.
const Name = "healthcheck"

// Timeout bounds one probe; Docker's own --timeout (30s by default) is far
// longer, and a server slower than this to answer is not healthy anyway.
const Timeout = 3 * time.Second

// Invoked reports whether args (os.Args) ask for the health check.
func Invoked(args []string) bool {
	return len(args) > 1 && args[1] == Name
}

// Run probes the server listening on addr (HEARTH_HTTP) and returns the
// process exit code: 0 when /api/health answers 200, 1 otherwise, with the
// reason written to stderr.
func Run(addr string, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := Check(ctx, addr); err != nil {
		fmt.Fprintf(stderr, "hearth healthcheck: %v\n", err)
		return 1
	}
	return 0
}

// Check calls GET /api/health on the server listening on addr.
func Check(ctx context.Context, addr string) error {
	u, err := URL(addr)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", u, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	return nil
}

// URL is the health endpoint of a server listening on addr. A wildcard host
// (0.0.0.0, ::, empty) is probed on loopback, where the server also listens.
func URL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/api/health", nil
}
