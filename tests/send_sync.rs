//! Static `Send`/`Sync` assertions for every public type: what lives on the loop's thread stays
//! `!Send` (tasks, handles, primitives), what crosses threads (errors, wakers, the threadsafe
//! handle) stays `Send`. A change to either side fails to compile here.

#![allow(dead_code)]

use std::task::Waker;

use asyncio::prelude::*;

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn send_sync<T: Send + Sync>() {}

/// Compiles only if `T` is not `Send`: with `T: Send` both impls apply and the call is
/// ambiguous (the trick behind `static_assertions::assert_not_impl_any`).
trait AmbiguousIfSend<A> {
    fn check() {}
}
impl<T: ?Sized> AmbiguousIfSend<()> for T {}
impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}

macro_rules! not_send {
    ($($t:ty),* $(,)?) => {
        $( let _ = <$t as AmbiguousIfSend<_>>::check; )*
    };
}

/// Compiles only if `T` is not `Sync`.
trait AmbiguousIfSync<A> {
    fn check() {}
}
impl<T: ?Sized> AmbiguousIfSync<()> for T {}
impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}

macro_rules! not_sync {
    ($($t:ty),* $(,)?) => {
        $( let _ = <$t as AmbiguousIfSync<_>>::check; )*
    };
}

type Fut = std::future::Ready<u8>;

#[test]
fn errors_and_plain_values_are_send_and_sync() {
    send_sync::<TaskError>();
    send_sync::<CancelledError>();
    send_sync::<InvalidStateError>();
    send_sync::<RuntimeError>();
    send_sync::<TimeoutError>();
    send_sync::<ExceptionGroup>();
    send_sync::<TaskFailure>();
    send_sync::<BrokenBarrierError>();
    send_sync::<ValueError>();
    send_sync::<QueueFull<u8>>();
    send_sync::<QueueEmpty>();
    send_sync::<QueueShutDown<u8>>();
    send_sync::<PutNowaitError<u8>>();
    send_sync::<GetNowaitError>();
    send_sync::<ReturnWhen>();
    send_sync::<CoState<u8, u8>>();
    send_sync::<CoroutineError>();
    // Plain data: settings and the context an exception handler is given.
    send_sync::<LoopBuilder>();
    send_sync::<ExceptionContext>();
    // TaskError is a `Box<dyn Error + Send + Sync>` citizen.
    let _: Box<dyn std::error::Error + Send + Sync> = Box::new(TaskError::from(CancelledError));
}

#[test]
fn what_crosses_threads_is_send() {
    send_sync::<ThreadsafeHandle>();
    // concurrent.futures' Future: shared between the loop and a worker thread.
    send_sync::<ConcurrentFuture<u8>>();
    send_sync::<WrappedFuture<u8>>();
    send_sync::<ThreadPoolExecutor>();
    // A Socket is a plain fd until the loop registers it, like std's sockets.
    send_sync::<Socket>();
    send_sync::<Waker>();
    // A waker of a task of this loop can be woken from another thread.
    let got = asyncio::Runner::virtual_time().run(async {
        let mut started = false;
        let fut = std::future::poll_fn(move |cx| {
            if std::mem::replace(&mut started, true) {
                return std::task::Poll::Ready(7);
            }
            let waker = cx.waker().clone();
            std::thread::spawn(move || waker.wake()).join().unwrap();
            std::task::Poll::Pending
        });
        asyncio::create_task(fut).await.unwrap()
    });
    assert_eq!(got, 7);
}

#[test]
fn loop_side_types_are_not_send() {
    not_send!(
        EventLoop,
        Runner,
        Handle,
        TimerHandle,
        Task<u8>,
        TaskRef,
        TaskFuture<u8>,
        asyncio::Future<u8>,
        Sleep,
        Gather<u8>,
        GatherAll<u8>,
        TryGather<u8, TaskError>,
        Wait<u8>,
        AsCompleted<u8>,
        Shield<u8>,
        Timeout,
        TimeoutFuture<Fut>,
        WaitFor<Fut>,
        TaskGroup,
        TaskGroupFuture<Fut>,
        Lock,
        LockGuard<'static>,
        LockAcquire<'static>,
        Event,
        EventWait<'static>,
        Condition,
        ConditionWait<'static>,
        Semaphore,
        BoundedSemaphore,
        SemaphorePermit<'static>,
        SemaphoreAcquire<'static>,
        Barrier,
        BarrierWait<'static>,
        Queue<u8>,
        LifoQueue<u8>,
        PriorityQueue<u8>,
        Coroutine<u8, (), u8>,
        AsyncGenerator<u8>,
        Yielder<u8>,
        StreamReader,
        StreamWriter,
        Server,
    );
    not_sync!(
        EventLoop,
        Task<u8>,
        TaskRef,
        asyncio::Future<u8>,
        Lock,
        Semaphore,
        Barrier,
        Queue<u8>,
        TaskGroup,
        Timeout,
        StreamReader,
        StreamWriter,
        Server,
    );
}
