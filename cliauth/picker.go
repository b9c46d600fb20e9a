package cliauth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// pickProfiles asks on the terminal which of the stored profiles to log
// out of: a number, a name, "all", or Enter for current. End of input or
// Ctrl-C cancels; nothing is changed.
func (a *App) pickProfiles(ctx context.Context, st credstore.Store, names []string, current string) ([]string, error) {
	w := a.IO.errOut()
	fmt.Fprintln(w, "Log out of which profile?")
	def := ""
	for i, n := range names {
		label := n
		if c, err := getCredential(ctx, st, n); err == nil && c != nil {
			label = fmt.Sprintf("%-12s %s %s", n, c.Issuer, describeLogin(c))
		}
		mark := " "
		if n == current {
			mark, def = "*", strconv.Itoa(i+1)
		}
		fmt.Fprintf(w, " %s %d) %s\n", mark, i+1, label)
	}
	fmt.Fprintln(w, "   a) all of them")
	prompt := "Choice: "
	if def != "" {
		prompt = "Choice [" + def + "]: "
	}
	for range 3 {
		fmt.Fprint(w, prompt)
		answer, err := a.readAnswer(ctx)
		if err != nil {
			return nil, &Error{Code: ExitError, Msg: "no profile chosen; nothing was changed", Err: err}
		}
		if answer == "" {
			answer = def
		}
		switch {
		case strings.EqualFold(answer, "a"), strings.EqualFold(answer, "all"):
			return names, nil
		case slices.Contains(names, answer):
			return []string{answer}, nil
		}
		if i, err := strconv.Atoi(answer); err == nil && i >= 1 && i <= len(names) {
			return []string{names[i-1]}, nil
		}
		fmt.Fprintf(w, "%q is not one of the choices.\n", answer)
	}
	return nil, usageErrorf("no valid choice; pass --profile NAME or --all")
}

// readAnswer reads one line from the terminal; it gives up when ctx ends.
// End of input is an error, never an endless loop.
func (a *App) readAnswer(ctx context.Context) (string, error) {
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := a.answers().ReadString('\n')
		if errors.Is(err, io.EOF) && line != "" {
			err = nil
		}
		done <- result{strings.TrimSpace(line), err}
	}()
	select {
	case r := <-done:
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// answers is the buffered reader of stdin that prompts share, so that
// two answers typed ahead are both read.
func (a *App) answers() *bufio.Reader {
	if a.in == nil {
		a.in = bufio.NewReader(a.IO.in())
	}
	return a.in
}
