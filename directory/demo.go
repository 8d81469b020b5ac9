package directory

import _ "embed"

// Demo is the demo directory, a copy of testdata/directory.toml (a test
// keeps the two identical). It documents the file format key by key and
// gives examples, tests and a first run something real to work with.
//
//go:embed demo.toml
var Demo []byte
