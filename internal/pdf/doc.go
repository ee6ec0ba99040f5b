// Package pdf writes small, self-contained PDF 1.7 files with the standard library only: the
// consent forms and, later, the signed outcome reports the platform hands to clinicians.
//
// A Document is a sequence of A4 pages. It offers two ways to put marks on them:
//
//   - a flow layout — headings, paragraphs wrapped to the text width, bulleted items, rows of
//     check boxes, fill-in lines, rules and vertical space — that starts new pages by itself;
//   - low-level primitives on a Page — text at a position, lines and rectangles — for templated
//     reports that place every element themselves. Coordinates are PDF points (1/72 inch) with
//     the origin at the bottom-left corner of the page.
//
// Text is set in the standard Type 1 fonts every PDF reader has (Helvetica and Courier, each
// in regular, bold, oblique and bold oblique), so no font is embedded. Strings are encoded in
// WinAnsiEncoding (Windows code page 1252): Western European letters such as é, ü, ñ, ß, ø and
// Å, the euro sign, typographic quotes and dashes all render. Tabs and line breaks become
// spaces (in flow paragraphs a line break starts a new line); every other character outside
// WinAnsiEncoding — Greek, Cyrillic, CJK, emoji, and letters written as a base letter plus a
// combining accent — is replaced by '?'. Glyph widths come from the Adobe font metrics of
// those fonts, so text is measured and wrapped exactly as a reader will draw it.
//
// The footer — a fixed text and "Page N of M" — is drawn when the file is written, once the
// number of pages is known. Output is deterministic: the creation date is given by the caller,
// and the same calls produce byte-identical files.
//
// Drawing calls do not return errors. The first invalid argument (an unknown font, a size or
// coordinate that is not a finite number) is kept, later calls do nothing, and Err and WriteTo
// report it.
package pdf
