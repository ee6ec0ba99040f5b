package pdf

import (
	"bytes"
	"strings"
)

// ellipsis is the WinAnsi code of '…'.
const ellipsis = 0x85

// epsilon absorbs rounding when comparing a measured width with the room for it.
const epsilon = 1e-9

// hardLines splits flow text at line breaks (LF, CR LF or CR) and encodes each part.
func hardLines(s string) [][]byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	parts := strings.Split(s, "\n")
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = Encode(p)
	}
	return out
}

// wrapText encodes s and breaks it into lines no wider than width when set in f at size.
// Runs of spaces collapse to one; a line break in s starts a new line, and an empty line
// between two breaks is kept as an empty line. Text without any word yields no line.
func wrapText(s string, f Font, size, width float64) [][]byte {
	var lines [][]byte
	words := false
	for _, part := range hardLines(s) {
		wrapped := wrap(part, f, size, width)
		if len(wrapped) == 0 {
			wrapped = [][]byte{nil}
		} else {
			words = true
		}
		lines = append(lines, wrapped...)
	}
	if !words {
		return nil
	}
	return lines
}

// fits reports whether a width of u font units, at size, fits into width points.
func fits(u int, size, width float64) bool {
	return float64(u)*size/1000 <= width+epsilon
}

// wrap breaks encoded text at spaces into lines no wider than width. A word wider than a
// whole line is cut between characters; a line holds at least one character even when that
// character alone is wider than width.
func wrap(b []byte, f Font, size, width float64) [][]byte {
	var lines [][]byte
	var cur []byte
	curU := 0
	spaceU := f.units([]byte{' '})
	for _, word := range bytes.Split(b, []byte{' '}) {
		if len(word) == 0 {
			continue
		}
		word = word[:len(word):len(word)] // appending to a line must not write into b
		wu := f.units(word)
		if len(cur) > 0 && fits(curU+spaceU+wu, size, width) {
			cur = append(append(cur, ' '), word...)
			curU += spaceU + wu
			continue
		}
		if len(cur) > 0 {
			lines = append(lines, cur)
		}
		for len(word) > 1 && !fits(wu, size, width) {
			k, ku := prefix(word, f, size, width)
			lines = append(lines, word[:k:k])
			word, wu = word[k:], wu-ku
		}
		cur, curU = word, wu
	}
	if len(cur) > 0 {
		lines = append(lines, cur)
	}
	return lines
}

// prefix returns the length and width in font units of the longest prefix of b, at least one
// byte, that fits into width.
func prefix(b []byte, f Font, size, width float64) (int, int) {
	w := f.widths()
	u := 0
	for i, c := range b {
		cu := 0
		if c >= firstChar {
			cu = int(w[c-firstChar])
		}
		if i > 0 && !fits(u+cu, size, width) {
			return i, u
		}
		u += cu
	}
	return len(b), u
}

// truncate shortens encoded text that is wider than width, ending it with an ellipsis. It
// returns nil when not even the ellipsis fits. It reads b only as far as the cut.
func truncate(b []byte, f Font, size, width float64) []byte {
	w := f.widths()
	eu := int(w[ellipsis-firstChar])
	u, cut := 0, -1 // cut: the longest prefix that leaves room for the ellipsis
	for k, c := range b {
		if fits(u+eu, size, width) {
			cut = k
		}
		if c >= firstChar {
			u += int(w[c-firstChar])
		}
		if !fits(u, size, width) {
			if cut < 0 {
				return nil
			}
			out := make([]byte, 0, cut+1)
			return append(append(out, b[:cut]...), ellipsis)
		}
	}
	return b
}
