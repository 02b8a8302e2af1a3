package typegen

import (
	"fmt"
	"os"

	"github.com/pocketbase/pocketbase"
	"github.com/spf13/cobra"
)

// Register adds the `typegen` command to app.
func Register(app *pocketbase.PocketBase) {
	var out string
	cmd := &cobra.Command{
		Use:   "typegen",
		Short: "Writes TypeScript types for the Crews collections from the compiled-in schema",
		Long: "Applies the compiled-in migrations to a temporary database and writes the\n" +
			"TypeScript record, expand, create and update types of every Crews collection\n" +
			"and a TypedPocketBase, to --out or standard output. Needs no server.",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := FromMigrations()
			if err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(src)
				return err
			}
			if err := os.WriteFile(out, src, 0o644); err != nil {
				return fmt.Errorf("typegen: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write (default: standard output)")
	app.RootCmd.AddCommand(cmd)
}
