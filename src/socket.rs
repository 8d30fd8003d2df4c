//! [`Socket`]: the part of Python's `socket.socket` that std has no type for, a socket made
//! before it is connected or listening (so that options can be set first, and so that
//! [`EventLoop::sock_connect`](crate::EventLoop::sock_connect) can connect it without
//! blocking).

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};

use crate::runtime::io::sys;

/// A socket's address family: Python's `socket.AF_INET` and `socket.AF_INET6`.
///
/// # Examples
///
/// ```
/// use asyncio::{Family, Kind, Socket};
/// let sock = Socket::new(Family::Inet6, Kind::Stream).unwrap();
/// sock.bind("[::1]:0".parse::<std::net::SocketAddr>().unwrap()).ok(); // where IPv6 exists
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
}

impl Family {
    /// The family of `addr`'s address.
    ///
    /// # Examples
    ///
    /// ```
    /// let addr: std::net::SocketAddr = "127.0.0.1:80".parse().unwrap();
    /// assert_eq!(asyncio::Family::of(&addr), asyncio::Family::Inet);
    /// ```
    pub fn of(addr: &SocketAddr) -> Family {
        match addr {
            SocketAddr::V4(_) => Family::Inet,
            SocketAddr::V6(_) => Family::Inet6,
        }
    }
}

/// A socket's type: Python's `socket.SOCK_STREAM` (TCP) and `socket.SOCK_DGRAM` (UDP).
///
/// # Examples
///
/// ```
/// use asyncio::{Family, Kind, Socket};
/// let udp = Socket::new(Family::Inet, Kind::Datagram).unwrap();
/// udp.bind(([127, 0, 0, 1], 0)).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A byte stream (TCP).
    Stream,
    /// Datagrams (UDP).
    Datagram,
}

/// A socket, as Python's `socket.socket(family, type)` makes one: bind it, set options,
/// listen or connect it with the loop's `sock_*` methods, and turn it into a std
/// `TcpStream`, `TcpListener` or `UdpSocket` when you like.
///
/// Unlike Python's, a new `Socket` is **non-blocking** (what the loop's `sock_*` methods
/// require) and close-on-exec. Dropping it closes it.
///
/// # Examples
///
/// A TCP server and client on loopback, with asyncio's low-level socket API:
///
/// ```
/// use asyncio::{Family, Kind, Socket};
/// asyncio::run(async {
///     let lp = asyncio::get_running_loop().unwrap();
///     let server = Socket::new(Family::Inet, Kind::Stream).unwrap();
///     server.set_reuse_address(true).unwrap();
///     server.bind(([127, 0, 0, 1], 0)).unwrap();
///     server.listen(8).unwrap();
///     let addr = server.local_addr().unwrap();
///
///     let client = Socket::new(Family::Inet, Kind::Stream).unwrap();
///     lp.sock_connect(&client, addr).await.unwrap();
///     let (conn, peer) = lp.sock_accept(&server).await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
///
///     lp.sock_sendall(&client, b"ping").await.unwrap();
///     assert_eq!(lp.sock_recv(&conn, 100).await.unwrap(), b"ping");
/// });
/// ```
pub struct Socket {
    fd: OwnedFd,
}

impl Socket {
    /// A new socket (Python's `socket.socket(family, type)`), non-blocking and close-on-exec.
    ///
    /// # Errors
    ///
    /// What `socket(2)` reports: too many open files, or an address family this system
    /// lacks.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// let sock = Socket::new(Family::Inet, Kind::Stream).unwrap();
    /// assert!(sock.peer_addr().is_err()); // not connected yet
    /// ```
    pub fn new(family: Family, kind: Kind) -> io::Result<Socket> {
        let family = match family {
            Family::Inet => libc::AF_INET,
            Family::Inet6 => libc::AF_INET6,
        };
        let kind = match kind {
            Kind::Stream => libc::SOCK_STREAM,
            Kind::Datagram => libc::SOCK_DGRAM,
        };
        Ok(Socket {
            fd: sys::socket(family, kind)?,
        })
    }

