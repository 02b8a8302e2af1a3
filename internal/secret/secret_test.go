package secret_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/crews/hearth/internal/secret"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tests"
)

func TestLoadKeepsOneKeyPerName(t *testing.T) {
	app, err := tests.NewTestApp()
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()

	// Racing first calls all get the key that was stored.
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := secret.Load(app, "test_key_a")
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for i, k := range keys {
		if len(k) != secret.Size || !bytes.Equal(k, keys[0]) {
			t.Fatalf("call %d got %x, call 0 %x", i, k, keys[0])
		}
	}
	again, err := secret.Load(app, "test_key_a")
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("a later call got %x (%v), want the stored %x", again, err, keys[0])
	}
	other, err := secret.Load(app, "test_key_b")
	if err != nil || bytes.Equal(other, keys[0]) {
		t.Fatalf("another name got %x (%v): want a key of its own", other, err)
	}
}

func TestLoadRefusesAMangledRow(t *testing.T) {
	app, err := tests.NewTestApp()
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	for value, why := range map[string]string{`"abcd"`: "too short", `"zz"`: "not hex", `12`: "not a JSON string"} {
		if _, err := app.DB().NewQuery("INSERT OR REPLACE INTO {{_params}} ([[id]], [[value]]) VALUES ('mangled', {:v})").
			Bind(dbx.Params{"v": value}).Execute(); err != nil {
			t.Fatal(err)
		}
		if k, err := secret.Load(app, "mangled"); err == nil {
			t.Errorf("row %s (%s) loaded as key %x", value, why, k)
		}
	}
}
