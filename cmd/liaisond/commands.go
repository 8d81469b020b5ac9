package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"liaisond/ingest"
	"liaisond/store"
)

// cmdIngest processes messages handed over by an MTA pipe or by hand.
// Exit: 0 all done (a refused command mail too: we answered it), 65 a
// submission was rejected (stored, sender told),
// 75 something could not be stored (the MTA retries).
func cmdIngest(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var sender, rcpt string
	var noSend bool
	cfg, fs, err := parseFlags("ingest", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&sender, "f", "", "envelope sender, as an MTA passes it (e.g. ${sender})")
		fs.StringVar(&rcpt, "r", "", "envelope recipient, as an MTA passes it (e.g. ${recipient})")
		fs.BoolVar(&noSend, "no-send", false, "only queue the mails it causes; liaisond serve sends them later")
	})
	if err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		return exitf(exitUsage, "ingest: name the message files, or - for standard input")
	}
	log := newLogger(cfg, stderr)
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	env := ingest.Envelope{Source: "pipe", MailFrom: sender, Known: sender != "" || rcpt != ""}
	if rcpt != "" {
		env.Rcpt = []string{rcpt}
	}
	worst := exitOK
	for _, f := range files {
		var raw []byte
		if f == "-" {
			raw, err = io.ReadAll(io.LimitReader(stdin, cfg.SMTP.MaxMessageBytes+1))
		} else {
			raw, err = os.ReadFile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "liaisond: %s: %v\n", f, err)
			worst = max(worst, exitTempFail)
			continue
		}
		if int64(len(raw)) > cfg.SMTP.MaxMessageBytes {
			fmt.Fprintf(stderr, "liaisond: %s: message of %d bytes is over smtp.max_message_bytes (%d); not stored\n", f, len(raw), cfg.SMTP.MaxMessageBytes)
			worst = max(worst, exitDataErr)
			continue
		}
		res, err := a.processor.Receive(ctx, env, raw)
		if err != nil {
			fmt.Fprintf(stderr, "liaisond: %s: %v\n", f, err)
			worst = max(worst, exitTempFail)
			continue
		}
		fmt.Fprintln(stdout, describe(f, res))
		// 65 makes the MTA bounce the mail too: only for a submission kept
		// as rejected. A refused command mail was answered by us already;
		// a bounce on top would be backscatter to a possibly forged sender.
		if res.State == store.MessageRejected && res.Class == ingest.ClassSubmission {
			worst = max(worst, exitDataErr)
		}
	}
	if !noSend {
		// Deliver what was queued, within a bounded time: what is left stays
		// queued for `liaisond serve`.
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		n, err := a.sender.Flush(sctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			log.Warn("some mail stays queued for `liaisond serve`", "err", err)
		}
		if n > 0 {
			fmt.Fprintf(stdout, "%d mail(s) sent\n", n)
		}
	}
	if worst == exitOK {
		return nil
	}
	return &exitError{code: worst, err: errors.New("")}
}

func describe(name string, res ingest.Result) string {
	switch {
	case res.Duplicate:
		return fmt.Sprintf("%s: already received as message %d; nothing changed", name, res.MessageID)
	case res.Statement != 0:
		return fmt.Sprintf("%s: stored as message %d: LS-%d", name, res.MessageID, res.Statement)
	case res.State == store.MessageRejected:
		return fmt.Sprintf("%s: stored as message %d: rejected, the sender is told why:\n  %s", name, res.MessageID, strings.Join(res.Problems, "\n  "))
	}
	return fmt.Sprintf("%s: stored as message %d: %s %s", name, res.MessageID, res.Class, res.State)
}

