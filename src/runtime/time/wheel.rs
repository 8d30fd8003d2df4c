//! Hierarchical timer wheel (Varghese & Lauck; tokio's wheel is the model).
//!
//! Time is measured in `u64` *ticks* (the event loop maps 1 tick to 1 ms).
//! The wheel has 6 levels of 64 slots; a slot on level `L` covers `64^L`
//! ticks, so a whole level covers `64^(L+1)` ticks and the wheel covers
//! `64^6 = 2^36` ticks (about 2.2 years of milliseconds).
//!
//! ```text
//!            slot 0   1   2         63     one slot covers   one level covers
//! level 5   [  ][  ][  ] ... [  ]          2^30 ticks        2^36 ticks
//! level 4   [  ][  ][  ] ... [  ]          2^24 ticks        2^30 ticks
//!   ...
//! level 1   [  ][##][  ] ... [  ]          64 ticks          4096 ticks
//! level 0   [  ][  ][##] ... [##]          1 tick            64 ticks
//!                 |
//!                 +-> head <-> entry <-> entry <-> tail  (intrusive list
//!                     threaded through a `Slab<Entry>`, FIFO order)
//! occupied: u64 bitmap per level, bit i set <=> slot i is non-empty
//! ```
//!
//! Ground rules:
//!
//! * `elapsed` is the tick the wheel has been advanced to. An entry lives on
//!   the level given by the highest 6-bit group in which `elapsed ^ deadline`
//!   differs, in the slot given by that group of its deadline. Hence on
//!   levels 1..=4 every occupied slot lies strictly after `elapsed`'s own
//!   slot, and every entry on a lower level is due before any slot of a
//!   higher level starts. The next slot to process is therefore on the
//!   lowest non-empty level, found with `rotate_right` + `trailing_zeros` on
//!   its bitmap; timers are never scanned.
//! * A deadline `<= elapsed` goes into the level-0 slot of `elapsed`, so the
//!   next [`Wheel::advance`] fires it. That slot holds only due entries, and
//!   they are kept sorted by deadline (an insert walks back from the tail past
//!   later deadlines, usually zero steps), so timers already in the past still
//!   fire in deadline order, FIFO among equals: asyncio's heap runs
//!   `call_later(-1, a); call_later(-2, b)` as b, a.
//! * Deadlines whose difference from `elapsed` reaches past bit 35 are
//!   clamped into level 5, in the slot of their deadline's bits 30..36; the
//!   real deadline stays in the entry. Level 5 is thus a ring shared by many
//!   2^36-tick epochs, so each of its slots remembers the earliest
//!   2^30-aligned block start among its entries (`top_start`): that is when
//!   the slot must be processed. Processing simply re-inserts (cascades)
//!   entries that are still in the future, so a far timer costs at most a
//!   few cascades however far away it is, even when `advance` jumps.
//! * Processing a slot takes its whole list and, in list order, fires every
//!   entry with `deadline <= elapsed` and re-inserts the others relative to
//!   the new `elapsed`. Equal deadlines therefore fire in insertion order.
//! * Insert and remove are O(1) and allocate nothing beyond slab growth.

use slab::Slab;
use std::fmt;
use std::task::Waker;

/// Handle to a timer in a [`Wheel`]; valid until passed to [`Wheel::remove`].
pub(crate) type TimerKey = usize;

/// Bits of a tick consumed by one level.
const LEVEL_BITS: usize = 6;
/// Slots per level.
const SLOTS: usize = 1 << LEVEL_BITS;
/// Mask selecting a slot index out of a shifted tick.
const SLOT_MASK: u64 = SLOTS as u64 - 1;
/// Number of levels.
const LEVELS: usize = 6;
/// Index of the top level, which also holds the clamped far timers.
const TOP: usize = LEVELS - 1;
/// Ticks covered by the whole wheel (`64^6 = 2^36`).
const WHEEL_RANGE: u64 = 1 << (LEVEL_BITS * LEVELS);
/// Ticks covered by one slot of the top level (`2^30`).
const TOP_SLOT_RANGE: u64 = 1 << (LEVEL_BITS * TOP);
/// Bits of a link that hold an entry key; the bits above carry the entry's place.
const KEY_BITS: u32 = 26;
/// Mask of the key bits of a link.
const KEY_MASK: u32 = (1 << KEY_BITS) - 1;
/// "No entry" link value (the largest key, never handed out).
const NIL: u32 = KEY_MASK;
/// In `Entry::next`, above the key: the level (3 bits), then the fired flag.
const FIRED: u32 = 1 << (KEY_BITS + 3);

