// Package seed adds the `seed` command, which fills a development database
// with a small demo world: three users, two groups, events with RSVPs,
// messages and an invite.
//
//	seed.Register(app)
//	// $ hearth seed                    # ./pb_data, migrations applied first
//	// $ hearth seed --dir /tmp/demo    # any data dir
//	// $ hearth seed --reset-passwords  # new passwords for the demo users
//	// $ hearth seed --force            # even beside real users
//
// Demo users are the users whose email ends in @demo.crews.invalid (the
// .invalid top-level domain can never deliver mail). Every other demo record
// has a fixed id, so seeding is idempotent: a second run finds everything in
// place and creates nothing.
//
// Passwords are random (PocketBase's tools/security, crypto/rand) and printed
// once, when a user is created; only their hashes are stored. A later run
// leaves them unchanged and says so, unless --reset-passwords asks for new
// ones, which it prints.
//
// Seed refuses, with a non-zero exit, to touch a database that holds users
// who are not demo users: demo accounts with printed passwords do not belong
// in production. --force overrides that.
//
// Records are saved through the app, so the collections hooks apply exactly
// as for API writes: creating a group makes its creator the owner member, and
// whatever derived values later hooks maintain are maintained for seeded data
// too.
package seed
