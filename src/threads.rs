//! Threads for a single-threaded loop: asyncio's `threads.py` ([`to_thread`]) and the executor
//! half of `base_events.py` (`run_in_executor`, the per-loop default executor,
//! `shutdown_default_executor`, `getaddrinfo`, `getnameinfo`).
//!
//! # How a result comes back
//!
//! ```text
//!  task: to_thread(f).await --submit--> pool queue --> worker thread runs f
//!                                                           |  settles the ConcurrentFuture
//!  task runs again <-- run queue <-- loop inbox <-- waker.wake() (from the worker)
//! ```
//!
//! The loop never blocks on a thread: the awaiting task stores its waker in the future, the
//! worker wakes it, and the wake travels through the loop's cross-thread inbox like any other.
//!
//! # Per-loop state
//!
//! Each loop has its own default executor, created at the first `run_in_executor`, as in
//! CPython. It lives in the slot the runtime keeps for this module (`Core::threads`). Closing the loop shuts the executor down
//! without waiting (CPython's `loop.close()`); `shutdown_default_executor` (which `run` and
//! `Runner` await on exit) waits for its threads.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

use crate::concurrent::{ConcurrentFuture, ThreadPoolExecutor, WrappedFuture, wrap_future};
use crate::events::{EventLoop, get_running_loop};
use crate::exceptions::{RuntimeError, TaskError};
use crate::runtime::core::Core;

// ----- per-loop state --------------------------------------------------------------------------

/// What this module keeps per loop, in `Core::threads`.
struct LoopThreads {
    executor: RefCell<DefaultExecutor>,
}

#[derive(Default)]
struct DefaultExecutor {
    /// Created at the first `run_in_executor` (or set by `set_default_executor`).
    executor: Option<ThreadPoolExecutor>,
    /// `shutdown_default_executor` was called: no more work for the default executor.
    shutdown_called: bool,
}

impl LoopThreads {
    /// The loop is closed or dropped: shut the default executor down without waiting
    /// (queued jobs still run).
    fn close(&self) {
        let executor = self.executor.borrow_mut().executor.take();
        if let Some(executor) = executor {
            executor.shutdown(false);
        }
    }
}

impl Drop for LoopThreads {
    fn drop(&mut self) {
        self.close();
    }
}

fn loop_threads(core: &Core) -> &LoopThreads {
    let slot: &dyn Any = &**core.threads.get_or_init(|| {
        Box::new(LoopThreads {
            executor: RefCell::default(),
        })
    });
    slot.downcast_ref()
        .expect("Core::threads holds the LoopThreads of threads.rs")
}

/// Called by `EventLoop::close` once the loop is closed.
pub(crate) fn loop_closed(core: &Core) {
    if let Some(slot) = core.threads.get() {
        if let Some(state) = slot.downcast_ref::<LoopThreads>() {
            state.close();
        }
    }
}

// ----- the loop's executor methods -------------------------------------------------------------

