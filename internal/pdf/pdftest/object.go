package pdftest

import (
	"fmt"
	"strconv"
)

// Object is a parsed PDF object: nil (null), bool, int, float64, Name, String, Array, Dict,
// Ref or *Stream.
type Object any

// Name is a PDF name, without the slash.
type Name string

// String is a PDF string, literal or hexadecimal, as raw bytes.
type String string

// Array is a PDF array.
type Array []Object

// Dict is a PDF dictionary.
type Dict map[Name]Object

// Ref is an indirect reference, "Num Gen R".
type Ref struct{ Num, Gen int }

// Stream is a stream object: its dictionary, the bytes between the stream and endstream
// keywords, and those bytes decoded by its filters.
type Stream struct {
	Dict    Dict
	Raw     []byte
	Decoded []byte
}

// parser reads objects from a lexer, looking two tokens ahead for "Num Gen R".
type parser struct {
	lex  lexer
	peek []token
}

func (p *parser) next() (token, error) {
	if len(p.peek) > 0 {
		t := p.peek[0]
		p.peek = p.peek[1:]
		return t, nil
	}
	return p.lex.next()
}

func (p *parser) unread(t token) { p.peek = append([]token{t}, p.peek...) }

// object reads one object; a keyword that is not a value is returned in op, for content
// streams, with a nil object.
func (p *parser) object() (obj Object, op string, err error) {
	t, err := p.next()
	if err != nil {
		return nil, "", err
	}
	return p.value(t)
}

// value reads the object that starts with token t.
func (p *parser) value(t token) (Object, string, error) {
	switch t.kind {
	case tokEOF:
		return nil, "", fmt.Errorf("offset %d: unexpected end of data", t.pos)
	case tokName:
		return Name(t.text), "", nil
	case tokString:
		return String(t.text), "", nil
	case tokNumber:
		return p.number(t)
	case tokKeyword:
		switch t.text {
		case "true":
			return true, "", nil
		case "false":
			return false, "", nil
		case "null":
			return nil, "", nil
		}
		return nil, t.text, nil
	}
	switch t.text {
	case "[":
		var a Array
		for {
			u, err := p.next()
			if err != nil {
				return nil, "", err
			}
			if u.kind == tokDelim && u.text == "]" {
				return a, "", nil
			}
			v, op, err := p.value(u)
			if err != nil {
				return nil, "", err
			}
			if op != "" {
				return nil, "", fmt.Errorf("offset %d: keyword %q in array", u.pos, op)
			}
			a = append(a, v)
		}
	case "<<":
		d := Dict{}
		for {
			u, err := p.next()
			if err != nil {
				return nil, "", err
			}
			if u.kind == tokDelim && u.text == ">>" {
				return d, "", nil
			}
			if u.kind != tokName {
				return nil, "", fmt.Errorf("offset %d: dictionary key is not a name", u.pos)
			}
			if _, dup := d[Name(u.text)]; dup {
				return nil, "", fmt.Errorf("offset %d: duplicate key /%s", u.pos, u.text)
			}
			v, op, err := p.object()
			if err != nil {
				return nil, "", err
			}
			if op != "" {
				return nil, "", fmt.Errorf("offset %d: keyword %q as the value of /%s", u.pos, op, u.text)
			}
			d[Name(u.text)] = v
		}
	}
	return nil, "", fmt.Errorf("offset %d: unexpected %q", t.pos, t.text)
}

// number reads an integer, a real, or a reference that starts with an integer.
func (p *parser) number(t token) (Object, string, error) {
	n, err := strconv.Atoi(t.text)
	if err != nil {
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, "", fmt.Errorf("offset %d: bad number %q", t.pos, t.text)
		}
		return f, "", nil
	}
	if n < 0 {
		return n, "", nil
	}
	t2, err := p.next()
	if err != nil {
		return nil, "", err
	}
	if t2.kind == tokNumber {
		gen, err := strconv.Atoi(t2.text)
		if err == nil && gen >= 0 {
			t3, err := p.next()
			if err != nil {
				return nil, "", err
			}
			if t3.kind == tokKeyword && t3.text == "R" {
				return Ref{n, gen}, "", nil
			}
			p.unread(t3)
		}
	}
	p.unread(t2)
	return n, "", nil
}

// number returns a numeric object as float64.
func number(o Object) (float64, bool) {
	switch v := o.(type) {
	case int:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}
