-- Gives closed, reopened and approval-rejected events their reason as typed data (read from their text once, never again).
UPDATE events SET data = json_object('reason', trim(substr(text, 7)))
	WHERE type = 'closed' AND text LIKE 'closed %' AND trim(substr(text, 7)) <> '';
UPDATE events SET data = json_object('reason', trim(substr(text, 9)))
	WHERE type = 'reopened' AND text LIKE 'reopened %' AND trim(substr(text, 9)) <> '';
UPDATE events SET data = json_object('reason', substr(text, 11))
	WHERE type = 'approval-rejected' AND text LIKE 'rejected: %';