impl EventLoop {
    /// Runs `f` on the loop's default executor and returns an awaitable for its result:
    /// asyncio's `loop.run_in_executor(None, func)`.
    ///
    /// `f` runs on a pool thread, so the loop keeps running meanwhile; awaiting the result
    /// gives `Ok(value)`, or `Err(TaskError)` if `f` panicked (the pool thread survives it).
    /// Dropping the returned future before `f` starts cancels it. The default executor is a
    /// [`ThreadPoolExecutor`], one per loop, created on first use; to run on another
    /// executor, `asyncio::wrap_future(executor.submit(f)?)` (asyncio's
    /// `run_in_executor(executor, func)`).
    ///
    /// # Errors
    ///
    /// [`RuntimeError::Closed`] if the loop is closed, [`RuntimeError::ExecutorShutdown`] after
    /// [`shutdown_default_executor`](Self::shutdown_default_executor) (asyncio raises
    /// `RuntimeError` for both).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let blocking = lp.run_in_executor(|| {
    ///         std::thread::sleep(std::time::Duration::from_millis(10)); // blocks a pool thread
    ///         "done"
    ///     });
    ///     assert_eq!(blocking.unwrap().await.unwrap(), "done");
    /// });
    /// ```
    pub fn run_in_executor<F, T>(&self, f: F) -> Result<WrappedFuture<T>, RuntimeError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let executor = self.default_executor()?;
        Ok(wrap_future(executor.submit(f)?))
    }

    fn default_executor(&self) -> Result<ThreadPoolExecutor, RuntimeError> {
        if self.is_closed() {
            return Err(RuntimeError::Closed);
        }
        let mut slot = loop_threads(self.core()).executor.borrow_mut();
        if slot.shutdown_called {
            return Err(RuntimeError::ExecutorShutdown);
        }
        Ok(slot
            .executor
            .get_or_insert_with(ThreadPoolExecutor::new)
            .clone())
    }

    /// Makes `executor` this loop's default executor (asyncio's `loop.set_default_executor`),
    /// for example a smaller pool, or one whose idle threads exit sooner. The executor it
    /// replaces is dropped, not shut down, as in asyncio (it shuts down when its last handle
    /// goes).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let pool = asyncio::ThreadPoolExecutor::builder().max_workers(1).build();
    ///     lp.set_default_executor(pool.clone());
    ///     asyncio::to_thread(|| ()).await.unwrap();
    ///     assert_eq!(pool.thread_count(), 1); // the job ran on our pool
    /// });
    /// ```
    pub fn set_default_executor(&self, executor: ThreadPoolExecutor) {
        let old = loop_threads(self.core())
            .executor
            .borrow_mut()
            .executor
            .replace(executor);
        drop(old); // outside the borrow
    }

    /// Shuts the default executor down and waits for its threads to finish their jobs and
    /// exit, without blocking the loop: asyncio's `loop.shutdown_default_executor()`.
    /// [`run`](crate::run) and [`Runner`](crate::Runner) await it when they finish, as asyncio
    /// does. Afterwards [`run_in_executor`](Self::run_in_executor) and [`to_thread`] fail on
    /// this loop.
    ///
    /// It waits as long as the jobs take (asyncio's `asyncio.run` gives up after 300 s with
    /// a warning; this has no such timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicBool, Ordering}};
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let finished = Arc::new(AtomicBool::new(false));
    ///     let f = finished.clone();
    ///     let _job = lp.run_in_executor(move || {
    ///         std::thread::sleep(std::time::Duration::from_millis(20));
    ///         f.store(true, Ordering::SeqCst);
    ///     });
    ///     lp.shutdown_default_executor().await; // the job is finished, its thread gone
    ///     assert!(finished.load(Ordering::SeqCst));
    ///     let late = lp.run_in_executor(|| ()).unwrap_err();
    ///     assert_eq!(late, asyncio::RuntimeError::ExecutorShutdown);
    /// });
    /// ```
    pub fn shutdown_default_executor(&self) -> impl Future<Output = ()> + 'static {
        let event_loop = self.clone();
        async move {
            let executor = {
                let mut slot = loop_threads(event_loop.core()).executor.borrow_mut();
                slot.shutdown_called = true;
                slot.executor.take()
            };
            drop(event_loop);
            let Some(executor) = executor else {
                return;
            };
            // Joining blocks, so a helper thread joins and reports back (as CPython does).
            let (joined, completer) = ConcurrentFuture::<()>::pair();
            let joiner = thread::Builder::new()
                .name("asyncio-shutdown".to_owned())
                .spawn(move || {
                    executor.shutdown(true);
                    completer.finish(Ok(()));
                });
            // If the helper could not start, its closure (and the executor handle) was
            // dropped and `joined` is already settled: the pool shuts down without waiting.
            drop(joiner);
            let _ = joined.await;
        }
    }

    /// Resolves `host` and `port` to socket addresses without blocking the loop: asyncio's
    /// `loop.getaddrinfo(host, port)`, for TCP (one entry per address, in the resolver's
    /// order of preference).
    ///
    /// A numeric address (`"127.0.0.1"`, `"::1"`, `"[::1]"`) is answered at once, without a
    /// thread (CPython's `_ipaddr_info`); a name (`"localhost"`, `"example.org"`) is looked up
    /// with the system resolver on the loop's default executor.
    ///
    /// # Errors
    ///
    /// An [`io::Error`] whose message names the host when the lookup fails (asyncio's
    /// `socket.gaierror`), or wrapping the [`RuntimeError`] if the loop is closed or its
    /// executor shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let addrs = lp.getaddrinfo("[::1]", 8080).await.unwrap();
    ///     assert_eq!(addrs, ["[::1]:8080".parse().unwrap()]);
    ///     let local = lp.getaddrinfo("localhost", 80).await.unwrap();
    ///     assert!(local.iter().all(|a| a.ip().is_loopback()));
    ///     let err = lp.getaddrinfo("no-such-host.invalid", 80).await.unwrap_err();
    ///     assert!(err.to_string().contains("no-such-host.invalid"));
    /// });
    /// ```
    pub fn getaddrinfo(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + 'static {
        let event_loop = self.clone();
        let host = host.to_owned();
        async move {
            if let Some(addr) = numeric_address(&host, port) {
                return Ok(vec![addr]);
            }
            let what = format!("getaddrinfo({host:?}, {port})");
            let lookup = event_loop
                .run_in_executor(move || resolve(&host, port))
                .map_err(|e| io::Error::other(format!("{what}: {e}")))?;
            drop(event_loop);
            lookup
                .await
                .unwrap_or_else(|e| Err(io::Error::other(format!("{what}: {e}"))))
        }
    }

    /// Turns a socket address into a host name and a service name without blocking the loop:
    /// asyncio's `loop.getnameinfo(sockaddr, flags)`, run on the default executor with the
    /// system's `getnameinfo`. `flags` are the C library's `NI_*` flags (`0` for names,
    /// `libc::NI_NUMERICHOST | libc::NI_NUMERICSERV` for numbers).
    ///
    /// # Errors
    ///
    /// An [`io::Error`] naming the address when the lookup fails (asyncio's
    /// `socket.gaierror`): bad flags are `InvalidInput`, no name (with `NI_NAMEREQD`)
    /// `NotFound`.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let addr = "127.0.0.1:8080".parse().unwrap();
    ///     let numeric = libc::NI_NUMERICHOST | libc::NI_NUMERICSERV;
    ///     let (host, port) = lp.getnameinfo(addr, numeric).await.unwrap();
    ///     assert_eq!((host.as_str(), port.as_str()), ("127.0.0.1", "8080"));
    /// });
    /// ```
    #[cfg(unix)]
    pub fn getnameinfo(
        &self,
        addr: SocketAddr,
        flags: i32,
    ) -> impl Future<Output = io::Result<(String, String)>> + 'static {
        let event_loop = self.clone();
        async move {
            let what = format!("getnameinfo({addr}, {flags:#x})");
            let lookup = event_loop
                .run_in_executor(move || sys::name_info(addr, flags))
                .map_err(|e| io::Error::other(format!("{what}: {e}")))?;
            drop(event_loop);
            lookup
                .await
                .unwrap_or_else(|e| Err(io::Error::other(format!("{what}: {e}"))))
        }
    }
}

