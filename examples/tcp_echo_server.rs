//! asyncio's documentation example "TCP echo server using streams", made to echo every byte
//! until the client closes, so that it also serves as a benchmark server.
//!
//! ```python
//! async def handle_echo(reader, writer):
//!     data = await reader.read(100)
//!     message = data.decode()
//!     addr = writer.get_extra_info('peername')
//!
//!     print(f"Received {message!r} from {addr!r}")
//!
//!     print(f"Send: {message!r}")
//!     writer.write(data)
//!     await writer.drain()
//!
//!     print("Close the connection")
//!     writer.close()
//!     await writer.wait_closed()
//!
//! async def main():
//!     server = await asyncio.start_server(handle_echo, '127.0.0.1', 8888)
//!
//!     addrs = ', '.join(str(sock.getsockname()) for sock in server.sockets)
//!     print(f'Serving on {addrs}')
//!
//!     async with server:
//!         await server.serve_forever()
//!
//! asyncio.run(main())
//! ```
//!
//! `cargo run --example tcp_echo_server` serves on 127.0.0.1:8888; another address can be
//! given (`-- 127.0.0.1:9000`; port 0 picks a free one, and `Serving on` says which). Where
//! the documentation's handler reads once (100 bytes) and hangs up, this one loops: read up to
//! 64 KiB, write it back, drain, until the client closes. Each message is printed as in the
//! documentation (`Received 'Hello World!' from ('127.0.0.1', 50428)`, `Send: ...`, `Close the
//! connection`) unless `--quiet` is given, which leaves only the `Serving on` line: use that
//! when measuring. Try it with `cargo run --example tcp_echo_client` in another terminal.

mod support;

use std::io;
use std::process::ExitCode;

use asyncio::{StreamReader, StreamWriter};
use support::net::{host_port, py_addr, py_repr};

/// How much one read takes at most: asyncio's default buffer limit.
const CHUNK: isize = 64 * 1024;

async fn handle_echo(mut reader: StreamReader, mut writer: StreamWriter, quiet: bool) {
    let addr = writer
        .peername()
        .map_or_else(|| "None".to_owned(), |a| py_addr(&a));
    let result: io::Result<()> = async {
        loop {
            let data = reader.read(CHUNK).await?;
            if data.is_empty() {
                break; // the client closed its side
            }
            if !quiet {
                let message = py_repr(&data);
                println!("Received {message} from {addr}");
                println!("Send: {message}");
            }
            writer.write(&data)?;
            writer.drain().await?;
        }
        if !quiet {
            println!("Close the connection");
        }
        writer.close();
        writer.wait_closed().await
    }
    .await;
    // A client that resets the connection is the client's business, not the server's.
    if let Err(e) = result {
        if !quiet {
            println!("Connection from {addr} lost: {e}");
        }
    }
}

fn main() -> ExitCode {
    let mut quiet = false;
    let mut address = "127.0.0.1:8888".to_owned();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quiet" | "-q" => quiet = true,
            a if a.starts_with('-') => {
                eprintln!(
                    "usage: tcp_echo_server [HOST:PORT] [--quiet]   (default 127.0.0.1:8888)"
                );
                return ExitCode::from(2);
            }
            a => address = a.to_owned(),
        }
    }
    let (host, port) = match host_port(&address) {
        Ok(hp) => hp,
        Err(e) => {
            eprintln!("tcp_echo_server: {e}");
            return ExitCode::from(2);
        }
    };

    let served = asyncio::run(async move {
        let server =
            asyncio::start_server(move |r, w| handle_echo(r, w, quiet), host, port).await?;
        let addrs: Vec<String> = server.sockets().iter().map(py_addr).collect();
        println!("Serving on {}", addrs.join(", "));
        server.serve_forever().await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcp_echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}
