//! The HTTP/1.1 server every runtime runs: answers each request with `Hello, World!`,
//! keeps the connection alive, handles pipelining, skips a `Content-Length` body, closes
//! on `Connection: close` or HTTP/1.0 (the same parser as `examples/http_hello.rs`).

/// The answer, byte for byte the same on every server (the uvloop one too).
pub const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
const HELLO_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!";
const TOO_LARGE: &[u8] =
    b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const MAX_HEAD: usize = 64 * 1024;

/// One connection's parser state.
#[derive(Debug, Default)]
pub struct Conn {
    pending: Vec<u8>,
    skip: usize,
}

struct Head {
    len: usize,
    body: usize,
    close: bool,
}

fn parse_head(buf: &[u8]) -> Option<Head> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let mut lines = buf[..end].split(|&b| b == b'\n');
    let request_line = lines.next().unwrap_or_default();
    let (mut close, mut body) = (request_line.ends_with(b"HTTP/1.0\r"), 0);
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"connection") {
            close = value.eq_ignore_ascii_case(b"close")
                || (close && !value.eq_ignore_ascii_case(b"keep-alive"));
        } else if name.eq_ignore_ascii_case(b"content-length") {
            body = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        }
    }
    Some(Head {
        len: end + 4,
        body,
        close,
    })
}

impl Conn {
    /// Feeds `data`; appends the answers to `out`. True: close after sending `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) -> bool {
        if self.pending.is_empty() {
            let (used, close) = self.answer(data, out);
            self.pending.extend_from_slice(&data[used..]);
            close
        } else {
            let mut buf = std::mem::take(&mut self.pending);
            buf.extend_from_slice(data);
            let (used, close) = self.answer(&buf, out);
            buf.drain(..used);
            self.pending = buf;
            close
        }
    }

    fn answer(&mut self, buf: &[u8], out: &mut Vec<u8>) -> (usize, bool) {
        let mut at = 0;
        loop {
            let skipped = self.skip.min(buf.len() - at);
            self.skip -= skipped;
            at += skipped;
            if self.skip > 0 || at == buf.len() {
                return (at, false);
            }
            let Some(head) = parse_head(&buf[at..]) else {
                if buf.len() - at > MAX_HEAD {
                    out.extend_from_slice(TOO_LARGE);
                    return (buf.len(), true);
                }
                return (at, false);
            };
            at += head.len;
            self.skip = head.body;
            if head.close {
                out.extend_from_slice(HELLO_CLOSE);
                return (buf.len(), true);
            }
            out.extend_from_slice(HELLO);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelined_and_split_requests_get_one_answer_each() {
        let mut c = Conn::default();
        let mut out = Vec::new();
        assert!(!c.feed(b"GET / HTTP/1.1\r\n\r\nGET / HT", &mut out));
        assert_eq!(out, HELLO);
        assert!(!c.feed(b"TP/1.1\r\nContent-Length: 2\r\n\r\nab", &mut out));
        assert_eq!(out.len(), 2 * HELLO.len());
        assert!(c.feed(b"GET / HTTP/1.0\r\n\r\n", &mut out));
    }
}
