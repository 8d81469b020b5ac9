package parse

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPurity: the parsers are pure functions over bytes and text (DESIGN
// 10): this package imports no store, no transport and nothing that applies
// what a message means, so the compiler keeps parsing apart from the write
// transaction. liaisond/directory and liaisond/token are pure data and
// crypto and would be allowed; nothing else of liaisond is.
//
// Two levels, because enmime (the MIME parser) links net/smtp for its own
// sender and its table printer links database/sql: this package itself
// may not import the network, SMTP, HTTP, TLS or SQL packages, and nothing
// it depends on, however indirectly, may be a liaisond package that
// stores, receives or sends, an SMTP or IMAP library, a SQLite driver or
// net/http.
func TestPurity(t *testing.T) {
	allowedOurs := map[string]bool{"liaisond/ingest/parse": true, "liaisond/directory": true, "liaisond/token": true}
	forbiddenDirect := map[string]bool{
		"net": true, "net/smtp": true, "net/http": true, "crypto/tls": true,
		"database/sql": true, "os/exec": true, "log/slog": true,
	}
	forbiddenDeps := []string{
		"github.com/emersion/go-smtp",
		"github.com/emersion/go-imap",
		"github.com/mattn/go-sqlite3",
		"modernc.org/sqlite",
		"net/http",
	}

	for _, imp := range goList(t, "{{join .Imports \"\\n\"}}", ".") {
		if forbiddenDirect[imp] {
			t.Errorf("package parse imports %s: parsing must not reach the network, a database or a logger", imp)
		}
	}
	for _, dep := range goList(t, "{{.ImportPath}}", "-deps", ".") {
		if strings.HasPrefix(dep, "liaisond/") && !allowedOurs[dep] {
			t.Errorf("package parse depends on %s: it may import no store, transport or pipeline package of liaisond", dep)
		}
		for _, f := range forbiddenDeps {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("package parse depends on %s (a transport or database package)", dep)
			}
		}
	}
}

// goList runs go list with the format over args in this package's
// directory and returns its non-empty output lines.
func goList(t *testing.T, format string, args ...string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list this package's imports: %v", err)
	}
	out, err := exec.Command(goBin, append([]string{"list", "-f", format}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatalf("go list %v: %v", args, err)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		t.Fatalf("go list %v printed nothing", args)
	}
	return lines
}
