// Package store keeps liaisond's data in SQLite: raw messages, statements,
// contacts, attachments, events, relations and the outbox. It knows SQL and
// the data model, nothing of mail or HTTP.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when a statement, message or outbox row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrTemporary marks a failure that may go away by itself (a busy or full
// database, a cancelled context): the caller should ask the sender to retry
// (SMTP 451, exit 75) instead of giving up.
var ErrTemporary = errors.New("temporary failure")

// Store is the SQLite database. All writes go through one connection
// (SQLite has one writer; a queue in Go is cheaper than lock retries),
// reads through a pool.
type Store struct {
	w *sql.DB
	r *sql.DB
	// now is the clock of Tx.Now (SetClock): atomic, because the
	// indexer goroutine begins transactions from Open on.
	now atomic.Pointer[func() time.Time]

	ids     statementIDs // reserved before their transactions (ids.go)
	wal     *walSyncer   // fsyncs the WAL after commits (walsync.go)
	group   committer    // UpdateGrouped's queue
	kept    keptStmts    // the writer's prepared statements
	commits atomic.Int64 // write transactions committed
	// legacyIDs: the database may hold message identities of the form an
	// earlier version computed (LegacyIdentityPossible).
	legacyIDs atomic.Bool
	// The background checkpointer (checkpoint.go).
	ckWake, ckStop, ckDone chan struct{}
	groupCommits           atomic.Int64 // of which UpdateGrouped's
	groupLockHeld          atomic.Int64 // nanoseconds UpdateGrouped's transactions held the write lock
	log                    *slog.Logger // what the Store's own goroutines have to say
	// The search indexer (searchindex.go), and when a group of received
	// messages last held the writer (unix nanoseconds): it waits for a
	// quiet moment.
	indexer         *searchIndexer
	lastGroupCommit atomic.Int64
	// testHookCommit, if set, runs before a group's commit; its error
	// stands for the commit's.
	testHookCommit func() error
}

// Open opens (creating if needed) the database at path and applies the
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenLogged(ctx, path, slog.New(slog.DiscardHandler))
}

// OpenLogged is Open that logs each migration it applies (an upgrade says
// what it changes) through log.
func OpenLogged(ctx context.Context, path string, log *slog.Logger) (*Store, error) {
	// The database holds every message and address: only its owner reads it.
	// SQLite gives the -wal and -shm files the database file's mode.
	if err := ensureMode0600(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// A message is on disk before we answer 250 (DESIGN 5.1): the commits
	// run at synchronous=NORMAL and the Store fsyncs the WAL after each one,
	// outside the write lock, before it reports the write done (walsync.go):
	// FULL's promise, without holding the lock during the fsync.
	// txlock=immediate: read-then-write transactions take the write lock up front,
	// so they wait on busy_timeout instead of failing with "database is locked".
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	dsn := "file:" + path + "?" + q.Encode()
	// temp_store=MEMORY on the writer: group commit runs each message in a
	// SAVEPOINT, and SQLite keeps the prior content of every page a member
	// changes that an earlier member had changed (the index pages all of
	// them touch) in a statement journal, spilled past 64 KB to a temporary
	// file: a quarter of the writer's write calls in a group of 4. In
	// memory it stays within the group's own pages.
	w := sql.OpenDB(newConnector(dsn+"&_txlock=immediate", "PRAGMA temp_store = MEMORY"))
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite3", dsn+"&mode=ro&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	s := &Store{w: w, r: r, wal: newWALSyncer(path), log: log}
	s.SetClock(time.Now)
	if err := s.migrate(ctx, log); err != nil {
		s.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	if err := s.findLegacyIdentities(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	if err := s.startCheckpointer(dsn); err != nil {
		log.Warn("database: checkpoints stay in the writer's commits", "err", err)
	}
	s.startIndexer()
	return s, nil
}

// connector opens go-sqlite3 connections to a DSN and runs pragmas on each
// one (the DSN has no parameter for them): a connection the pool opens
// again gets them too.
type connector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func newConnector(dsn string, pragmas ...string) connector {
	return connector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, p := range pragmas {
			if _, err := c.Exec(p, nil); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	}}}
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.driver }

// Close closes the database.
func (s *Store) Close() error {
	s.stopIndexer()
	// What this process left pending is indexed now, so that a store
	// opened for one delivery (liaisond ingest) leaves the index whole.
	// A failure leaves the statements pending: the next indexer or
	// search indexes them.
	if err := s.IndexPending(context.Background()); err != nil {
		s.log.Warn("database: statements left for the search index to take later", "err", err)
	}
	s.stopCheckpointer()
	return errors.Join(s.r.Close(), s.w.Close(), s.wal.close())
}

func (s *Store) migrate(ctx context.Context, log *slog.Logger) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	return s.migrateTo(ctx, log, names)
}

