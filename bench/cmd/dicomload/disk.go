package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// diskResult is the durable write bandwidth of a filesystem, as dd measured it.
type diskResult struct {
	bytes   int64
	elapsed time.Duration // dd's own figure when it printed one, else the wall time of dd
	fromDD  bool
}

func (d diskResult) mbps() float64 {
	if d.elapsed <= 0 {
		return 0
	}
	return float64(d.bytes) / 1e6 / d.elapsed.Seconds()
}

// durableWrite writes mib MiB of zeros to a new file in dir with dd and conv=fdatasync (the
// data reach the disk before dd reports), then removes the file.
func durableWrite(ctx context.Context, dir string, mib int) (diskResult, error) {
	file := filepath.Join(dir, fmt.Sprintf(".dicomload-dd-%d", os.Getpid()))
	defer os.Remove(file)
	cmd := exec.CommandContext(ctx, "dd", "if=/dev/zero", "of="+file, "bs=1M", fmt.Sprintf("count=%d", mib), "conv=fdatasync")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(t0)
	if err != nil {
		return diskResult{}, fmt.Errorf("dd: %v: %s", err, strings.TrimSpace(string(out)))
	}
	if n, d, ok := parseDD(string(out)); ok && n == int64(mib)<<20 {
		return diskResult{bytes: n, elapsed: d, fromDD: true}, nil
	}
	return diskResult{bytes: int64(mib) << 20, elapsed: wall}, nil
}

// parseDD reads the bytes copied and the time taken from dd's closing line, GNU
// ("536870912 bytes (537 MB, 512 MiB) copied, 1.38 s, 388 MB/s") or BusyBox
// ("536870912 bytes (512.0MB) copied, 1.383970 seconds, 370.0MB/s").
func parseDD(out string) (int64, time.Duration, bool) {
	for line := range strings.SplitSeq(out, "\n") {
		i := strings.Index(line, " copied, ")
		if i < 0 {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[1] != "bytes" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		rest := strings.Fields(line[i+len(" copied, "):])
		if len(rest) < 2 {
			continue
		}
		s, err := strconv.ParseFloat(rest[0], 64)
		if err != nil || s <= 0 {
			continue
		}
		return n, time.Duration(s * float64(time.Second)), true
	}
	return 0, 0, false
}

// durableFiles is the floor of a store that makes every instance durable on its own: writers
// goroutines copy the instances' files into new files of a folder in dir, each written, synced,
// renamed into place and its folder synced, as the server's file store does. The files are
// removed afterwards.
func durableFiles(ctx context.Context, dir string, instances []instance, writers int) (diskResult, error) {
	folder, err := os.MkdirTemp(dir, ".dicomload-files-")
	if err != nil {
		return diskResult{}, err
	}
	defer os.RemoveAll(folder)
	var (
		next  atomic.Int64
		total atomic.Int64
		wg    sync.WaitGroup
		first error
		once  sync.Once
	)
	fail := func(err error) { once.Do(func() { first = err }) }
	one := func(i int, in instance) error {
		src, err := os.Open(in.path)
		if err != nil {
			return err
		}
		defer src.Close()
		tmp, err := os.CreateTemp(folder, "tmp-")
		if err != nil {
			return err
		}
		n, err := io.Copy(tmp, src)
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), filepath.Join(folder, fmt.Sprintf("i%06d", i)))
		}
		if err == nil {
			var d *os.File
			if d, err = os.Open(folder); err == nil {
				err = d.Sync()
				d.Close()
			}
		}
		total.Add(n)
		return err
	}
	t0 := time.Now()
	for range max(writers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(instances) {
					return
				}
				if err := one(i, instances[i]); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return diskResult{bytes: total.Load(), elapsed: time.Since(t0)}, first
}
