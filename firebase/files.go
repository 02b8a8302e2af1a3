package firebase

import (
	"errors"
	"fmt"

	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"
)

// attach turns the Cloud Storage path (or gs://bucket/path URL, or a list
// of them) a document holds for the file field f into files read from
// the --files directory, a copy of the bucket made with
// `gsutil -m rsync -r gs://BUCKET DIR`. The field's size and type limits
// are checked like an upload's when the record is validated.
func (im *importer) attach(f *core.FileField, v any, dr *docRow) (any, error) {
	var paths []string
	switch t := v.(type) {
	case string:
		paths = []string{t}
	case []any:
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("expects storage paths, the list holds %s", kindOf(e))
			}
			paths = append(paths, s)
		}
	default:
		return nil, fmt.Errorf("expects a storage path, the document has %s", kindOf(v))
	}
	if im.opts.FilesDir == "" {
		return nil, errors.New("holds a storage path but no --files directory was given")
	}
	files := make([]any, 0, len(paths))
	for _, p := range paths {
		object, err := objectPath(p)
		if err != nil {
			return nil, err
		}
		file, err := filesystem.NewFileFromPath(filepath.Join(im.opts.FilesDir, filepath.FromSlash(object)))
		if err != nil {
			return nil, fmt.Errorf("%s: not in the --files directory", object)
		}
		// A name from the object's path, not PocketBase's random one, so
		// that a rerun finds the file it stored before.
		file.Name = fileName(object)
		files = append(files, file)
		dr.files = append(dr.files, file)
	}
	if len(files) == 1 && !f.IsMultiple() {
		return files[0], nil
	}
	return files, nil
}

// objectPath is the object's path inside the bucket: a gs:// URL loses
// its scheme and bucket; a path that climbs out of the directory is
// refused.
func objectPath(p string) (string, error) {
	if rest, ok := strings.CutPrefix(p, "gs://"); ok {
		_, obj, found := strings.Cut(rest, "/")
		if !found {
			return "", fmt.Errorf("%q names a bucket, not a file", p)
		}
		p = obj
	}
	clean := path.Clean("/" + p)[1:]
	if clean == "" || clean != strings.TrimPrefix(p, "/") {
		return "", fmt.Errorf("%q is not a plain storage path", p)
	}
	return clean, nil
}

var (
	unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)
	safeExt    = regexp.MustCompile(`^\.[a-z0-9]{1,10}$`)
)

// fileName is a stable, PocketBase-shaped name for an object: its base
// name made safe, then 10 characters of its path's hash, then its
// extension.
func fileName(object string) string {
	ext := strings.ToLower(path.Ext(object))
	if !safeExt.MatchString(ext) {
		ext = ""
	}
	base := unsafeName.ReplaceAllString(strings.ToLower(strings.TrimSuffix(path.Base(object), path.Ext(object))), "_")
	base = strings.Trim(base, "_")
	if len(base) > 80 {
		base = base[:80]
	}
	if base == "" {
		base = "file"
	}
	return base + "_" + pathHash("file/" + object)[:10] + ext
}

// upload stores the files of a written record, once its row is in the
// batch's transaction (a dry run stores none).
func (im *importer) upload(dr *docRow) error {
	if im.fsys == nil {
		return nil
	}
	for _, f := range dr.files {
		key := dr.collection.Id + "/" + dr.id + "/" + f.Name
		if exists, _ := im.fsys.Exists(key); exists {
			continue
		}
		if err := im.fsys.UploadFile(f, key); err != nil {
			return fmt.Errorf("import documents: %s: store %s: %w", dr.path, f.OriginalName, err)
		}
	}
	return nil
}
