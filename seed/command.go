package seed

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/pocketbase/pocketbase"
	"github.com/spf13/cobra"
)

// Register adds the `seed` command to app.
func Register(app *pocketbase.PocketBase) {
	var opts Options
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Fills the database with demo users, groups, events, RSVPs, messages and an invite",
		Long: "Applies pending migrations, then creates the Crews demo data that is missing.\n" +
			"Running it again creates nothing new. Demo users have @" + DemoDomain + " emails.",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			report, err := Run(app, opts)
			if err != nil {
				return err
			}
			return report.Write(cmd.OutOrStdout(), app.DataDir())
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "seed even when the database has users that are not demo users")
	cmd.Flags().BoolVar(&opts.ResetPasswords, "reset-passwords", false, "give the existing demo users new random passwords and print them")
	app.RootCmd.AddCommand(cmd)
}

// Write prints what the run did and how to sign in as each demo user.
func (r *Report) Write(w io.Writer, dataDir string) error {
	if r.Created == 0 {
		fmt.Fprintf(w, "Demo data already present in %s: nothing created.\n", dataDir)
	} else {
		fmt.Fprintf(w, "Seeded %s: %d records created.\n", dataDir, r.Created)
	}
	if r.OtherUsers > 0 {
		fmt.Fprintf(w, "Note: --force: users in the database that are not demo users: %d.\n", r.OtherUsers)
	}
	fmt.Fprintln(w, "\nDemo users:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, u := range r.Users {
		password := u.Password
		if password == "" {
			password = "(unchanged; hearth seed --reset-passwords sets a new one)"
		}
		fmt.Fprintf(tw, "  %s\t%s\tpassword: %s\n", u.Email, u.Name, password)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("seed: print report: %w", err)
	}
	if r.InviteCode != "" {
		fmt.Fprintf(w, "\nInvite code for %s: %s\n", r.InviteGroup, r.InviteCode)
	}
	return nil
}