/// One timer, stored in the slab and linked into a slot list while pending.
///
/// 32 bytes: the timer-churn benchmark holds a million of these, so the slot and level ride in
/// the spare high bits of the two links (keys are limited to 2^26 live timers), and a fired
/// entry keeps a no-op waker instead of an `Option` (which leaves the waker's niche to the
/// slab, so a slab entry is 32 bytes too).
#[derive(Debug)]
struct Entry {
    /// The real deadline in ticks (never clamped).
    deadline: u64,
    /// The waker to hand out when fired; a no-op once fired.
    waker: Waker,
    /// Previous entry in the slot list (low bits) and the slot index (high 6 bits).
    prev: u32,
    /// Next entry in the slot list (low bits), the level (3 bits) and the fired flag.
    next: u32,
}

impl Entry {
    #[inline]
    fn prev(&self) -> u32 {
        self.prev & KEY_MASK
    }

    #[inline]
    fn next(&self) -> u32 {
        self.next & KEY_MASK
    }

    #[inline]
    fn set_prev(&mut self, key: u32) {
        self.prev = (self.prev & !KEY_MASK) | key;
    }

    #[inline]
    fn set_next(&mut self, key: u32) {
        self.next = (self.next & !KEY_MASK) | key;
    }

    /// The slot's `(level, slot)` while pending.
    #[inline]
    fn place(&self) -> (u8, u8) {
        (
            ((self.next >> KEY_BITS) & 7) as u8,
            (self.prev >> KEY_BITS) as u8,
        )
    }

    /// Links and place of a pending entry.
    #[inline]
    fn links(prev: u32, next: u32, level: usize, slot: usize) -> (u32, u32) {
        (
            prev | ((slot as u32) << KEY_BITS),
            next | ((level as u32) << KEY_BITS),
        )
    }

    #[inline]
    fn is_fired(&self) -> bool {
        self.next & FIRED != 0
    }
}

/// Head and tail of one slot's intrusive list.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// First entry (earliest inserted), or `NIL`.
    head: u32,
    /// Last entry (latest inserted), or `NIL`.
    tail: u32,
}

/// An empty slot.
const EMPTY: Slot = Slot {
    head: NIL,
    tail: NIL,
};

/// One level: 64 slots and their occupancy bitmap.
struct Level {
    /// Bit `i` is set iff slot `i` holds at least one entry.
    occupied: u64,
    /// The slot lists.
    slots: [Slot; SLOTS],
}

/// A hierarchical timing wheel of wakers keyed by [`TimerKey`].
pub(crate) struct Wheel {
    /// Storage of all live entries (pending and fired-but-not-removed).
    slab: Slab<Entry>,
    /// The tick the wheel has been advanced to.
    elapsed: u64,
    /// The six levels, finest first.
    levels: [Level; LEVELS],
    /// For each occupied top-level slot: the tick at which it must be
    /// processed, i.e. the smallest 2^30-aligned block start of the deadlines
    /// inserted into it since it was last empty (may be stale-early after a
    /// removal, which only costs a harmless cascade).
    top_start: [u64; SLOTS],
}

/// Level on which an entry due at `deadline` (> `elapsed`) belongs.
#[inline]
fn level_for(elapsed: u64, deadline: u64) -> usize {
    let significant = ((elapsed ^ deadline) | SLOT_MASK).min(WHEEL_RANGE - 1);
    (63 - significant.leading_zeros() as usize) / LEVEL_BITS
}

/// Slot index of tick `tick` on level `level`.
#[inline]
fn slot_for(tick: u64, level: usize) -> usize {
    ((tick >> (level * LEVEL_BITS)) & SLOT_MASK) as usize
}

impl Wheel {
    /// Creates an empty wheel with `elapsed == 0`.
    pub(crate) fn new() -> Wheel {
        Wheel {
            slab: Slab::new(),
            elapsed: 0,
            levels: std::array::from_fn(|_| Level {
                occupied: 0,
                slots: [EMPTY; SLOTS],
            }),
            top_start: [u64::MAX; SLOTS],
        }
    }

