package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"liaisond/store"
)

// safeTypes are the attachment types served as what they are; anything else
// (HTML, SVG, scripts, unknown) goes out as application/octet-stream. Every
// attachment is a download (Content-Disposition: attachment) with nosniff.
var safeTypes = map[string]bool{
	"application/pdf": true, "text/plain": true, "application/zip": true,
	"image/png": true, "image/jpeg": true, "image/gif": true,
	"application/msword": true, "application/vnd.ms-excel": true, "application/vnd.ms-powerpoint": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         true,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": true,
}

// safeContentType maps a type taken from mail to one that is safe to send.
func safeContentType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !safeTypes[mt] {
		return "application/octet-stream"
	}
	if mt == "text/plain" {
		return "text/plain; charset=utf-8"
	}
	return mt
}

// safeFilename makes an attachment name from mail fit for a download: no
// directories, no control or quoting characters, not hidden, not empty, at
// most 150 characters.
func safeFilename(name string, pos int) string {
	name = strings.ToValidUTF8(name, "_")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case unicode.IsControl(r), r == '"', r == '\'', r == '`', r == ';', r == '<', r == '>', r == '|', r == '*', r == '?', r == ':',
			unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			b.WriteRune('_')
		case unicode.IsSpace(r):
			b.WriteRune(' ')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.Trim(strings.TrimSpace(b.String()), ". ")
	for len(name) > 150 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" {
		name = "attachment-" + strconv.Itoa(pos)
	}
	return name
}

// contentDisposition writes RFC 6266: an ASCII filename for old clients and
// filename* (RFC 8187, UTF-8) with the full name.
func contentDisposition(name string) string {
	var ascii strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			ascii.WriteRune('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	v := fmt.Sprintf(`attachment; filename="%s"`, ascii.String())
	if ascii.String() != name {
		v += "; filename*=UTF-8''" + rfc8187Escape(name)
	}
	return v
}

// rfc8187Escape percent-encodes every byte that is not an attr-char.
func rfc8187Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// attachment serves /ls/N/att/K[/NAME]: the number K decides which file;
// nothing of the path reaches the filesystem (the content is in the database).
func (h *Handler) attachment(w http.ResponseWriter, r *http.Request) {
	id, ok := parseID(r.PathValue("id"))
	pos, err := strconv.Atoi(r.PathValue("pos"))
	if !ok || err != nil || pos < 1 {
		h.notFound(w, r, "There is no such attachment: attachments are numbered, /ls/42/att/1/name.")
		return
	}
	var a *store.Attachment
	var state string
	err = h.opt.Store.View(r.Context(), func(tx *store.Tx) error {
		st, err := tx.StatementState(id)
		if err != nil {
			return err
		}
		state = st
		a, err = tx.AttachmentData(id, pos)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && !isPublic(state)) {
		h.notFound(w, r, fmt.Sprintf("LS-%d has no attachment %d.", id, pos))
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	name := safeFilename(a.Name, pos)
	hd := w.Header()
	hd.Set("Content-Type", safeContentType(a.ContentType))
	hd.Set("Content-Disposition", contentDisposition(name))
	hd.Set("Content-Length", strconv.Itoa(len(a.Data)))
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	hd.Set("Cache-Control", "private, max-age=300")
	hd.Set("ETag", `"`+a.SHA256+`"`)
	if r.Header.Get("If-None-Match") == `"`+a.SHA256+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	w.Write(a.Data)
}
