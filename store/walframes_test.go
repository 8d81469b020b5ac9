package store

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// Where a submission's WAL frames go: which b-tree (table or index) each
// page a commit writes belongs to. go-sqlite3 compiles the dbstat virtual
// table in only with a build tag, so the pages are read here: the frames'
// page numbers from the WAL file, and the page-to-b-tree map by walking
// every b-tree of the database file from its root page in sqlite_master
// (https://sqlite.org/fileformat2.html).

// walFramesPerSubmission applies warm submissions, then measured ones
// (one per transaction, as BenchmarkSubmissionWAL), with checkpoints
// stopped so that the WAL only grows, and gives the frames the measured
// commits wrote per submission, by b-tree name.
func walFramesPerSubmission(t testing.TB, warm, measured int) map[string]float64 {
	s, path := openBench(t)
	s.stopCheckpointer()
	rng := rand.NewChaCha8([32]byte{3})
	for i := range warm {
		applyBenchGroup(t, s, []*benchSubmissionData{makeBenchSubmission(-1-i, rng, benchSubmissionParts{})})
	}
	subs := make([]*benchSubmissionData, measured)
	for i := range subs {
		subs[i] = makeBenchSubmission(i, rng, benchSubmissionParts{})
	}
	// Start from an empty WAL: its frames are then the measured commits'.
	if _, err := s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	for _, d := range subs {
		applyBenchGroup(t, s, []*benchSubmissionData{d})
	}
	pages := walFramePages(t, path+"-wal")
	// The pages' owners as the last commit left them: in the database file
	// once the WAL is copied in.
	if _, err := s.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	owner := pageOwners(t, s, path)
	perBtree := map[string]float64{}
	for _, p := range pages {
		name := owner[p]
		if name == "" {
			name = "(unknown)"
		}
		perBtree[name] += 1 / float64(measured)
	}
	return perBtree
}

// walFramePages is the page number of each frame of the WAL file at path.
func walFramePages(t testing.TB, path string) []uint32 {
	wal, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(wal) < 32 {
		t.Fatalf("WAL %s: %d bytes, no header", path, len(wal))
	}
	pageSize := int(binary.BigEndian.Uint32(wal[8:12]))
	var pages []uint32
	for off := 32; off+24+pageSize <= len(wal); off += 24 + pageSize {
		pages = append(pages, binary.BigEndian.Uint32(wal[off:off+4]))
	}
	return pages
}

