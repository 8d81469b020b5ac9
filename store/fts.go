package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode"
)

// dropOrphanFTS5 removes the FTS5 tables an earlier, FTS5-tagged build made,
// when this build has no FTS5: SQLite cannot DROP a virtual table whose
// module is missing, so its schema row is removed through writable_schema;
// its shadow tables, plain tables without the module, are dropped normally
// first so their pages are freed. Migration 0008 then builds the FTS4 index from the statements.
// It reports the tables it removed.
func dropOrphanFTS5(ctx context.Context, db *sql.DB) ([]string, error) {
	var used int
	if err := db.QueryRowContext(ctx, `SELECT sqlite_compileoption_used('ENABLE_FTS5')`).Scan(&used); err != nil {
		return nil, classify(err)
	}
	if used == 1 {
		return nil, nil // migration 0008 drops them like any table
	}
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE % USING fts5%'`)
	if err != nil {
		return nil, classify(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, classify(err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, classify(err)
	}
	defer conn.Close()
	for _, n := range names {
		// FTS5 shadow tables: n_data, n_idx, n_content, n_docsize, n_config.
		for _, suffix := range []string{"_data", "_idx", "_content", "_docsize", "_config"} {
			if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS "`+n+suffix+`"`); err != nil {
				return nil, fmt.Errorf("remove FTS5 table %s%s: %w", n, suffix, classify(err))
			}
		}
	}
	steps := []string{`PRAGMA writable_schema = ON`}
	for _, n := range names {
		steps = append(steps, `DELETE FROM sqlite_master WHERE type = 'table' AND name = '`+n+`'`)
	}
	steps = append(steps, `PRAGMA writable_schema = OFF`, `PRAGMA writable_schema = RESET`)
	for _, q := range steps {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("remove FTS5 tables: %s: %w", q, classify(err))
		}
	}
	return names, nil
}

// ftsTerms turns what a reader typed into FTS4 query terms that cannot be
// a syntax error: every word becomes a quoted phrase (so OR, NOT, NEAR are
// plain words); the last one also matches as a prefix ("word*"). None means nothing searchable was typed.
func ftsTerms(text string) []string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) > 8 {
		words = words[:8]
	}
	for i, w := range words {
		if i == len(words)-1 {
			w += "*"
		}
		words[i] = `"` + w + `"`
	}
	return words
}

// ftsCondition is the SQL condition that each term is found in the text or
// the parties of statement s (search_fts, migration 0017).
func ftsCondition(terms []string) (string, []any) {
	var conds []string
	var args []any
	for _, t := range terms {
		conds = append(conds, `s.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?)`)
		args = append(args, t)
	}
	return strings.Join(conds, ` AND `), args
}
