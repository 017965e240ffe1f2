package pyscan

import "strings"

// TokenKind is the kind of a Token.
type TokenKind int

// Token kinds. Comments and whitespace are not tokens; a Newline ends each
// logical line (a line break inside brackets, or after a backslash, is not
// one, and ";" is).
const (
	Name    TokenKind = TokenKind(tokName)    // an identifier or a keyword
	String  TokenKind = TokenKind(tokString)  // a string literal, prefix and all
	Op      TokenKind = TokenKind(tokOp)      // one character of punctuation ("==" is two)
	Newline TokenKind = TokenKind(tokNewline) // the end of a logical line
	Number  TokenKind = TokenKind(tokNumber)  // a number literal
)

// Token is one token of Python source, as the scanner itself reads it.
type Token struct {
	Kind TokenKind
	// Text is a name, a number or an operator as written, or a string's
	// content without its quotes (empty for an f-string).
	Text string
	// Line and EndLine are the 1-based lines the token starts and ends on
	// (they differ only for a string that spans lines).
	Line, EndLine int
	// Offset and End are its byte range in the source; a Newline's is empty.
	Offset, End int
}

// Tokens splits Python source into tokens with the scanner's tokenizer. It
// never fails: source that does not parse still yields its tokens.
func Tokens(src []byte) []Token {
	s := string(src)
	toks := tokenize(s, true)
	out := make([]Token, len(toks))
	for i, t := range toks {
		out[i] = Token{Kind: TokenKind(t.kind), Text: t.text, Line: t.line, Offset: t.off, End: t.end}
		out[i].EndLine = t.line + strings.Count(s[t.off:t.end], "\n")
	}
	return out
}