// ----- to_thread -------------------------------------------------------------------------------

/// Runs `f` in a separate thread and waits for it without blocking the loop: asyncio's
/// `asyncio.to_thread(func)`.
///
/// Use it for blocking work (file I/O, a blocking library call, a long computation) that
/// would otherwise stall every task on the loop. `f` runs on the running loop's default
/// executor (see [`EventLoop::run_in_executor`]); nothing happens until the returned future
/// is first polled, as nothing happens until asyncio's coroutine is awaited.
///
/// The output is `Ok(value)`, or `Err(TaskError)` when `f` panicked (the message and payload
/// are kept) or the loop's executor was shut down (the error's message says so). Dropping the
/// future before `f` starts cancels it; once started, `f` runs to the end.
///
/// On a virtual clock ([`Runner::virtual_time`](crate::Runner::virtual_time)) time holds
/// still while the loop awaits a thread's work (as tokio's paused clock does for
/// `spawn_blocking`): a [`wait_for`](crate::wait_for) around `to_thread` gets the thread's
/// answer, however long it takes in real time, instead of expiring in no time.
///
/// # Panics
///
/// When first polled outside a running event loop (asyncio raises `RuntimeError`).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let ticker = asyncio::create_task(async {
///         for _ in 0..3 {
///             asyncio::sleep(0.001).await; // keeps running while the thread blocks
///         }
///     });
///     let sum = asyncio::to_thread(|| {
///         std::thread::sleep(std::time::Duration::from_millis(20));
///         (1..=100u32).sum::<u32>()
///     })
///     .await
///     .unwrap();
///     assert_eq!(sum, 5050);
///     ticker.await.unwrap();
///
///     let failed = asyncio::to_thread(|| -> () { panic!("in a thread") }).await;
///     assert_eq!(failed.unwrap_err().panic_message(), Some("in a thread"));
/// });
/// ```
pub fn to_thread<F, T>(f: F) -> ToThread<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    ToThread {
        job: Some(Box::new(f)),
        running: None,
    }
}

