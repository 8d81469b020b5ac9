package web

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"liaisond/store"
	"liaisond/templates"
)

var benchWords = strings.Fields(`optical transport network control plane wavelength switching timing synchronization
	packet clock precision bridging ethernet segment routing multiprotocol label path computation element resource
	reservation traffic engineering protection restoration alarm management yang model telemetry interface
	latency jitter deterministic networking radio access fronthaul backhaul slicing orchestration security
	authentication privacy quantum satellite vehicle energy efficiency measurement performance monitoring`)

var benchBodies = []store.BodyRef{
	{ID: "itu-t-sg15", Name: "ITU-T Study Group 15"}, {ID: "itu-t-sg13", Name: "ITU-T Study Group 13"},
	{ID: "3gpp-sa2", Name: "3GPP SA2"}, {ID: "ieee-802-1", Name: "IEEE 802.1"}, {ID: "etsi-nfv", Name: "ETSI NFV"},
	{ID: "bbf", Name: "Broadband Forum"}, {ID: "mef", Name: "MEF"},
}

var benchIETF = []store.BodyRef{
	{ID: "ccamp", Name: "IETF CCAMP Working Group"}, {ID: "mpls", Name: "IETF MPLS Working Group"},
	{ID: "tsvwg", Name: "IETF TSVWG"}, {ID: "detnet", Name: "IETF DetNet Working Group"}, {ID: "rtg", Name: "IETF Routing Area"},
	{ID: "ops", Name: "IETF Operations and Management Area"}, {ID: "iesg", Name: "IESG"}, {ID: "iab", Name: "IAB"},
}

// benchVocab is the technical words plus 5,000 made-up ones; texts draw
// from it by a Zipf law, as natural text does.
var benchVocab = func() []string {
	v := append([]string{}, benchWords...)
	syl := strings.Fields("ka lo mi nu pe ra si to vu xe ba de fi go hu ja ke li mo ny")
	for i := 0; len(v) < 5000+len(benchWords); i++ {
		v = append(v, syl[i%20]+syl[(i/20)%20]+syl[(i/400)%20]+fmt.Sprint(i/8000))
	}
	return v
}()

func benchText(z *rand.Zipf, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = benchVocab[z.Uint64()]
	}
	return strings.Join(w, " ")
}

