// Package pdftest reads PDF files back for tests: the files package pdf writes, and any other
// simple file with a classic cross-reference table. Parse checks the file structure the way a
// strict reader would — header, cross-reference offsets, trailer, stream lengths and
// compression, the page tree and its fonts — and Runs extracts the text drawn on each page,
// with its position, font and measured width, so that tests can assert what a reader shows.
//
// It reads a subset of PDF: no cross-reference streams, object streams, incremental updates,
// encryption or inline images; text positions follow the text matrix only (the current
// transformation matrix, cm, is ignored), and text is decoded for simple fonts with
// WinAnsiEncoding. Anything outside that subset is reported as an error, never guessed at.
package pdftest