// migrateTo applies the migrations in names that the database lacks, in
// order; the schema version (PRAGMA user_version) counts those applied.
func (s *Store) migrateTo(ctx context.Context, log *slog.Logger, names []string) error {
	var version int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", classify(err))
	}
	if version > len(names) {
		return fmt.Errorf("schema version %d is newer than this liaisond knows (%d): use a newer binary", version, len(names))
	}
	if version < len(names) {
		dropped, err := dropOrphanFTS5(ctx, s.w)
		if err != nil {
			return err
		}
		if len(dropped) > 0 {
			log.Info("database upgrade: removed the FTS5 search tables of an earlier build; the search index is rebuilt with FTS4", "tables", dropped)
		}
	}
	for i := version; i < len(names); i++ {
		log.Info("database upgrade: applying migration", "migration", path.Base(names[i]), "from_version", i, "to_version", i+1, "does", migrationSummary(names[i]))
		sqlText, err := migrations.ReadFile(names[i])
		if err != nil {
			return err
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return classify(err)
		}
		if _, err := tx.ExecContext(ctx, string(sqlText)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", names[i], err)
		}
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", names[i], err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", names[i], classify(err))
		}
		if err := s.wal.wait(s.wal.commitDone()); err != nil {
			return fmt.Errorf("migration %s: %w", names[i], err)
		}
	}
	return nil
}

// migrationSummary is the first comment line of a migration: what it does.
func migrationSummary(name string) string {
	text, err := migrations.ReadFile(name)
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(text), "\n")
	return strings.TrimSpace(strings.TrimPrefix(first, "--"))
}

// ensureMode0600 creates the database file with mode 0600 if it does not
// exist, and takes group and other access away from one that does.
func ensureMode0600(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetClock sets the clock that gives each transaction its time (Tx.Now);
// the daemon passes the clock every component shares, tests a fixed one.
// Call it before the store is used.
func (s *Store) SetClock(now func() time.Time) { s.now.Store(&now) }

// Tx is one transaction; its methods are the whole data model.
type Tx struct {
	tx  *sql.Tx
	ctx context.Context
	// now is the transaction's one timestamp, read from the clock once
	// when it begins (WTF Dial's Tx.now): every row it writes without a
	// time of its own gets this one.
	now time.Time

	stmts *stmtCache // shared by the members of a group

	// written are the events inserted through this Tx, in order, and
	// queued the outbox rows: the mails of a message are composed from its
	// events at the end of its apply (DESIGN 10). Each member of a group
	// commit has a Tx of its own, so a member rolled back takes its list
	// with it.
	written []Event
	queued  int
	// searchPending: statements were named in search_pending (0026); the
	// Store wakes its indexer once they are committed.
	searchPending bool

	ids       *statementIDs // the store's reservations; nil in read transactions
	legacyIDs *atomic.Bool  // the store's
}

// stmtCache keeps the statements prepared for one transaction: go-sqlite3
// prepares a query anew at every call otherwise, and a submission runs the
// same inserts a dozen times (one outbox row per copy), inside the write
// lock. On the writer, whose one connection lives as long as the Store,
// statements are also kept across transactions (keptStmts).
type stmtCache struct {
	kept  *keptStmts // nil for reads
	inTx  map[string]*sql.Stmt
	fresh []string // prepared in this transaction: to keep after it
}

// keptStmts are the writer's statements prepared on its connection, reused
// by later transactions without preparing again.
type keptStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// maxKeptStmts bounds keptStmts: queries built with a variable number of
// placeholders are many.
const maxKeptStmts = 200

func (s *Store) newStmtCache(db *sql.DB) *stmtCache {
	c := &stmtCache{inTx: map[string]*sql.Stmt{}}
	if db == s.w {
		c.kept = &s.kept
	}
	return c
}

func (t *Tx) prepared(query string) (*sql.Stmt, error) {
	c := t.stmts
	if st, ok := c.inTx[query]; ok {
		return st, nil
	}
	if c.kept != nil {
		c.kept.mu.Lock()
		ks := c.kept.m[query]
		c.kept.mu.Unlock()
		if ks != nil {
			st := t.tx.StmtContext(t.ctx, ks)
			c.inTx[query] = st
			return st, nil
		}
		c.fresh = append(c.fresh, query)
	}
	st, err := t.tx.PrepareContext(t.ctx, query)
	if err != nil {
		return nil, err
	}
	c.inTx[query] = st
	return st, nil
}

// newTx wraps a begun transaction, taking its timestamp from the clock.
func (s *Store) newTx(ctx context.Context, sqlTx *sql.Tx, stmts *stmtCache) *Tx {
	return &Tx{tx: sqlTx, ctx: ctx, now: (*s.now.Load())().UTC(), stmts: stmts, ids: &s.ids, legacyIDs: &s.legacyIDs}
}

// Now is the transaction's timestamp: the same for every call in one
// transaction.
func (t *Tx) Now() time.Time { return t.now }

// WrittenEvents returns the events inserted through t so far, oldest
// first, as they were inserted (with their ids).
func (t *Tx) WrittenEvents() []Event { return slices.Clone(t.written) }

// QueuedMails is the number of outbox rows inserted through t.
func (t *Tx) QueuedMails() int { return t.queued }

// keep prepares on the writer's connection the queries a transaction used
// for the first time, once that transaction is over (the connection is
// free again).
func (s *Store) keep(c *stmtCache) {
	if c.kept == nil || len(c.fresh) == 0 {
		return
	}
	for _, q := range c.fresh {
		c.kept.mu.Lock()
		_, have := c.kept.m[q]
		full := len(c.kept.m) >= maxKeptStmts
		c.kept.mu.Unlock()
		if have || full {
			continue
		}
		st, err := s.w.Prepare(q)
		if err != nil {
			continue // prepared again next time
		}
		c.kept.mu.Lock()
		if c.kept.m == nil {
			c.kept.m = map[string]*sql.Stmt{}
		}
		if _, have := c.kept.m[q]; have {
			st.Close()
		} else {
			c.kept.m[q] = st
		}
		c.kept.mu.Unlock()
	}
}

// Update runs fn in one write transaction, committed when fn returns nil.
func (s *Store) Update(ctx context.Context, fn func(tx *Tx) error) error {
	return s.run(ctx, s.w, fn)
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(tx *Tx) error) error {
	return s.run(ctx, s.r, fn)
}

func (s *Store) run(ctx context.Context, db *sql.DB, fn func(tx *Tx) error) (err error) {
	if err := s.runUnsynced(ctx, db, fn); err != nil || db != s.w {
		return err
	}
	// On disk before the write is reported done, as at synchronous=FULL;
	// the write lock is already free for the next transaction.
	return s.wal.wait(s.wal.commitDone())
}

// runUnsynced is run without waiting for the commit to reach the disk.
func (s *Store) runUnsynced(ctx context.Context, db *sql.DB, fn func(tx *Tx) error) (err error) {
	stmts := s.newStmtCache(db)
	// Deferred first, so run last: after the transaction ended, even by a
	// panic (keep needs the writer's connection free).
	defer s.keep(stmts)
	return s.runOn(ctx, db, stmts, fn)
}

// runOn runs fn in a transaction begun on db, a pool or one of its
// connections, with the statement cache stmts.
func (s *Store) runOn(ctx context.Context, db interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, stmts *stmtCache, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return classify(err)
	}
	defer func() {
		if p := recover(); p != nil {
			sqlTx.Rollback()
			panic(p)
		}
	}()
	tx := s.newTx(ctx, sqlTx, stmts)
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return classify(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", classify(err))
	}
	if stmts.kept != nil {
		s.committed()
	}
	if tx.searchPending {
		s.pendingNamed()
	}
	return nil
}

