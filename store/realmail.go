package store

// Events of real mail's shapes (DESIGN 4 and 5, issue 10).
const (
	// EventUnknownAddressee: an addressee of the statement matches no body
	// in the directory; the text names it and the closest names.
	EventUnknownAddressee = "unknown-addressee"
	// EventAttachmentsOmitted: attachments past the cap were not made
	// attachments of the statement; the stored raw mail keeps them.
	EventAttachmentsOmitted = "attachments-omitted"
	// EventMessageIDReused: another stored message has this statement's
	// Message-ID but other content; written on both statements.
	EventMessageIDReused = "message-id-reused"
	// EventAutomaticSender: the statement came from an automatic sender (a
	// document system, a list relay); nothing was sent back to it.
	EventAutomaticSender = "automatic-sender"
	// EventLinked: the statement was linked by command to the one it
	// answers (an In Response that named it in words); on both.
	EventLinked = "linked"
)
