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

// ftsTerms turns what a reader typed into FTS5 query terms that cannot be
// a syntax error: every word becomes a quoted term; the last one also
// matches as a prefix. None means nothing searchable was typed.
func ftsTerms(text string) []string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) > 8 {
		words = words[:8]
	}
	for i, w := range words {
		words[i] = `"` + w + `"`
		if i == len(words)-1 {
			words[i] += "*"
		}
	}
	return words
}

// ftsCondition is the SQL condition that each term is found in the text or
// the parties of statement s.
func ftsCondition(terms []string) (string, []any) {
	var conds []string
	var args []any
	for _, t := range terms {
		conds = append(conds, `s.id IN (SELECT rowid FROM statements_fts WHERE statements_fts MATCH ? UNION SELECT rowid FROM parties_fts WHERE parties_fts MATCH ?)`)
		args = append(args, t, t)
	}
	return strings.Join(conds, ` AND `), args
}
