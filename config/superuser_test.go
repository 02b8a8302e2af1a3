package config_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/crews/hearth/internal/hearthbin"
)

func signInStatus(t *testing.T, url, email, password string) int {
	t.Helper()
	body := strings.NewReader(`{"identity":"` + email + `","password":"` + password + `"}`)
	res, err := http.Post(url+"/api/collections/_superusers/auth-with-password", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// HEARTH_SUPERUSER_EMAIL/PASSWORD create the superuser on the first start
// and reset its password on a later one; neither start prints the password,
// even in dev mode, which prints every SQL statement.
func TestSuperuserFromEnvironment(t *testing.T) {
	const email = "root@example.com"
	const first, second = "first-secret-Xq7", "second-secret-Zr9"
	dir := t.TempDir()
	start := func(password string) *hearthbin.Server {
		addr := hearthbin.FreeAddr(t)
		return hearthbin.Serve(t, bin, addr, map[string]string{
			"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": dir, "HEARTH_DEV": "true",
			"HEARTH_SUPERUSER_EMAIL": email, "HEARTH_SUPERUSER_PASSWORD": password,
		})
	}

	srv := start(first)
	if got := signInStatus(t, srv.URL, email, first); got != http.StatusOK {
		t.Fatalf("sign in with the first password: status %d", got)
	}
	srv.Stop()

	srv2 := start(second)
	if got := signInStatus(t, srv2.URL, email, second); got != http.StatusOK {
		t.Fatalf("sign in with the second password: status %d", got)
	}
	if got := signInStatus(t, srv2.URL, email, first); got != http.StatusBadRequest {
		t.Fatalf("sign in with the replaced password: status %d, want 400", got)
	}
	srv2.Stop()

	for i, out := range []string{srv.Output(), srv2.Output()} {
		if !strings.Contains(out, "INSERT INTO `_superusers`") && i == 0 {
			t.Errorf("start %d: dev output has no SQL; the leak check would prove nothing:\n%.2000s", i+1, out)
		}
		for _, pw := range []string{first, second} {
			if strings.Contains(out, pw) {
				t.Errorf("start %d printed a password", i+1)
			}
		}
	}
}
