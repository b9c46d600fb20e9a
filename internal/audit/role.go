package audit

// Event types of custom roles. Their Details name the role ("role") and
// its permissions ("permissions", space-separated; "previous_permissions"
// on an update).
const (
	RoleCreated = "role.created"
	RoleUpdated = "role.updated"
	RoleDeleted = "role.deleted"
)
