// Package policy decides, for every request the gateway (`gatehouse proxy`)
// receives, whether it may reach the application. Deny is the default.
//
// A policy is a YAML file (--policy FILE) or a built-in preset
// (--preset dagster). It is checked strictly when it loads: an unknown or
// misspelt key anywhere ("rule:", "role:", "method:"), a duplicate key, a
// value of the wrong type, an empty list, a bad pattern, an unknown GraphQL
// operation type, contradictory settings, a missing or unsupported version,
// an empty rules list or a non-positive size is an error naming file:line,
// and the gateway does not start (SECURITY-CASES 54: never fail open).
//
// # File format
//
//	version: 1                    # required; the only version
//	max_body_bytes: 10485760      # body cap of non-GraphQL requests (default 10 MiB)
//	graphql:                      # optional: the application's GraphQL endpoints
//	  paths: ["/graphql"]         # required: their path patterns
//	  hosts: ["api.example.com"]  # optional: only on these hosts (default any)
//	  max_body_bytes: 1048576     # body cap on these paths (default 1 MiB)
//	rules:                        # required, at least one; first match wins
//	  - name: read                # required, unique; shown in audit events
//	    action: allow             # allow (default) or deny
//	    hosts: ["*.example.com"]  # optional: any of these hosts (default any)
//	    paths: ["/runs/**"]       # optional: any of these paths (default any)
//	    methods: [GET, HEAD]      # optional: any of these methods (default any)
//	    roles: [viewer, editor]   # optional: a caller with any of these roles
//	    groups: [ops-admins]      # optional: a caller in any of these groups
//	    emails: [ada@example.com] # optional: a caller with one of these (verified) addresses
//	    email_domains: [example.com, "*.example.org"] # optional: a (verified) address at one of these domains
//	    public: true              # optional: anonymous callers too (not with the four above)
//	    graphql:                  # optional: makes this a GraphQL rule
//	      types: [query]          # query, mutation, subscription (default any)
//	      fields: [launchRun]     # root fields (default any)
//	      names: [LaunchRun]      # operation names (default any)
//
// A complete, commented example is testdata/example.yaml.
//
// # Matching
//
// Path patterns are exact ("/favicon.ico"), may use "*" for exactly one
// segment ("/runs/*/logs") and may end in "/**" for any depth, including
// none ("/static/**" matches /static, /static/a and /static/a/b; "/**"
// matches every path). They are matched only against the gateway's
// normalised, decoded path — never the query string, fragment or raw
// encoding (SECURITY-CASES 44) — segment by segment and case-insensitively,
// so that /ADMIN or /Admin/x cannot dodge a rule about /admin (45); a
// trailing slash does not matter. Patterns containing ?, #, %, ;, \, an
// empty, "." or ".." segment, or naming the gateway's reserved /_gatehouse/
// are load errors. Decide denies a path that is not normalised or is under
// /_gatehouse/ without looking at the rules: the gateway's own routes never
// reach the policy.
//
// Host patterns are exact names or IP addresses, or "*.example.com", which
// matches one more label (a.example.com, not example.com or
// a.b.example.com); hosts compare case-insensitively, without port.
// Methods are upper-cased when loaded and when judged.
//
// Who a rule applies to is said by its identity matchers: roles, groups,
// emails and email_domains. Each matches a caller with any of the values
// it lists; a rule with several applies only to a caller matching every
// one ("roles: [editor]" with "email_domains: [example.com]" is an editor
// with an example.com address; write two rules for "either"). Without
// any, a rule applies to any authenticated caller; with public: true, to
// anyone, logged in or not. A deny rule without identity matchers applies
// to everyone, anonymous callers included, so a public rule below it
// cannot reopen what it closes; a deny rule with them applies to the
// callers they match.
//
// Roles and groups compare exactly (case-sensitive), as the identity
// provider spells them. Emails compare case-insensitively as whole
// addresses. An email domain matches the part of the address after its
// last "@", case-insensitively and exactly: "example.com" matches
// ada@example.com, never ada@evilexample.com or ada@eu.example.com;
// "*.example.com" matches any subdomain at any depth (eu.example.com,
// a.eu.example.com), not example.com itself. emails and email_domains
// match only an address the issuer vouches for: one whose email_verified
// claim is not false (an absent claim counts as verified, as most
// providers that do not verify addresses send none and those that let
// users type one in send false). An entry of emails without exactly one
// "@" or with a bad domain, and an entry of email_domains with an "@", a
// scheme, a port, a path or a "*" other than a leading "*." are load
// errors. Nothing in a policy can refer to a header, the user agent, the
// client address or a "health check" path: a request is judged only on
// host, path, method, identity and GraphQL operations (48).
//
// A rule without graphql: matches any request on its hosts, paths, methods
// and roles, GraphQL or not — with one exception: an allow rule whose
// methods are only GET, HEAD or OPTIONS does not match GraphQL mutations,
// because a mutation is a write whatever carries it (GET ?query=mutation,
// or a message on a WebSocket opened with GET). A rule with graphql:
// matches only GraphQL operations, and only those whose type is listed,
// whose name is listed (an unnamed operation matches no names list) and,
// for an allow rule, all of whose root fields are listed; a deny rule with
// fields matches an operation selecting any listed field. Fields are the
// real field names, never aliases. Because the client chooses operation
// names, an allow rule with names must also list fields or be limited to
// query and subscription types.
//
// A request with no GraphQL operations is judged once: the first matching
// rule decides; no match is deny. A GraphQL request (Input.GraphQL not
// empty) is allowed only if every operation is: each is judged through the
// rules on its own (first match per operation), and any deny or
// non-matched operation denies the whole request (52).
//
// # The dagster preset
//
// Preset("dagster") is this file (presets/dagster.yaml):
//
//	# The dagster preset: gatehouse in front of the Dagster webserver
//	# (dagster-webserver / `dagster dev`) served at the root of its host.
//	#
//	#   viewer  reads everything: the UI's pages and assets, GraphQL queries
//	#           and subscriptions (also over the WebSocket at /graphql), log
//	#           and debug-file downloads.
//	#   editor  what a viewer may, and launches runs and materialises assets.
//	#   admin   everything else too: terminating and deleting runs, wiping
//	#           assets, schedules and sensors, backfill cancel/resume, dynamic
//	#           partitions, concurrency limits, reloading code locations.
//	#
//	# Anything not allowed below is denied. Every request needs a login.
//	#
//	# Mutation root fields (dagster-graphql, schema/roots/mutation.py) given
//	# to editors, and why:
//	#   launchRun, launchPipelineExecution   launch a job run / materialise
//	#                                        assets (the second is the old name
//	#                                        of the same mutation)
//	#   launchMultipleRuns                   the UI's launch of several runs at
//	#                                        once (materialise across jobs)
//	#   launchRunReexecution,
//	#   launchPipelineReexecution            re-execute a run (from failure,
//	#                                        selected steps); old and new name
//	#   launchPartitionBackfill              materialise partitions (backfill)
//	#   reexecutePartitionBackfill           retry the failed partitions of a
//	#                                        backfill: a new backfill
//	#   reportRunlessAssetEvents             "Report materialization" in the
//	#                                        UI: record a materialisation (or
//	#                                        observation) without a run
//	# and Dagster's one non-GraphQL write of that kind, the REST endpoint
//	# POST /report_asset_materialization/<asset key>.
//	#
//	# Left to admins on purpose: terminateRun(s), terminatePipelineExecution,
//	# deleteRun, deletePipelineRun, wipeAssets, start/stop/reset schedules and
//	# sensors, setSensorCursor, sensorDryRun and scheduleDryRun (run user
//	# code), cancel/resumePartitionBackfill, add/deleteDynamicPartition(s),
//	# setAutoMaterializePaused, concurrency limits and slots,
//	# reloadRepositoryLocation, reloadWorkspace, shutdownRepositoryLocation,
//	# reportAssetCheckEvaluation, POST /report_asset_check/ and
//	# /report_asset_observation/, and the UI's own bookkeeping mutations
//	# logTelemetry and setNuxSeen (the UI carries on when they are refused).
//	version: 1
//	max_body_bytes: 10485760
//	graphql:
//	  paths: ["/graphql"]
//	  max_body_bytes: 1048576
//	rules:
//	  - name: dagster graphql reads
//	    roles: [viewer, editor, admin]
//	    paths: ["/graphql"]
//	    graphql: {types: [query, subscription]}
//	  - name: dagster launch and materialise
//	    roles: [editor, admin]
//	    paths: ["/graphql"]
//	    graphql:
//	      types: [mutation]
//	      fields:
//	        - launchRun
//	        - launchPipelineExecution
//	        - launchMultipleRuns
//	        - launchRunReexecution
//	        - launchPipelineReexecution
//	        - launchPartitionBackfill
//	        - reexecutePartitionBackfill
//	        - reportRunlessAssetEvents
//	  - name: dagster report materialisation
//	    roles: [editor, admin]
//	    paths: ["/report_asset_materialization/**"]
//	    methods: [POST]
//	  - name: dagster admin
//	    roles: [admin]
//	  - name: dagster read
//	    roles: [viewer, editor, admin]
//	    methods: [GET, HEAD]
package policy
