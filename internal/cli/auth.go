package cli

import (
	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// newAuthApp is the client side of the gatehouse binary (command.NewAuth)
// with the admin_target setting of the admin commands.
func newAuthApp(streams command.IOStreams) *cliauth.App {
	return command.NewAuth(streams, cliauth.Setting{
		Name:  adminTargetSetting,
		Help:  "where admin commands work without --server/--db/--data-dir: a server URL\n                   (its admin API) or a data directory",
		Check: checkAdminTarget,
	})
}