// fillBench stores n statements through the store's own insert (so the
// full-text triggers and indexes do their real work), 5,000 a transaction.
func fillBench(b *testing.B, s *store.Store, n int, now time.Time) {
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 2, uint64(len(benchVocab)-1))
	const batch = 5000
	for start := 0; start < n; start += batch {
		err := s.Update(context.Background(), func(tx *store.Tx) error {
			for i := start; i < min(start+batch, n); i++ {
				sdo, ietf := benchBodies[r.IntN(len(benchBodies))], benchIETF[r.IntN(len(benchIETF))]
				st := &store.Statement{Direction: store.Incoming, From: sdo, To: []store.BodyRef{ietf, benchIETF[r.IntN(len(benchIETF))]}}
				if r.IntN(4) == 0 {
					st.Direction, st.From, st.To = store.Outgoing, ietf, []store.BodyRef{sdo}
				}
				age := time.Duration(n-i) * 5 * time.Minute // the newest last, about a year back
				st.ReceivedAt = now.Add(-age)
				switch x := r.IntN(10); {
				case x < 6:
					st.State = store.StateClosed
					t := st.ReceivedAt.Add(30 * 24 * time.Hour)
					st.ClosedAt = &t
				case x < 9:
					st.State = store.StateOpen
				default:
					st.State = store.StatePending
				}
				st.Purpose = []string{"information", "comment", "action", "response"}[r.IntN(4)]
				if st.Purpose == "comment" || st.Purpose == "action" {
					st.Deadline = st.ReceivedAt.Add(time.Duration(30+r.IntN(90)) * 24 * time.Hour).Format("2006-01-02")
				}
				st.Title = "LS on " + benchText(z, 4)
				st.Body = "Dear colleagues,\n\n" + benchText(z, 150) + "\n\nBest regards,\nthe rapporteur"
				who := fmt.Sprintf("rapporteur%d@sdo%d.example", r.IntN(5000), r.IntN(50))
				st.Submitter, st.Assignee = who, fmt.Sprintf("chair%d@ietf.example", r.IntN(200))
				st.ResponseContacts = []store.Contact{{Name: "Rapporteur", Addr: who}}
				st.TechnicalContacts = []store.Contact{{Name: fmt.Sprintf("Expert %d", r.IntN(10000)), Addr: fmt.Sprintf("expert%d@vendor.example", r.IntN(10000))}}
				if i%10 == 0 {
					st.Attachments = []store.Attachment{{Name: fmt.Sprintf("LS-%d.pdf", i), ContentType: "application/pdf", Data: []byte(fmt.Sprintf("%%PDF-1.4 statement %d", i))}}
				}
				if err := tx.InsertStatement(st); err != nil {
					return err
				}
				if err := tx.InsertEvent(&store.Event{StatementID: st.ID, At: st.ReceivedAt, Type: store.EventSubmitted, By: who, Text: st.Title}); err != nil {
					return err
				}
				if i > 0 && r.IntN(5) == 0 {
					if err := tx.AddRelation(st.ID, st.ID-int64(1+r.IntN(min(i, 50))), store.RelRepliesTo); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWeb100k fills a database with 100,000 statements and reports the
// latency (p50, p99) of the pages as a browser gets them over HTTP, and the
// size of the database.
func BenchmarkWeb100k(b *testing.B) {
	const n, requests = 100000, 300
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(b.TempDir(), "bench.db")
	reuse := false
	if p := os.Getenv("LIAISOND_BENCH_DB"); p != "" { // keep the filled database for another run
		_, err := os.Stat(p)
		path, reuse = p, err == nil
	}
	s, err := store.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Now()
	if !reuse {
		fillBench(b, s, n, now)
	}
	fill := time.Since(t0)
	h, err := New(Options{Store: s, Now: func() time.Time { return now }, PublicURL: "http://bench.example", Templates: templates.Web()})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	size := int64(0)
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(path + suffix); err == nil {
			size += fi.Size()
		}
	}
	if !reuse {
		fmt.Printf("web: %d statements stored in %.1fs (%.0f/s, with the full-text index); database %.1f MB\n",
			n, fill.Seconds(), n/fill.Seconds(), float64(size)/(1<<20))
	}
	r := rand.New(rand.NewPCG(3, 4))
	zq := rand.NewZipf(r, 1.1, 2, uint64(len(benchVocab)-1))
	pages := []struct {
		name string
		path func() string
	}{
		{"/", func() string { return "/" }},
		{"/outstanding", func() string { return "/outstanding" }},
		{"search (1 word)", func() string { return "/?q=" + benchVocab[zq.Uint64()] }},
		{"search (2 words)", func() string { return "/?q=" + benchVocab[zq.Uint64()] + "+" + benchVocab[zq.Uint64()] }},
		{"/ls/N", func() string { return fmt.Sprintf("/ls/%d", publicStatement(b, s, r, n)) }},
		{"/archive?page=200", func() string { return "/archive?page=200" }},
		{"/api/statements", func() string { return "/api/statements?state=open&sort=deadline" }},
	}
	client := srv.Client()
	for range b.N {
		for _, p := range pages {
			lat := make([]time.Duration, requests)
			for i := range lat {
				url := srv.URL + p.path()
				start := time.Now()
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(start)
				if resp.StatusCode != 200 {
					b.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			p50, p99 := lat[requests/2], lat[requests*99/100]
			fmt.Printf("web: GET %-18s p50 %6.2f ms  p99 %6.2f ms  (%d requests, 100k statements)\n", p.name, ms(p50), ms(p99), requests)
			b.ReportMetric(ms(p99), strings.NewReplacer("/", "", "?", "-", "=", "", " ", "-", "(", "", ")", "").Replace(p.name)+"-p99-ms")
		}
	}
	b.ReportMetric(float64(size)/(1<<20), "db-MB")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// publicStatement picks a statement the public pages show (one pending
// confirmation or approval is a 404 to the public, issue 12).
func publicStatement(b *testing.B, s *store.Store, r *rand.Rand, n int) int64 {
	for {
		id := int64(1 + r.IntN(n))
		var st *store.Statement
		if err := s.View(context.Background(), func(tx *store.Tx) (err error) { st, err = tx.Statement(id); return err }); err != nil {
			b.Fatal(err)
		}
		if isPublic(st.State) {
			return id
		}
	}
}
