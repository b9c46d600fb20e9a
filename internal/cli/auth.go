package cli

import (
	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// newAuthApp is the client side of the gatehouse binary (command.NewAuth)
// with the admin_target setting of the admin commands.
func newAuthApp(streams command.IOStreams) *cliauth.App {
	return command.NewAuth(streams, adminbackend.TargetSetting())
}
