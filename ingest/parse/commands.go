package parse

import (
	"strconv"
	"strings"
	"unicode"
)

// Command names (DESIGN 6).
const (
	CmdReply    = "reply"
	CmdClose    = "close"
	CmdReopen   = "reopen"
	CmdReassign = "reassign"
	CmdRedirect = "redirect"
	CmdDeadline = "deadline"
	CmdStatus   = "status"
	CmdNote     = "note"
	CmdApprove  = "approve"
	CmdReject   = "reject"
	CmdConfirm  = "confirm"
	CmdHelp     = "help"
	// CmdLink links a statement to the one it answers, when its In
	// Response named it in words (DESIGN 4): "LS-42 link LS-17".
	CmdLink = "link"
)

// knownCommands lists every command with whether it needs an argument.
var knownCommands = map[string]bool{
	CmdReply: false, CmdClose: false, CmdReopen: false, CmdReassign: true, CmdRedirect: true,
	CmdDeadline: true, CmdStatus: true, CmdNote: true, CmdApprove: false, CmdReject: true,
	CmdConfirm: false, CmdHelp: false, CmdLink: true,
}

// Command is one command line of a reply.
type Command struct {
	Ref  int64  // the statement named on the line (LS-42 ...), 0 if none
	Name string // lowercase command name; for an unknown command, the word given
	Arg  string // the rest of the line
	Line string // the line as written
	// Known is false for a line that is clearly meant as a command but is
	// none (a misspelling, or any word after a reference at commands@).
	Known bool
}

// Commands is what the top of a reply asks for.
type Commands struct {
	List []Command
	// ReplyText is what follows a "reply" line: the response's text.
	ReplyText string
	// Rest is the text after the command lines (for a mail without commands,
	// all of it): recorded as a comment.
	Rest string
}

// courtesy words are single-word first lines that are text, not commands.
var courtesy = map[string]bool{
	"thanks": true, "thank": true, "thx": true, "ok": true, "okay": true, "ack": true, "noted": true,
	"received": true, "yes": true, "no": true, "hi": true, "hello": true, "dear": true, "fyi": true,
	"cheers": true, "regards": true, "merci": true, "danke": true, "gracias": true, "colleagues": true,
	"all": true, "team": true, "done": true, "agreed": true, "fine": true, "great": true, "good": true,
}

// ParseCommands reads the command lines at the top of text (already stripped
// of quotes and signature). Commands are lines before any other text; the
// first line that is not a command ends them, so a command in quoted text
// or further down can never run (DESIGN 6). needRef is set for mail to
// commands@, where every command line starts with the statement reference.
func ParseCommands(text string, needRef bool) Commands {
	var out Commands
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	for ; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" {
			// A blank line between commands is allowed; text after it
			// that is not a command ends them.
			continue
		}
		cmd, ok := parseCommandLine(line, needRef)
		if !ok {
			break
		}
		out.List = append(out.List, cmd)
		if cmd.Known && cmd.Name == CmdReply {
			// Everything after "reply" is the response (DESIGN 6).
			out.ReplyText = strings.Trim(strings.Join(lines[i+1:], "\n"), "\n")
			return out
		}
	}
	if i < len(lines) {
		out.Rest = strings.TrimSpace(strings.Join(lines[i:], "\n"))
	}
	return out
}

// parseCommandLine recognizes one command line.
func parseCommandLine(line string, needRef bool) (Command, bool) {
	cmd := Command{Line: line}
	rest := line
	if ref, after, ok := cutRef(rest); ok {
		cmd.Ref, rest = ref, after
	} else if needRef && !strings.EqualFold(strings.TrimRight(strings.TrimSpace(rest), ".!"), CmdHelp) {
		// At commands@ every command names its statement; only "help"
		// stands alone.
		return cmd, false
	}
	word, arg, _ := strings.Cut(strings.TrimSpace(rest), " ")
	word = strings.ToLower(strings.TrimRight(word, ":.!"))
	cmd.Name, cmd.Arg = word, strings.TrimSpace(arg)
	if _, ok := knownCommands[word]; ok {
		cmd.Known = true
		return cmd, true
	}
	if cmd.Ref != 0 {
		// "LS-42 frobnicate": the reference says it is meant as a command.
		return cmd, word != ""
	}
	// A lone word close to a command name is a misspelt command; any other
	// line is text.
	if arg == "" && isWord(word) && !courtesy[word] && nearCommand(word) {
		return cmd, true
	}
	return cmd, false
}

// cutRef takes a leading "LS-42" (or "[LS-42]", "LS 42", "#42"-free forms).
func cutRef(s string) (int64, string, bool) {
	t := strings.TrimLeft(s, "[")
	if len(t) < 3 || !strings.EqualFold(t[:2], "LS") {
		return 0, s, false
	}
	t = strings.TrimLeft(t[2:], "- ")
	n := 0
	for n < len(t) && n < 18 && t[n] >= '0' && t[n] <= '9' {
		n++
	}
	if n == 0 {
		return 0, s, false
	}
	id, err := strconv.ParseInt(t[:n], 10, 64)
	if err != nil || id <= 0 {
		return 0, s, false
	}
	after := strings.TrimLeft(t[n:], "]:")
	if after != "" && after[0] != ' ' && after[0] != '\t' {
		return 0, s, false
	}
	return id, strings.TrimSpace(after), true
}

func isWord(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && r != '-' {
			return false
		}
	}
	return true
}

// nearCommand reports whether w is within two edits of a command name.
func nearCommand(w string) bool {
	for name := range knownCommands {
		if editDistance(w, name) <= 2 && len(w) >= 3 {
			return true
		}
	}
	return false
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
