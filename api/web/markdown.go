package web

import (
	"bytes"
	"html/template"
	"net/url"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// prompts renders exercise prompts and rubrics: CommonMark with GFM tables
// and strikethrough. Raw HTML is not enabled (no html.WithUnsafe): the
// source is trusted more than a candidate's code, but a prompt should never
// be able to run script in an interviewer's browser, so promptHTML shows
// raw HTML as escaped text rather than dropping it ("GET /books/<id>/").
var prompts = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(promptAST{}, 100))),
	// Below the priority numbers of goldmark's own renderers (1000, and
	// 500 for tables), so these functions replace theirs for the kinds
	// they register.
	goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(promptHTML{}, 100))),
)

// renderMarkdown renders a prompt or rubric for the pages. On the pages a
// title is h1, so a prompt's headings start one level below; links keep
// only http, https, mailto and relative targets; tables get the pages'
// table style.
func renderMarkdown(src string) template.HTML {
	var b bytes.Buffer
	if err := prompts.Convert([]byte(src), &b); err != nil {
		// Convert fails only when writing to b fails, which a
		// bytes.Buffer does not; show the source rather than nothing.
		return template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
	}
	return template.HTML(b.String())
}

// promptAST adjusts the parsed document to the pages: heading levels,
// link targets and table cells.
type promptAST struct{}

func (promptAST) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	var unlink []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			n.Level = min(n.Level+1, 6)
		case *ast.Link:
			switch u := safeURL(string(n.Destination)); {
			case u == "":
				unlink = append(unlink, n)
			case strings.HasPrefix(u, "http"):
				n.SetAttributeString("rel", "noopener noreferrer")
			}
		case *ast.Image:
			// Images would be fetched from wherever they point, and the
			// pages' policy allows only their own origin: show the text.
			unlink = append(unlink, n)
		case *east.TableCell:
			// Alignment would come out as a style attribute, which the
			// pages' Content-Security-Policy refuses.
			n.Alignment = east.AlignNone
			if _, ok := n.Parent().(*east.TableHeader); ok {
				n.SetAttributeString("scope", "col")
			}
		}
		return ast.WalkContinue, nil
	})
	// A link to a target that is not allowed keeps its text.
	for _, n := range unlink {
		parent := n.Parent()
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, n, c)
			c = next
		}
		parent.RemoveChild(parent, n)
	}
}

// promptHTML renders raw HTML as text and wraps tables in the pages'
// scrolling frame.
type promptHTML struct{}

func (promptHTML) RegisterFuncs(r renderer.NodeRendererFuncRegisterer) {
	r.Register(ast.KindRawHTML, func(w util.BufWriter, src []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			segs := n.(*ast.RawHTML).Segments
			for i := range segs.Len() {
				seg := segs.At(i)
				_, _ = w.Write(util.EscapeHTML(seg.Value(src)))
			}
		}
		return ast.WalkSkipChildren, nil
	})
	r.Register(ast.KindHTMLBlock, func(w util.BufWriter, src []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkSkipChildren, nil
		}
		n := node.(*ast.HTMLBlock)
		var block []byte
		lines := n.Lines()
		for i := range lines.Len() {
			line := lines.At(i)
			block = append(block, line.Value(src)...)
		}
		if n.HasClosure() {
			block = append(block, n.ClosureLine.Value(src)...)
		}
		_, _ = w.WriteString("<p>")
		_, _ = w.Write(util.EscapeHTML(bytes.TrimRight(block, "\n")))
		_, _ = w.WriteString("</p>\n")
		return ast.WalkSkipChildren, nil
	})
	r.Register(east.KindTable, func(w util.BufWriter, _ []byte, _ ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			_, _ = w.WriteString("<div class=\"table-wrap\"><table class=\"data\">\n")
		} else {
			_, _ = w.WriteString("</table></div>\n")
		}
		return ast.WalkContinue, nil
	})
}

// safeURL keeps http, https and mailto links and relative ones; anything
// else (javascript:, data:, protocol-relative //host) is dropped.
func safeURL(href string) string {
	href = strings.TrimSpace(href)
	u, err := url.Parse(href)
	if err != nil || href == "" {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return u.String()
	case "":
		if strings.HasPrefix(href, "//") {
			return ""
		}
		return u.String()
	}
	return ""
}
