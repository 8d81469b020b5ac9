package main

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLMTPSlowData: the LMTP listener has the same whole-transaction
// deadline as SMTP (smtp.data_timeout): an MTA that drips its DATA is cut
// off with 421 and nothing is stored.
func TestLMTPSlowData(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	d := startDaemonWith(t, "", "", "timeout = \"1m\"\ndata_timeout = \"2s\"", fmt.Sprintf("[lmtp]\nsocket = %q\n", sock))
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	expectDripCutOff(t, d, c, "LHLO")
}

// TestLMTPConnectionCap: smtp.max_connections caps the LMTP connections
// too; one over the cap is told 421 and closed.
func TestLMTPConnectionCap(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	startDaemonWith(t, "", "", "max_connections = 2", fmt.Sprintf("[lmtp]\nsocket = %q\n", sock))
	greet := func() (net.Conn, string) {
		t.Helper()
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return c, line
	}
	c1, l1 := greet()
	defer c1.Close()
	c2, l2 := greet()
	defer c2.Close()
	c3, l3 := greet()
	c3.Close()
	if !strings.HasPrefix(l1, "220") || !strings.HasPrefix(l2, "220") {
		t.Errorf("first two: %q %q", l1, l2)
	}
	if !strings.HasPrefix(l3, "421 4.7.0") {
		t.Errorf("third connection: %q, want 421", l3)
	}
}
