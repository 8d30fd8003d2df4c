//! What the I/O examples share: reading a `host:port` argument, and printing addresses and
//! messages the way Python's `print(f"{x!r}")` shows them, so the output reads like asyncio's.

use std::net::SocketAddr;

use asyncio::Address;

/// Splits `host:port` (`127.0.0.1:8888`, `localhost:8888`, `[::1]:8888`) into the host and
/// the port that `start_server` and `open_connection` take. The error says what is wrong.
pub fn host_port(arg: &str) -> Result<(String, u16), String> {
    let (host, port) = arg.rsplit_once(':').ok_or_else(|| {
        format!("{arg:?} is not an address: expected host:port, e.g. 127.0.0.1:8888")
    })?;
    let port = port
        .parse::<u16>()
        .map_err(|_| format!("{arg:?}: {port:?} is not a port number (0 to 65535)"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.is_empty() {
        return Err(format!(
            "{arg:?}: the host is missing, e.g. 127.0.0.1:{port}"
        ));
    }
    Ok((host.to_owned(), port))
}

/// A socket address as Python prints `sock.getsockname()`: `('127.0.0.1', 8888)`, or
/// `('::1', 8888, 0, 0)` for IPv6; a Unix socket's path as a quoted string.
pub fn py_addr(addr: &Address) -> String {
    match addr {
        Address::Inet(SocketAddr::V4(a)) => format!("('{}', {})", a.ip(), a.port()),
        Address::Inet(SocketAddr::V6(a)) => format!(
            "('{}', {}, {}, {})",
            a.ip(),
            a.port(),
            a.flowinfo(),
            a.scope_id()
        ),
        Address::Unix(path) => py_repr(path.to_string_lossy().as_bytes()),
    }
}

/// `repr(data.decode())`: the text in single quotes (double quotes if it holds a single quote
/// and no double one), with backslashes, quotes and control characters escaped. Bytes that
/// are not UTF-8 become U+FFFD, where Python would raise `UnicodeDecodeError`.
pub fn py_repr(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x100 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
