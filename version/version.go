// Package version stamps the build and adds the `version` command.
//
// The release build sets Version with the linker:
//
//	go build -ldflags "-X github.com/crews/hearth/version.Version=1.2.3" .
//
// Usage:
//
//	version.Register(app)
//	// $ hearth version
//	// hearth 1.2.3 (pocketbase v0.40.4, go1.27.3, linux/amd64)
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/pocketbase/pocketbase"
	"github.com/spf13/cobra"
)

// Version is the release of this build; "dev" when not stamped.
var Version = "dev"

// String describes the build: Hearth's version and what it was built with.
func String() string {
	return fmt.Sprintf("hearth %s (pocketbase %s, %s, %s/%s)", Version, pocketBaseVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// Register adds the `version` command to app.
func Register(app *pocketbase.PocketBase) {
	app.RootCmd.Version = String()
	// `hearth --version` prints the same line as `hearth version`, not
	// cobra's default "hearth version hearth ...".
	app.RootCmd.SetVersionTemplate("{{.Version}}\n")
	app.RootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Prints the Hearth version and what it was built with",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), String())
		},
	})
}

func pocketBaseVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/pocketbase/pocketbase" {
				return dep.Version
			}
		}
	}
	return pocketbase.Version
}
