package pdf

import "errors"

// Errors reported by New, Err and WriteTo. Returned errors wrap them; test with errors.Is.
var (
	// ErrConfig reports a Config that leaves no room for text: negative margins, margins
	// wider than the page, or a negative font size.
	ErrConfig = errors.New("pdf: invalid configuration")
	// ErrFont reports a Font value that is not one of the declared constants.
	ErrFont = errors.New("pdf: unknown font")
	// ErrNumber reports a coordinate, size or width that is not a finite number, or a font
	// size or line width that is negative.
	ErrNumber = errors.New("pdf: invalid number")
)
