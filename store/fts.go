package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode"
)

// ErrNoFTS5 is returned by Open when the SQLite linked in lacks FTS5.
var ErrNoFTS5 = errors.New("store: SQLite built without FTS5: build with -tags sqlite_fts5, as `make` does")

func checkFTS5(ctx context.Context, db *sql.DB) error {
	var used int
	if err := db.QueryRowContext(ctx, `SELECT sqlite_compileoption_used('ENABLE_FTS5')`).Scan(&used); err != nil {
		return classify(err)
	}
	if used != 1 {
		return ErrNoFTS5
	}
	return nil
}

// ftsQuery turns what a reader typed into an FTS5 query that cannot be a
// syntax error: every word becomes a quoted term (all must match); the last
// one also matches as a prefix. "" means nothing searchable was typed.
func ftsQuery(text string) string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) > 16 {
		words = words[:16]
	}
	for i, w := range words {
		words[i] = `"` + w + `"`
	}
	q := strings.Join(words, " ")
	if q != "" {
		q += "*"
	}
	return q
}
