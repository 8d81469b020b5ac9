package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// commandHelp is each command's synopsis and what it does, for
// `liaisond COMMAND -h` (the top-level usage in main.go lists them all).
var commandHelp = map[string][2]string{
	"serve":       {"serve [-config FILE]", "Run every enabled listener (SMTP, LMTP), the IMAP poller, the mail sender,\nthe reminder scheduler and the web server until SIGTERM or SIGINT.\nSIGHUP reloads the directory, the STARTTLS certificate and the DKIM key\n([outbound] dkim_selector and dkim_key_file)."},
	"ingest":      {"ingest [-config FILE] [-f SENDER] [-r RECIPIENT] [-no-send] FILE...", "Process messages as if received ('-' = standard input): the MTA pipe mode.\nExit 0 done, 65 rejected (stored, the sender is told), 75 try again later."},
	"list":        {"list [-config FILE] [-json] [-state open|closed|pending|held|all]", "List the statements, newest first."},
	"show":        {"show [-config FILE] [-json] LS-42|42", "Show one statement with its history."},
	"outbox":      {"outbox [-config FILE] [-json]", "List queued and sent mail."},
	"tickle":      {"tickle [-config FILE] [-now RFC3339] [-dry-run] [-no-send]", "Run one reminder pass and print each reminder."},
	"status":      {"status [-config FILE] [-json]", "Message and outbox counts and the IMAP mailbox state."},
	"check":       {"check [-config FILE] [-probe]", "Check the configuration, the directory, the templates and the data directory,\nand list every problem at once with its file, line and key (exit 78 if any).\nWith -probe, also connect to the smarthost and the IMAP server and log in."},
	"backup":      {"backup [-config FILE] FILE", "Write a consistent copy of the database to FILE while liaisond serves\n(SQLite online backup), and the token secret to FILE.secret; both mode 0600."},
	"version":     {"version", "Print the version and the VCS revision it was built from."},
	"dkim-keygen": {"dkim-keygen [-config FILE] [-type rsa|ed25519] [-selector NAME] FILE", "Write a new DKIM private key (PEM) to FILE and print the DNS TXT record\nto publish at SELECTOR._domainkey.DOMAIN."},
}

// errHelpShown: -h was given and the help printed; the command exits 0.
var errHelpShown = errors.New("help shown")

// newFlagSet is a flag set whose -h prints the command's help (to stderr,
// as Go's flag package and go's own commands do).
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("liaisond "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		h := commandHelp[name]
		fmt.Fprintf(stderr, "Usage: liaisond %s\n\n%s\n", h[0], h[1])
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses args; -h gives errHelpShown, a bad flag exit 64.
func parseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return &exitError{code: exitUsage, err: fmt.Errorf("%w (see %s -h)", err, fs.Name())}
	}
	return nil
}
