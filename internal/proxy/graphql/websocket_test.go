package graphql

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromWSMessage(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want []Operation
	}{
		{"connection_init", `{"type":"connection_init","payload":{"authorization":"x"}}`, nil},
		{"ping", `{"type":"ping"}`, nil},
		{"pong", `{"type":"pong","payload":{}}`, nil},
		{"complete", `{"type":"complete","id":"1"}`, nil},
		{"stop", `{"type":"stop","id":"1"}`, nil},
		{"connection_terminate", `{"type":"connection_terminate"}`, nil},
		{"subscribe", `{"type":"subscribe","id":"1","payload":{"query":"subscription { runs }"}}`, []Operation{{Type: Subscription, Fields: []string{"runs"}}}},
		{"subscribe carrying a mutation", `{"type":"subscribe","id":"1","payload":{"query":"mutation { launchRun }"}}`, []Operation{mutLaunchRun}},
		{"subscribe with a named operation and a mutation", `{"type":"subscribe","id":"1","payload":{"operationName":"S","query":"subscription S { runs } mutation M { x: launchRun }"}}`,
			[]Operation{{Type: Subscription, Name: "S", Fields: []string{"runs"}}, {Type: Mutation, Name: "M", Fields: []string{"launchRun"}}}},
		{"legacy start", `{"type":"start","id":"1","payload":{"query":"mutation { launchRun }","variables":{}}}`, []Operation{mutLaunchRun}},
		{"payload key in other case", `{"type":"subscribe","id":"1","PAYLOAD":{"Query":"mutation { launchRun }"}}`, []Operation{mutLaunchRun}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromWSMessage([]byte(tt.msg))
			if err != nil {
				t.Fatalf("FromWSMessage: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromWSMessageRefused(t *testing.T) {
	tests := []struct {
		name, msg string
		want      error
	}{
		{"not JSON", `subscribe mutation { launchRun }`, ErrUnparseable},
		{"not an object", `["subscribe"]`, ErrUnparseable},
		{"no type", `{"payload":{"query":"{ a }"}}`, ErrUnparseable},
		{"unknown type", `{"type":"execute","payload":{"query":"mutation { launchRun }"}}`, ErrUnparseable},
		{"server type from the client", `{"type":"next","id":"1","payload":{}}`, ErrUnparseable},
		{"subscribe without payload", `{"type":"subscribe","id":"1"}`, ErrUnparseable},
		{"subscribe without query", `{"type":"subscribe","id":"1","payload":{"variables":{}}}`, ErrUnparseable},
		{"subscribe with a syntax error", `{"type":"subscribe","id":"1","payload":{"query":"mutation { launchRun "}}`, ErrUnparseable},
		{"subscribe with a batch", `{"type":"subscribe","id":"1","payload":[{"query":"{ a }"}]}`, ErrUnparseable},
		{"duplicate type", `{"type":"ping","type":"subscribe","payload":{"query":"mutation { launchRun }"}}`, ErrUnparseable},
		{"duplicate query", `{"type":"subscribe","id":"1","payload":{"query":"subscription { runs }","query":"mutation { launchRun }"}}`, ErrUnparseable},
		{"persisted query", `{"type":"subscribe","id":"1","payload":{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}}`, ErrPersistedQuery},
		{"persisted document id", `{"type":"start","id":"1","payload":{"documentId":"abc"}}`, ErrPersistedQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := FromWSMessage([]byte(tt.msg))
			if !errors.Is(err, tt.want) {
				t.Fatalf("FromWSMessage = %+v, %v; want an error wrapping %v", ops, err, tt.want)
			}
		})
	}
}
