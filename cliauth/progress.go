package cliauth

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// spinnerFrames are drawn in turn while the tool waits.
var spinnerFrames = [...]string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// progress shows that the tool is waiting: an animated line on a
// terminal, one plain line otherwise. stop ends it and clears the
// animated line.
func (a *App) progress(msg string) (stop func()) {
	w := a.IO.errOut()
	if !a.IO.isErrTTY() {
		fmt.Fprintln(w, msg)
		return func() {}
	}
	return spin(w, a.clock(), msg)
}

func spin(w io.Writer, clk clock.Clock, msg string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := clk.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(w, "\r%s %s", spinnerFrames[i%len(spinnerFrames)], msg)
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C():
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}
