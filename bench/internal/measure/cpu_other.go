//go:build !unix

package measure

import "time"

// ProcessCPU is unknown here: the reports leave the client's CPU time out.
func ProcessCPU() time.Duration { return 0 }
