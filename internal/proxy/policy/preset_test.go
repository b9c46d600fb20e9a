package policy

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/graphql"
)

func named(t graphql.OperationType, name string, fields ...string) graphql.Operation {
	return graphql.Operation{Type: t, Name: name, Fields: fields}
}

// TestDagsterPreset judges the requests the Dagster UI and its API
// clients make, for each role.
func TestDagsterPreset(t *testing.T) {
	p, err := Preset("dagster")
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ anon, viewer, editor, admin bool }
	var (
		nobody     = want{}
		readers    = want{viewer: true, editor: true, admin: true}
		editors    = want{editor: true, admin: true}
		adminsOnly = want{admin: true}
	)
	tests := []struct {
		name   string
		method string
		path   string
		ops    []graphql.Operation
		want   want
	}{
		// Pages and assets of the UI.
		{"index", "GET", "/", nil, readers},
		{"runs page", "GET", "/runs", nil, readers},
		{"asset page", "GET", "/assets/analytics/daily_orders", nil, readers},
		{"static bundle", "GET", "/static/js/main.8f3a.js", nil, readers},
		{"favicon", "HEAD", "/favicon.svg", nil, readers},
		{"server info", "GET", "/server_info", nil, readers},
		{"compute log download", "GET", "/logs/3f1c/compute_logs/step.out", nil, readers},
		{"debug file download", "GET", "/download_debug/3f1c9a", nil, readers},
		{"notebook", "GET", "/notebook", nil, readers},

		// GraphQL reads, over HTTP and the WebSocket.
		{"runs query", "POST", "/graphql", []graphql.Operation{named(graphql.Query, "RunsRootQuery", "pipelineRunsOrError")}, readers},
		{"asset graph query", "POST", "/graphql", []graphql.Operation{named(graphql.Query, "AssetGraphQuery", "assetNodes", "assetsLatestInfo")}, readers},
		{"introspection", "POST", "/graphql", []graphql.Operation{named(graphql.Query, "IntrospectionQuery", "__schema")}, readers},
		{"websocket upgrade", "GET", "/graphql", nil, readers},
		{"run logs subscription", "GET", "/graphql", []graphql.Operation{named(graphql.Subscription, "PipelineRunLogsSubscription", "pipelineRunLogs")}, readers},
		{"captured logs subscription", "GET", "/graphql", []graphql.Operation{named(graphql.Subscription, "CapturedLogsSubscription", "capturedLogs")}, readers},
		{"GET query", "GET", "/graphql", []graphql.Operation{named(graphql.Query, "", "version")}, readers},

		// Launching and materialising: editors.
		{"launch run", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "LaunchPipelineExecution", "launchPipelineExecution")}, editors},
		{"materialise (launchRun)", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "LaunchRun", "launchRun")}, editors},
		{"launch multiple runs", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "LaunchMultipleRuns", "launchMultipleRuns")}, editors},
		{"re-execute", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "LaunchPipelineReexecution", "launchPipelineReexecution")}, editors},
		{"re-execute (new name)", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "", "launchRunReexecution")}, editors},
		{"backfill", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "LaunchPartitionBackfill", "launchPartitionBackfill")}, editors},
		{"retry backfill", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "", "reexecutePartitionBackfill")}, editors},
		{"report materialisation (GraphQL)", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "ReportEvents", "reportRunlessAssetEvents")}, editors},
		{"report materialisation (REST)", "POST", "/report_asset_materialization/analytics/daily_orders", nil, editors},
		{"launch over GET", "GET", "/graphql", []graphql.Operation{named(graphql.Mutation, "", "launchRun")}, editors},

		// Everything else: admins.
		{"terminate run", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "Terminate", "terminateRun")}, adminsOnly},
		{"delete run", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "DeleteRun", "deleteRun")}, adminsOnly},
		{"wipe assets", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "AssetWipeMutation", "wipeAssets")}, adminsOnly},
		{"start schedule", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "StartThisSchedule", "startSchedule")}, adminsOnly},
		{"stop sensor", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "StopSensor", "stopSensor")}, adminsOnly},
		{"reload code location", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "ReloadRepositoryLocationMutation", "reloadRepositoryLocation")}, adminsOnly},
		{"cancel backfill", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "", "cancelPartitionBackfill")}, adminsOnly},
		{"telemetry", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "LogTelemetryMutation", "logTelemetry")}, adminsOnly},
		{"report asset check (REST)", "POST", "/report_asset_check/analytics/orders", nil, adminsOnly},
		{"report observation (REST)", "POST", "/report_asset_observation/analytics/orders", nil, adminsOnly},
		{"launch + terminate in one operation", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "LaunchRun", "launchRun", "terminateRun")}, adminsOnly},
		{"query batched with a delete", "POST", "/graphql", []graphql.Operation{named(graphql.Query, "Runs", "runsOrError"), named(graphql.Mutation, "Runs", "deleteRun")}, adminsOnly},
		{"delete disguised as a launch", "POST", "/graphql", []graphql.Operation{named(graphql.Mutation, "LaunchPipelineExecution", "deleteRun")}, adminsOnly},
		{"mutation on the WebSocket", "GET", "/graphql", []graphql.Operation{named(graphql.Mutation, "", "wipeAssets")}, adminsOnly},
		{"PUT a page", "PUT", "/runs", nil, adminsOnly},
		{"POST to GraphQL without operations", "POST", "/graphql", nil, adminsOnly},

		// Never.
		{"gateway route", "GET", "/_gatehouse/health", nil, nobody},
		{"unnormalised path", "GET", "/static/../graphql", nil, nobody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				who   string
				in    Input
				allow bool
			}{
				{"anonymous", Input{Host: "dagster.example.com", Path: tt.path, Method: tt.method, GraphQL: tt.ops}, tt.want.anon},
				{"viewer", gql(user(tt.method, tt.path, "viewer"), tt.ops...), tt.want.viewer},
				{"editor", gql(user(tt.method, tt.path, "editor"), tt.ops...), tt.want.editor},
				{"admin", gql(user(tt.method, tt.path, "admin"), tt.ops...), tt.want.admin},
				{"other role", gql(user(tt.method, tt.path, "dagster-user"), tt.ops...), false},
			} {
				if d := p.Decide(c.in); d.Allow != c.allow {
					t.Errorf("%s: %+v, want allow=%v", c.who, d, c.allow)
				}
			}
		})
	}
	if !p.IsGraphQL("dagster.example.com", "/graphql") || p.IsGraphQL("dagster.example.com", "/runs") {
		t.Error("dagster GraphQL endpoint is /graphql")
	}
	if p.MaxBody("", "/graphql") != 1<<20 || p.MaxBody("", "/x") != 10<<20 {
		t.Error("dagster body limits")
	}
	if p.Public("dagster.example.com", "/", "GET") {
		t.Error("nothing in the dagster preset is public")
	}
}

