// Package adminbackend is where the admin commands (package admincmd)
// work: the Backend interface with its two implementations, the database
// through the admin layer (NewDatabase) and a server's admin API over
// HTTP; the choice of target from --server, --db/--data-dir/--config, the
// environment and the admin_target setting (Run, TargetSetting); and the
// opened database with its audit trail (Env, RunDatabase), the help text
// and the flags every admin command shares.
package adminbackend