    /// The tick the wheel has been advanced to.
    #[inline]
    #[cfg_attr(not(test), allow(dead_code))] // part of the wheel's API; the loop does not need it
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Every pending entry's deadline and waker (for the call graph; O(entries)).
    pub(crate) fn pending(&self) -> impl Iterator<Item = (u64, &Waker)> + '_ {
        self.slab
            .iter()
            .filter(|(_, e)| !e.is_fired())
            .map(|(_, e)| (e.deadline, &e.waker))
    }

    /// Number of live entries (pending, plus fired but not yet removed).
    #[inline]
    #[cfg_attr(not(test), allow(dead_code))] // part of the wheel's API; the loop does not need it
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    /// True when there are no live entries.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }

    /// Registers `waker` to be handed out by the first `advance(now)` with
    /// `now >= deadline`. A deadline `<= elapsed()` fires on the next advance.
    #[inline]
    pub(crate) fn insert(&mut self, deadline: u64, waker: Waker) -> TimerKey {
        let key = self.slab.vacant_key();
        assert!(
            key < NIL as usize,
            "timer wheel: more than {NIL} timers pending at once"
        );
        let (level, slot) = self.placement(deadline);
        if deadline < self.elapsed {
            // Overdue: its place in the due slot is by deadline, not at the tail.
            self.insert_due(slot, key as u32, deadline, waker);
            return key;
        }
        let prev = self.push_back(level, slot, key as u32, deadline);
        let (prev, next) = Entry::links(prev, NIL, level, slot);
        let inserted = self.slab.insert(Entry {
            deadline,
            waker,
            prev,
            next,
        });
        debug_assert_eq!(inserted, key);
        key
    }

    /// Inserts an overdue entry into the due slot (level 0, slot of `elapsed`) after the last
    /// entry whose deadline is not later than its own.
    fn insert_due(&mut self, slot: usize, key: u32, deadline: u64, waker: Waker) {
        let mut after = self.levels[0].slots[slot].tail;
        while after != NIL && self.slab[after as usize].deadline > deadline {
            after = self.slab[after as usize].prev();
        }
        let before = match after {
            NIL => self.levels[0].slots[slot].head,
            a => self.slab[a as usize].next(),
        };
        let (prev, next) = Entry::links(after, before, 0, slot);
        let inserted = self.slab.insert(Entry {
            deadline,
            waker,
            prev,
            next,
        });
        debug_assert_eq!(inserted, key as usize);
        match after {
            NIL => self.levels[0].slots[slot].head = key,
            a => self.slab[a as usize].set_next(key),
        }
        match before {
            NIL => self.levels[0].slots[slot].tail = key,
            b => self.slab[b as usize].set_prev(key),
        }
        self.levels[0].occupied |= 1 << slot;
    }

    /// Replaces the stored waker with a clone of `waker` unless the stored one
    /// already `will_wake` it. No-op for a fired entry.
    #[inline]
    pub(crate) fn set_waker(&mut self, key: TimerKey, waker: &Waker) {
        let entry = &mut self.slab[key];
        if !entry.is_fired() && !entry.waker.will_wake(waker) {
            entry.waker = waker.clone();
        }
    }

    /// Removes the entry (pending or fired) in O(1) and frees `key`.
    /// Panics if `key` is not live.
    #[inline]
    pub(crate) fn remove(&mut self, key: TimerKey) {
        let entry = self.slab.remove(key);
        if !entry.is_fired() {
            let (level, slot) = entry.place();
            self.unlink(level, slot, entry.prev(), entry.next());
        }
    }

    /// Whether `advance` has fired the entry.
    #[inline]
    pub(crate) fn is_fired(&self, key: TimerKey) -> bool {
        self.slab[key].is_fired()
    }

    /// The deadline the entry was inserted with.
    #[inline]
    #[cfg_attr(not(test), allow(dead_code))] // part of the wheel's API; the loop does not need it
    pub(crate) fn deadline(&self, key: TimerKey) -> u64 {
        self.slab[key].deadline
    }

    /// The earliest tick at which [`Wheel::advance`] has work: the start
    /// tick of the next occupied slot. For a higher level this may be a
    /// cascade point before the real deadline, but it is never after the
    /// earliest pending deadline (nor before `elapsed()`: an overdue entry is
    /// due at `elapsed()`). `None` when no entry is pending.
    #[inline]
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_slot().map(|(_, _, start)| start)
    }

    /// Fires every pending entry with `deadline <= now`, in deadline order
    /// and FIFO among equal deadlines, appending their wakers to `fired`;
    /// then sets `elapsed` to `now`. A `now` before `elapsed()` is a no-op.
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<Waker>) {
        if now < self.elapsed {
            return;
        }
        if self.slab.is_empty() {
            // Nothing to fire or cascade: only "now" moves. (The loop advances an empty wheel
            // before each first timer; the level scan below cost ~50 instructions there.)
            self.elapsed = now;
            return;
        }
        while let Some((level, slot, start)) = self.next_slot() {
            if start > now {
                break;
            }
            debug_assert!(start >= self.elapsed);
            self.elapsed = start;
            self.process_slot(level, slot, fired);
        }
        self.elapsed = now;
    }

    /// Level and slot for a new or cascading entry relative to `elapsed`.
    #[inline]
    fn placement(&self, deadline: u64) -> (usize, usize) {
        if deadline <= self.elapsed {
            (0, slot_for(self.elapsed, 0))
        } else {
            let level = level_for(self.elapsed, deadline);
            (level, slot_for(deadline, level))
        }
    }

    /// Appends `key` to the list of `(level, slot)`; returns the old tail,
    /// which becomes the entry's `prev`. The entry's own fields are the
    /// caller's job.
    #[inline]
    fn push_back(&mut self, level: usize, slot: usize, key: u32, deadline: u64) -> u32 {
        let lvl = &mut self.levels[level];
        let list = &mut lvl.slots[slot];
        let tail = list.tail;
        list.tail = key;
        let block_start = deadline & !(TOP_SLOT_RANGE - 1);
        if tail == NIL {
            list.head = key;
            lvl.occupied |= 1 << slot;
            if level == TOP {
                self.top_start[slot] = block_start;
            }
        } else {
            self.slab[tail as usize].set_next(key);
            if level == TOP && block_start < self.top_start[slot] {
                self.top_start[slot] = block_start;
            }
        }
        tail
    }

    /// Unlinks an entry with links `prev`/`next` from `(level, slot)`.
    #[inline]
    fn unlink(&mut self, level: u8, slot: u8, prev: u32, next: u32) {
        let (lvl, slot) = (&mut self.levels[level as usize], slot as usize);
        if prev == NIL {
            lvl.slots[slot].head = next;
        } else {
            self.slab[prev as usize].set_next(next);
        }
        if next == NIL {
            lvl.slots[slot].tail = prev;
        } else {
            self.slab[next as usize].set_prev(prev);
        }
        if prev == NIL && next == NIL {
            lvl.occupied &= !(1 << slot);
        }
    }

    /// The next slot to process as `(level, slot, start tick)`: the lowest
    /// non-empty level always holds it (see the module docs).
    #[inline]
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        for (level, lvl) in self.levels[..TOP].iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let shift = level * LEVEL_BITS;
            let now_slot = slot_for(self.elapsed, level) as u32;
            let distance = lvl.occupied.rotate_right(now_slot).trailing_zeros();
            let slot = (now_slot + distance) as usize % SLOTS;
            let level_start = self.elapsed & !((1u64 << (shift + LEVEL_BITS)) - 1);
            let start = level_start + ((slot as u64) << shift);
            debug_assert!(start > self.elapsed || (level == 0 && start == self.elapsed));
            return Some((level, slot, start));
        }
        // Only the top level is occupied: pick its earliest processing point.
        let mut occupied = self.levels[TOP].occupied;
        let mut best: Option<(usize, usize, u64)> = None;
        while occupied != 0 {
            let slot = occupied.trailing_zeros() as usize;
            occupied &= occupied - 1;
            let start = self.top_start[slot];
            if best.is_none_or(|(_, _, b)| start < b) {
                best = Some((TOP, slot, start));
            }
        }
        best
    }

    /// Empties `(level, slot)` (its start is the current `elapsed`): fires
    /// the due entries in list order and cascades the rest.
    fn process_slot(&mut self, level: usize, slot: usize, fired: &mut Vec<Waker>) {
        let lvl = &mut self.levels[level];
        let mut cur = lvl.slots[slot].head;
        lvl.slots[slot] = EMPTY;
        lvl.occupied &= !(1 << slot);
        while cur != NIL {
            let key = cur;
            let entry = &mut self.slab[key as usize];
            cur = entry.next();
            if entry.deadline <= self.elapsed {
                entry.next |= FIRED; // links are dead from now on
                fired.push(std::mem::replace(&mut entry.waker, Waker::noop().clone()));
            } else {
                let deadline = entry.deadline;
                let (new_level, new_slot) = self.placement(deadline);
                debug_assert!(new_level < level || level == TOP);
                let prev = self.push_back(new_level, new_slot, key, deadline);
                let entry = &mut self.slab[key as usize];
                (entry.prev, entry.next) = Entry::links(prev, NIL, new_level, new_slot);
            }
        }
    }
}

