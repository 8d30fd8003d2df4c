//! A callback stored without an allocation when it is small: `Box<dyn FnOnce()>` for the rest.
//!
//! Most `call_soon` callbacks capture a word or two (an `Rc`, an index). Boxing each one cost a
//! `malloc` and a `free`, about 170 of the ~295 instructions of a whole `call_soon` (and more
//! once glibc's per-thread cache of 7 blocks per size is used up, as with a burst of callbacks).
//! A closure of at most [`INLINE_WORDS`] words, aligned to at most a word, is kept inside the
//! callback's own slot instead, with two functions made for its type: one that moves it out and
//! calls it, one that drops it unrun.
//!
//! Moving an `InlineFn` moves the closure's bytes, which is what moving the closure itself
//! does: a closure owns its captures and never points into itself (that would need `Pin`,
//! which `FnOnce` does not have).

use std::marker::PhantomData;
use std::mem::{MaybeUninit, align_of, size_of};
use std::ptr;

/// How many words a closure may take and still be stored inline.
pub(crate) const INLINE_WORDS: usize = 3;

/// True if a closure of type `F` can be stored inline: at most [`INLINE_WORDS`] words, aligned to
/// at most a word.
const fn fits<F>() -> bool {
    size_of::<F>() <= size_of::<[usize; INLINE_WORDS]>() && align_of::<F>() <= align_of::<usize>()
}

/// A callback: called at most once, dropped unrun otherwise.
pub(crate) enum SmallFn {
    /// Small enough to be stored here.
    Inline(InlineFn),
    /// Any other closure.
    Boxed(Box<dyn FnOnce()>),
}

impl SmallFn {
    /// Stores `f` inline if it fits, else in a box (decided at compile time for each type).
    #[inline]
    pub(crate) fn new<F: FnOnce() + 'static>(f: F) -> SmallFn {
        if fits::<F>() {
            SmallFn::Inline(InlineFn::new(f))
        } else {
            SmallFn::Boxed(Box::new(f))
        }
    }

    /// Calls the callback (which consumes it and its captures).
    #[inline]
    pub(crate) fn call(self) {
        match self {
            SmallFn::Inline(f) => f.call(),
            SmallFn::Boxed(f) => f(),
        }
    }
}

impl From<Box<dyn FnOnce()>> for SmallFn {
    fn from(f: Box<dyn FnOnce()>) -> SmallFn {
        SmallFn::Boxed(f)
    }
}

/// What an `InlineFn` does with the closure it holds, made for the closure's type `F`.
struct Ops {
    /// Moves the `F` out of the buffer and calls it.
    call: unsafe fn(*mut MaybeUninit<[usize; INLINE_WORDS]>),
    /// Drops the `F` in the buffer.
    drop: unsafe fn(*mut MaybeUninit<[usize; INLINE_WORDS]>),
}

/// The `Ops` of closure type `F`, one constant per type (`&OpsOf::<F>::OPS` is `'static`).
struct OpsOf<F>(PhantomData<F>);

impl<F: FnOnce()> OpsOf<F> {
    const OPS: Ops = Ops {
        call: call_in_place::<F>,
        drop: drop_in_place::<F>,
    };
}

/// # Safety
/// `buf` holds a live `F` (written by `InlineFn::new`), which the caller gives up: it must not
/// be used or dropped again.
unsafe fn call_in_place<F: FnOnce()>(buf: *mut MaybeUninit<[usize; INLINE_WORDS]>) {
    // SAFETY: by this function's contract `buf` holds a live `F`, aligned (the buffer is
    // word-aligned and `InlineFn::new` checked `F` needs no more), and nobody else will read
    // it: moving it out here is its one use.
    let f = unsafe { ptr::read(buf.cast::<F>()) };
    f();
}

/// # Safety
/// As for `call_in_place`: `buf` holds a live `F`, given up by the caller.
unsafe fn drop_in_place<F: FnOnce()>(buf: *mut MaybeUninit<[usize; INLINE_WORDS]>) {
    // SAFETY: as in `call_in_place`: a live, aligned `F` that nobody uses afterwards.
    unsafe { ptr::drop_in_place(buf.cast::<F>()) }
}

