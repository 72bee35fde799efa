//! Sign-in failure limits that hold under concurrency. An attempt takes a slot under each of
//! its keys *before* its password is checked, and settles it afterwards: a wrong password
//! turns the slot into a failure, a right one frees it. Failures plus attempts in flight never
//! exceed the limit, so however many guesses arrive at once, at most `max_failures` of them
//! are ever checked in a window; the rest wait for a slot (and then usually meet the lock).
//!
//! A lock lasts `lock_ms` the first time and doubles with each further lock of the same key
//! (its strikes), up to `max_lock_ms`; a key left alone for `max_lock_ms` after its last lock
//! starts again from no strikes. With `lock_ms == max_lock_ms` every lock lasts the same.

/// A slot not settled within this time belonged to a process that died mid-check: it counts
/// as a failure then (an unsettled check must not be a free guess). Far longer than any check
/// takes, even one queued behind many others for the hashing threads.
pub const SLOT_TTL_MS: i64 = 5 * 60_000;

/// `max_failures` within `window_ms` locks the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureLimit {
    pub max_failures: i64,
    pub window_ms: i64,
    /// The first lock's length.
    pub lock_ms: i64,
    /// The longest a lock may grow to.
    pub max_lock_ms: i64,
}

/// A key's counters as stored (a key never seen is [`FailureCount::default`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureCount {
    pub failures: i64,
    pub window_started_at: i64,
    /// When the latest lock ends (or ended); 0 if never locked.
    pub locked_until: i64,
    /// Locks since the key was last left alone.
    pub strikes: i64,
    /// Attempts being checked now.
    pub pending: i64,
    /// When the latest of them is given up for lost.
    pub pending_until: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotDecision {
    /// Refused unchecked: the key is locked until then.
    Locked { until: i64 },
    /// Refused unchecked, and the key locked by this decision: store the new counters.
    LockedNow(FailureCount),
    /// Every slot is held by an attempt being checked: try again in a moment.
    Busy,
    /// The attempt may be checked; store the new counters.
    Taken(FailureCount),
}

/// How an attempt ended, for one of its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// A wrong password: the slot becomes a failure.
    Failed,
    /// A right password: the slot is freed. Earlier failures stay until their window ends: a
    /// success that wiped them would let a burst of guesses around the right password check
    /// more than the limit.
    Freed,
}

impl FailureLimit {
    pub fn take_slot(&self, current: FailureCount, now: i64) -> SlotDecision {
        if current.locked_until > now {
            return SlotDecision::Locked {
                until: current.locked_until,
            };
        }
        let mut next = current;
        let lock_ended_in_window =
            current.locked_until != 0 && current.locked_until >= current.window_started_at;
        if lock_ended_in_window || current.window_started_at.saturating_add(self.window_ms) <= now {
            next.failures = 0;
            next.window_started_at = now;
        }
        if current.locked_until != 0 && current.locked_until.saturating_add(self.max_lock_ms) <= now
        {
            next.strikes = 0;
        }
        if next.pending > 0 && next.pending_until <= now {
            next.failures += next.pending;
            next.pending = 0;
        }
        if next.failures >= self.max_failures {
            // Only slots given up for lost get here (a settled failure locks at once): the
            // lock they earned is stored now.
            next.locked_until = now.saturating_add(self.lock_length(next.strikes));
            next.strikes += 1;
            return SlotDecision::LockedNow(next);
        }
        if next.failures + next.pending >= self.max_failures {
            return SlotDecision::Busy;
        }
        next.pending += 1;
        next.pending_until = now.saturating_add(SLOT_TTL_MS);
        SlotDecision::Taken(next)
    }

    /// The counters once an attempt that took a slot has ended.
    pub fn settle(&self, current: FailureCount, how: Settle, now: i64) -> FailureCount {
        let mut next = current;
        next.pending = (next.pending - 1).max(0);
        match how {
            Settle::Freed => {}
            Settle::Failed => {
                next.failures += 1;
                if next.failures >= self.max_failures && next.locked_until <= now {
                    next.locked_until = now.saturating_add(self.lock_length(next.strikes));
                    next.strikes += 1;
                }
            }
        }
        next
    }

