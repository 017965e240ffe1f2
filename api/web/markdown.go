package web

import (
	"html"
	"html/template"
	"net/url"
	"strings"
)

// renderMarkdown renders the small subset of markdown that prompts and
// rubrics use: ATX headings, paragraphs, "-"/"*" and "1." lists, fenced
// code blocks, pipe tables, and inline code, **strong**, *emphasis* and [links](url).
// Everything else, raw HTML included, is escaped and shown as text: the
// source is trusted more than a candidate's code, but a prompt should never
// be able to run script in an interviewer's browser.
func renderMarkdown(src string) template.HTML {
	var b strings.Builder
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	var para []string
	list := "" // "ul" or "ol" while inside a list
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + inline(strings.Join(para, " ")) + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trim := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trim, "```"):
			flushPara()
			closeList()
			lang := strings.TrimSpace(strings.TrimPrefix(trim, "```"))
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
				code = append(code, lines[i])
			}
			cls := ""
			if lang != "" && isWord(lang) {
				cls = ` class="language-` + lang + `"`
			}
			b.WriteString("<pre><code" + cls + ">" + html.EscapeString(strings.Join(code, "\n")) + "</code></pre>\n")
		case trim == "":
			flushPara()
			closeList()
		case strings.HasPrefix(trim, "|") && i+1 < len(lines) && isTableRule(lines[i+1]):
			flushPara()
			closeList()
			b.WriteString("<div class=\"table-wrap\"><table class=\"data\">\n<thead><tr>")
			for _, c := range tableCells(trim) {
				b.WriteString("<th scope=\"col\">" + inline(c) + "</th>")
			}
			b.WriteString("</tr></thead>\n<tbody>\n")
			for i += 2; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
				b.WriteString("<tr>")
				for _, c := range tableCells(strings.TrimSpace(lines[i])) {
					b.WriteString("<td>" + inline(c) + "</td>")
				}
				b.WriteString("</tr>\n")
			}
			i--
			b.WriteString("</tbody></table></div>\n")
		case heading(trim) > 0:
			flushPara()
			closeList()
			n := heading(trim)
			// Page titles are h1; a prompt's headings start one level below.
			level := min(n+1, 6)
			tag := "h" + string(rune('0'+level))
			b.WriteString("<" + tag + ">" + inline(strings.TrimSpace(trim[n:])) + "</" + tag + ">\n")
		case listItem(trim) != "":
			flushPara()
			kind, text := "ul", ""
			if t, ok := orderedItem(trim); ok {
				kind, text = "ol", t
			} else {
				text = trim[2:]
			}
			if list != kind {
				closeList()
				b.WriteString("<" + kind + ">\n")
				list = kind
			}
			// Continuation lines of the item are indented.
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "  ") && strings.TrimSpace(lines[i+1]) != "" && listItem(strings.TrimSpace(lines[i+1])) == "" {
				i++
				text += " " + strings.TrimSpace(lines[i])
			}
			b.WriteString("<li>" + inline(text) + "</li>\n")
		default:
			if list != "" && strings.HasPrefix(line, "  ") {
				// A lazy continuation of the last item: keep it in the list.
				b.WriteString("<li class=\"cont\">" + inline(trim) + "</li>\n")
				continue
			}
			closeList()
			para = append(para, trim)
		}
	}
	flushPara()
	closeList()
	return template.HTML(b.String())
}

// isTableRule reports whether line is a table's header rule: |---|:--:|.
func isTableRule(line string) bool {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "|") || !strings.Contains(t, "-") {
		return false
	}
	return strings.Trim(t, "|-: ") == ""
}

// tableCells splits a table row on the pipes between cells.
func tableCells(row string) []string {
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	cells := strings.Split(row, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

func isWord(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// heading returns the level of an ATX heading line, or 0.
func heading(s string) int {
	n := 0
	for n < len(s) && n < 6 && s[n] == '#' {
		n++
	}
	if n == 0 || n >= len(s) || s[n] != ' ' {
		return 0
	}
	return n
}

func listItem(s string) string {
	if strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "* ") {
		return "ul"
	}
	if _, ok := orderedItem(s); ok {
		return "ol"
	}
	return ""
}

func orderedItem(s string) (string, bool) {
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i+1 >= len(s) || s[i] != '.' || s[i+1] != ' ' {
		return "", false
	}
	return s[i+2:], true
}

// inline renders a paragraph's text: code spans first (their content is
// literal), then links, strong and emphasis in the rest; every piece of
// text is escaped.
func inline(s string) string {
	var b strings.Builder
	for s != "" {
		i := strings.IndexByte(s, '`')
		if i < 0 {
			b.WriteString(spans(s))
			break
		}
		j := strings.IndexByte(s[i+1:], '`')
		if j < 0 {
			b.WriteString(spans(s))
			break
		}
		b.WriteString(spans(s[:i]))
		b.WriteString("<code>" + html.EscapeString(s[i+1:i+1+j]) + "</code>")
		s = s[i+2+j:]
	}
	return b.String()
}

// spans renders links, **strong** and *emphasis* (or _emphasis_).
func spans(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		switch {
		case s[0] == '[':
			if text, href, rest, ok := link(s); ok {
				if u := safeURL(href); u != "" {
					attrs := ""
					if strings.HasPrefix(u, "http") {
						attrs = ` rel="noopener noreferrer"`
					}
					b.WriteString(`<a href="` + html.EscapeString(u) + `"` + attrs + ">" + spans(text) + "</a>")
				} else {
					b.WriteString(spans(text))
				}
				s = rest
				continue
			}
		case strings.HasPrefix(s, "**"):
			if j := strings.Index(s[2:], "**"); j > 0 {
				b.WriteString("<strong>" + spans(s[2:2+j]) + "</strong>")
				s = s[4+j:]
				continue
			}
		case s[0] == '*' || s[0] == '_':
			d := s[0]
			if j := strings.IndexByte(s[1:], d); j > 0 && s[1] != ' ' && (d == '*' || wordEdge(s, j+2)) {
				b.WriteString("<em>" + spans(s[1:1+j]) + "</em>")
				s = s[2+j:]
				continue
			}
		}
		// Plain text up to the next character that may start markup.
		n := strings.IndexAny(s[1:], "[*_")
		if n < 0 {
			n = len(s)
		} else {
			n++
		}
		b.WriteString(html.EscapeString(s[:n]))
		s = s[n:]
	}
	return b.String()
}

// wordEdge reports whether position i of s is not inside a word, so that
// snake_case_names are not read as emphasis.
func wordEdge(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	c := s[i]
	return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
}

// link parses "[text](href)" at the start of s.
func link(s string) (text, href, rest string, ok bool) {
	end := strings.Index(s, "](")
	if end < 0 {
		return "", "", "", false
	}
	close := strings.IndexByte(s[end+2:], ')')
	if close < 0 {
		return "", "", "", false
	}
	return s[1:end], s[end+2 : end+2+close], s[end+3+close:], true
}

// safeURL keeps http, https and mailto links and relative ones; anything
// else (javascript:, data:) is dropped.
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
