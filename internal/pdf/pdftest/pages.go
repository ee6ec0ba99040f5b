package pdftest

import (
	"errors"
	"fmt"
)

// pageTree walks the page tree from the catalog and fills f.Pages.
func (f *File) pageTree() error {
	cat, _ := f.dict(f.Trailer["Root"])
	ref, ok := cat["Pages"].(Ref)
	if !ok {
		return errors.New("catalog /Pages is not a reference")
	}
	n, err := f.pagesNode(ref, nil, inherited{}, map[int]bool{})
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("page tree has no pages")
	}
	return nil
}

// inherited holds the page attributes a node passes down to its kids.
type inherited struct {
	mediaBox  Object
	resources Object
}

// pagesNode checks the node ref, whose parent is parent (nil for the root), appends its pages
// and returns how many leaves it has.
func (f *File) pagesNode(ref Ref, parent *Ref, inh inherited, seen map[int]bool) (int, error) {
	if seen[ref.Num] {
		return 0, fmt.Errorf("page tree: object %d appears twice", ref.Num)
	}
	seen[ref.Num] = true
	node, ok := f.dict(ref)
	if !ok {
		return 0, fmt.Errorf("page tree: object %d is not a dictionary", ref.Num)
	}
	if parent != nil && node["Parent"] != *parent {
		return 0, fmt.Errorf("page tree: object %d does not name %d as its /Parent", ref.Num, parent.Num)
	}
	if mb, ok := node["MediaBox"]; ok {
		inh.mediaBox = mb
	}
	if res, ok := node["Resources"]; ok {
		inh.resources = res
	}
	switch node["Type"] {
	case Name("Page"):
		if parent == nil {
			return 0, errors.New("page tree: the root is a page")
		}
		return 1, f.page(node, inh)
	case Name("Pages"):
		kids, ok := f.resolve(node["Kids"]).(Array)
		if !ok {
			return 0, fmt.Errorf("page tree: object %d has no /Kids array", ref.Num)
		}
		total := 0
		for _, k := range kids {
			kr, ok := k.(Ref)
			if !ok {
				return 0, fmt.Errorf("page tree: a kid of object %d is not a reference", ref.Num)
			}
			n, err := f.pagesNode(kr, &ref, inh, seen)
			if err != nil {
				return 0, err
			}
			total += n
		}
		if c, ok := node["Count"].(int); !ok || c != total {
			return 0, fmt.Errorf("page tree: object %d has /Count %v for %d pages", ref.Num, node["Count"], total)
		}
		return total, nil
	}
	return 0, fmt.Errorf("page tree: object %d has /Type %v", ref.Num, node["Type"])
}

// page checks one page and appends it.
func (f *File) page(node Dict, inh inherited) error {
	pg := Page{Number: len(f.Pages) + 1, Fonts: map[string]Font{}}
	box, ok := f.resolve(inh.mediaBox).(Array)
	if !ok || len(box) != 4 {
		return fmt.Errorf("page %d: no media box of four numbers", pg.Number)
	}
	for _, v := range box {
		x, ok := number(f.resolve(v))
		if !ok {
			return fmt.Errorf("page %d: media box holds %v", pg.Number, v)
		}
		pg.MediaBox = append(pg.MediaBox, x)
	}
	var streams []Object
	switch c := node["Contents"].(type) {
	case Ref:
		if arr, ok := f.resolve(c).(Array); ok {
			streams = arr
		} else {
			streams = Array{c}
		}
	case Array:
		streams = c
	default:
		return fmt.Errorf("page %d: /Contents is not a stream or an array of streams", pg.Number)
	}
	for i, s := range streams {
		st, ok := f.resolve(s).(*Stream)
		if !ok {
			return fmt.Errorf("page %d: /Contents item %d is not a stream", pg.Number, i)
		}
		if i > 0 {
			pg.Content = append(pg.Content, '\n')
		}
		pg.Content = append(pg.Content, st.Decoded...)
	}
	res, ok := f.dict(inh.resources)
	if !ok {
		return fmt.Errorf("page %d: no resource dictionary", pg.Number)
	}
	if fo, present := res["Font"]; present {
		fonts, ok := f.dict(fo)
		if !ok {
			return fmt.Errorf("page %d: /Font resources are not a dictionary", pg.Number)
		}
		for name, fr := range fonts {
			font, err := f.font(fr)
			if err != nil {
				return fmt.Errorf("page %d: font /%s: %w", pg.Number, name, err)
			}
			pg.Fonts[string(name)] = font
		}
	}
	f.Pages = append(f.Pages, pg)
	return nil
}

// font reads a simple font dictionary.
func (f *File) font(o Object) (Font, error) {
	d, ok := f.dict(o)
	if !ok || d["Type"] != Name("Font") {
		return Font{}, errors.New("not a font dictionary")
	}
	var ft Font
	base, ok1 := d["BaseFont"].(Name)
	sub, ok2 := d["Subtype"].(Name)
	if !ok1 || !ok2 {
		return Font{}, errors.New("no /BaseFont or /Subtype name")
	}
	ft.BaseFont, ft.Subtype = string(base), string(sub)
	if enc, ok := d["Encoding"].(Name); ok {
		ft.Encoding = string(enc)
	}
	w, hasW := f.resolve(d["Widths"]).(Array)
	first, ok1 := d["FirstChar"].(int)
	last, ok2 := d["LastChar"].(int)
	if !hasW {
		return ft, nil
	}
	if !ok1 || !ok2 || first < 0 || last > 255 || last-first+1 != len(w) {
		return Font{}, fmt.Errorf("/Widths has %d entries for /FirstChar %v /LastChar %v", len(w), d["FirstChar"], d["LastChar"])
	}
	ft.FirstChar = first
	for _, v := range w {
		x, ok := number(f.resolve(v))
		if !ok {
			return Font{}, fmt.Errorf("/Widths holds %v", v)
		}
		ft.Widths = append(ft.Widths, x)
	}
	return ft, nil
}
