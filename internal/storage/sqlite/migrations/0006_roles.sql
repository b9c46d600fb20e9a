-- Custom roles: a named set of permissions (scope-like strings). The
-- built-in roles admin, editor and viewer have no row. permissions is a
-- JSON array of strings; times are Unix microseconds (UTC).

CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    permissions TEXT NOT NULL,
    created_at  INTEGER,
    updated_at  INTEGER
);
