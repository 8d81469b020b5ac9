package ingest

import (
	"liaisond/ingest/parse"
	"liaisond/store"
)

// storedAttachments are a message's attachments as the store takes them,
// made outside the write lock: each with its sha256, and each whose
// encoded bytes are one range of raw (the message exactly as it is stored)
// that store.DecodeTransfer decodes to exactly the attachment's bytes with
// that range as its store.RawRange, so the store keeps a reference instead
// of a second copy. A base64 attachment was decoded by store.DecodeTransfer
// itself when parsed (parse.ParseMessageWith), so it is not decoded twice;
// the others are checked with store.DecodesTo. Anything else (damaged or unusual encodings, parts of
// an attached message, small bodies) is stored as bytes, as before.
func storedAttachments(raw []byte, atts []parse.Attachment) []store.Attachment {
	var out []store.Attachment
	for _, a := range atts {
		sa := store.Attachment{Name: a.Name, ContentType: a.ContentType, Data: a.Data, SHA256: store.SHA256Hex(a.Data)}
		if ref, ok := rawRange(raw, a); ok {
			sa.Ref = ref
		}
		out = append(out, sa)
	}
	return out
}

// rawRange is where attachment a lies in raw, when decoding that range
// the way the store will when it is read gives exactly a's bytes.
func rawRange(raw []byte, a parse.Attachment) (*store.RawRange, bool) {
	at := a.Encoded
	if at.Length <= 0 || at.Offset < 0 || at.Offset > len(raw)-at.Length {
		return nil, false
	}
	switch {
	case at.Decoded:
		// Decoded by store.DecodeTransfer (ParseMessageWith) from this
		// very range: nothing to check.
	case at.Encoding == "base64":
		return nil, false // store.DecodeTransfer refused it
	case !store.DecodesTo(at.Encoding, raw[at.Offset:at.Offset+at.Length], a.Data):
		return nil, false
	}
	return &store.RawRange{Offset: int64(at.Offset), Length: int64(at.Length), Encoding: at.Encoding}, true
}