/// A closure kept in `buf`, with the functions that call or drop it.
pub(crate) struct InlineFn {
    buf: MaybeUninit<[usize; INLINE_WORDS]>,
    /// `None` once the closure has been moved out to be called.
    ops: Option<&'static Ops>,
    /// The closure may hold an `Rc`: the bytes must not be sent or shared across threads.
    _not_send: PhantomData<*mut ()>,
}

impl InlineFn {
    /// Moves `f` into the buffer. `SmallFn::new` checks that it fits; this asserts it again.
    #[inline]
    fn new<F: FnOnce() + 'static>(f: F) -> InlineFn {
        assert!(fits::<F>());
        let mut buf = MaybeUninit::<[usize; INLINE_WORDS]>::uninit();
        // SAFETY: the buffer is large enough and aligned enough for `F` (asserted above), and
        // uninitialised, so writing overwrites nothing that needed dropping.
        unsafe { ptr::write(buf.as_mut_ptr().cast::<F>(), f) };
        InlineFn {
            buf,
            ops: Some(&OpsOf::<F>::OPS),
            _not_send: PhantomData,
        }
    }

    #[inline]
    fn call(mut self) {
        if let Some(ops) = self.ops.take() {
            // SAFETY: `ops` is the `Ops` of the type written into `buf` by `new`, and taking
            // it out of `self.ops` gives the closure up: `Drop` will not drop it again, and a
            // panic in the call unwinds through the call's own frame, which owns it by then.
            unsafe { (ops.call)(&mut self.buf) };
        }
    }
}

impl Drop for InlineFn {
    fn drop(&mut self) {
        if let Some(ops) = self.ops.take() {
            // SAFETY: the closure is still in `buf` (`call` takes `ops` before moving it out),
            // it is of the type `ops` was made for, and taking `ops` means it is dropped once.
            unsafe { (ops.drop)(&mut self.buf) };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::rc::Rc;

    use super::*;

    /// Counts its drops.
    struct Token(Rc<Cell<u32>>);

    impl Drop for Token {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn small_closures_are_inline_and_large_ones_boxed() {
        let (a, b, c) = (1usize, 2usize, 3usize);
        assert!(matches!(SmallFn::new(|| {}), SmallFn::Inline(_)));
        let three_words = move || {
            std::hint::black_box((a, b, c));
        };
        assert!(matches!(SmallFn::new(three_words), SmallFn::Inline(_)));
        let big = [0u64; 4];
        let four_words = move || {
            std::hint::black_box(big);
        };
        assert!(matches!(SmallFn::new(four_words), SmallFn::Boxed(_)));
        #[repr(align(16))]
        struct Aligned(u8);
        let aligned = Aligned(1);
        let over_aligned = move || {
            let whole = aligned; // the whole value, not just its field
            std::hint::black_box(whole.0);
        };
        assert!(matches!(SmallFn::new(over_aligned), SmallFn::Boxed(_)));
    }

    #[test]
    fn a_called_closure_runs_once_and_drops_its_captures_once() {
        let drops = Rc::new(Cell::new(0));
        let ran = Rc::new(RefCell::new(Vec::new()));
        let (token, log) = (Token(drops.clone()), ran.clone());
        let f = SmallFn::new(move || {
            let _keep = &token;
            log.borrow_mut().push("ran");
        });
        assert!(matches!(f, SmallFn::Inline(_)));
        let moved = f; // moving it moves the closure's bytes
        moved.call();
        assert_eq!(*ran.borrow(), ["ran"]);
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn an_unrun_closure_is_dropped_once() {
        let drops = Rc::new(Cell::new(0));
        let token = Token(drops.clone());
        let f = SmallFn::new(move || drop(token));
        drop(f);
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn a_panicking_closure_drops_its_captures_once() {
        let drops = Rc::new(Cell::new(0));
        let token = Token(drops.clone());
        let f = SmallFn::new(move || {
            let _keep = &token;
            panic!("in the callback");
        });
        assert!(catch_unwind(AssertUnwindSafe(|| f.call())).is_err());
        assert_eq!(drops.get(), 1);
    }
}