    /// Binds the socket to `addr` (`sock.bind((host, port))`); port 0 picks a free port.
    ///
    /// # Errors
    ///
    /// The address is in use or not local, or its family is not the socket's.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// let sock = Socket::new(Family::Inet, Kind::Stream).unwrap();
    /// sock.bind(([127, 0, 0, 1], 0)).unwrap();
    /// assert_ne!(sock.local_addr().unwrap().port(), 0);
    /// ```
    pub fn bind(&self, addr: impl Into<SocketAddr>) -> io::Result<()> {
        let addr = addr.into();
        sys::bind(self.fd.as_raw_fd(), &addr).map_err(|e| error_with_addr(e, "bind", &addr))
    }

    /// Lets a stream socket accept connections (`sock.listen(backlog)`), at most `backlog`
    /// waiting at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// let sock = Socket::new(Family::Inet, Kind::Stream).unwrap();
    /// sock.bind(([127, 0, 0, 1], 0)).unwrap();
    /// sock.listen(128).unwrap();
    /// ```
    pub fn listen(&self, backlog: u32) -> io::Result<()> {
        sys::listen(self.fd.as_raw_fd(), backlog)
    }

    /// Sets `SO_REUSEADDR`: bind a port whose earlier connections are still in `TIME_WAIT`.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// let sock = Socket::new(Family::Inet, Kind::Stream).unwrap();
    /// sock.set_reuse_address(true).unwrap();
    /// ```
    pub fn set_reuse_address(&self, on: bool) -> io::Result<()> {
        sys::setsockopt_int(
            self.fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            on.into(),
        )
    }

    /// Sets `SO_REUSEPORT`: several sockets bound to one port share its connections.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// let a = Socket::new(Family::Inet, Kind::Stream).unwrap();
    /// a.set_reuse_port(true).unwrap();
    /// a.bind(([127, 0, 0, 1], 0)).unwrap();
    /// let b = Socket::new(Family::Inet, Kind::Stream).unwrap();
    /// b.set_reuse_port(true).unwrap();
    /// b.bind(a.local_addr().unwrap()).unwrap(); // the same port
    /// ```
    pub fn set_reuse_port(&self, on: bool) -> io::Result<()> {
        sys::setsockopt_int(
            self.fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEPORT,
            on.into(),
        )
    }

    /// The address the socket is bound to (`sock.getsockname()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// let sock = Socket::new(Family::Inet, Kind::Datagram).unwrap();
    /// sock.bind(([127, 0, 0, 1], 0)).unwrap();
    /// assert!(sock.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        sys::local_addr(self.fd.as_raw_fd())
    }

    /// The address of the peer (`sock.getpeername()`): an error if not connected.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// let sock = Socket::new(Family::Inet, Kind::Stream).unwrap();
    /// let err = sock.peer_addr().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotConnected);
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        sys::peer_addr(self.fd.as_raw_fd())
    }

    /// Switches non-blocking mode (`sock.setblocking(not on)`). A new `Socket` is already
    /// non-blocking; the loop's `sock_*` methods refuse blocking sockets.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// let sock = Socket::new(Family::Inet, Kind::Stream).unwrap();
    /// sock.set_nonblocking(false).unwrap(); // for blocking use on a thread
    /// ```
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        sys::set_blocking_mode(self.fd.as_raw_fd(), on)
    }

    /// Shuts down the reading side, the writing side, or both (`sock.shutdown(how)`). After
    /// `Shutdown::Write`, the peer reads EOF.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{Family, Kind, Socket};
    /// asyncio::run(async {
    ///     let lp = asyncio::get_running_loop().unwrap();
    ///     let server = Socket::new(Family::Inet, Kind::Stream).unwrap();
    ///     server.bind(([127, 0, 0, 1], 0)).unwrap();
    ///     server.listen(1).unwrap();
    ///     let client = Socket::new(Family::Inet, Kind::Stream).unwrap();
    ///     lp.sock_connect(&client, server.local_addr().unwrap()).await.unwrap();
    ///     let (conn, _) = lp.sock_accept(&server).await.unwrap();
    ///     client.shutdown(std::net::Shutdown::Write).unwrap();
    ///     assert!(lp.sock_recv(&conn, 10).await.unwrap().is_empty()); // EOF
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        sys::shutdown(self.fd.as_raw_fd(), how)
    }
}

