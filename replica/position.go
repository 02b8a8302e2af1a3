package replica

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// positionFile is where the replica's position survives a restart, beside
// data.db: the last transaction stored in the replica, and since when the
// replica has been behind (the oldest change it does not hold yet). The
// lag is read from it, so a restart does not reset it, and S3 need not be
// asked at start.
const positionFile = "." + dataDB + "-replica.json"

// position is positionFile's content.
type position struct {
	// Replicated is the last transaction known to be stored in the replica.
	Replicated uint64 `json:"replicated"`
	// BehindSince is when the oldest change the replica does not hold was
	// first seen; zero when it holds every change.
	BehindSince time.Time `json:"behindSince,omitzero"`
}

// readPosition reads the position kept at path; none yet is the zero
// position.
func readPosition(path string) (position, error) {
	var p position
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	} else if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return position{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// write replaces the position kept at path, whole or not at all: a new
// file, synced, renamed over the old one.
func (p position) write(path string) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
