package main

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crews/hearth/internal/hearthbin"
	"github.com/pocketbase/pocketbase/core"
)

var bin string

func TestMain(m *testing.M) { hearthbin.Main(m, &bin) }

// PocketBase's own commands keep working beside Hearth's: migrate applies
// the compiled-in Crews migration to a fresh dir, and superuser upsert
// creates, then updates, a superuser there.
func TestPocketBaseCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	run := func(want string, args ...string) {
		t.Helper()
		res := hearthbin.Run(t, bin, nil, append(args, "--dir", dir)...)
		if res.ExitCode != 0 {
			t.Fatalf("hearth %v: exit %d\n%s", args, res.ExitCode, res.Output)
		}
		if !strings.Contains(res.Output, want) {
			t.Fatalf("hearth %v printed %q, want it to contain %q", args, res.Output, want)
		}
	}
	run("Applied 1764115200_crews_schema.go", "migrate")
	run("No new migrations to apply.", "migrate")
	run(`Successfully saved superuser "root@example.com"`, "superuser", "upsert", "root@example.com", "first-password-1")
	run(`Successfully saved superuser "root@example.com"`, "superuser", "upsert", "root@example.com", "second-password-2")

	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ResetBootstrapState()
	if _, err := app.FindCollectionByNameOrId("groups"); err != nil {
		t.Fatalf("migrate did not create the Crews schema in --dir: %v", err)
	}
	root, err := app.FindAuthRecordByEmail(core.CollectionNameSuperusers, "root@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !root.ValidatePassword("second-password-2") {
		t.Fatal("superuser upsert did not update the password")
	}
}

// Every command is listed in the help: PocketBase's and Hearth's.
func TestCommandTable(t *testing.T) {
	res := hearthbin.Run(t, bin, nil, "--help")
	if res.ExitCode != 0 {
		t.Fatalf("hearth --help: exit %d\n%s", res.ExitCode, res.Output)
	}
	for _, name := range []string{"serve", "migrate", "superuser", "seed", "version", "import"} {
		if !strings.Contains(res.Output, "\n  "+name+" ") {
			t.Errorf("hearth --help does not list %s:\n%s", name, res.Output)
		}
	}
}

// `hearth migrate create` writes a Go migration that joins pb_migrations:
// the package clause PocketBase's template writes must be the one the
// committed migrations use, or the next build fails.
func TestMigrateCreateMatchesMigrationsPackage(t *testing.T) {
	cwd := t.TempDir()
	cmd := exec.Command(bin, "migrate", "create", "add_something", "--dir", filepath.Join(cwd, "pb_data"))
	cmd.Dir = cwd
	cmd.Stdin = strings.NewReader("y\n") // the confirmation prompt
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("migrate create: %v\n%s", err, out)
	}
	created, err := filepath.Glob(filepath.Join(cwd, "pb_migrations", "*_add_something.go"))
	if err != nil || len(created) != 1 {
		t.Fatalf("migrate create wrote %v (%v), want one file in ./pb_migrations", created, err)
	}
	committed, err := filepath.Glob("pb_migrations/*.go")
	if err != nil || len(committed) == 0 {
		t.Fatalf("no committed migrations: %v", err)
	}
	want := packageName(t, committed[0])
	if got := packageName(t, created[0]); got != want {
		t.Fatalf("migrate create writes package %s, pb_migrations is package %s", got, want)
	}
}

func packageName(t *testing.T, path string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	return f.Name.Name
}
