package auth

import "time"

// LockoutPolicy says when repeated failed logins lock an account and for how
// long. Zero fields take the values of [DefaultLockoutPolicy].
type LockoutPolicy struct {
	// Threshold is the number of consecutive failures that first locks the
	// account.
	Threshold int
	// Base is the lock duration at Threshold failures; every further failure
	// doubles it.
	Base time.Duration
	// Max caps the lock duration.
	Max time.Duration
}

// DefaultLockoutPolicy locks an account for 15 minutes after 5 consecutive
// failures, doubling with every further failure up to 24 hours.
func DefaultLockoutPolicy() LockoutPolicy {
	return LockoutPolicy{Threshold: 5, Base: 15 * time.Minute, Max: 24 * time.Hour}
}

// Lockout returns how long an account with the given number of consecutive
// failed logins stays locked after the latest failure: 0 below the
// threshold, then Base, 2×Base, 4×Base, … capped at Max. The store keeps
// the failure counter (reset on success) and the time of the last failure;
// this function only does the arithmetic.
func Lockout(failures int, policy LockoutPolicy) time.Duration {
	def := DefaultLockoutPolicy()
	if policy.Threshold <= 0 {
		policy.Threshold = def.Threshold
	}
	if policy.Base <= 0 {
		policy.Base = def.Base
	}
	if policy.Max <= 0 {
		policy.Max = def.Max
	}
	if failures < policy.Threshold {
		return 0
	}
	d := min(policy.Base, policy.Max)
	for extra := failures - policy.Threshold; extra > 0 && d < policy.Max; extra-- {
		if d > policy.Max/2 {
			return policy.Max
		}
		d *= 2
	}
	return d
}