func TestPresetNames(t *testing.T) {
	if got := Presets(); !slices.Equal(got, []string{"dagster", "demo"}) {
		t.Errorf("Presets() = %v", got)
	}
	for _, name := range []string{"grafana", "Dagster", "", "../presets/dagster"} {
		_, err := Preset(name)
		if err == nil || !strings.Contains(err.Error(), "known: dagster") {
			t.Errorf("Preset(%q): %v", name, err)
		}
	}
	p, err := Preset("dagster")
	if err != nil {
		t.Fatal(err)
	}
	if p.Source() != "preset:dagster" {
		t.Errorf("Source = %q", p.Source())
	}
}

// TestPresetInPackageDoc keeps the copy of the preset in doc.go in step
// with presets/dagster.yaml.
func TestPresetInPackageDoc(t *testing.T) {
	yml, err := os.ReadFile("presets/dagster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, line := range strings.Split(strings.TrimRight(string(yml), "\n"), "\n") {
		if line == "" {
			want.WriteString("//\n")
		} else {
			want.WriteString("//\t" + line + "\n")
		}
	}
	if !strings.Contains(string(doc), want.String()) {
		t.Error("doc.go does not show presets/dagster.yaml as it is; copy it into the package doc")
	}
}

// TestDemoPreset judges the demo app's paths (gatehouse demo-app) for
// each kind of caller.
func TestDemoPreset(t *testing.T) {
	p, err := Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ anon, viewer, admin bool }
	tests := []struct {
		method, path string
		want         want
	}{
		{"GET", "/healthz", want{anon: true, viewer: true, admin: true}},
		{"HEAD", "/healthz", want{anon: true, viewer: true, admin: true}},
		{"GET", "/", want{viewer: true, admin: true}},
		{"GET", "/api/me", want{viewer: true, admin: true}},
		{"GET", "/admin", want{admin: true}},
		{"GET", "/ADMIN/users", want{admin: true}},
		{"POST", "/", want{admin: true}},
		{"POST", "/healthz", want{admin: true}},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			who   string
			in    Input
			allow bool
		}{
			{"anonymous", Input{Host: "127.0.0.1:4180", Path: tt.path, Method: tt.method}, tt.want.anon},
			{"viewer", user(tt.method, tt.path, "viewer"), tt.want.viewer},
			{"custom role", user(tt.method, tt.path, "operator"), tt.want.viewer},
			{"admin", user(tt.method, tt.path, "admin"), tt.want.admin},
		} {
			if d := p.Decide(c.in); d.Allow != c.allow {
				t.Errorf("%s %s %s: %+v, want allow=%v", c.who, tt.method, tt.path, d, c.allow)
			}
		}
	}
}
