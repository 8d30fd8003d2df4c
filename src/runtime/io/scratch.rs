//! One receive buffer per thread (so one per loop): `recv` lands here and only the bytes that
//! came are copied out, instead of each read allocating and zeroing a buffer of the size it
//! asked for (a 64 KiB zeroing costs more than the syscall that fills 1 KiB of it).

use std::cell::RefCell;

/// Bytes in the scratch buffer: what one read asks for at most.
pub(crate) const SCRATCH_LEN: usize = 64 * 1024;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with the thread's scratch buffer (`SCRATCH_LEN` bytes, zeroed once). `f` is the
/// crate's own code (a syscall and a copy): it must not run user code, which could read again
/// and find the buffer borrowed.
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        if scratch.len() < SCRATCH_LEN {
            scratch.resize(SCRATCH_LEN, 0);
        }
        f(&mut scratch)
    })
}
