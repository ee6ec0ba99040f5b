//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package blob

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on fh without waiting. The lock lasts until fh is
// closed, or until its process dies.
func lockFile(fh *os.File) error {
	rc, err := fh.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) {
		lerr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
	}); err != nil {
		return err
	}
	return lerr
}

// syncDir makes the entries of folder dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
