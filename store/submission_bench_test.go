package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"liaisond/internal/benchmail"
)

// The cost of applying one submission inside the write lock, with what
// ingest and notify write for it (cmd/liaisond BenchmarkVersusMailpit's
// shape: a ~54 KB mail with a 36 KB attachment, a notification of 12
// personal copies and a receipt), on a file database at synchronous=FULL.

// benchSubmissionParts says what a benchmark submission includes; the WAL
// breakdown leaves parts out to see what each one costs.
type benchSubmissionParts struct {
	noRaw, noAttachment, noOutbox, noText bool
}

// benchSubmissionData is one submission's content, made before the timer runs.
type benchSubmissionData struct {
	msg    Message
	st     Statement
	data   SubmittedData
	outbox []OutboxMail
}

func makeBenchSubmission(i int, rng *rand.ChaCha8, parts benchSubmissionParts) *benchSubmissionData {
	att := make([]byte, 36*1024)
	rng.Read(att)
	sender := fmt.Sprintf("rapp%d@itu.example", i%50)
	var body strings.Builder
	if !parts.noText {
		body.WriteString(benchmail.Text())
	}
	var raw strings.Builder
	fmt.Fprintf(&raw, "From: Rapporteur <%s>\r\nTo: statements@liaison.example\r\nSubject: Bench LS %d\r\nMessage-ID: <bench-%d@itu.example>\r\n", sender, i, i)
	raw.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n--xx\r\nContent-Type: text/plain\r\n\r\n")
	raw.WriteString(body.String())
	raw.WriteString("--xx\r\nContent-Type: application/pdf; name=\"ls.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	attAt := RawRange{Offset: int64(raw.Len()), Encoding: "base64"}
	raw.WriteString(benchmail.Base64Lines(att))
	attAt.Length = int64(raw.Len()) - attAt.Offset - 2 // the line break before the delimiter is the delimiter's
	raw.WriteString("--xx--\r\n")
	rawBytes := []byte(raw.String())
	if parts.noRaw {
		rawBytes = []byte("x")
	}
	sum := sha256.Sum256(rawBytes)
	d := &benchSubmissionData{
		msg: Message{ReceivedAt: t0, Source: "smtp", MailFrom: sender, RcptTo: []string{"statements@liaison.example"},
			MessageID: fmt.Sprintf("bench-%d@itu.example", i), Identity: fmt.Sprintf("bench-%d@itu.example %x", i, sum[:8]),
			SHA256: hex.EncodeToString(sum[:]), Raw: rawBytes},
		st: Statement{Direction: Incoming, State: StateOpen, From: BodyRef{ID: "itu-t-sg15", Name: "ITU-T SG15"},
			To:    []BodyRef{{ID: "ccamp", Name: "IETF CCAMP WG"}, {ID: "mpls", Name: "MPLS WG"}},
			Title: fmt.Sprintf("Benchmark statement %d", i), Purpose: "action", Deadline: "2027-01-31",
			Submitter: sender, Assignee: "ad@ietf.example", Body: body.String(),
			ResponseContacts:  []Contact{{Name: "Rapporteur", Addr: sender}},
			TechnicalContacts: []Contact{{Addr: "expert@vendor.example"}},
			Cc:                []Contact{{Name: "Chair", Addr: "chair@itu.example"}}[:(i & 1)]},
		data: SubmittedData{Warnings: []string{"the attachment ls.pdf is a PDF; RFC 4053 2.2.1.2 asks for formats everyone can read"}},
	}
	if !parts.noAttachment {
		// As ingest makes it, before the transaction: hashed, and kept as a
		// reference into the raw message (blobref.go).
		a := Attachment{Name: "ls.pdf", ContentType: "application/pdf", Data: att, SHA256: SHA256Hex(att)}
		if !parts.noRaw {
			if dec, err := DecodeTransfer(attAt.Encoding, rawBytes[attAt.Offset:attAt.Offset+attAt.Length]); err != nil || !bytes.Equal(dec, att) {
				panic(fmt.Sprintf("bench attachment range: %v", err))
			}
			a.Ref = &attAt
		}
		d.st.Attachments = []Attachment{a}
	}
	if !parts.noOutbox {
		letters := func(n int) []byte { return benchLetters(rng, n) }
		// The notification's 12 copies share their bytes but for three
		// values each, as notify renders them (SharedParts); the receipt
		// is one mail, whole.
		shared := &SharedParts{Parts: [][]byte{letters(300), letters(4500), letters(200), letters(120)}}
		for k := range 13 {
			m := OutboxMail{Kind: "notification", EnvelopeFrom: "bounces@liaison.example",
				Rcpt: fmt.Sprintf("person%d@ietf.example", k), From: "statements@liaison.example", To: []string{"ccamp@ietf.example", "mpls@ietf.example"},
				Cc: []string{"chair@itu.example", sender}, Subject: fmt.Sprintf("New liaison statement LS-%d: Benchmark statement", i),
				MessageID: fmt.Sprintf("ls-%d-%d@liaison.example", i, k), CreatedAt: t0}
			if k == 12 {
				m.Kind, m.To, m.Raw = "receipt", []string{sender}, letters(5*1024)
			} else {
				m.Shared, m.Fill = shared, [][]byte{letters(40), letters(40), letters(60)}
			}
			d.outbox = append(d.outbox, m)
		}
	}
	return d
}

// applyBenchSubmission writes what ingest.submission and notify's
// composition of its submitted event write and read for one message.
func applyBenchSubmission(tx *Tx, d *benchSubmissionData) error {
	msg := d.msg
	id, dup, err := tx.InsertMessage(&msg)
	if err != nil || dup {
		return fmt.Errorf("insert message (dup %v): %w", dup, err)
	}
	// No StatementsSince: the rates are off, as in BenchmarkVersusMailpit
	// (with a fixed clock they would count every statement).
	since := tx.Now().Add(-time.Hour)
	st := d.st
	st.MessageID, st.ReceivedAt, st.ThreadID = id, tx.Now(), fmt.Sprintf("ls-%d@liaison.example", id)
	st.Attachments = append([]Attachment(nil), d.st.Attachments...)
	if err := tx.InsertStatement(&st); err != nil {
		return err
	}
	if _, err := tx.StatementsFromMessageID(msg.MessageID, id); err != nil {
		return err
	}
	ev := &Event{StatementID: st.ID, MessageID: id, Type: EventSubmitted, By: msg.MailFrom,
		Text: fmt.Sprintf("%s statement from %s: %s", st.Direction, st.From.Name, st.Title)}
	if err := ev.SetData(d.data); err != nil {
		return err
	}
	if err := tx.InsertEvent(ev); err != nil {
		return err
	}
	if err := tx.SetMessageState(id, "submission", MessageProcessed, ""); err != nil {
		return err
	}
	// notify composes from the statement as stored, and limits answers.
	if _, err := tx.Statement(st.ID); err != nil {
		return err
	}
	if _, err := tx.RepliesSince(msg.MailFrom, AnswerKinds, since); err != nil {
		return err
	}
	// The copies of the notification and the receipt in one call, as
	// notify queues a submission's mails (Composer.QueuePrepared).
	var mails []*OutboxMail
	for k := range d.outbox {
		m := d.outbox[k]
		m.StatementID, m.EventID = st.ID, ev.ID
		mails = append(mails, &m)
	}
	return tx.InsertOutboxMany(mails)
}

func openBench(b testing.TB) (*Store, string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	s.SetClock(func() time.Time { return t0 })
	b.Cleanup(func() { s.Close() })
	// Search indexing is measured apart (0026): the indexer would run
	// between the measured transactions, which no group commit holds off.
	s.stopIndexer()
	return s, path
}

// applyBenchGroup commits subs in one transaction the way group commit
// does (store.runBatch: a savepoint per member; then the fsync).
func applyBenchGroup(b testing.TB, s *Store, subs []*benchSubmissionData) {
	if len(subs) == 1 {
		if err := s.Update(context.Background(), func(tx *Tx) error { return applyBenchSubmission(tx, subs[0]) }); err != nil {
			b.Fatal(err)
		}
		return
	}
	batch := make([]*groupMember, len(subs))
	for i, d := range subs {
		batch[i] = &groupMember{ctx: context.Background(), fn: func(tx *Tx) error { return applyBenchSubmission(tx, d) }, done: make(chan error, 1), taken: true}
	}
	s.reportOnDisk(s.runBatch(batch))
	for _, m := range batch {
		if err := <-m.done; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplySubmission is the write transaction of one submission (1
// per transaction) and of group commit's shared ones (4 per transaction);
// it reports µs per submission and the WAL bytes each one appends.
func BenchmarkApplySubmission(b *testing.B) {
	for _, perTx := range []int{1, 4} {
		b.Run(fmt.Sprintf("perTx=%d", perTx), func(b *testing.B) {
			s, _ := openBench(b)
			rng := rand.NewChaCha8([32]byte{1, byte(perTx)})
			// Some rows first, so that the tables and indexes are not tiny.
			for i := range 20 {
				applyBenchGroup(b, s, []*benchSubmissionData{makeBenchSubmission(-1-i, rng, benchSubmissionParts{})})
			}
			n := (b.N + perTx - 1) / perTx * perTx // ns/op is per submission
			subs := make([]*benchSubmissionData, n)
			for i := range subs {
				subs[i] = makeBenchSubmission(i, rng, benchSubmissionParts{})
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < n; i += perTx {
				applyBenchGroup(b, s, subs[i:i+perTx])
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/submission")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n), "cpu-µs/submission")
			// The search index entries, written after the transactions
			// (0026), 200 statements at a time as the indexer does.
			cpu = cpuTime()
			if err := s.IndexPending(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n), "index-cpu-µs/statement")
			wal, indexWAL := walBytesPerSubmission(b, perTx, benchSubmissionParts{})
			b.ReportMetric(wal, "WAL-B/submission")
			b.ReportMetric(indexWAL, "index-WAL-B/statement")
		})
	}
}

// walBytesPerSubmission is the WAL growth per submission, in a store whose
// checkpoints are stopped (so the WAL only grows), after a warm-up; and
// then that of indexing the measured statements for search (0026), per
// statement.
func walBytesPerSubmission(b *testing.B, perTx int, parts benchSubmissionParts) (submission, index float64) {
	s, path := openBench(b)
	s.stopCheckpointer()
	rng := rand.NewChaCha8([32]byte{2})
	const warm, measured = 20, 40
	for i := range warm {
		applyBenchGroup(b, s, []*benchSubmissionData{makeBenchSubmission(-1-i, rng, parts)})
	}
	subs := make([]*benchSubmissionData, measured)
	for i := range subs {
		subs[i] = makeBenchSubmission(i, rng, parts)
	}
	if err := s.IndexPending(context.Background()); err != nil {
		b.Fatal(err)
	}
	before := fileSize(b, path+"-wal")
	for i := 0; i < measured; i += perTx {
		applyBenchGroup(b, s, subs[i:i+perTx])
	}
	applied := fileSize(b, path+"-wal")
	if err := s.IndexPending(context.Background()); err != nil {
		b.Fatal(err)
	}
	return float64(applied-before) / measured, float64(fileSize(b, path+"-wal")-applied) / measured
}

// cpuTime is the CPU time the calling thread used so far, user and system
// (the kernel's work for its writes and fsyncs counts; the background
// checkpointer's does not). The caller locks its goroutine to its thread.
func cpuTime() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fileSize(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkSubmissionWAL says which bytes dominate the WAL: the WAL bytes
// per submission with each part left out (the raw message, the
// attachment, the outbox copies, the text the FTS index holds), one
// submission per transaction.
func BenchmarkSubmissionWAL(b *testing.B) {
	for _, c := range []struct {
		name  string
		parts benchSubmissionParts
	}{
		{"all", benchSubmissionParts{}},
		{"noRaw", benchSubmissionParts{noRaw: true}},
		{"noAttachment", benchSubmissionParts{noAttachment: true}},
		{"noOutbox", benchSubmissionParts{noOutbox: true}},
		{"noText", benchSubmissionParts{noText: true}},
		{"nothing", benchSubmissionParts{noRaw: true, noAttachment: true, noOutbox: true, noText: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var wal, index float64
			for range b.N {
				wal, index = walBytesPerSubmission(b, 1, c.parts)
			}
			b.ReportMetric(wal, "WAL-B/submission")
			b.ReportMetric(index, "index-WAL-B/statement")
		})
	}
}

// BenchmarkInsertOutboxCopies is InsertOutboxMany for a notification as
// notify queues it (12 copies in 4 groups of shared parts, 4 values each),
// in a group-commit transaction; insert-µs/op is the time inside
// InsertOutboxMany alone, which runs under the write lock.
func BenchmarkInsertOutboxCopies(b *testing.B) {
	s, _ := openBench(b)
	rng := rand.NewChaCha8([32]byte{7})
	letters := func(n int) []byte { return benchLetters(rng, n) }
	notification := func(i int) []*OutboxMail {
		var groups [4]*SharedParts
		for g := range groups {
			groups[g] = &SharedParts{Parts: [][]byte{letters(300), letters(2000), letters(200), letters(120), letters(30)}}
		}
		var copies []*OutboxMail
		for k := range 12 {
			copies = append(copies, &OutboxMail{Kind: "notification", EnvelopeFrom: "bounces@liaison.example",
				Rcpt: fmt.Sprintf("person%d@ietf.example", k), From: "statements@liaison.example", To: []string{"ccamp@ietf.example", "mpls@ietf.example"},
				Cc: []string{"chair@itu.example", "rapp@itu.example"}, Subject: fmt.Sprintf("[LS-%d] New liaison statement: Benchmark statement", i),
				MessageID: fmt.Sprintf("notification.%016x%s@liaison.example", i*16+k, letters(16)), CreatedAt: t0,
				Shared: groups[k%4], Fill: [][]byte{letters(40), letters(40), letters(60), letters(50)}})
		}
		return copies
	}
	var inside time.Duration
	n := 0
	for b.Loop() {
		copies := notification(n)
		n++
		err := s.UpdateGrouped(context.Background(), func(tx *Tx) error {
			start := time.Now()
			err := tx.InsertOutboxMany(copies)
			inside += time.Since(start)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(inside.Microseconds())/float64(n), "insert-µs/op")
}

// benchLetters is n random lower-case letters: text that neither
// compresses nor needs encoding.
func benchLetters(rng *rand.ChaCha8, n int) []byte {
	b := make([]byte, n)
	rng.Read(b)
	for j, c := range b {
		b[j] = 'a' + c%26
	}
	return b
}
