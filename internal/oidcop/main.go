// Command oidcop is a real OpenID Connect provider for Hearth's tests: the
// example provider of github.com/zitadel/oidc (its exampleop and storage
// packages, at the version go.mod pins), run on loopback only. It is its
// own module so that the provider's dependencies stay out of Hearth's.
//
// Usage (the e2e and browser tests start it; `make test-servers` builds it):
//
//	ADDR=127.0.0.1:9998 REDIRECT_URI=crews://auth/callback USERS_FILE=users.json oidcop
//
// The issuer is http://ADDR/. Clients: "web" with secret "secret" (client
// secret basic, PKCE accepted) and "native" (PKCE, no secret), both
// allowed the REDIRECT_URI list (comma-separated). USERS_FILE holds the
// users as the example's storage.StoreFromFile reads them.
package main

import (
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

func main() {
	addr := os.Getenv("ADDR")
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		slog.Error("ADDR must be 127.0.0.1:PORT: this provider is for tests on loopback")
		os.Exit(2)
	}
	redirects := strings.Split(os.Getenv("REDIRECT_URI"), ",")
	storage.RegisterClients(
		storage.NativeClient("native", redirects...),
		storage.WebClient("web", "secret", redirects...),
	)
	users, err := storage.StoreFromFile(os.Getenv("USERS_FILE"))
	if err != nil {
		slog.Error("USERS_FILE", "error", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	issuer := "http://" + addr + "/"
	router := exampleop.SetupServer(issuer, storage.NewStorage(users), logger, false)
	logger.Info("listening", "issuer", issuer)
	if err := http.ListenAndServe(addr, router); err != nil {
		logger.Error("serve", "error", err)
		os.Exit(1)
	}
}
