//! [`StreamWriter`]: asyncio's `StreamWriter`, over a connection's write buffer.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::conn::{Conn, WriteState};
use super::{Address, ExtraInfo};

/// The writing half of a connection (asyncio's `StreamWriter`), from [`open_connection`] or
/// a [`start_server`] callback.
///
/// [`write`](StreamWriter::write) never waits: it sends what the kernel takes at once and
/// buffers the rest, which a background flush sends as the socket allows.
/// [`drain`](StreamWriter::drain) is where a writer waits: while more than the high-water
/// mark (64 KiB) is buffered, until it is back at the low-water mark (16 KiB). Write, then
/// drain, as in asyncio, and memory stays bounded however slow the peer is.
///
/// The connection closes when [`close`](StreamWriter::close) is called, or when both the
/// writer and its [`StreamReader`](crate::StreamReader) are dropped (what is buffered is
/// still sent first). A handler that keeps only the reader keeps the connection open. It is
/// also a [`futures::io::AsyncWrite`], whose `poll_close` is `write_eof`.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let server = asyncio::start_server(
///         |mut r: asyncio::StreamReader, mut w: asyncio::StreamWriter| async move {
///             let data = r.read(-1).await?;
///             w.write(&data)?; // echo it all back after EOF
///             w.drain().await
///         },
///         "127.0.0.1",
///         0,
///     )
///     .await?;
///     let port = server.sockets()[0].inet().unwrap().port();
///     let (mut reader, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
///     writer.writelines([&b"abc"[..], b"def"])?;
///     writer.write_eof()?;
///     writer.drain().await?;
///     assert_eq!(reader.read(-1).await?, b"abcdef");
///     writer.close();
///     writer.wait_closed().await?;
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
///
/// [`open_connection`]: crate::open_connection
/// [`start_server`]: crate::start_server
pub struct StreamWriter {
    conn: Rc<Conn>,
}

impl StreamWriter {
    pub(crate) fn new(conn: Rc<Conn>) -> StreamWriter {
        StreamWriter { conn }
    }