// UpdateNoSync is Update for bookkeeping that a power failure may lose at
// no cost but a repeat: the outbox sender's claims and its records of
// delivered mail, one transaction per mail. It returns at its commit,
// without waiting for the WAL to reach the disk (walsync.go): the record
// survives a crash of the process and becomes durable with the next fsync;
// a power failure before that loses it, and the mail is sent again with its
// Message-ID, as after a crash between a server's 250 and its record.
// Waiting instead made every delivered mail cost an fsync.
func (s *Store) UpdateNoSync(ctx context.Context, fn func(tx *Tx) error) error {
	if err := s.runUnsynced(ctx, s.w, fn); err != nil {
		return err
	}
	s.wal.commitDone()
	return nil
}

// classify marks the SQLite errors that a retry may cure as ErrTemporary.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrTemporary) {
		return err
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrFull, sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrNomem:
			return fmt.Errorf("%w: %w", ErrTemporary, err)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	return err
}

func (t *Tx) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.prepared(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

func (t *Tx) query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.prepared(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.ctx, args...)
}

func (t *Tx) queryRow(query string, args ...any) *sql.Row {
	st, err := t.prepared(query)
	if err != nil {
		// The error comes back from Scan, as from QueryRowContext.
		return t.tx.QueryRowContext(t.ctx, query, args...)
	}
	return st.QueryRowContext(t.ctx, args...)
}

// Times are stored as RFC 3339 text in UTC, which sorts correctly as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func fmtTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func parseTimePtr(ns sql.NullString) *time.Time {
	if !ns.Valid || ns.String == "" {
		return nil
	}
	t := parseTime(ns.String)
	return &t
}

func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

// wrap names the step that failed, mox style ("inserting statement: %w");
// nil stays nil.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
