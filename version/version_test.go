package version_test

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/crews/hearth/internal/hearthbin"
	"github.com/crews/hearth/version"
	"github.com/pocketbase/pocketbase"
)

// stamped is the version the test binary is built with, as `make build` does.
const stamped = "9.8.7-test"

var bin string

func TestMain(m *testing.M) {
	hearthbin.Main(m, &bin, "-ldflags", "-X github.com/crews/hearth/version.Version="+stamped)
}

// pocketBaseModuleVersion asks the go command which PocketBase the module
// builds with, independently of the code under test.
func pocketBaseModuleVersion(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/pocketbase/pocketbase")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN="+runtime.Version())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestStringDescribesTheBuild(t *testing.T) {
	want := "hearth dev (pocketbase " + pocketBaseModuleVersion(t) + ", " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if got := version.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestVersionCommand(t *testing.T) {
	app := pocketbase.NewWithConfig(pocketbase.Config{DefaultDataDir: t.TempDir()})
	version.Register(app)
	var out bytes.Buffer
	app.RootCmd.SetOut(&out)
	app.RootCmd.SetArgs([]string{"version"})
	if err := app.RootCmd.Execute(); err != nil {
		t.Fatalf("version: %v", err)
	}
	if got, want := out.String(), version.String()+"\n"; got != want {
		t.Fatalf("output = %q, want %q", got, want)
	}
}

func TestVersionCommandRejectsArguments(t *testing.T) {
	app := pocketbase.NewWithConfig(pocketbase.Config{DefaultDataDir: t.TempDir()})
	version.Register(app)
	app.RootCmd.SetArgs([]string{"version", "extra"})
	if err := app.RootCmd.Execute(); err == nil {
		t.Fatal("version extra: no error")
	}
}

// The binary, stamped through the linker as the Makefile does, reports the
// stamp from both `hearth version` and `hearth --version`.
func TestBinaryVersion(t *testing.T) {
	want := "hearth " + stamped + " (pocketbase " + pocketBaseModuleVersion(t) + ", "
	for _, args := range [][]string{{"version"}, {"--version"}} {
		res := hearthbin.Run(t, bin, nil, args...)
		if res.ExitCode != 0 {
			t.Fatalf("hearth %v: exit %d\n%s", args, res.ExitCode, res.Output)
		}
		lines := strings.Split(strings.TrimSpace(res.Output), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
			t.Fatalf("hearth %v printed %q, want one line starting %q", args, res.Output, want)
		}
	}
}
