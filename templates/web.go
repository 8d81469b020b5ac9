package templates

import (
	"embed"
	"io/fs"
)

//go:embed web/*.html web/*.css
var webEmbedded embed.FS

// Web returns the web page templates (html/template) and the stylesheet.
func Web() fs.FS {
	sub, err := fs.Sub(webEmbedded, "web")
	if err != nil {
		panic(err) // the embedded tree always has web/
	}
	return sub
}