impl fmt::Debug for Wheel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let occupied = self.levels.each_ref().map(|l| l.occupied);
        f.debug_struct("Wheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.slab.len())
            .field("occupied", &format_args!("{occupied:x?}"))
            .field("next_expiration", &self.next_expiration())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    use std::sync::{Arc, Mutex};
    use std::task::Wake;

    #[test]
    fn an_entry_and_its_slab_slot_are_32_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 32);
        let mut slab = Slab::new();
        let _ = slab.insert(Entry {
            deadline: 0,
            waker: Waker::noop().clone(),
            prev: NIL,
            next: NIL,
        });
        // A slab entry is the Entry plus nothing: its tag fits in the waker's niche.
        assert!(slab.capacity() > 0);
        assert_eq!(std::mem::size_of::<Option<Entry>>(), 32);
    }

    /// Shared log of fired ids.
    type Log = Arc<Mutex<Vec<u64>>>;

    /// A waker that appends its id to a log when woken.
    struct Recorder(u64, Log);

    impl Wake for Recorder {
        fn wake(self: Arc<Self>) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    /// A waker recording `id` into `log`.
    fn recorder(id: u64, log: &Log) -> Waker {
        Waker::from(Arc::new(Recorder(id, log.clone())))
    }

    /// Wakes every fired waker in order and returns the recorded ids.
    fn fired_ids(fired: &mut Vec<Waker>, log: &Log) -> Vec<u64> {
        fired.drain(..).for_each(Waker::wake);
        std::mem::take(&mut *log.lock().unwrap())
    }

    /// A waker that does nothing.
    fn noop() -> Waker {
        Waker::noop().clone()
    }

    /// Tiny seeded xorshift64 PRNG.
    struct Rng(u64);

    impl Rng {
        fn new(seed: u64) -> Rng {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A level boundary distance: `64^l - 1`, `64^l` or `64^l + 1`.
    fn boundary(l: u64, offset: u64) -> u64 {
        (1u64 << (LEVEL_BITS as u64 * l)) - 1 + offset
    }

    /// A random delay over mixed ranges, from 0 to huge.
    fn delay(rng: &mut Rng) -> u64 {
        match rng.below(12) {
            0 => 0,
            1..=3 => rng.below(64),
            4 => boundary(1 + rng.below(6), rng.below(3)),
            5 | 6 => rng.below(5000),
            7 => rng.below(1 << 20),
            8 => rng.below(1 << 31),
            9 => rng.below(1 << 38),
            10 => rng.below(1 << 44),
            _ => rng.next(),
        }
    }

    #[test]
    fn fires_in_deadline_order_and_fifo_for_equal_deadlines() {
        let log = Log::default();
        let mut wheel = Wheel::new();
        let deadlines = [500u64, 3, 70, 3, 4096, 500, 0, 70, 1 << 31, 3, 64, 63];
        for (id, &d) in deadlines.iter().enumerate() {
            wheel.insert(d, recorder(id as u64, &log));
        }
        let mut expected: Vec<u64> = (0..deadlines.len() as u64).collect();
        expected.sort_by_key(|&id| deadlines[id as usize]); // stable: FIFO
        let mut fired = Vec::new();
        wheel.advance(1 << 32, &mut fired);
        assert_eq!(fired_ids(&mut fired, &log), expected);
        // Equal deadlines inserted at different elapsed still fire FIFO.
        let mut wheel = Wheel::new();
        wheel.insert(5000, recorder(0, &log));
        wheel.advance(4000, &mut fired);
        wheel.insert(5000, recorder(1, &log));
        wheel.insert(4999, recorder(2, &log));
        wheel.advance(4990, &mut fired);
        wheel.insert(5000, recorder(3, &log));
        wheel.advance(6000, &mut fired);
        assert_eq!(fired_ids(&mut fired, &log), [2, 0, 1, 3]);
    }

    #[test]
    fn overdue_deadlines_fire_in_deadline_order() {
        // asyncio: call_later(-1, a); call_later(-2, b) runs b, then a. Deadlines already past
        // when inserted keep their order among themselves and with one due right now.
        let log = Log::default();
        let mut fired = Vec::new();
        let mut wheel = Wheel::new();
        wheel.advance(10_000, &mut fired);
        let deadlines = [9_000u64, 8_000, 10_000, 9_500, 8_000, 0, 9_999];
        for (id, &d) in deadlines.iter().enumerate() {
            wheel.insert(d, recorder(id as u64, &log));
        }
        wheel.insert(10_001, recorder(99, &log));
        wheel.advance(10_000, &mut fired);
        let mut expected: Vec<u64> = (0..deadlines.len() as u64).collect();
        expected.sort_by_key(|&id| deadlines[id as usize]); // stable: FIFO among equals
        assert_eq!(fired_ids(&mut fired, &log), expected);
        wheel.advance(10_001, &mut fired);
        assert_eq!(fired_ids(&mut fired, &log), [99]);
        // Removing overdue entries keeps the slot's links right.
        let mut wheel = Wheel::new();
        wheel.advance(500, &mut fired);
        let keys: Vec<_> = [300u64, 100, 200, 400]
            .iter()
            .enumerate()
            .map(|(id, &d)| wheel.insert(d, recorder(id as u64, &log)))
            .collect();
        wheel.remove(keys[2]); // 200, in the middle
        wheel.remove(keys[3]); // 400, the tail
        wheel.insert(250, recorder(7, &log));
        wheel.advance(500, &mut fired);
        assert_eq!(fired_ids(&mut fired, &log), [1, 7, 0]);
        assert_eq!(wheel.next_expiration(), None);
    }

    #[test]
    fn never_fires_early() {
        let mut fired = Vec::new();
        for start in [0u64, 1, 63, 4095, (1 << 30) - 1, WHEEL_RANGE - 5] {
            let bounds = (1..=6).flat_map(|l| (0..3).map(move |o| boundary(l, o)));
            for d in bounds.chain([1, 2, 100, 12345, 1 << 40]) {
                let mut wheel = Wheel::new();
                wheel.advance(start, &mut fired);
                let key = wheel.insert(start + d, noop());
                // Step through every expiration point, then the tick before.
                while let Some(next) = wheel.next_expiration().filter(|&n| n < start + d) {
                    wheel.advance(next, &mut fired);
                    assert!(!wheel.is_fired(key), "fired early: {start} + {d}");
                }
                wheel.advance(start + d - 1, &mut fired);
                assert!(!wheel.is_fired(key) && fired.is_empty());
                wheel.advance(start + d, &mut fired);
                assert!(wheel.is_fired(key));
                assert_eq!(fired.len(), 1);
                fired.clear();
            }
        }
    }

    #[test]
    fn fires_everything_due() {
        let mut rng = Rng::new(7);
        let mut wheel = Wheel::new();
        let mut fired = Vec::new();
        let mut keys = Vec::new();
        for _ in 0..20 {
            for _ in 0..500 {
                let d = wheel.elapsed().saturating_add(delay(&mut rng));
                keys.push(wheel.insert(d, noop()));
            }
            let bits = rng.below(34) + 1;
            let now = wheel.elapsed() + rng.below(1 << bits);
            wheel.advance(now, &mut fired);
            let due = keys.iter().filter(|&&k| wheel.deadline(k) <= now).count();
            assert_eq!(fired.len(), due);
            for &k in &keys {
                assert_eq!(wheel.is_fired(k), wheel.deadline(k) <= now);
            }
            fired.clear();
            let (done, rest): (Vec<_>, Vec<_>) = keys.iter().partition(|&&k| wheel.is_fired(k));
            done.into_iter().for_each(|k| wheel.remove(k));
            keys = rest;
        }
        assert_eq!(wheel.len(), keys.len());
    }

    #[test]
    fn removing_pending_entries_leaves_wheel_empty() {
        let mut rng = Rng::new(42);
        let mut wheel = Wheel::new();
        let mut fired = Vec::new();
        let waker = noop();
        let mut keys = Vec::with_capacity(1_000_000);
        for i in 0..1_000_000u64 {
            let d = wheel.elapsed().saturating_add(100 + delay(&mut rng));
            keys.push(wheel.insert(d, waker.clone()));
            if i % 100_000 == 0 {
                wheel.advance(wheel.elapsed() + 1, &mut fired); // nothing is due yet
            }
            // Remove some random key as we go; the rest at the end.
            if rng.below(2) == 0 {
                let k = keys.swap_remove(rng.below(keys.len() as u64) as usize);
                wheel.remove(k);
            }
        }
        assert!(fired.is_empty());
        assert_eq!(wheel.len(), keys.len());
        while !keys.is_empty() {
            wheel.remove(keys.swap_remove(rng.below(keys.len() as u64) as usize));
        }
        assert_eq!((wheel.len(), wheel.is_empty()), (0, true));
        assert_eq!(wheel.next_expiration(), None);
        assert!(wheel.levels.iter().all(|l| l.occupied == 0));
        wheel.advance(u64::MAX, &mut fired);
        assert!(fired.is_empty());
    }

    #[test]
    fn far_deadlines_beyond_the_wheel_range_cascade_correctly() {
        let log = Log::default();
        let mut fired = Vec::new();
        let mut wheel = Wheel::new();
        let deadlines = [1u64 << 40, (1 << 40) + 1, u64::MAX - 1, WHEEL_RANGE + 5];
        let keys: Vec<_> = deadlines
            .iter()
            .enumerate()
            .map(|(i, &d)| wheel.insert(d, recorder(i as u64, &log)))
            .collect();
        let mut check = |wheel: &mut Wheel, now: u64, expect: &[u64]| {
            wheel.advance(now, &mut fired);
            assert_eq!(fired_ids(&mut fired, &log), expect, "at {now}");
            assert_eq!(wheel.elapsed(), now);
            for (&k, &d) in keys.iter().zip(&deadlines) {
                assert_eq!(wheel.is_fired(k), d <= now);
            }
            if let Some(next) = wheel.next_expiration() {
                let min = deadlines.iter().filter(|&&d| d > now).min().unwrap();
                assert!(next <= *min && next > now);
            }
        };
        check(&mut wheel, WHEEL_RANGE + 4, &[]);
        check(&mut wheel, WHEEL_RANGE + 5, &[3]);
        check(&mut wheel, (1 << 40) - 1, &[]);
        check(&mut wheel, 1 << 40, &[0]);
        check(&mut wheel, 1 << 40, &[]);
        check(&mut wheel, (1 << 40) + 1, &[1]);
        check(&mut wheel, u64::MAX - 2, &[]);
        check(&mut wheel, u64::MAX - 1, &[2]);
        // An epoch boundary crossed by a short timer, and u64::MAX itself.
        let mut wheel = Wheel::new();
        wheel.advance(WHEEL_RANGE - 1, &mut fired);
        let a = wheel.insert(WHEEL_RANGE, noop());
        let b = wheel.insert(u64::MAX, noop());
        assert_eq!(wheel.next_expiration(), Some(WHEEL_RANGE));
        wheel.advance(WHEEL_RANGE, &mut fired);
        assert!(wheel.is_fired(a) && !wheel.is_fired(b));
        wheel.advance(u64::MAX - 1, &mut fired);
        assert!(!wheel.is_fired(b));
        wheel.advance(u64::MAX, &mut fired);
        assert!(wheel.is_fired(b) && fired.len() == 2);
    }

    #[test]
    fn next_expiration_is_never_after_the_earliest_deadline() {
        let mut rng = Rng::new(99);
        let mut wheel = Wheel::new();
        let mut fired = Vec::new();
        let mut live: BTreeSet<(u64, TimerKey)> = BTreeSet::new();
        assert_eq!(wheel.next_expiration(), None);
        for _ in 0..20_000 {
            match rng.below(3) {
                0 => {
                    let d = wheel.elapsed().saturating_add(delay(&mut rng));
                    live.insert((d, wheel.insert(d, noop())));
                }
                1 if !live.is_empty() => {
                    // Prefer early entries: stresses stale cascade points.
                    let i = rng.below(live.len().min(8) as u64) as usize;
                    let (d, k) = *live.iter().nth(i).unwrap();
                    live.remove(&(d, k));
                    wheel.remove(k);
                }
                _ => {
                    let next = wheel.next_expiration();
                    let earliest = live.first().map(|&(d, _)| d);
                    assert_eq!(next.is_some(), earliest.is_some());
                    if let (Some(next), Some(earliest)) = (next, earliest) {
                        assert!(next <= earliest && next >= wheel.elapsed());
                        // Nothing is due before `next`.
                        wheel.advance(next.max(1) - 1, &mut fired);
                        assert!(fired.is_empty() || next == 0);
                        wheel.advance(next, &mut fired);
                        for _ in 0..fired.len() {
                            let (d, k) = live.pop_first().unwrap();
                            assert!(d <= next && wheel.is_fired(k));
                            wheel.remove(k);
                        }
                        fired.clear();
                    }
                }
            }
        }
    }

    /// Runs `ops` random operations against a `BTreeMap` reference model.
    fn run_model(seed: u64, ops: usize) {
        let mut rng = Rng::new(seed);
        let log = Log::default();
        let mut wheel = Wheel::new();
        let mut fired = Vec::new();
        let mut model: BTreeMap<(u64, u64), TimerKey> = BTreeMap::new();
        let mut pending: HashMap<TimerKey, (u64, u64)> = HashMap::new();
        let mut live: Vec<TimerKey> = Vec::new();
        let mut seq = 0u64;
        for _ in 0..ops {
            match rng.below(100) {
                0..45 => {
                    // Now and then a deadline already past (asyncio's negative delays).
                    let d = if rng.below(8) == 0 {
                        wheel.elapsed().saturating_sub(rng.below(100))
                    } else {
                        wheel.elapsed().saturating_add(delay(&mut rng))
                    };
                    let key = wheel.insert(d, recorder(seq, &log));
                    assert_eq!(wheel.deadline(key), d);
                    model.insert((d, seq), key);
                    pending.insert(key, (d, seq));
                    live.push(key);
                    seq += 1;
                }
                45..68 if !live.is_empty() => {
                    let key = live.swap_remove(rng.below(live.len() as u64) as usize);
                    match pending.remove(&key) {
                        Some(m) => assert_eq!(model.remove(&m), Some(key)),
                        None => assert!(wheel.is_fired(key)),
                    }
                    wheel.remove(key);
                }
                68..72 if !live.is_empty() => {
                    // Replace the waker with an equivalent one (same id).
                    let key = live[rng.below(live.len() as u64) as usize];
                    let id = pending.get(&key).map_or(u64::MAX, |m| m.1);
                    wheel.set_waker(key, &recorder(id, &log));
                }
                _ => {
                    let next = wheel.next_expiration();
                    let earliest = model.keys().next().map(|m| m.0);
                    assert_eq!(next.is_some(), earliest.is_some());
                    if let (Some(n), Some(e)) = (next, earliest) {
                        // An overdue entry is due now: at `elapsed`, not at its deadline.
                        let e = e.max(wheel.elapsed());
                        assert!(n <= e && n >= wheel.elapsed(), "{n} {e} {wheel:?}");
                    }
                    let elapsed = wheel.elapsed();
                    let spans = [3, 64, 5000, 1 << 20, 1 << 31, 1 << 38];
                    let now = match rng.below(8) as usize {
                        k @ 0..5 => elapsed.saturating_add(rng.below(spans[k])),
                        5 if rng.below(20) == 0 => elapsed.saturating_add(rng.below(spans[5])),
                        _ => next.unwrap_or(elapsed),
                    };
                    wheel.advance(now, &mut fired);
                    assert_eq!(wheel.elapsed(), now);
                    let rest = model.split_off(&(now.saturating_add(1), 0));
                    let due = std::mem::replace(&mut model, rest);
                    let expected: Vec<u64> = due.keys().map(|m| m.1).collect();
                    for key in due.into_values() {
                        assert!(wheel.is_fired(key));
                        pending.remove(&key);
                    }
                    assert_eq!(fired_ids(&mut fired, &log), expected);
                }
            }
            assert_eq!(wheel.len(), live.len());
        }
        for key in live {
            wheel.remove(key);
        }
        assert!(wheel.is_empty() && wheel.next_expiration().is_none());
    }

    #[test]
    fn randomized_against_btreemap_model() {
        let (ops, seeds) = if cfg!(debug_assertions) {
            (100_000, 4)
        } else {
            (200_000, 8)
        };
        for seed in [1, 2, 3, 0xDEAD_BEEF, 5, 6, 7, 8].into_iter().take(seeds) {
            run_model(seed, ops);
        }
    }

    /// Ad-hoc cost of insert+remove with `n` live sleep-like timers, both
    /// steady state (cancel a random one, add one) and batch (create n, cancel n).
    #[test]
    #[ignore]
    fn bench_insert_remove() {
        use std::time::Instant;
        let (waker, rounds) = (noop(), 4_000_000);
        for n in [1_000usize, 10_000, 100_000, 1_000_000] {
            let mut rng = Rng::new(n as u64);
            let mut wheel = Wheel::new();
            let mut keys: Vec<_> = (0..n)
                .map(|_| wheel.insert(1 + rng.below(60_000), noop()))
                .collect();
            let t = Instant::now();
            for _ in 0..rounds {
                let i = rng.below(n as u64) as usize;
                wheel.remove(keys[i]);
                keys[i] = wheel.insert(1 + rng.below(60_000), waker.clone());
            }
            let steady = t.elapsed().as_nanos() as f64 / rounds as f64;
            let (mut wheel, t) = (Wheel::new(), Instant::now());
            for _ in 0..rounds / n {
                keys.iter_mut()
                    .for_each(|k| *k = wheel.insert(1 + rng.below(60_000), waker.clone()));
                keys.iter().for_each(|&k| wheel.remove(k));
            }
            let batch = t.elapsed().as_nanos() as f64 / rounds as f64;
            println!(
                "n={n:>7}: steady remove+insert {steady:.1} ns, batch insert+remove {batch:.1} ns"
            );
        }
    }
}
