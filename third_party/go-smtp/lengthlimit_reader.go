package smtp

import (
	"bytes"
	"errors"
	"io"
)

var ErrTooLongLine = errors.New("smtp: too long a line in input stream")

// lineLimitReader reads from the underlying Reader but restricts
// line length of lines in input stream to a certain length.
//
// If line length exceeds the limit - Read returns ErrTooLongLine
type lineLimitReader struct {
	R         io.Reader
	LineLimit int

	curLineLength int
}

func (r *lineLimitReader) Read(b []byte) (int, error) {
	if r.curLineLength > r.LineLimit && r.LineLimit > 0 {
		return 0, ErrTooLongLine
	}

	n, err := r.R.Read(b)
	if err != nil {
		return n, err
	}

	if r.LineLimit == 0 {
		return n, nil
	}

	// Counting as a byte-at-a-time loop would: a '\n' starts a new line and
	// is its first byte. Newlines are found with bytes.IndexByte (liaisond
	// patch, see PATCHES.md). On error, curLineLength is the count at the
	// first byte over the limit, and the data read is not returned.
	cur := r.curLineLength
	rest := b[:n]
	for {
		run := bytes.IndexByte(rest, '\n') // bytes of the current line in rest
		last := run < 0
		if last {
			run = len(rest)
		}
		if run > 0 && cur+run > r.LineLimit {
			r.curLineLength = cur + 1
			if r.LineLimit+1 > cur+1 {
				r.curLineLength = r.LineLimit + 1
			}
			return 0, ErrTooLongLine
		}
		if last {
			r.curLineLength = cur + run
			return n, nil
		}
		cur = 1 // the '\n'
		if cur > r.LineLimit {
			r.curLineLength = cur
			return 0, ErrTooLongLine
		}
		rest = rest[run+1:]
	}
}