    /// Writes `data` (asyncio's `write`): sent at once if nothing is buffered, else buffered.
    /// Does not wait; call [`drain`](StreamWriter::drain) after writing. An error if the
    /// stream was closed or the connection was lost.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |mut r: asyncio::StreamReader, _w| async move { r.read(-1).await.map(drop) },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     writer.write("text works")?;
    ///     writer.write(b"and bytes")?;
    ///     writer.drain().await?;
    ///     writer.close();
    ///     assert!(writer.write(b"too late").is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn write(&mut self, data: impl AsRef<[u8]>) -> io::Result<()> {
        self.conn.write(data.as_ref())
    }

    /// Writes each item in turn (asyncio's `writelines`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |mut r: asyncio::StreamReader, _w| async move { r.read(-1).await.map(drop) },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     writer.writelines(["GET / HTTP/1.0\r\n", "\r\n"])?;
    ///     writer.drain().await
    /// })
    /// .unwrap();
    /// ```
    pub fn writelines<I>(&mut self, data: I) -> io::Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        for item in data {
            self.conn.write(item.as_ref())?;
        }
        Ok(())
    }

    /// Waits until it is fine to write more (asyncio's `drain`): at once unless the buffer
    /// is above the high-water mark, else until it is down to the low-water mark. An error
    /// if the connection was lost (the peer reset it, say).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |mut r: asyncio::StreamReader, _w| async move { r.read(-1).await.map(drop) },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     for _ in 0..64 {
    ///         writer.write(vec![b'x'; 64 * 1024])?;
    ///         writer.drain().await?; // memory stays bounded by the water marks
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn drain(&mut self) -> io::Result<()> {
        let conn = &*self.conn;
        poll_fn(|cx| conn.poll_drain(cx)).await
    }

    /// Shuts the write side once the buffer is sent (asyncio's `write_eof`): the peer reads
    /// EOF, and this side can still read.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |mut r: asyncio::StreamReader, mut w: asyncio::StreamWriter| async move {
    ///             let n = r.read(-1).await?.len();
    ///             w.write(n.to_string())
    ///         },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (mut reader, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     writer.write(b"12345")?;
    ///     writer.write_eof()?;
    ///     assert_eq!(reader.read(-1).await?, b"5");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn write_eof(&mut self) -> io::Result<()> {
        match self.conn.write_state() {
            WriteState::Closing | WriteState::Closed => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "cannot write_eof() on a closed stream",
            )),
            _ => {
                self.conn.write_eof();
                Ok(())
            }
        }
    }

    /// True: TCP and Unix streams can shut their write side (asyncio's `can_write_eof`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     assert!(writer.can_write_eof());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Closes the stream (asyncio's `close`): what is buffered is still sent, then the socket
    /// closes; the reader sees EOF. Does not wait: see [`wait_closed`](Self::wait_closed).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     writer.close();
    ///     assert!(writer.is_closing());
    ///     writer.wait_closed().await
    /// })
    /// .unwrap();
    /// ```
    pub fn close(&mut self) {
        self.conn.close();
    }

    /// True once [`close`](Self::close) was called or the connection was lost (asyncio's
    /// `is_closing`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     assert!(!writer.is_closing());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn is_closing(&self) -> bool {
        self.conn.is_closing()
    }

    /// Waits until the socket is closed (asyncio's `wait_closed`), after [`close`](Self::close)
    /// or a lost connection. An error if it was lost to an error.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     writer.write(b"bye")?;
    ///     writer.close();
    ///     writer.wait_closed().await // returns once "bye" is sent and the socket closed
    /// })
    /// .unwrap();
    /// ```
    pub async fn wait_closed(&self) -> io::Result<()> {
        let conn = &*self.conn;
        poll_fn(|cx| conn.poll_closed(cx)).await;
        match conn.lost_error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Information about the connection (asyncio's `get_extra_info`): `"peername"` and
    /// `"sockname"` give an [`Address`], `"socket"` the file descriptor. `None` for other
    /// names, or once the stream is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     let peer = writer.get_extra_info("peername").unwrap();
    ///     assert_eq!(peer.address().unwrap().inet().unwrap().port(), port);
    ///     assert!(writer.get_extra_info("socket").unwrap().socket().is_some());
    ///     assert!(writer.get_extra_info("cipher").is_none());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get_extra_info(&self, name: &str) -> Option<ExtraInfo> {
        match name {
            "peername" => self.peername().map(ExtraInfo::Address),
            "sockname" => self.sockname().map(ExtraInfo::Address),
            "socket" => self.conn.with_stream(|s| s.raw_fd()).map(ExtraInfo::Socket),
            _ => None,
        }
    }

    /// The peer's address (`get_extra_info("peername")`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     assert_eq!(writer.peername().unwrap().to_string(), format!("127.0.0.1:{port}"));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn peername(&self) -> Option<Address> {
        self.conn.with_stream(|s| s.peer()).flatten()
    }

    /// This side's address (`get_extra_info("sockname")`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     assert!(writer.sockname().unwrap().inet().unwrap().ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn sockname(&self) -> Option<Address> {
        self.conn.with_stream(|s| s.local()).flatten()
    }

    /// Bytes buffered and not yet sent (asyncio's `transport.get_write_buffer_size()`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     writer.write(b"small")?; // the kernel takes it at once
    ///     assert_eq!(writer.get_write_buffer_size(), 0);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get_write_buffer_size(&self) -> usize {
        self.conn.write_buffer_size()
    }

    /// Sets the water marks `drain` uses (asyncio's `transport.set_write_buffer_limits`):
    /// `high` defaults to 64 KiB and `low` to a quarter of `high`. Pass `None` for the
    /// defaults derived as asyncio does: only `high` given, `low = high / 4`; only `low`
    /// given, `high = 4 * low`.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     writer.set_write_buffer_limits(Some(1024), None);
    ///     assert_eq!(writer.get_write_buffer_limits(), (256, 1024));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_write_buffer_limits(&mut self, high: Option<usize>, low: Option<usize>) {
        let (high, low) = match (high, low) {
            (Some(h), Some(l)) => (h, l),
            (Some(h), None) => (h, h / 4),
            (None, Some(l)) => (l.saturating_mul(4), l),
            (None, None) => (
                super::conn::DEFAULT_HIGH_WATER,
                super::conn::DEFAULT_HIGH_WATER / 4,
            ),
        };
        self.conn.set_write_buffer_limits(high, low);
    }

    /// The `(low, high)` water marks (asyncio's `transport.get_write_buffer_limits()`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     assert_eq!(writer.get_write_buffer_limits(), (16 * 1024, 64 * 1024));
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        self.conn.write_buffer_limits()
    }

    /// Closes at once, dropping what is buffered (asyncio's `transport.abort()`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (_r, mut writer) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     writer.abort();
    ///     assert!(writer.is_closing());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn abort(&mut self) {
        self.conn.abort();
    }
}

impl futures::io::AsyncWrite for StreamWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Respect the water marks: a writer that never drains must still be held back.
        match self.conn.poll_drain(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        self.conn.write(buf).map(|()| buf.len()).into()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.conn.poll_flushed(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.conn.write_state() == WriteState::Open {
            self.write_eof()?;
        }
        self.conn.poll_flushed(cx)
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("peername", &self.peername())
            .field("buffered", &self.get_write_buffer_size())
            .field("closing", &self.is_closing())
            .finish()
    }
}
