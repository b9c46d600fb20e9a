-- Custom roles: a named set of permissions (scope-like strings). The
-- built-in roles admin, editor and viewer have no row. permissions is a
-- JSON array of strings.

CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  TIMESTAMPTZ,
    updated_at  TIMESTAMPTZ
);