    /// The length of a lock after `strikes` earlier ones.
    pub fn lock_length(&self, strikes: i64) -> i64 {
        let doublings = strikes.clamp(0, 30) as u32;
        self.lock_ms
            .saturating_mul(1_i64 << doublings)
            .min(self.max_lock_ms.max(self.lock_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn limit(max_failures: i64, lock_ms: i64, max_lock_ms: i64) -> FailureLimit {
        FailureLimit {
            max_failures,
            window_ms: 15 * MIN,
            lock_ms,
            max_lock_ms,
        }
    }

    fn taken(d: SlotDecision) -> FailureCount {
        match d {
            SlotDecision::Taken(count) => count,
            other => panic!("no slot: {other:?}"),
        }
    }

    /// One attempt from start to end.
    fn attempt(l: &FailureLimit, c: FailureCount, how: Settle, now: i64) -> FailureCount {
        l.settle(taken(l.take_slot(c, now)), how, now)
    }

    #[test]
    fn attempts_in_flight_and_failures_share_the_limit() {
        let l = limit(3, 15 * MIN, 15 * MIN);
        let now = 1_000_000;
        // Three at once take every slot; a fourth waits.
        let mut c = FailureCount::default();
        for _ in 0..3 {
            c = taken(l.take_slot(c, now));
        }
        assert_eq!(l.take_slot(c, now), SlotDecision::Busy);
        // One of them was right: its slot is free again.
        c = l.settle(c, Settle::Freed, now);
        c = taken(l.take_slot(c, now));
        // All three left were wrong: the third failure locks the key.
        for _ in 0..3 {
            c = l.settle(c, Settle::Failed, now);
        }
        assert_eq!(
            l.take_slot(c, now + 1),
            SlotDecision::Locked {
                until: now + 15 * MIN
            }
        );
        // After the lock, a fresh window.
        let c = taken(l.take_slot(c, now + 15 * MIN));
        assert_eq!((c.failures, c.pending), (0, 1));
    }

    #[test]
    fn a_right_password_frees_its_slot_and_forgives_nothing() {
        let l = limit(3, MIN, MIN);
        let c = attempt(&l, FailureCount::default(), Settle::Failed, 0);
        let c = attempt(&l, c, Settle::Failed, 0);
        let c = attempt(&l, c, Settle::Freed, 0);
        assert_eq!((c.failures, c.pending), (2, 0));
    }

    #[test]
    fn locks_grow_and_are_forgotten_after_a_quiet_spell() {
        let l = limit(1, MIN, 15 * MIN);
        let mut c = FailureCount::default();
        let mut now = 0;
        let mut lengths = Vec::new();
        for _ in 0..6 {
            c = attempt(&l, c, Settle::Failed, now);
            lengths.push(c.locked_until - now);
            now = c.locked_until;
        }
        assert_eq!(
            lengths,
            [MIN, 2 * MIN, 4 * MIN, 8 * MIN, 15 * MIN, 15 * MIN]
        );
        let later = now + 15 * MIN;
        let c = attempt(&l, c, Settle::Failed, later);
        assert_eq!(c.locked_until, later + MIN, "strikes forgotten");
    }

    #[test]
    fn a_window_that_ran_out_starts_again() {
        let l = limit(5, 15 * MIN, 15 * MIN);
        let c = attempt(&l, FailureCount::default(), Settle::Failed, 0);
        let c = attempt(&l, c, Settle::Failed, 1);
        assert_eq!(c.failures, 2);
        let c = attempt(&l, c, Settle::Failed, 15 * MIN);
        assert_eq!((c.failures, c.window_started_at), (1, 15 * MIN));
    }

    #[test]
    fn slots_of_a_process_that_died_count_as_failures() {
        let l = limit(3, MIN, MIN);
        let c = taken(l.take_slot(FailureCount::default(), 0));
        let c = taken(l.take_slot(c, 0));
        let c = taken(l.take_slot(c, 0));
        assert_eq!(l.take_slot(c, SLOT_TTL_MS - 1), SlotDecision::Busy);
        // Then they are three failures: the key is locked, and stays locked.
        let SlotDecision::LockedNow(locked) = l.take_slot(c, SLOT_TTL_MS) else {
            panic!("locked");
        };
        assert_eq!((locked.failures, locked.pending), (3, 0));
        assert_eq!(
            l.take_slot(locked, SLOT_TTL_MS + 1),
            SlotDecision::Locked {
                until: SLOT_TTL_MS + MIN
            }
        );
        let two_lost = l.settle(c, Settle::Freed, 0);
        let c = taken(l.take_slot(two_lost, SLOT_TTL_MS));
        assert_eq!((c.failures, c.pending), (2, 1));
    }

    #[test]
    fn lock_lengths_cannot_overflow() {
        let l = limit(1, i64::MAX / 2, i64::MAX);
        assert_eq!(l.lock_length(100), i64::MAX);
        let c = attempt(&l, FailureCount::default(), Settle::Failed, i64::MAX - 5);
        assert_eq!(c.locked_until, i64::MAX);
    }
}