/// The future returned by [`to_thread`]: submits the function when first polled, then waits
/// for its result.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let pending: asyncio::ToThread<u8> = asyncio::to_thread(|| 1);
///     assert_eq!(pending.await.unwrap(), 1);
/// });
/// ```
#[must_use = "to_thread does nothing unless awaited"]
pub struct ToThread<T> {
    job: Option<Box<dyn FnOnce() -> T + Send>>,
    running: Option<WrappedFuture<T>>,
}

impl<T: Send + 'static> Future for ToThread<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(job) = self.job.take() {
            let event_loop = get_running_loop().unwrap_or_else(|_| {
                panic!("to_thread: no running event loop; await it inside asyncio::run(...)")
            });
            match event_loop.run_in_executor(job) {
                Ok(running) => self.running = Some(running),
                Err(e) => {
                    let why = format!("to_thread: {e}");
                    return Poll::Ready(Err(TaskError::panic(Box::new(why))));
                }
            }
        }
        match &mut self.running {
            Some(running) => Pin::new(running).poll(cx),
            None => panic!("ToThread polled after it completed"),
        }
    }
}

impl<T> fmt::Debug for ToThread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match (&self.job, &self.running) {
            (Some(_), _) => "not started",
            (None, Some(running)) if running.done() => "done",
            (None, Some(_)) => "running",
            (None, None) => "finished",
        };
        f.debug_struct("ToThread").field("state", &state).finish()
    }
}

// ----- name resolution -------------------------------------------------------------------------

/// A numeric host (`127.0.0.1`, `::1`, `[::1]`) as an address, or `None` if it needs the
/// resolver. Brackets are accepted around IPv6 only; scoped addresses (`fe80::1%eth0`) go to
/// the resolver, which knows the interface names.
fn numeric_address(host: &str, port: u16) -> Option<SocketAddr> {
    let ip = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) => IpAddr::V6(inner.parse::<Ipv6Addr>().ok()?),
        None => host.parse::<IpAddr>().ok()?,
    };
    Some(SocketAddr::new(ip, port))
}

/// The blocking lookup, run on a pool thread: the system resolver via std (getaddrinfo with
/// SOCK_STREAM), duplicates removed, order kept.
fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let found = (host, port).to_socket_addrs().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("getaddrinfo failed for host {host:?} (port {port}): {e}"),
        )
    })?;
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for addr in found {
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    Ok(addrs)
}

#[cfg(unix)]
mod sys {
    //! `getnameinfo` through libc: std has no reverse lookup.

    use std::ffi::CStr;
    use std::io;
    use std::mem::size_of;
    use std::net::SocketAddr;

    use libc::{c_char, c_int, sockaddr, socklen_t};

    /// Sizes from `<netdb.h>`: room for any host name and any service name.
    const NI_MAXHOST: usize = 1025;
    const NI_MAXSERV: usize = 32;

    /// A socket address in its C layout.
    enum RawAddr {
        V4(libc::sockaddr_in),
        V6(libc::sockaddr_in6),
    }

