//! Where the loop's time comes from: the real monotonic clock, or a virtual one.
//!
//! Timers are kept in whole milliseconds ("ticks"). A deadline is rounded *up* to a tick and
//! the current time *down*, so a timer can fire late by under a millisecond but never early.
//!
//! The virtual clock (trio's autojump clock, tokio's paused clock) only moves when the loop
//! has nothing ready to run: it jumps straight to the next timer. Hours of sleeps take
//! microseconds, and times are exact to the timer resolution of 1 ms (a 1.5 ms sleep ends at
//! 2 ms, as it would, at the earliest, on the real clock).

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Duration;

/// Nanoseconds in one tick (1 ms).
const TICK_NS: u64 = 1_000_000;

/// The tick of loop time 0. Ticks start this far up (about 35 years of milliseconds) so that
/// deadlines in the past, even before the loop's time 0 (`call_later(-2, ...)` on a fresh
/// virtual clock), are ticks too and keep their order; earlier ones saturate at tick 0.
const ORIGIN: u64 = 1 << 40;

/// `d` in nanoseconds, saturating at `u64::MAX`.
#[inline]
fn nanos(d: Duration) -> u64 {
    d.as_secs()
        .checked_mul(1_000_000_000)
        .and_then(|ns| ns.checked_add(u64::from(d.subsec_nanos())))
        .unwrap_or(u64::MAX)
}

