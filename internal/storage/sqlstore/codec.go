package sqlstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// table builds the plain statements of a table whose first column is the key.
type table struct {
	name string
	cols []string
	// sel selects all columns; append a WHERE clause.
	sel string
	// byKey selects the row whose key is $1.
	byKey string
	// insert inserts all columns, in order, as $1..$N.
	insert string
	// update sets every column but the key from $2..$N where key = $1.
	update string
}

func newTable(name string, cols ...string) table {
	ph := make([]string, len(cols))
	set := make([]string, 0, len(cols)-1)
	for i, c := range cols {
		ph[i] = "$" + strconv.Itoa(i+1)
		if i > 0 {
			set = append(set, c+" = "+ph[i])
		}
	}
	list := strings.Join(cols, ", ")
	return table{
		name:   name,
		cols:   cols,
		sel:    "SELECT " + list + " FROM " + name,
		byKey:  "SELECT " + list + " FROM " + name + " WHERE " + cols[0] + " = $1",
		insert: "INSERT INTO " + name + " (" + list + ") VALUES (" + strings.Join(ph, ", ") + ")",
		update: "UPDATE " + name + " SET " + strings.Join(set, ", ") + " WHERE " + cols[0] + " = $1",
	}
}

// colsOf lists t's columns qualified with alias.
func (t table) colsOf(alias string) string {
	q := make([]string, len(t.cols))
	for i, c := range t.cols {
		q[i] = alias + "." + c
	}
	return strings.Join(q, ", ")
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// timeCol scans a time column: NULL is the zero time, an integer is Unix
// microseconds (SQLite), a time.Time is used as is (PostgreSQL). The result
// is always UTC.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("scan time: unsupported type %T", src)
	}
	return nil
}

// listCol scans a list stored as a JSON array of strings; an empty list
// comes back nil.
type listCol struct{ l *[]string }

func (c listCol) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*c.l = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan list: unsupported type %T", src)
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("scan list: %w", err)
	}
	if len(l) == 0 {
		l = nil
	}
	*c.l = l
	return nil
}

// list encodes l as a JSON array; nil and empty both become "[]".
func list(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, err := json.Marshal(l)
	if err != nil {
		// Marshalling a []string cannot fail.
		panic(err)
	}
	return string(b)
}

// bytesCol scans a blob; an empty blob comes back nil.
type bytesCol struct{ b *[]byte }

func (c bytesCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.b = nil
	case []byte:
		if len(v) == 0 {
			*c.b = nil
		} else {
			*c.b = append([]byte(nil), v...)
		}
	case string:
		if v == "" {
			*c.b = nil
		} else {
			*c.b = []byte(v)
		}
	default:
		return fmt.Errorf("scan bytes: unsupported type %T", src)
	}
	return nil
}

// blob encodes b so that nil and empty both store an empty blob.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// normaliseUsername is how usernames are stored and looked up.
func normaliseUsername(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}