    impl RawAddr {
        fn new(addr: SocketAddr) -> RawAddr {
            match addr {
                SocketAddr::V4(a) => {
                    // SAFETY: sockaddr_in is a C struct of integers and byte arrays; all-zero
                    // bytes are a valid value of it (and the padding `sin_zero` must be zero).
                    let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
                    sin.sin_family = libc::AF_INET as libc::sa_family_t;
                    sin.sin_port = a.port().to_be();
                    sin.sin_addr = libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.ip().octets()),
                    };
                    #[cfg(any(
                        target_os = "macos",
                        target_os = "ios",
                        target_os = "freebsd",
                        target_os = "openbsd",
                        target_os = "netbsd",
                        target_os = "dragonfly"
                    ))]
                    {
                        sin.sin_len = size_of::<libc::sockaddr_in>() as u8;
                    }
                    RawAddr::V4(sin)
                }
                SocketAddr::V6(a) => {
                    // SAFETY: as above, sockaddr_in6 is plain C data for which zero is valid.
                    let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
                    sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                    sin6.sin6_port = a.port().to_be();
                    sin6.sin6_flowinfo = a.flowinfo();
                    sin6.sin6_addr = libc::in6_addr {
                        s6_addr: a.ip().octets(),
                    };
                    sin6.sin6_scope_id = a.scope_id();
                    #[cfg(any(
                        target_os = "macos",
                        target_os = "ios",
                        target_os = "freebsd",
                        target_os = "openbsd",
                        target_os = "netbsd",
                        target_os = "dragonfly"
                    ))]
                    {
                        sin6.sin6_len = size_of::<libc::sockaddr_in6>() as u8;
                    }
                    RawAddr::V6(sin6)
                }
            }
        }

        fn as_ptr(&self) -> *const sockaddr {
            match self {
                RawAddr::V4(sin) => (sin as *const libc::sockaddr_in).cast(),
                RawAddr::V6(sin6) => (sin6 as *const libc::sockaddr_in6).cast(),
            }
        }

        fn len(&self) -> socklen_t {
            let len = match self {
                RawAddr::V4(_) => size_of::<libc::sockaddr_in>(),
                RawAddr::V6(_) => size_of::<libc::sockaddr_in6>(),
            };
            len as socklen_t
        }
    }

    /// The blocking reverse lookup, run on a pool thread.
    pub(super) fn name_info(addr: SocketAddr, flags: c_int) -> io::Result<(String, String)> {
        let raw = RawAddr::new(addr);
        let mut host = [0 as c_char; NI_MAXHOST];
        let mut serv = [0 as c_char; NI_MAXSERV];
        // SAFETY: `raw.as_ptr()` points to a sockaddr_in or sockaddr_in6 owned by `raw`, alive
        // for the whole call, and `raw.len()` is exactly that struct's size, matching its
        // family. `host` and `serv` are writable buffers of the lengths passed; getnameinfo
        // writes at most that many bytes, NUL-terminated, and keeps no pointer after it
        // returns. It is thread-safe (POSIX lists it among the functions that must be).
        let rc = unsafe {
            libc::getnameinfo(
                raw.as_ptr(),
                raw.len(),
                host.as_mut_ptr(),
                NI_MAXHOST as socklen_t,
                serv.as_mut_ptr(),
                NI_MAXSERV as socklen_t,
                flags,
            )
        };
        if rc != 0 {
            return Err(gai_error(
                rc,
                &format!("getnameinfo failed for {addr} (flags {flags:#x})"),
            ));
        }
        Ok((from_c_buf(&host), from_c_buf(&serv)))
    }

    /// A getaddrinfo-family error code as an `io::Error` whose message starts with `what`.
    fn gai_error(rc: c_int, what: &str) -> io::Error {
        if rc == libc::EAI_SYSTEM {
            let os = io::Error::last_os_error();
            return io::Error::new(os.kind(), format!("{what}: {os}"));
        }
        // SAFETY: gai_strerror accepts any code and returns either null or a pointer to a
        // NUL-terminated message in static storage (never freed, never rewritten), which is
        // copied before this block ends. It is thread-safe: POSIX does not exempt it.
        let text = unsafe {
            let p = libc::gai_strerror(rc);
            if p.is_null() {
                None
            } else {
                Some(CStr::from_ptr(p).to_string_lossy().into_owned())
            }
        };
        let text = text.unwrap_or_else(|| format!("error {rc}"));
        let kind = match rc {
            libc::EAI_NONAME => io::ErrorKind::NotFound,
            libc::EAI_BADFLAGS | libc::EAI_FAMILY => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, format!("{what}: {text}"))
    }

    /// The NUL-terminated string at the start of `buf`, lossily as UTF-8.
    fn from_c_buf(buf: &[c_char]) -> String {
        let bytes: Vec<u8> = buf.iter().map(|&c| c as u8).collect();
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        String::from_utf8_lossy(&bytes[..end]).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::numeric_address;

    #[test]
    fn numeric_hosts_are_parsed_without_the_resolver() {
        let v4 = numeric_address("127.0.0.1", 80).unwrap();
        assert_eq!(v4, "127.0.0.1:80".parse().unwrap());
        let v6 = numeric_address("::1", 443).unwrap();
        assert_eq!(v6, "[::1]:443".parse().unwrap());
        assert_eq!(numeric_address("[::1]", 443), Some(v6));
        assert_eq!(
            numeric_address("[127.0.0.1]", 80),
            None,
            "brackets are for IPv6"
        );
        assert_eq!(numeric_address("localhost", 80), None);
        assert_eq!(
            numeric_address("fe80::1%eth0", 80),
            None,
            "scoped: the resolver"
        );
        assert_eq!(
            numeric_address("127.1", 80),
            None,
            "shorthand: the resolver"
        );
    }
}