func cmdList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var asJSON bool
	var state string
	cfg, _, err := parseFlags("list", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON (DESIGN 9)")
		fs.StringVar(&state, "state", "all", "open, closed, pending, held or all")
	})
	if err != nil {
		return err
	}
	filter := store.Query{Limit: -1} // all, newest first
	switch state {
	case "all":
	case store.StateOpen, store.StateClosed, store.StatePending, store.StateHeld:
		filter.States = []string{state}
	default:
		return exitf(exitUsage, "list: -state %q: use open, closed, pending, held or all", state)
	}
	s, err := openStoreOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	var list []*store.Statement
	if err := s.View(ctx, func(tx *store.Tx) error {
		list, _, err = tx.Find(filter)
		return err
	}); err != nil {
		return exitf(exitTempFail, "list: %v", err)
	}
	if asJSON {
		out := make([]store.StatementJSON, 0, len(list))
		for _, st := range list {
			out = append(out, st.JSON(false))
		}
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REF\tSTATE\tRECEIVED\tPURPOSE\tDEADLINE\tFROM\tTITLE")
	for _, st := range list {
		dl := st.Deadline
		if dl == "" {
			dl = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st.Ref(), st.State, st.ReceivedAt.Format("2006-01-02"), st.Purpose, dl,
			clip(st.From.Name, 30), clip(st.Title, 60))
	}
	tw.Flush()
	if len(list) == 0 {
		fmt.Fprintln(stdout, "(no statements)")
	}
	return nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func parseRef(s string) (int64, bool) {
	s = strings.TrimSpace(strings.ToUpper(s))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "LS-"), "LS")
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func cmdShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var asJSON bool
	cfg, fs, err := parseFlags("show", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON (DESIGN 9)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return exitf(exitUsage, "show: name one statement, e.g. `liaisond show LS-42`")
	}
	id, ok := parseRef(fs.Arg(0))
	if !ok {
		return exitf(exitUsage, "show: %q is not a statement reference; write LS-42 or 42", fs.Arg(0))
	}
	s, err := openStoreOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	var st *store.Statement
	err = s.View(ctx, func(tx *store.Tx) error {
		st, err = tx.Statement(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return exitf(exitDataErr, "show: there is no LS-%d (`liaisond list` shows the statements)", id)
	}
	if err != nil {
		return exitf(exitTempFail, "show: %v", err)
	}
	if asJSON {
		return printJSON(stdout, st.JSON(true))
	}
	printStatement(stdout, st)
	return nil
}

func printStatement(w io.Writer, st *store.Statement) {
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	var to []string
	for _, b := range st.To {
		if st.Unmatched(b) {
			to = append(to, b.Name+" (not in the directory)")
			continue
		}
		to = append(to, b.Name)
	}
	line("Reference", st.Ref())
	line("Title", st.Title)
	line("Direction", st.Direction)
	line("State", st.State)
	line("From", st.From.Name)
	line("To", strings.Join(to, ", "))
	line("Purpose", st.Purpose)
	line("Deadline", st.Deadline)
	line("Submitter", st.Submitter)
	line("Assignee", st.Assignee)
	line("Response contacts", strings.Join(contactAddrs(st.ResponseContacts), ", "))
	line("Technical contacts", strings.Join(contactAddrs(st.TechnicalContacts), ", "))
	line("Cc", strings.Join(contactAddrs(st.Cc), ", "))
	line("Received", st.ReceivedAt.Format(time.RFC3339))
	if st.RepliedAt != nil {
		line("Replied", st.RepliedAt.Format("2006-01-02"))
	}
	if st.ClosedAt != nil {
		line("Closed", st.ClosedAt.Format("2006-01-02"))
	}
	line("URLs", strings.Join(st.URLs, " "))
	for _, f := range st.Other {
		line(f.Name, f.Value)
	}
	tw.Flush()
	if len(st.Attachments) > 0 {
		fmt.Fprintln(w, "\nAttachments:")
		for _, a := range st.Attachments {
			fmt.Fprintf(w, "  %d. %s (%s, %d bytes)\n", a.Pos, a.Name, a.ContentType, a.Size)
		}
	}
	if len(st.Related) > 0 {
		fmt.Fprintln(w, "\nRelated:")
		for _, r := range st.Related {
			fmt.Fprintf(w, "  %s LS-%d\n", r.Relation, r.Ref)
		}
	}
	fmt.Fprintf(w, "\n%s\n", st.Body)
	if len(st.Events) > 0 {
		fmt.Fprintln(w, "\nHistory:")
		for _, ev := range st.Events {
			fmt.Fprintf(w, "  %s  %-16s %s  %s\n", ev.At.Format("2006-01-02 15:04"), ev.Type, ev.By, ev.Text)
		}
	}
}

func contactAddrs(cs []store.Contact) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Addr)
	}
	return out
}

func cmdOutbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var asJSON bool
	cfg, _, err := parseFlags("outbox", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON (DESIGN 9)")
	})
	if err != nil {
		return err
	}
	s, err := openStoreOnly(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	var list []*store.OutboxMail
	if err := s.View(ctx, func(tx *store.Tx) error {
		list, err = tx.Outbox(store.OutboxFilter{})
		return err
	}); err != nil {
		return exitf(exitTempFail, "outbox: %v", err)
	}
	if asJSON {
		out := make([]store.OutboxJSON, 0, len(list))
		for _, m := range list {
			out = append(out, m.JSON())
		}
		return printJSON(stdout, out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREF\tKIND\tSTATE\tTRIES\tRECIPIENT\tSUBJECT")
	for _, m := range list {
		ref := "-"
		if m.StatementID != 0 {
			ref = fmt.Sprintf("LS-%d", m.StatementID)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", m.ID, ref, m.Kind, m.State, m.Attempts, m.Rcpt, clip(m.Subject, 60))
	}
	tw.Flush()
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
