package web

import (
	"strings"
	"testing"
)

func TestMarkdownKeepsRawHTMLAsText(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"script block", "Intro.\n<script>alert(1)</script>\n", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"script block alone", "<script>\nalert(1)\n</script>\n\nafter", "&lt;script&gt;\nalert(1)\n&lt;/script&gt;"},
		{"div block", "<div onclick=\"x()\">\n<b>bold</b>\n</div>\n", "&lt;div onclick=&quot;x()&quot;&gt;\n&lt;b&gt;bold&lt;/b&gt;\n&lt;/div&gt;"},
		{"inline tag", "GET /api/books/<id>/ and <img src=x onerror=alert(1)>", "GET /api/books/&lt;id&gt;/ and &lt;img src=x onerror=alert(1)&gt;"},
		{"comment", "a <!-- hidden --> b", "a &lt;!-- hidden --&gt; b"},
		{"in a table", "| a | b |\n|---|---|\n| <script>x</script> | 1 |\n", "<td>&lt;script&gt;x&lt;/script&gt;</td>"},
		{"in a list", "- <iframe src=\"https://example.com\"></iframe>\n", "<p>&lt;iframe src=&quot;https://example.com&quot;&gt;&lt;/iframe&gt;</p>\n</li>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(renderMarkdown(tc.src))
			if !strings.Contains(got, tc.want) {
				t.Errorf("%q rendered\n%s\nwant it to contain %q", tc.src, got, tc.want)
			}
			for _, bad := range []string{"<script", "<div onclick", "<b>", "<img", "<iframe", "<!--"} {
				if strings.Contains(got, bad) {
					t.Errorf("%q let %q through:\n%s", tc.src, bad, got)
				}
			}
		})
	}
}

func TestMarkdownTables(t *testing.T) {
	got := string(renderMarkdown("Checks:\n\n| check | points |\n|:---|---:|\n| `small` | 2 |\n| big \\| huge | **4** |\n\nafter\n"))
	want := "<div class=\"table-wrap\"><table class=\"data\">\n<thead>\n<tr>\n<th scope=\"col\">check</th>\n<th scope=\"col\">points</th>\n</tr>\n</thead>\n" +
		"<tbody>\n<tr>\n<td><code>small</code></td>\n<td>2</td>\n</tr>\n<tr>\n<td>big | huge</td>\n<td><strong>4</strong></td>\n</tr>\n</tbody>\n</table></div>\n"
	if !strings.Contains(got, want) {
		t.Errorf("table rendered\n%s\nwant\n%s", got, want)
	}
	// The pages' Content-Security-Policy refuses style attributes.
	if strings.Contains(got, "style=") || !strings.HasPrefix(got, "<p>Checks:</p>") || !strings.HasSuffix(got, "<p>after</p>\n") {
		t.Errorf("around the table:\n%s", got)
	}
}

func TestMarkdownLinksAndHeadings(t *testing.T) {
	for _, tc := range []struct{ src, want, not string }{
		{"# One", "<h2>One</h2>", "<h1>"},
		{"###### Six", "<h6>Six</h6>", "<h7>"},
		{"[docs](https://docs.djangoproject.com/)", `<a href="https://docs.djangoproject.com/" rel="noopener noreferrer">docs</a>`, ""},
		{"[the task](/ui/assignments/1)", `<a href="/ui/assignments/1">the task</a>`, "rel="},
		{"[mail](mailto:a@example.com)", `<a href="mailto:a@example.com">mail</a>`, ""},
		{"[x **y**](javascript:alert(1))", "<p>x <strong>y</strong></p>", "<a"},
		{"[x](//evil.example/)", "<p>x</p>", "<a"},
		{"[x](data:text/html,hi)", "<p>x</p>", "<a"},
		{"![a chart](https://example.com/c.png)", "<p>a chart</p>", "<img"},
		{"~~old~~ new", "<del>old</del> new", ""},
		{"snake_case_name and *em*", "snake_case_name and <em>em</em>", ""},
	} {
		got := string(renderMarkdown(tc.src))
		if !strings.Contains(got, tc.want) || tc.not != "" && strings.Contains(got, tc.not) {
			t.Errorf("%q rendered %q, want %q without %q", tc.src, got, tc.want, tc.not)
		}
	}
}
