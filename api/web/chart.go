package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// bin is one bar of the score distribution.
type bin struct {
	Lo, Hi, Count int
}

// scoreBins counts scores (0..maxScore) into at most 10 bins of equal width.
func scoreBins(scores []int, maxScore int) []bin {
	if maxScore <= 0 {
		maxScore = 1
	}
	n := min(10, maxScore+1)
	width := (maxScore + n) / n // ceil((max+1)/n)
	var bins []bin
	for lo := 0; lo <= maxScore; lo += width {
		bins = append(bins, bin{Lo: lo, Hi: min(maxScore, lo+width-1)})
	}
	for _, s := range scores {
		i := min(max(s, 0)/width, len(bins)-1)
		bins[i].Count++
	}
	return bins
}

// histogram draws the distribution of scores as an SVG bar chart with its
// own text alternative. Only numbers and the escaped label reach the markup.
func histogram(label string, scores []int, maxScore int) template.HTML {
	bins := scoreBins(scores, maxScore)
	const (
		w, hgt      = 640, 240
		left, right = 40, 10
		top, bottom = 16, 40
	)
	top_ := 0
	for _, b := range bins {
		top_ = max(top_, b.Count)
	}
	if top_ == 0 {
		top_ = 1
	}
	plotW, plotH := float64(w-left-right), float64(hgt-top-bottom)
	bw := plotW / float64(len(bins))
	var sb strings.Builder
	desc := make([]string, 0, len(bins))
	for _, b := range bins {
		desc = append(desc, fmt.Sprintf("%s: %d", rangeLabel(b), b.Count))
	}
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">`, w, hgt)
	fmt.Fprintf(&sb, `<title id="chart-title">%s</title><desc id="chart-desc">%s</desc>`, html.EscapeString(label), html.EscapeString(strings.Join(desc, "; ")))
	// Horizontal grid lines at 0, half and the top count.
	for _, v := range []int{0, (top_ + 1) / 2, top_} {
		y := float64(top) + plotH - plotH*float64(v)/float64(top_)
		fmt.Fprintf(&sb, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, w-right, y, y)
		fmt.Fprintf(&sb, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%d</text>`, left-6, y+4, v)
	}
	for i, b := range bins {
		x := float64(left) + bw*float64(i)
		bh := plotH * float64(b.Count) / float64(top_)
		y := float64(top) + plotH - bh
		fmt.Fprintf(&sb, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d</title></rect>`, x+2, y, bw-4, bh, rangeLabel(b), b.Count)
		if b.Count > 0 {
			fmt.Fprintf(&sb, `<text class="count" x="%.1f" y="%.1f" text-anchor="middle">%d</text>`, x+bw/2, y-4, b.Count)
		}
		fmt.Fprintf(&sb, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+bw/2, hgt-bottom+16, rangeLabel(b))
	}
	fmt.Fprintf(&sb, `<text class="axis" x="%d" y="%d" text-anchor="middle">score</text>`, left+int(plotW)/2, hgt-6)
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String())
}

func rangeLabel(b bin) string {
	if b.Lo == b.Hi {
		return fmt.Sprint(b.Lo)
	}
	return fmt.Sprintf("%d–%d", b.Lo, b.Hi)
}
