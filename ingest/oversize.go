package ingest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"

	"liaisond/receive"
	"liaisond/store"
)

// The processor is what the listeners and the poller hand messages to.
var _ receive.IMAPReceiver = (*Processor)(nil)

// ClassOversize is the class of a message recorded without its body.
const ClassOversize = "oversize"

// RecordOversize stores a message that is too large to take whole: its
// header and a note, as failed, and in the same transaction queues one
// mail to the secretariat. Seen again (a rescan) it changes nothing, so
// the secretariat is told once per message.
func (p *Processor) RecordOversize(ctx context.Context, env Envelope, header []byte, size, limit int64, where string) (Result, error) {
	now := p.Now()
	note := fmt.Sprintf("message of %d bytes is over the limit of %d bytes (smtp.max_message_bytes); only its header was fetched (%s)", size, limit, where)
	msg := &store.Message{ReceivedAt: now, Source: env.Source, MailFrom: env.MailFrom, RcptTo: env.Rcpt, Raw: header,
		Class: ClassOversize, State: store.MessageFailed, Error: note}
	msg.SHA256 = store.SHA256Hex(header)
	var subject, from string
	if m, err := mail.ReadMessage(bufio.NewReader(io.MultiReader(bytes.NewReader(header), strings.NewReader("\r\n")))); err == nil {
		msg.MessageID = strings.Trim(strings.TrimSpace(m.Header.Get("Message-Id")), "<>")
		subject = m.Header.Get("Subject")
		if d, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
			subject = d
		}
		if a, err := mail.ParseAddress(m.Header.Get("From")); err == nil {
			from = strings.ToLower(a.Address)
		} else {
			from = strings.TrimSpace(m.Header.Get("From"))
		}
	}
	if msg.MessageID != "" {
		msg.Identity = fmt.Sprintf("oversize:%s:%d", msg.MessageID, size)
	} else {
		msg.Identity = "oversize:raw:" + msg.SHA256
	}
	var res Result
	err := p.Store.Update(ctx, func(tx *store.Tx) error {
		res = Result{Class: ClassOversize, State: store.MessageFailed}
		id, dup, err := tx.InsertMessage(msg)
		if err != nil {
			return err
		}
		res.MessageID, res.Duplicate = id, dup
		if dup {
			return nil
		}
		ev := &store.Event{MessageID: id, At: now, Type: store.EventOversize, By: from, Text: note}
		if err := ev.SetData(store.OversizeData{Subject: subject, From: from, MessageID: msg.MessageID, Size: size, Limit: limit, Where: where}); err != nil {
			return err
		}
		if err := tx.InsertEvent(ev); err != nil {
			return err
		}
		return p.composeWritten(ctx, tx, nil, &res)
	})
	if err != nil {
		return Result{}, fmt.Errorf("record oversize message: %w", err)
	}
	p.Log.Warn("oversize message recorded; the secretariat is told", "source", env.Source, "id", res.MessageID,
		"message_id", msg.MessageID, "size", size, "limit", limit, "duplicate", res.Duplicate)
	return res, nil
}
