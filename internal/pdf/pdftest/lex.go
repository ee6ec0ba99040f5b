package pdftest

import (
	"errors"
	"fmt"
	"strconv"
)

// tokKind classifies a token.
type tokKind int

const (
	tokEOF     tokKind = iota
	tokNumber          // integer or real; text in tok.text
	tokName            // /Name, decoded, without the slash
	tokString          // literal or hexadecimal string, decoded
	tokKeyword         // true, obj, R, Tj, …
	tokDelim           // [ ] << >> { }
)

type token struct {
	kind tokKind
	text string // number, keyword or delimiter text; decoded name or string
	pos  int    // offset of the first byte
}

// lexer splits PDF syntax into tokens.
type lexer struct {
	data []byte
	pos  int
}

func isSpace(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isRegular(c byte) bool { return !isSpace(c) && !isDelim(c) }

// skip passes whitespace and comments.
func (l *lexer) skip() {
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		switch {
		case isSpace(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	l.skip()
	if l.pos >= len(l.data) {
		return token{kind: tokEOF, pos: l.pos}, nil
	}
	start := l.pos
	c := l.data[l.pos]
	switch {
	case c == '(':
		s, err := l.literal()
		return token{kind: tokString, text: s, pos: start}, err
	case c == '<' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '<':
		l.pos += 2
		return token{kind: tokDelim, text: "<<", pos: start}, nil
	case c == '>' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '>':
		l.pos += 2
		return token{kind: tokDelim, text: ">>", pos: start}, nil
	case c == '<':
		s, err := l.hex()
		return token{kind: tokString, text: s, pos: start}, err
	case c == '[' || c == ']' || c == '{' || c == '}':
		l.pos++
		return token{kind: tokDelim, text: string(c), pos: start}, nil
	case c == '/':
		s, err := l.name()
		return token{kind: tokName, text: s, pos: start}, err
	case c == ')' || c == '>':
		return token{}, fmt.Errorf("offset %d: unexpected %q", start, c)
	}
	for l.pos < len(l.data) && isRegular(l.data[l.pos]) {
		l.pos++
	}
	text := string(l.data[start:l.pos])
	if isNumber(text) {
		return token{kind: tokNumber, text: text, pos: start}, nil
	}
	return token{kind: tokKeyword, text: text, pos: start}, nil
}

// isNumber reports whether s is a PDF integer or real: an optional sign, digits and at most
// one period, with at least one digit.
func isNumber(s string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		case (c == '+' || c == '-') && i == 0:
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

var errUnterminated = errors.New("unterminated string")

// literal reads a (literal string) with balanced parentheses and escapes.
func (l *lexer) literal() (string, error) {
	start := l.pos
	l.pos++ // (
	var out []byte
	depth := 1
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return string(out), nil
			}
		case '\r':
			// An unescaped end of line, whatever its form, reads as a line feed.
			if l.pos < len(l.data) && l.data[l.pos] == '\n' {
				l.pos++
			}
			c = '\n'
		case '\\':
			if l.pos >= len(l.data) {
				return "", fmt.Errorf("offset %d: %w", start, errUnterminated)
			}
			e := l.data[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '(', ')', '\\':
				c = e
			case '\r', '\n':
				if e == '\r' && l.pos < len(l.data) && l.data[l.pos] == '\n' {
					l.pos++
				}
				continue // line continuation
			default:
				if e < '0' || e > '7' {
					c = e // an unknown escape stands for the character itself
					break
				}
				v := int(e - '0')
				for k := 0; k < 2 && l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '7'; k++ {
					v = v*8 + int(l.data[l.pos]-'0')
					l.pos++
				}
				c = byte(v)
			}
		}
		out = append(out, c)
	}
	return "", fmt.Errorf("offset %d: %w", start, errUnterminated)
}

// hex reads a <hexadecimal string>.
func (l *lexer) hex() (string, error) {
	start := l.pos
	l.pos++ // <
	var digits []byte
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		switch {
		case c == '>':
			if len(digits)%2 == 1 {
				digits = append(digits, '0')
			}
			out := make([]byte, len(digits)/2)
			for i := range out {
				v, _ := strconv.ParseUint(string(digits[2*i:2*i+2]), 16, 8)
				out[i] = byte(v)
			}
			return string(out), nil
		case isSpace(c):
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			digits = append(digits, c)
		default:
			return "", fmt.Errorf("offset %d: bad byte %q in hexadecimal string", start, c)
		}
	}
	return "", fmt.Errorf("offset %d: %w", start, errUnterminated)
}

// name reads a /Name, decoding #xx escapes.
func (l *lexer) name() (string, error) {
	start := l.pos
	l.pos++ // /
	var out []byte
	for l.pos < len(l.data) && isRegular(l.data[l.pos]) {
		c := l.data[l.pos]
		l.pos++
		if c == '#' {
			if l.pos+2 > len(l.data) {
				return "", fmt.Errorf("offset %d: bad escape in name", start)
			}
			v, err := strconv.ParseUint(string(l.data[l.pos:l.pos+2]), 16, 8)
			if err != nil {
				return "", fmt.Errorf("offset %d: bad escape in name", start)
			}
			c = byte(v)
			l.pos += 2
		}
		out = append(out, c)
	}
	return string(out), nil
}
