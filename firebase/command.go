package firebase

import (
	"fmt"
	"io"
	"os"

	"github.com/pocketbase/pocketbase"
	"github.com/spf13/cobra"
)

// RegisterCommand adds `hearth import firebase auth|firestore` to app.
// Both work on the data dir of --dir (a stopped server's, or beside a
// running one: see docs/firebase-import.md) and apply pending migrations
// first, as `hearth migrate up` would.
func RegisterCommand(app *pocketbase.PocketBase) {
	imp := &cobra.Command{Use: "import", Short: "Imports data from another backend"}
	fb := &cobra.Command{Use: "firebase", Short: "Imports a Firebase project: its users (auth) and its Firestore data (firestore)"}
	imp.AddCommand(fb)
	fb.AddCommand(authCommand(app), firestoreCommand(app))
	app.RootCmd.AddCommand(imp)
}

func authCommand(app *pocketbase.PocketBase) *cobra.Command {
	var hashConfig string
	opts := AuthOptions{}
	cmd := &cobra.Command{
		Use:   "auth <users.json|users.csv>",
		Short: "Imports the users of `firebase auth:export` (JSON or CSV), with their passwords",
		Long: "Creates or updates one users record per Firebase user. Users keep their passwords: the first sign-in\n" +
			"checks the Firebase scrypt hash with the project's parameters (--hash-config) and replaces it.",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if hashConfig != "" {
				c, err := ReadHashConfig(hashConfig)
				if err != nil {
					return err
				}
				opts.Hash = &c
			}
			// A first pass checks the export before anything is written:
			// a missing hash config, and the count for the progress bar.
			users, hashes, err := scanFile(args[0])
			if err != nil {
				return err
			}
			if hashes && opts.Hash == nil {
				return ErrNoHashConfig
			}
			opts.Total = users
			// os.Stderr, not cmd.ErrOrStderr(): PocketBase silences cobra's error writer.
			opts.Progress = os.Stderr
			return importFile(app, cmd.OutOrStdout(), args[0], NewAuthReader, func(r AuthReader) (*Report, error) {
				return ImportAuth(app, r, opts)
			})
		},
	}
	cmd.Flags().StringVar(&hashConfig, "hash-config", "", "the project's password hash parameters, as JSON (required when users have password hashes)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "check and report, write nothing")
	cmd.Flags().IntVar(&opts.Batch, "batch", DefaultUserBatch, "users written per transaction")
	return cmd
}

func scanFile(path string) (int, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	r, err := NewAuthReader(f)
	if err != nil {
		return 0, false, err
	}
	return ScanAuth(r)
}

func firestoreCommand(app *pocketbase.PocketBase) *cobra.Command {
	var mapping string
	var keepIndexes bool
	opts := DocOptions{}
	cmd := &cobra.Command{
		Use:   "firestore <export.json|export.ndjson>",
		Short: "Imports a Firestore export (node-firestore-import-export JSON, or one document per line) as records with relations",
		Long: "Each document becomes the record of the Hearth collection of its collection's name (or the mapping's),\n" +
			"subcollections related to their parent, references to the referenced record. Run `import firebase auth` first.",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if mapping != "" {
				m, err := ReadMapping(mapping)
				if err != nil {
					return err
				}
				opts.Mapping = m
			}
			if opts.FilesDir != "" {
				if st, err := os.Stat(opts.FilesDir); err != nil || !st.IsDir() {
					return fmt.Errorf("--files %s: not a directory", opts.FilesDir)
				}
			}
			if keepIndexes {
				opts.DeferIndexesAfter = -1
			}
			// os.Stderr, not cmd.ErrOrStderr(): PocketBase silences cobra's error writer.
			opts.Progress = os.Stderr
			return importFile(app, cmd.OutOrStdout(), args[0], NewDocReader, func(r DocReader) (*Report, error) {
				return ImportFirestore(app, r, opts)
			})
		},
	}
	cmd.Flags().StringVar(&mapping, "mapping", "", "a mapping file (JSON) renaming and skipping collections and fields")
	cmd.Flags().StringVar(&opts.FilesDir, "files", "", "a copy of the Cloud Storage bucket (gsutil -m rsync -r gs://BUCKET DIR) for file fields")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "import in a transaction that is rolled back: report what would happen, write nothing")
	cmd.Flags().IntVar(&opts.Batch, "batch", DefaultDocBatch, "documents written per transaction")
	cmd.Flags().BoolVar(&keepIndexes, "keep-indexes", false, "keep every index while writing (slower; for an import beside a running server)")
	return cmd
}

// importFile is what both commands do once their options are checked:
// apply pending migrations, open path with read, run imp over it and
// print the report.
func importFile[R any](app *pocketbase.PocketBase, w io.Writer, path string, read func(io.Reader) (R, error), imp func(R) (*Report, error)) error {
	if err := app.RunAllMigrations(); err != nil {
		return fmt.Errorf("import: migrations: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := read(f)
	if err != nil {
		return fmt.Errorf("import: %s: %w", path, err)
	}
	rep, err := imp(r)
	return finish(w, rep, err)
}

// finish prints the report (also of an import that stopped part way) and
// returns the error that stopped it.
func finish(w io.Writer, rep *Report, err error) error {
	if rep != nil {
		if werr := rep.Write(w); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return fmt.Errorf("import stopped (rerun it to resume: what was written is updated, not duplicated): %w", err)
	}
	return nil
}
