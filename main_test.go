package main

import (
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crews/hearth/internal/hearthbin"
	"github.com/pocketbase/pocketbase/core"
)

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hearth_main_")
	if err != nil {
		log.Fatal(err)
	}
	bin, err = hearthbin.Build(dir)
	if err != nil {
		log.Fatal(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

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
	for _, name := range []string{"serve", "migrate", "superuser", "seed", "version"} {
		if !strings.Contains(res.Output, "\n  "+name+" ") {
			t.Errorf("hearth --help does not list %s:\n%s", name, res.Output)
		}
	}
}
