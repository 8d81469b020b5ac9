package smtp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

type EnhancedCode [3]int

// SMTPError specifies the error code, enhanced error code (if any) and
// message returned by the server.
type SMTPError struct {
	Code         int
	EnhancedCode EnhancedCode
	Message      string
}

// NoEnhancedCode is used to indicate that enhanced error code should not be
// included in response.
//
// Note that RFC 2034 requires an enhanced code to be included in all 2xx, 4xx
// and 5xx responses. This constant is exported for use by extensions, you
// should probably use EnhancedCodeNotSet instead.
var NoEnhancedCode = EnhancedCode{-1, -1, -1}

// EnhancedCodeNotSet is a nil value of EnhancedCode field in SMTPError, used
// to indicate that backend failed to provide enhanced status code. X.0.0 will
// be used (X is derived from error code).
var EnhancedCodeNotSet = EnhancedCode{0, 0, 0}

func (err *SMTPError) Error() string {
	s := fmt.Sprintf("SMTP error %03d", err.Code)
	if err.Message != "" {
		s += ": " + err.Message
	}
	return s
}

func (err *SMTPError) Temporary() bool {
	return err.Code/100 == 4
}

var ErrDataTooLarge = &SMTPError{
	Code:         552,
	EnhancedCode: EnhancedCode{5, 3, 4},
	Message:      "Maximum message size exceeded",
}

type dataReader struct {
	r     *bufio.Reader
	state int

	limited bool
	n       int64 // Maximum bytes remaining
}

func newDataReader(c *Conn) *dataReader {
	dr := &dataReader{
		r: c.text.R,
	}

	if c.server.MaxMessageBytes > 0 {
		dr.limited = true
		dr.n = int64(c.server.MaxMessageBytes)
	}

	return dr
}

// States of dataReader, which elides leading dots and detects the
// End-of-Data (<CR><LF>.<CR><LF>) line. The machine is net/textproto's
// dotReader with one modification: CRLF is not rewritten to LF.
const (
	stateBeginLine = iota // beginning of line; initial state; must be zero
	stateDot              // read . at beginning of line
	stateDotCR            // read .\r at beginning of line
	stateCR               // read \r (possibly at end of line)
	stateData             // reading data in middle of line
	stateEOF              // reached .\r\n end marker line
)

// Read works on the bufio.Reader's buffered bytes rather than one ReadByte
// at a time (liaisond patch, see PATCHES.md; upstream PR #312): in
// stateData, runs of bytes that cannot change what the state machine does
// are found with bytes.IndexByte and copied at once; only the bytes at the
// start of a line and around a CR go through the per-byte switch. Results,
// errors, the state kept between calls and the position the bufio.Reader is
// left at are exactly those of the byte-at-a-time machine, including that a
// call only returns early at the end marker or on an error.
func (r *dataReader) Read(b []byte) (n int, err error) {
	if r.limited {
		if r.n <= 0 {
			return 0, ErrDataTooLarge
		}
		if int64(len(b)) > r.n {
			b = b[0:r.n]
		}
	}

	for n < len(b) && r.state != stateEOF {
		// Wait for at least one byte, as ReadByte would.
		if _, err = r.r.Peek(1); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			break
		}
		buf, _ := r.r.Peek(r.r.Buffered())
		i := 0 // bytes of buf consumed
		for i < len(buf) && n < len(b) && r.state != stateEOF {
			if r.state == stateData {
				run := buf[i:]
				if room := len(b) - n; len(run) > room {
					run = run[:room]
				}
				k, state := scanData(run)
				n += copy(b[n:], run[:k])
				i += k
				r.state = state
				continue
			}
			c := buf[i]
			i++
			switch r.state {
			case stateBeginLine:
				if c == '.' {
					r.state = stateDot
					continue
				}
				if c == '\r' {
					r.state = stateCR
					break
				}
				r.state = stateData
			case stateDot:
				if c == '\r' {
					r.state = stateDotCR
					continue
				}
				r.state = stateData
			case stateDotCR:
				if c == '\n' {
					r.state = stateEOF
					continue
				}
				r.state = stateData
			case stateCR:
				if c == '\n' {
					r.state = stateBeginLine
					break
				}
				r.state = stateData
			}
			b[n] = c
			n++
		}
		r.r.Discard(i)
	}
	if err == nil && r.state == stateEOF {
		err = io.EOF
	}

	if r.limited {
		r.n -= int64(n)
	}
	return
}

// scanData returns how many bytes at the start of p, read in stateData, the
// state machine passes through unchanged, and the state after them. Only a
// CR can leave stateData: "\r\n" followed by anything but '.' or '\r' puts
// the machine back in stateData, and so does CR followed by any byte but LF
// (even a second CR: the machine goes from stateCR to stateData on it). The
// scan stops before a '.' or CR that starts a line, or at a CR or CRLF at
// the end of p, leaving those to the per-byte switch. It never returns 0
// for a non-empty p.
func scanData(p []byte) (int, int) {
	i := 0
	for {
		j := bytes.IndexByte(p[i:], '\r')
		if j < 0 {
			return len(p), stateData
		}
		j += i // p[j] == '\r'
		if j+1 == len(p) {
			return j + 1, stateCR
		}
		if p[j+1] != '\n' {
			i = j + 2
			continue
		}
		if j+2 == len(p) {
			return j + 2, stateBeginLine
		}
		if c := p[j+2]; c == '.' || c == '\r' {
			return j + 2, stateBeginLine
		}
		i = j + 3
	}
}
