package pdf

import (
	"bytes"
	"compress/zlib"
)

// deflater compresses content streams with zlib, as FlateDecode expects, reusing one
// compressor for all the streams of a file.
type deflater struct {
	z *zlib.Writer
}

// deflate returns the concatenation of parts, compressed.
func (d *deflater) deflate(parts ...[]byte) ([]byte, error) {
	var buf bytes.Buffer
	if d.z == nil {
		z, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
		if err != nil {
			return nil, err
		}
		d.z = z
	} else {
		d.z.Reset(&buf)
	}
	for _, p := range parts {
		if _, err := d.z.Write(p); err != nil {
			return nil, err
		}
	}
	if err := d.z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
