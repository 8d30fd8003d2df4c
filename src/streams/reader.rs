//! [`StreamReader`]: asyncio's `StreamReader`, over a connection's read buffer.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::conn::{Conn, READ_CHUNK};
use super::{IncompleteReadError, LimitOverrunError};

/// Reads of one fill loop before it lets other tasks run (`read(-1)` on a fast peer).
const FILLS_PER_POLL: usize = 16;

/// The reading half of a connection (asyncio's `StreamReader`), from [`open_connection`] or
/// a [`start_server`] callback.
///
/// Every read is cancellation-safe: drop a `read`, `readline` or `readexactly` future before
/// it finishes (a timeout, say) and the bytes that already arrived stay buffered for the next
/// read. Bytes leave the kernel only when you read, so a reader that stops reading slows its
/// peer down through TCP's own flow control.
///
/// It is also a [`futures::io::AsyncRead`] and [`futures::io::AsyncBufRead`], for codecs and
/// readers from the futures ecosystem.
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let server = asyncio::start_server(
///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"one\ntwo\n") },
///         "127.0.0.1",
///         0,
///     )
///     .await?;
///     let port = server.sockets()[0].inet().unwrap().port();
///     let (mut reader, _writer) = asyncio::open_connection("127.0.0.1", port).await?;
///     assert_eq!(reader.readline().await?, b"one\n");
///     assert_eq!(reader.read(-1).await?, b"two\n"); // up to EOF
///     assert!(reader.at_eof());
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
///
/// [`open_connection`]: crate::open_connection
/// [`start_server`]: crate::start_server
pub struct StreamReader {
    conn: Rc<Conn>,
    /// Bytes received and not yet read.
    buf: ReadBuf,
}

/// Reads once from the socket into `buf` (up to `max` bytes).
fn fill(
    conn: &Conn,
    buf: &mut ReadBuf,
    cx: &mut Context<'_>,
    max: usize,
) -> Poll<io::Result<usize>> {
    conn.poll_recv(cx, max, |data| buf.extend(data))
}

impl StreamReader {
    pub(crate) fn new(conn: Rc<Conn>) -> StreamReader {
        StreamReader {
            conn,
            buf: ReadBuf::default(),
        }
    }

    /// Reads up to `n` bytes (asyncio's `read(n)`): waits until at least one byte is there
    /// (or EOF), then returns what is buffered, at most `n`. `read(-1)` reads until EOF and
    /// returns everything. Empty means EOF.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"hello world") },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (mut reader, _w) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     let mut all = reader.read(5).await?;
    ///     assert!(!all.is_empty() && all.len() <= 5);
    ///     all.extend(reader.read(-1).await?);
    ///     assert_eq!(all, b"hello world");
    ///     assert!(reader.read(100).await?.is_empty(), "EOF reads as empty");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn read(&mut self, n: isize) -> io::Result<Vec<u8>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let StreamReader { conn, buf } = self;
        if n < 0 {
            return poll_fn(|cx| {
                for _ in 0..FILLS_PER_POLL {
                    match fill(conn, buf, cx, READ_CHUNK) {
                        Poll::Ready(Ok(0)) => return Poll::Ready(Ok(buf.take_all())),
                        Poll::Ready(Ok(_)) => {}
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                cx.waker().wake_by_ref(); // let others run; more next iteration
                Poll::Pending
            })
            .await;
        }
        let n = n as usize;
        poll_fn(|cx| {
            if !buf.is_empty() {
                return Poll::Ready(Ok(buf.take(n)));
            }
            let mut out = Vec::new();
            match conn.poll_recv(cx, n, |data| out = data.to_vec()) {
                Poll::Ready(Ok(_)) => Poll::Ready(Ok(out)),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    /// Reads exactly `n` bytes (asyncio's `readexactly`). If EOF comes first, the error is an
    /// [`IncompleteReadError`] (kind `UnexpectedEof`) holding the bytes that did arrive.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"\x00\x03abc!") },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (mut reader, _w) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     let header = reader.readexactly(2).await?;
    ///     let len = u16::from_be_bytes([header[0], header[1]]) as usize;
    ///     assert_eq!(reader.readexactly(len).await?, b"abc");
    ///     let err = reader.readexactly(10).await.unwrap_err();
    ///     let short = asyncio::IncompleteReadError::of(&err).unwrap();
    ///     assert_eq!(short.partial, b"!");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn readexactly(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let StreamReader { conn, buf } = self;
        poll_fn(|cx| {
            loop {
                let have = buf.len();
                if have >= n {
                    return Poll::Ready(Ok(buf.take(n)));
                }
                if conn.eof_seen() {
                    let partial = buf.take_all();
                    return Poll::Ready(Err(IncompleteReadError {
                        partial,
                        expected: Some(n),
                    }
                    .into()));
                }
                match fill(conn, buf, cx, n - have) {
                    Poll::Ready(Ok(_)) => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
        .await
    }

    /// Reads up to and including `separator` (asyncio's `readuntil`).
    ///
    /// - EOF first: an [`IncompleteReadError`] (kind `UnexpectedEof`) with what was read.
    /// - More than the reader's limit without a separator (or a separator found past the
    ///   limit): a [`LimitOverrunError`] (kind `InvalidData`); the data stays buffered.
    /// - An empty separator is an `InvalidInput` error.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"key: value\r\n\r\nbody") },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (mut reader, _w) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     assert_eq!(reader.readuntil(b"\r\n\r\n").await?, b"key: value\r\n\r\n");
    ///     let err = reader.readuntil(b"\n").await.unwrap_err();
    ///     assert_eq!(asyncio::IncompleteReadError::of(&err).unwrap().partial, b"body");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn readuntil(&mut self, separator: &[u8]) -> io::Result<Vec<u8>> {
        if separator.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Separator should be at least one-byte string",
            ));
        }
        let StreamReader { conn, buf } = self;
        let limit = conn.limit;
        let seplen = separator.len();
        let mut offset = 0;
        poll_fn(|cx| {
            loop {
                let found = {
                    let data = buf.as_slice();
                    match find(&data[offset.min(data.len())..], separator) {
                        Some(i) => Some(offset + i),
                        None => {
                            offset = (data.len() + 1).saturating_sub(seplen);
                            None
                        }
                    }
                };
                if let Some(isep) = found {
                    if isep > limit {
                        return Poll::Ready(Err(LimitOverrunError {
                            message: "Separator is found, but chunk is longer than limit".into(),
                            consumed: isep,
                        }
                        .into()));
                    }
                    return Poll::Ready(Ok(buf.take(isep + seplen)));
                }
                if offset > limit {
                    return Poll::Ready(Err(LimitOverrunError {
                        message: "Separator is not found, and chunk exceed the limit".into(),
                        consumed: offset,
                    }
                    .into()));
                }
                if conn.eof_seen() {
                    let partial = buf.take_all();
                    return Poll::Ready(Err(IncompleteReadError {
                        partial,
                        expected: None,
                    }
                    .into()));
                }
                match fill(conn, buf, cx, READ_CHUNK) {
                    Poll::Ready(Ok(_)) => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
        .await
    }

    /// Reads one line, up to and including `\n` (asyncio's `readline`). At EOF it returns
    /// the last, unterminated line, then empty. A line longer than the reader's limit is an
    /// `InvalidData` error (asyncio's `ValueError`) and is dropped from the buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"GET / HTTP/1.0\r\nlast") },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (mut reader, _w) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     assert_eq!(reader.readline().await?, b"GET / HTTP/1.0\r\n");
    ///     assert_eq!(reader.readline().await?, b"last");
    ///     assert_eq!(reader.readline().await?, b"");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn readline(&mut self) -> io::Result<Vec<u8>> {
        match self.readuntil(b"\n").await {
            Ok(line) => Ok(line),
            Err(e) => {
                if let Some(short) = IncompleteReadError::of(&e) {
                    return Ok(short.partial.clone());
                }
                if let Some(over) = LimitOverrunError::of(&e) {
                    let consumed = over.consumed;
                    if self.buf.as_slice().get(consumed) == Some(&b'\n') {
                        self.buf.consume(consumed + 1);
                    } else {
                        let _ = self.buf.take_all();
                    }
                }
                Err(e)
            }
        }
    }

    /// True once the peer has closed its side and every byte was read (asyncio's `at_eof`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(|_r, _w| async {}, "127.0.0.1", 0).await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (mut reader, _w) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     assert!(!reader.at_eof());
    ///     assert!(reader.read(10).await?.is_empty()); // the server's callback ended: EOF
    ///     assert!(reader.at_eof());
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn at_eof(&self) -> bool {
        self.conn.eof_seen() && self.buf.is_empty()
    }

    /// How many bytes are buffered and can be read without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let server = asyncio::start_server(
    ///         |_r, mut w: asyncio::StreamWriter| async move { w.write(b"a\nb\n") },
    ///         "127.0.0.1",
    ///         0,
    ///     )
    ///     .await?;
    ///     let port = server.sockets()[0].inet().unwrap().port();
    ///     let (mut reader, _w) = asyncio::open_connection("127.0.0.1", port).await?;
    ///     reader.readexactly(2).await?;
    ///     // What else arrived with those bytes waits in the buffer.
    ///     assert!(reader.buffered() <= 2);
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

/// Bytes received but not yet read: a vector and how much of its front was consumed.
#[derive(Debug, Default)]
struct ReadBuf {
    buf: Vec<u8>,
    pos: usize,
}

impl ReadBuf {
    fn len(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn as_slice(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    fn extend(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Removes and returns the first `n` bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        if self.pos == 0 && n == self.buf.len() {
            return std::mem::take(&mut self.buf);
        }
        let out = self.buf[self.pos..self.pos + n].to_vec();
        self.consume(n);
        out
    }

    fn consume(&mut self, n: usize) {
        self.pos += n.min(self.len());
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    fn take_all(&mut self) -> Vec<u8> {
        let out = if self.pos == 0 {
            std::mem::take(&mut self.buf)
        } else {
            self.buf[self.pos..].to_vec()
        };
        self.buf.clear();
        self.pos = 0;
        out
    }
}

/// The first index of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return hay.iter().position(|&b| b == needle[0]);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

impl futures::io::AsyncRead for StreamReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.buf.is_empty() {
            let n = this.buf.len().min(buf.len());
            buf[..n].copy_from_slice(&this.buf.as_slice()[..n]);
            this.buf.consume(n);
            return Poll::Ready(Ok(n));
        }
        this.conn.poll_read_into(cx, buf)
    }
}

impl futures::io::AsyncBufRead for StreamReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.buf.is_empty() {
            match fill(&this.conn, &mut this.buf, cx, READ_CHUNK) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(this.buf.as_slice()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().buf.consume(amt);
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &self.buffered())
            .field("eof", &self.conn.eof_seen())
            .finish()
    }
}