/// Nanoseconds of the machine's monotonic clock (the one `Instant` reads on Linux; on other
/// Unix systems `CLOCK_MONOTONIC` may differ from `Instant` in whether it counts suspend).
///
/// Read with `clock_gettime` directly: `Instant::now()` followed by `duration_since` spent
/// about 130 instructions per read in checked `timespec` arithmetic and `Duration`
/// normalisation (callgrind, `benches/instr`), and a timer is created and fired with several
/// reads; this is the vDSO call and one multiply-add.
#[inline]
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` through the pointer, which points to the
    // initialised local `ts`, valid for writes for the whole call; `CLOCK_MONOTONIC` exists on
    // every system `libc` and `mio` support, so the call cannot fail with EINVAL, and EFAULT
    // cannot happen with a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    // Only a sandbox that forbids the call could make it fail; a loop without a clock would
    // never fire a timer, so say so (as `Instant::now` does).
    assert_eq!(
        rc, 0,
        "clock_gettime(CLOCK_MONOTONIC) failed: the loop has no clock"
    );
    // The monotonic clock counts from boot: both fields are non-negative and tv_nsec < 10^9.
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// The process-wide origin of real loop time, so every loop's `time()` agrees.
fn epoch_ns() -> u64 {
    static EPOCH: OnceLock<u64> = OnceLock::new();
    *EPOCH.get_or_init(monotonic_ns)
}

/// A loop's clock.
#[derive(Debug)]
pub(crate) enum Clock {
    /// The machine's monotonic clock.
    Real,
    /// Time that advances only when the loop would otherwise wait; nanoseconds since start.
    Virtual(Cell<u64>),
}

impl Clock {
    pub(crate) fn real() -> Clock {
        epoch_ns();
        Clock::Real
    }

    pub(crate) fn virtual_clock() -> Clock {
        Clock::Virtual(Cell::new(0))
    }

    pub(crate) fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual(_))
    }

    /// Nanoseconds since the clock's origin: the one clock read every other method makes.
    #[inline]
    pub(crate) fn elapsed_ns(&self) -> u64 {
        match self {
            Clock::Real => monotonic_ns().saturating_sub(epoch_ns()),
            Clock::Virtual(ns) => ns.get(),
        }
    }

    /// Time since the clock's origin.
    #[inline]
    pub(crate) fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.elapsed_ns())
    }

    /// `loop.time()`: seconds as `f64`.
    pub(crate) fn time(&self) -> f64 {
        self.elapsed().as_secs_f64()
    }

    /// The current tick, rounded down.
    #[inline]
    pub(crate) fn now_tick(&self) -> u64 {
        Self::tick_of(self.elapsed_ns())
    }

    /// The tick `elapsed_ns` nanoseconds after the origin falls in, rounded down.
    #[inline]
    pub(crate) fn tick_of(elapsed_ns: u64) -> u64 {
        ORIGIN + elapsed_ns / TICK_NS
    }

    /// The tick at which a timer of `delay` is due, counted from the clock read
    /// `elapsed_ns`, rounded up. `u64::MAX` means "never" (the delay is too large to represent).
    #[inline]
    pub(crate) fn deadline_from(elapsed_ns: u64, delay: Duration) -> u64 {
        // u64 nanoseconds last 584 years; a delay beyond that saturates to "never". (u128
        // arithmetic here showed up as a tenth of the cost of creating a timer.)
        match elapsed_ns.checked_add(nanos(delay)) {
            Some(due) if due != u64::MAX => ORIGIN + due.div_ceil(TICK_NS),
            _ => u64::MAX,
        }
    }

    /// The tick of loop time `when` (seconds, as `time()` gives them), rounded up; it may be
    /// in the past, even before time 0, and then keeps its order among past deadlines
    /// (asyncio's `call_at(when)`, and `call_later(delay)` as `call_at(time() + delay)` with a
    /// negative delay). `u64::MAX` means "never" (infinite or too far).
    ///
    /// # Panics
    ///
    /// If `when` is NaN.
    pub(crate) fn deadline_at(&self, when: f64) -> u64 {
        assert!(
            !when.is_nan(),
            "a deadline is NaN; pass a loop time in seconds"
        );
        // Milliseconds as f64 are exact far beyond any loop time (2^53 ms is 285,000 years).
        let tick = ORIGIN as f64 + (when * 1_000.0).ceil();
        if tick <= 0.0 {
            0
        } else if tick >= (u64::MAX - 1) as f64 {
            u64::MAX
        } else {
            tick as u64
        }
    }

    /// The loop time (`time()`, seconds) at which `tick` begins.
    pub(crate) fn tick_to_time(&self, tick: u64) -> f64 {
        tick.saturating_sub(ORIGIN) as f64 / 1000.0
    }

    /// How long the real clock has until `tick`; zero if it has passed.
    pub(crate) fn until(&self, tick: u64) -> Duration {
        let target = tick.saturating_sub(ORIGIN).saturating_mul(TICK_NS);
        Duration::from_nanos(target.saturating_sub(self.elapsed_ns()))
    }

    /// Virtual clock only: jump forward to `tick`.
    pub(crate) fn jump_to(&self, tick: u64) {
        if let Clock::Virtual(ns) = self {
            let target = tick.saturating_sub(ORIGIN).saturating_mul(TICK_NS);
            if target > ns.get() {
                ns.set(target);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_deadlines_are_ticks_in_order_even_before_time_zero() {
        let clock = Clock::virtual_clock();
        let now = clock.now_tick();
        assert_eq!(clock.deadline_at(0.0), now);
        assert_eq!(
            Clock::deadline_from(clock.elapsed_ns(), Duration::ZERO),
            now
        );
        let (minus1, minus2) = (clock.deadline_at(-1.0), clock.deadline_at(-2.0));
        assert!(minus2 < minus1 && minus1 < now);
        assert_eq!(now - minus1, 1_000);
        assert_eq!(
            clock.deadline_at(1.5),
            Clock::deadline_from(clock.elapsed_ns(), Duration::from_millis(1500))
        );
        assert_eq!(clock.deadline_at(f64::INFINITY), u64::MAX);
        assert_eq!(clock.deadline_at(f64::NEG_INFINITY), 0);
        // A jump to a tick lands on its loop time.
        clock.jump_to(clock.deadline_at(2.0));
        assert_eq!(clock.time(), 2.0);
        assert_eq!(clock.until(clock.deadline_at(1.0)), Duration::ZERO);
    }
}