// pageOwners maps each page of the database file at path to the name of
// the b-tree it belongs to (its overflow pages included), the freelist,
// or "(header+sqlite_schema)" for page 1.
func pageOwners(t testing.TB, s *Store, path string) map[uint32]string {
	db, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.BigEndian.Uint16(db[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	usable := pageSize - int(db[20])
	page := func(n uint32) []byte {
		if n == 0 || int(n)*pageSize > len(db) {
			t.Fatalf("page %d out of the file (%d bytes)", n, len(db))
		}
		return db[int(n-1)*pageSize : int(n)*pageSize]
	}
	owner := map[uint32]string{}
	var walk func(name string, n uint32)
	overflow := func(name string, n uint32) {
		for n != 0 {
			owner[n] = name
			n = binary.BigEndian.Uint32(page(n)[0:4])
		}
	}
	walk = func(name string, n uint32) {
		owner[n] = name
		p := page(n)
		hdr := 0
		if n == 1 {
			hdr = 100
		}
		kind := p[hdr]
		cells := int(binary.BigEndian.Uint16(p[hdr+3:]))
		ptrs := hdr + 8
		interior := kind == 0x02 || kind == 0x05
		if interior {
			ptrs = hdr + 12
			walk(name, binary.BigEndian.Uint32(p[hdr+8:]))
		}
		for i := range cells {
			c := int(binary.BigEndian.Uint16(p[ptrs+2*i:]))
			if interior {
				walk(name, binary.BigEndian.Uint32(p[c:]))
				c += 4
			}
			if kind == 0x05 { // table interior: a key, no payload
				continue
			}
			size, k := sqliteVarint(p[c:])
			c += k
			if kind == 0x0d { // table leaf: the rowid
				_, k = sqliteVarint(p[c:])
				c += k
			}
			maxLocal := (usable-12)*64/255 - 23
			if kind == 0x0d {
				maxLocal = usable - 35
			}
			if int(size) <= maxLocal {
				continue
			}
			minLocal := (usable-12)*32/255 - 23
			local := minLocal + (int(size)-minLocal)%(usable-4)
			if local > maxLocal {
				local = minLocal
			}
			overflow(name, binary.BigEndian.Uint32(p[c+local:]))
		}
	}
	rows, err := s.w.Query(`SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0`)
	if err != nil {
		t.Fatal(err)
	}
	type root struct {
		name string
		page uint32
	}
	var roots []root
	for rows.Next() {
		var r root
		if err := rows.Scan(&r.name, &r.page); err != nil {
			t.Fatal(err)
		}
		roots = append(roots, r)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	walk("(header+sqlite_schema)", 1)
	for _, r := range roots {
		walk(r.name, r.page)
	}
	// The freelist: trunk pages, each naming leaf pages.
	for trunk := binary.BigEndian.Uint32(db[32:36]); trunk != 0; {
		p := page(trunk)
		owner[trunk] = "(freelist)"
		for i := range int(binary.BigEndian.Uint32(p[4:8])) {
			owner[binary.BigEndian.Uint32(p[8+4*i:])] = "(freelist)"
		}
		trunk = binary.BigEndian.Uint32(p[0:4])
	}
	return owner
}

// sqliteVarint decodes SQLite's big-endian variable-length integer (1-9
// bytes) and gives its length.
func sqliteVarint(b []byte) (uint64, int) {
	var v uint64
	for i := range 8 {
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return v<<8 | uint64(b[8]), 9
}

// framesTable is perBtree as lines "name frames", most frames first, and
// the total.
func framesTable(perBtree map[string]float64) string {
	names := make([]string, 0, len(perBtree))
	total := 0.0
	for n, f := range perBtree {
		names = append(names, n)
		total += f
	}
	slices.SortFunc(names, func(a, b string) int {
		if perBtree[a] != perBtree[b] {
			if perBtree[a] > perBtree[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var sb strings.Builder
	for _, n := range names {
		fmt.Fprintf(&sb, "%-32s %6.2f\n", n, perBtree[n])
	}
	fmt.Fprintf(&sb, "%-32s %6.2f\n", "total", total)
	return sb.String()
}

// TestWALFramesByBtree prints, with -v, the frames a steady-state
// submission writes per b-tree (go test -run WALFramesByBtree -v ./store).
func TestWALFramesByBtree(t *testing.T) {
	perBtree := walFramesPerSubmission(t, 60, 20)
	t.Logf("WAL frames per submission, by b-tree:\n%s", framesTable(perBtree))
	if perBtree["(unknown)"] > 0 {
		t.Errorf("%.2f frames per submission on pages no b-tree owns", perBtree["(unknown)"])
	}
	// 0022: the attachment is a reference into the raw message, a row of a
	// few bytes; its 36 KB were nine more frames of blobs.
	if perBtree["blobs"] > 1.01 {
		t.Errorf("a submission writes %.2f frames to blobs, want at most 1 (the attachment by reference)", perBtree["blobs"])
	}
	// What the migrations since 0017 took out of a submission's writes.
	for _, gone := range []string{
		"statements_fts_segdir",     // 0017: one search index, not two
		"parties_fts_content",       // 0017
		"search_fts_stat",           // 0017: FTS3, without document totals
		"statements_open_incoming",  // 0018: the reminder scans use statements_state
		"sqlite_autoindex_pieces_1", // 0019: the raw message in message_raw, keyed by its id
		"statements_received",       // 0021: the rate counts through statements_state
	} {
		if perBtree[gone] > 0 {
			t.Errorf("a submission writes %.2f frames to %s", perBtree[gone], gone)
		}
	}
}
