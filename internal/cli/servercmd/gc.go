package servercmd

import "runtime/debug"

// serverGCPercent is the garbage collector's target (as GOGC) of
// `gatehouse server` when GOGC is not set. The server's live heap is
// small (about 20 MB), so at Go's default of 100 it collects several
// times a second under load:
// `go run ./bench --workloads cc` measured 6,258–6,482 client_credentials
// per second at 100 and 7,928–8,392 at 200–400, with the peak RSS going
// from 39 to 51 MB (the target is 150 MB). GOGC or GOMEMLIMIT in the
// environment still decide.
const serverGCPercent = 400

// tuneServerGC applies serverGCPercent unless the operator set GOGC.
func tuneServerGC(getenv func(string) string) {
	if getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(serverGCPercent)
}
