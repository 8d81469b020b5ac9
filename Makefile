# liaisond: `make run` starts the daemon on its built-in default; `make test` runs every test.
GO      ?= go
BIN     := $(CURDIR)/.bin
MAILPIT := $(BIN)/mailpit
MAILPIT_VERSION := v1.33.1
FUZZTIME ?= 20000x
export PATH := $(BIN):$(PATH)
# No build tags: plain `go build`, `go install` and `go test` give the same
# binary (search uses SQLite's FTS3, compiled into go-sqlite3 by default).

.PHONY: run build test vet unit fuzz fuzz-short bench check tools clean deploy-check

run:
	$(GO) run ./cmd/liaisond serve

build:
	$(GO) build -o liaisond ./cmd/liaisond

# Every test: vet, unit and end-to-end tests (a real Mailpit SMTP server,
# installed into .bin by the tools target), then a short run of every fuzz target.
test: tools vet unit fuzz-short

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt would change:"; gofmt -l .; exit 1; }

# third_party/go-smtp is a module of its own (a patched copy, see its
# PATCHES.md), so ./... does not reach it.
unit:
	$(GO) test -count=1 ./...
	cd third_party/go-smtp && $(GO) test -count=1 ./...

# Each fuzz target for FUZZTIME (go test -fuzz takes one target at a time), in
# every package that has tests (so a package that gains or receives a fuzz
# target is fuzzed without editing this list); finding none is an error.
# FUZZTIME is a count of executions, not a duration: with a duration, Go 1.26's
# fuzz coordinator can report "context deadline exceeded" as a failure when
# the time runs out while a worker is busy (golang/go#75804, fixed in Go 1.27),
# which failed `make test` with nothing wrong. 20000x takes 2-7 s per target here.
# Minimizing is capped for the same reason.
# The second loop does the same in the nested module third_party/go-smtp.
fuzz-short:
	@n=0; for pkg in $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$t ($(FUZZTIME))"; n=$$((n+1)); \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x || exit 1; \
		done; \
	done; \
	cd third_party/go-smtp && for pkg in $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$t ($(FUZZTIME))"; n=$$((n+1)); \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x || exit 1; \
		done; \
	done; \
	test $$n -gt 0 || { echo "fuzz-short: no fuzz targets found"; exit 1; }

fuzz:
	$(MAKE) fuzz-short FUZZTIME=2000000x

# Figures: SMTP ingest and command-mail throughput and latency percentiles,
# peak RSS, commits (fsyncs) per 100 messages; liaisond against Mailpit (the median of three alternating pairs) on the
# same 400 messages from 4 clients; peak RSS of serve (a child process) taking one 24 MB statement,
# and of Mailpit on the same message; reply stripping MB/s; outbox throughput to a local SMTP server;
# tickler passes over 100,000 statements; web pages at 100,000 statements; IMAP
# drain rate from Dovecot (2,000 statements) and the cost of one poll
# (commands, bytes, wall time) with 1,000 and 100,000 old messages; DKIM
# signing time per mail (RSA 2048 and Ed25519); the write transaction of one
# submission (alone and four to a transaction) and the queueing of one
# notification's copies inside it; the sender's move of staged copies.
bench: tools
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./cmd/liaisond ./web
	$(GO) test -run '^$$' -bench 'StripReply' -benchmem ./ingest/parse
	$(GO) test -run '^$$' -bench 'Outbox|Tickler' -benchtime 1x -timeout 30m ./notify
	$(GO) test -run '^$$' -bench 'DKIM' ./notify
	$(GO) test -run '^$$' -bench 'ApplySubmission|InsertOutboxCopies' -benchtime 1000x ./store
	$(GO) test -run '^$$' -bench 'MoveStaged' -benchtime 100x ./store

check:
	$(GO) run ./cmd/liaisond check $(if $(CONFIG),-config $(CONFIG))

tools: $(MAILPIT)

$(MAILPIT):
	@echo "installing Mailpit $(MAILPIT_VERSION) (a real SMTP sink for the end-to-end tests) into $(BIN)"
	GOBIN=$(BIN) $(GO) install github.com/axllent/mailpit@$(MAILPIT_VERSION)

# Build outputs only: never liaisond-data (the database and the token secret).
clean:
	rm -f liaisond
	rm -rf testdata/fuzz-out

# The systemd unit as systemd itself reads it (needs systemd-analyze).
deploy-check:
	$(GO) test -count=1 -run 'TestDeploy' ./cmd/liaisond
