//! The few socket calls std and mio do not offer, on `libc`: sockets with options set before
//! `bind` (`SO_REUSEPORT`, a chosen backlog, a local address for a client), and `recv`/`send`
//! family calls on a descriptor the loop does not own (`loop.sock_recv(sock, n)`); and the
//! process and signal calls of subprocesses and signal handlers (`pidfd_open`, `waitid`,
//! `sigaction`).
//!
//! Every function here is a thin, checked wrapper around one syscall. The descriptors are
//! created non-blocking and close-on-exec.

use std::io;
use std::mem::size_of;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;

/// `-1` into the last OS error, anything else into `Ok`.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `-1` into the last OS error, a length into `Ok`.
fn check_len(ret: libc::ssize_t) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// The address family of `addr` (`AF_INET` or `AF_INET6`).
pub(crate) fn family(addr: &SocketAddr) -> libc::c_int {
    match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    }
}

/// A new non-blocking, close-on-exec socket.
pub(crate) fn socket(family: libc::c_int, kind: libc::c_int) -> io::Result<OwnedFd> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let kind = kind | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: `socket` takes plain integers and returns a new descriptor or -1.
    let fd = check(unsafe { libc::socket(family, kind, 0) })?;
    // SAFETY: `fd` was just returned by `socket`, is open, and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        set_nonblocking(fd.as_raw_fd())?;
        // SAFETY: `fcntl(F_SETFD)` on a descriptor we own; integer arguments only.
        check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
    }
    Ok(fd)
}

/// Makes `fd` non-blocking.
pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: `fcntl(F_GETFL)` reads the flags of `fd`; an invalid fd gives -1 (EBADF).
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: as above, setting the flags; integer arguments only.
        check(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    }
    Ok(())
}