/// `e` with its address: "connection refused: 127.0.0.1:1". The kind stays, so callers can
/// still match on it.
pub(crate) fn error_with_addr(e: io::Error, what: &str, addr: &SocketAddr) -> io::Error {
    let text = e.to_string();
    let text = match e.raw_os_error() {
        // "Connection refused (os error 111)" -> "connection refused"
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .unwrap_or(&text)
            .to_owned(),
        None => text,
    };
    let mut chars = text.chars();
    let text = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    };
    let code = e
        .raw_os_error()
        .map(|c| format!(" (os error {c})"))
        .unwrap_or_default();
    io::Error::new(e.kind(), format!("{what}: {text}: {addr}{code}"))
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl IntoRawFd for Socket {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl From<OwnedFd> for Socket {
    /// Takes ownership of a socket descriptor (its mode is left as it is).
    fn from(fd: OwnedFd) -> Socket {
        Socket { fd }
    }
}

impl From<Socket> for OwnedFd {
    fn from(sock: Socket) -> OwnedFd {
        sock.fd
    }
}

macro_rules! std_conversions {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Socket {
            /// Takes over the std socket (its mode is left as it is).
            fn from(sock: $ty) -> Socket {
                Socket { fd: OwnedFd::from(sock) }
            }
        }

        impl From<Socket> for $ty {
            /// Hands the socket to std (it stays non-blocking unless you changed it).
            fn from(sock: Socket) -> $ty {
                <$ty>::from(sock.fd)
            }
        }
    )*};
}

std_conversions!(TcpStream, TcpListener, UdpSocket);

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Socket");
        d.field("fd", &self.fd.as_raw_fd());
        if let Ok(addr) = self.local_addr() {
            d.field("local", &addr);
        }
        if let Ok(addr) = self.peer_addr() {
            d.field("peer", &addr);
        }
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_address_and_keep_their_kind() {
        let e = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let e = error_with_addr(e, "sock_connect", &addr);
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(
            e.to_string(),
            format!(
                "sock_connect: connection refused: 127.0.0.1:1 (os error {})",
                libc::ECONNREFUSED
            )
        );
    }

    #[test]
    fn a_new_socket_is_nonblocking_and_close_on_exec() {
        let sock = Socket::new(Family::Inet, Kind::Stream).unwrap();
        assert!(sys::is_nonblocking(sock.as_raw_fd()).unwrap());
        // SAFETY: F_GETFD on an fd we own; integer arguments only.
        let flags = unsafe { libc::fcntl(sock.as_raw_fd(), libc::F_GETFD) };
        assert_ne!(flags & libc::FD_CLOEXEC, 0);
        sock.set_nonblocking(false).unwrap();
        assert!(!sys::is_nonblocking(sock.as_raw_fd()).unwrap());
    }

    #[test]
    fn conversions_keep_the_descriptor() {
        let sock = Socket::new(Family::Inet, Kind::Datagram).unwrap();
        sock.bind(([127, 0, 0, 1], 0)).unwrap();
        let addr = sock.local_addr().unwrap();
        let udp = UdpSocket::from(sock);
        assert_eq!(udp.local_addr().unwrap(), addr);
        let back = Socket::from(udp);
        assert_eq!(back.local_addr().unwrap(), addr);
    }
}
