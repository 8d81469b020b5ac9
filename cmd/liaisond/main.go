// Command liaisond runs the liaison-statement process of RFC 4053 by email.
// See README.md; `liaisond help` lists the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes follow sysexits(3), so an MTA pipe knows what to do.
const (
	exitOK        = 0
	exitUsage     = 64 // EX_USAGE
	exitDataErr   = 65 // EX_DATAERR: bad input, stored as rejected
	exitSoftware  = 70 // EX_SOFTWARE
	exitTempFail  = 75 // EX_TEMPFAIL: the MTA should retry
	exitConfigErr = 78 // EX_CONFIG
)

// exitError carries an exit code out of run.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		code := exitSoftware
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		if ee == nil || ee.err.Error() != "" {
			fmt.Fprintln(os.Stderr, "liaisond:", err)
		}
		os.Exit(code)
	}
}

const usage = `liaisond: liaison statements by email (RFC 4053)

Usage:
  liaisond serve   [-config FILE]
        run the SMTP/LMTP listeners, the IMAP poller, the mail sender, the
        reminders and the web server; SIGHUP reloads the directory, the
        STARTTLS certificate and the DKIM key
  liaisond ingest  [-config FILE] [-f SENDER] [-r RECIPIENT] [-no-send] FILE...
        process messages as if received ('-' = standard input): MTA pipe mode;
        -f/-r the envelope sender and recipient, -no-send only queues the mail
        it causes; exit 0 done, 65 rejected, 75 try again later
  liaisond list    [-config FILE] [-json] [-state open|closed|pending|held|all]
        the statements, newest first
  liaisond show    [-config FILE] [-json] LS-42|42
        one statement with its history
  liaisond outbox  [-config FILE] [-json]
        queued and sent mail
  liaisond tickle  [-config FILE] [-now RFC3339] [-dry-run] [-no-send]
        one reminder pass; prints each reminder
  liaisond status  [-config FILE] [-json]
        message counts and the IMAP mailbox state
  liaisond check   [-config FILE] [-probe]
        every problem of the configuration and the directory at once (exit 78
        if any); -probe also connects to the smarthost and the IMAP server
  liaisond backup  [-config FILE] FILE
        a consistent copy of the database, taken while serving, to FILE and
        the token secret to FILE.secret
  liaisond dkim-keygen [-config FILE] [-type rsa|ed25519] [-selector NAME] FILE
        a new DKIM key in FILE and the DNS TXT record to publish
  liaisond version
        the version and the VCS revision
  liaisond COMMAND -h
        the help of one command

Without -config, liaisond runs on its built-in default: data in ./liaisond-data,
SMTP on 127.0.0.1:2525, web on 127.0.0.1:8080, outgoing mail written as .eml
files into ./liaisond-data/sent/, and the demo directory of IETF bodies.
`

// run is the whole program; main and the end-to-end tests call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: exitUsage, err: errors.New("no command given")}
	}
	cmd, rest := args[0], args[1:]
	err := runCommand(ctx, cmd, rest, stdin, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func runCommand(ctx context.Context, cmd string, rest []string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "ingest":
		return cmdIngest(ctx, rest, stdin, stdout, stderr)
	case "list":
		return cmdList(ctx, rest, stdout, stderr)
	case "show":
		return cmdShow(ctx, rest, stdout, stderr)
	case "outbox":
		return cmdOutbox(ctx, rest, stdout, stderr)
	case "check":
		return cmdCheck(ctx, rest, stdout, stderr)
	case "tickle":
		return cmdTickle(ctx, rest, stdout, stderr)
	case "status":
		return cmdStatus(ctx, rest, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, stdout, stderr)
	case "version":
		return cmdVersion(rest, stdout, stderr)
	case "dkim-keygen":
		return cmdDKIMKeygen(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return exitf(exitUsage, "unknown command %q", cmd)
}