/// Puts `fd` in non-blocking mode (`on`) or back in blocking mode.
pub(crate) fn set_blocking_mode(fd: RawFd, nonblocking: bool) -> io::Result<()> {
    // SAFETY: `fcntl(F_GETFL)` reads the flags of `fd`; an invalid fd gives -1 (EBADF).
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    let wanted = if nonblocking {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    if wanted != flags {
        // SAFETY: as above, setting the flags; integer arguments only.
        check(unsafe { libc::fcntl(fd, libc::F_SETFL, wanted) })?;
    }
    Ok(())
}

/// True if `fd` is in non-blocking mode.
pub(crate) fn is_nonblocking(fd: RawFd) -> io::Result<bool> {
    // SAFETY: `fcntl(F_GETFL)` only reads the flags of `fd`; an invalid fd gives EBADF.
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    Ok(flags & libc::O_NONBLOCK != 0)
}

/// Sets an integer socket option to `value`.
pub(crate) fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value points to a live `c_int` whose size is passed along; the
    // kernel only reads it.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// Reads an integer socket option.
pub(crate) fn getsockopt_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` and `len` are live locals; the kernel writes at most `len` bytes into
    // `value` and the actual length into `len`.
    check(unsafe { libc::getsockopt(fd, level, name, (&raw mut value).cast(), &raw mut len) })?;
    Ok(value)
}

/// `addr` as a `sockaddr_storage` and its length.
fn to_sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: `sockaddr_storage` is plain old data; all zeroes is a valid (unspecified) value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let mut sin = zeroed_sockaddr_in();
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            // SAFETY: `sockaddr_storage` is larger than and suitably aligned for every
            // sockaddr type (that is its purpose), so writing a `sockaddr_in` at its start is
            // in bounds and aligned.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in>().write(sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let mut sin6 = zeroed_sockaddr_in6();
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_scope_id = a.scope_id();
            // SAFETY: as above, for `sockaddr_in6`.
            unsafe { (&raw mut storage).cast::<libc::sockaddr_in6>().write(sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

fn zeroed_sockaddr_in() -> libc::sockaddr_in {
    // SAFETY: plain old data; all zeroes is valid.
    unsafe { std::mem::zeroed() }
}

fn zeroed_sockaddr_in6() -> libc::sockaddr_in6 {
    // SAFETY: plain old data; all zeroes is valid.
    unsafe { std::mem::zeroed() }
}

/// The `SocketAddr` in a `sockaddr_storage` the kernel filled; an error for other families
/// (a Unix socket's address, say).
fn from_sockaddr(storage: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a `sockaddr_in`; the storage is large
            // enough and aligned for it.
            let sin = unsafe { &*(&raw const *storage).cast::<libc::sockaddr_in>() };
            let ip = std::net::Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Ok(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for `sockaddr_in6`.
            let sin6 = unsafe { &*(&raw const *storage).cast::<libc::sockaddr_in6>() };
            let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Ok(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not an IP socket address (family {other})"),
        )),
    }
}

/// `bind(fd, addr)`.
pub(crate) fn bind(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (storage, len) = to_sockaddr(addr);
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes; the kernel only reads it.
    check(unsafe { libc::bind(fd, (&raw const storage).cast(), len) })?;
    Ok(())
}

/// `listen(fd, backlog)`.
pub(crate) fn listen(fd: RawFd, backlog: u32) -> io::Result<()> {
    let backlog = libc::c_int::try_from(backlog).unwrap_or(libc::c_int::MAX);
    // SAFETY: integer arguments only.
    check(unsafe { libc::listen(fd, backlog) })?;
    Ok(())
}

/// Starts a non-blocking `connect`. `Ok(true)`: connected at once; `Ok(false)`: in progress
/// (wait for writability, then read `SO_ERROR`).
pub(crate) fn connect(fd: RawFd, addr: &SocketAddr) -> io::Result<bool> {
    let (storage, len) = to_sockaddr(addr);
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes; the kernel only reads it.
    match check(unsafe { libc::connect(fd, (&raw const storage).cast(), len) }) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The pending error of a socket (`SO_ERROR`), cleared by reading it.
pub(crate) fn take_error(fd: RawFd) -> io::Result<Option<io::Error>> {
    let code = getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_ERROR)?;
    Ok((code != 0).then(|| io::Error::from_raw_os_error(code)))
}

/// `getsockname` of an IP socket.
pub(crate) fn local_addr(fd: RawFd) -> io::Result<SocketAddr> {
    // SAFETY: plain old data; all zeroes is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `storage`/`len` are live locals; the kernel writes at most `len` bytes.
    check(unsafe { libc::getsockname(fd, (&raw mut storage).cast(), &raw mut len) })?;
    from_sockaddr(&storage)
}

/// `getpeername` of an IP socket.
pub(crate) fn peer_addr(fd: RawFd) -> io::Result<SocketAddr> {
    // SAFETY: plain old data; all zeroes is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `storage`/`len` are live locals; the kernel writes at most `len` bytes.
    check(unsafe { libc::getpeername(fd, (&raw mut storage).cast(), &raw mut len) })?;
    from_sockaddr(&storage)
}

/// `shutdown(fd, how)`.
pub(crate) fn shutdown(fd: RawFd, how: std::net::Shutdown) -> io::Result<()> {
    let how = match how {
        std::net::Shutdown::Read => libc::SHUT_RD,
        std::net::Shutdown::Write => libc::SHUT_WR,
        std::net::Shutdown::Both => libc::SHUT_RDWR,
    };
    // SAFETY: integer arguments only.
    check(unsafe { libc::shutdown(fd, how) })?;
    Ok(())
}

/// A TCP listener on `addr` with the options asyncio's `create_server` takes.
pub(crate) fn tcp_listener(
    addr: &SocketAddr,
    backlog: u32,
    reuse_address: bool,
    reuse_port: bool,
) -> io::Result<std::net::TcpListener> {
    let fd = socket(family(addr), libc::SOCK_STREAM)?;
    let raw = fd.as_raw_fd();
    if reuse_address {
        setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    }
    if reuse_port {
        setsockopt_int(raw, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    }
    if addr.is_ipv6() {
        // As asyncio: an IPv6 listener serves IPv6 only, so "::" and "0.0.0.0" can both be
        // bound on one port.
        setsockopt_int(raw, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
    }
    bind(raw, addr)?;
    listen(raw, backlog)?;
    Ok(std::net::TcpListener::from(fd))
}

/// A TCP socket connecting (non-blocking) to `addr`, bound first to `local` if given.
/// Returns the socket and whether the connection is already established.
pub(crate) fn tcp_connect(
    addr: &SocketAddr,
    local: Option<&SocketAddr>,
) -> io::Result<(std::net::TcpStream, bool)> {
    let fd = socket(family(addr), libc::SOCK_STREAM)?;
    if let Some(local) = local {
        bind(fd.as_raw_fd(), local)?;
    }
    let done = connect(fd.as_raw_fd(), addr)?;
    Ok((std::net::TcpStream::from(fd), done))
}

/// `recv(fd, buf, MSG_DONTWAIT)`: never blocks, whatever the fd's mode (for a socket the
/// loop does not own, whose mode the program may change).
pub(crate) fn recv_nowait(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    recv_flags(fd, buf, libc::MSG_DONTWAIT)
}

fn recv_flags(fd: RawFd, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: `buf` is a live, writable slice of `buf.len()` bytes; the kernel writes at most
    // that many.
    check_len(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), flags) })
}

/// `send` with `MSG_DONTWAIT` too (see [`recv_nowait`]).
pub(crate) fn send_nowait(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    send_flags(fd, buf, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)
}

fn send_flags(fd: RawFd, buf: &[u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: `buf` is a live slice of `buf.len()` bytes; the kernel only reads it.
    check_len(unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), flags) })
}

/// `recvfrom` with `MSG_DONTWAIT` (see [`recv_nowait`]).
pub(crate) fn recvfrom_nowait(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    recvfrom_flags(fd, buf, libc::MSG_DONTWAIT)
}

fn recvfrom_flags(
    fd: RawFd,
    buf: &mut [u8],
    flags: libc::c_int,
) -> io::Result<(usize, SocketAddr)> {
    // SAFETY: plain old data; all zeroes is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `buf` is a live writable slice of `buf.len()` bytes; `storage`/`len` are live
    // locals and the kernel writes at most `len` bytes of address.
    let n = check_len(unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            flags,
            (&raw mut storage).cast(),
            &raw mut len,
        )
    })?;
    Ok((n, from_sockaddr(&storage)?))
}

/// `sendto` with `MSG_DONTWAIT` too (see [`recv_nowait`]).
pub(crate) fn sendto_nowait(fd: RawFd, buf: &[u8], addr: &SocketAddr) -> io::Result<usize> {
    sendto_flags(fd, buf, addr, libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT)
}

fn sendto_flags(fd: RawFd, buf: &[u8], addr: &SocketAddr, flags: libc::c_int) -> io::Result<usize> {
    let (storage, len) = to_sockaddr(addr);
    // SAFETY: `buf` is a live slice of `buf.len()` bytes and `storage` a valid sockaddr of
    // `len` bytes; the kernel only reads both.
    check_len(unsafe {
        libc::sendto(
            fd,
            buf.as_ptr().cast(),
            buf.len(),
            flags,
            (&raw const storage).cast(),
            len,
        )
    })
}

/// `accept` on an IP listener: the new socket (non-blocking, close-on-exec) and its peer.
pub(crate) fn accept(fd: RawFd) -> io::Result<(OwnedFd, SocketAddr)> {
    // SAFETY: plain old data; all zeroes is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: `storage`/`len` are live locals; the kernel writes at most `len` bytes.
    let new = check(unsafe {
        libc::accept4(
            fd,
            (&raw mut storage).cast(),
            &raw mut len,
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    })?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    // SAFETY: as above.
    let new = check(unsafe { libc::accept(fd, (&raw mut storage).cast(), &raw mut len) })?;
    // SAFETY: `new` was just returned by `accept`, is open, and nothing else owns it.
    let new = unsafe { OwnedFd::from_raw_fd(new) };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    set_nonblocking(new.as_raw_fd())?;
    let peer = from_sockaddr(&storage)?;
    Ok((new, peer))
}

// ----- processes ------------------------------------------------------------------------------

/// `pidfd_open(pid, 0)` (Linux 5.3): a close-on-exec descriptor that becomes readable when the
/// child `pid` exits. `ENOSYS` (an older kernel) or `EPERM` (a sandbox) where unavailable.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: the raw syscall takes two integers and returns a new descriptor or -1; no
    // memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::other("pidfd out of range"))?;
    // SAFETY: `fd` was just returned by pidfd_open, is open, and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Elsewhere there is no pidfd: the caller falls back to a waiter thread.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn pidfd_open(_pid: libc::pid_t) -> io::Result<OwnedFd> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

/// `waitpid(pid, WNOHANG)`: `Some(status)` if the child exited (it is reaped now), `None`
/// if it still runs. `ECHILD` if it is not (or no longer) our child.
pub(crate) fn reap_nohang(pid: libc::pid_t) -> io::Result<Option<libc::c_int>> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: `status` is a live local the kernel writes one int into.
        let ret = unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) };
        match ret {
            0 => return Ok(None),
            -1 => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            _ => return Ok(Some(status)),
        }
    }
}

/// Blocks until child `pid` has exited, without reaping it (`waitid(WEXITED | WNOWAIT)`):
/// the caller reaps it with [`reap_nohang`] when it is ready to record the status.
pub(crate) fn wait_exited_nowait(pid: libc::pid_t) -> io::Result<()> {
    let id = libc::id_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    loop {
        // SAFETY: plain old data; all zeroes is valid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a live local the kernel fills; the other arguments are integers.
        let ret = unsafe {
            libc::waitid(
                libc::P_PID,
                id,
                &raw mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if ret == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `kill(pid, sig)`.
pub(crate) fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: integer arguments only.
    check(unsafe { libc::kill(pid, sig) })?;
    Ok(())
}

/// A close-on-exec pipe, both ends blocking: `(read end, write end)`.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1, -1];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: `fds` is a live array of two ints, which the kernel fills.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    // SAFETY: as above.
    check(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    // SAFETY: both descriptors were just returned by pipe, are open, and nothing else owns them.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    for fd in [&r, &w] {
        // SAFETY: `fcntl(F_SETFD)` on a descriptor we own; integer arguments only.
        check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) })?;
    }
    Ok((r, w))
}

// ----- signals --------------------------------------------------------------------------------

/// The current disposition of `sig`.
pub(crate) fn sigaction_get(sig: libc::c_int) -> io::Result<libc::sigaction> {
    // SAFETY: plain old data; all zeroes is valid.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only reads the disposition into `old`, a live local.
    check(unsafe { libc::sigaction(sig, ptr::null(), &raw mut old) })?;
    Ok(old)
}

/// Sets the disposition of `sig` to `action`.
pub(crate) fn sigaction_set(sig: libc::c_int, action: &libc::sigaction) -> io::Result<()> {
    // SAFETY: `action` is a live, initialized sigaction the kernel only reads; no old action
    // is asked for. The handler it names (if any) is a plain `extern "C" fn(c_int)`.
    check(unsafe { libc::sigaction(sig, action, ptr::null_mut()) })?;
    Ok(())
}

/// A disposition that calls `handler(sig)` with `SA_RESTART` (system calls interrupted by the
/// signal resume) and no extra signals blocked while it runs.
pub(crate) fn handler_action(handler: extern "C" fn(libc::c_int)) -> libc::sigaction {
    // SAFETY: plain old data; all zeroes is valid (and an empty `sa_mask` on Linux).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a live sigset_t inside `action`; sigemptyset only writes it.
    unsafe { libc::sigemptyset(&raw mut action.sa_mask) };
    action
}

/// The default disposition (`SIG_DFL`), no flags.
pub(crate) fn default_action() -> libc::sigaction {
    // SAFETY: plain old data; all zeroes is valid, and a zero handler is `SIG_DFL`.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = libc::SIG_DFL;
    // SAFETY: as in `handler_action`.
    unsafe { libc::sigemptyset(&raw mut action.sa_mask) };
    action
}

/// Async-signal-safe: `sigaction(sig, SIG_DFL)`, from inside a signal handler. Only
/// `sigaction` itself runs (POSIX lists it as async-signal-safe).
pub(crate) fn set_default_in_handler(sig: libc::c_int) {
    // SAFETY: plain old data; all zeroes is `SIG_DFL` with an empty mask on Linux (sigemptyset
    // is not on POSIX's async-signal-safe list, so it is not called here).
    let action: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `action` is a live local the kernel only reads.
    unsafe { libc::sigaction(sig, &raw const action, ptr::null_mut()) };
}

/// Async-signal-safe `raise(sig)`.
pub(crate) fn raise(sig: libc::c_int) {
    // SAFETY: an integer argument only; raise is async-signal-safe.
    unsafe { libc::raise(sig) };
}

/// Unblocks `sig` for the calling thread (so that raising it delivers it at once).
pub(crate) fn unblock(sig: libc::c_int) {
    // SAFETY: plain old data; `sigemptyset` initializes it below.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live local; these only write it, then the kernel only reads it.
    unsafe {
        libc::sigemptyset(&raw mut set);
        libc::sigaddset(&raw mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &raw const set, ptr::null_mut());
    }
}

/// The calling thread's `errno` (to save and restore around a signal handler's syscalls).
pub(crate) fn errno() -> libc::c_int {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Sets the calling thread's `errno`.
pub(crate) fn set_errno(value: libc::c_int) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: `__errno_location` returns this thread's errno slot, valid for the thread's life.
    unsafe {
        *libc::__errno_location() = value
    };
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    // SAFETY: `__error` returns this thread's errno slot, valid for the thread's life.
    unsafe {
        *libc::__error() = value
    };
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    let _ = value;
}

/// True on the process's main thread (the one `main` runs on).
pub(crate) fn is_main_thread() -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: no arguments; both always succeed.
        unsafe { libc::gettid() == libc::getpid() }
    }
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    {
        // SAFETY: no arguments; returns 1 on the main thread.
        unsafe { libc::pthread_main_np() == 1 }
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    {
        std::thread::current().name() == Some("main")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_sockaddr() {
        for addr in ["127.0.0.1:8080", "[::1]:443", "[fe80::1%2]:1"] {
            let addr: SocketAddr = addr.parse().unwrap();
            let (storage, _) = to_sockaddr(&addr);
            assert_eq!(from_sockaddr(&storage).unwrap(), addr);
        }
    }

    #[test]
    fn a_listener_with_options_accepts_a_connection() {
        let l = tcp_listener(&"127.0.0.1:0".parse().unwrap(), 16, true, true).unwrap();
        let addr = l.local_addr().unwrap();
        assert_eq!(local_addr(l.as_raw_fd()).unwrap(), addr);
        let (client, _) = tcp_connect(&addr, None).unwrap();
        // Loopback connects complete quickly; wait for it the blocking way in this test.
        let mut fds = libc::pollfd {
            fd: client.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one live pollfd, count 1.
        unsafe { libc::poll(&raw mut fds, 1, 5000) };
        assert!(take_error(client.as_raw_fd()).unwrap().is_none());
        let (conn, peer) = loop {
            match accept(l.as_raw_fd()) {
                Ok(x) => break x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(send_nowait(client.as_raw_fd(), b"hi").unwrap(), 2);
        let mut buf = [0u8; 8];
        let n = loop {
            match recv_nowait(conn.as_raw_fd(), &mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(&buf[..n], b"hi");
    }
}
