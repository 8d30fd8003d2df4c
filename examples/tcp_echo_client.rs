//! asyncio's documentation example "TCP echo client using streams": send a message to the
//! echo server, print what comes back.
//!
//! ```python
//! async def tcp_echo_client(message):
//!     reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//!
//!     print(f'Send: {message!r}')
//!     writer.write(message.encode())
//!     await writer.drain()
//!
//!     data = await reader.read(100)
//!     print(f'Received: {data.decode()!r}')
//!
//!     print('Close the connection')
//!     writer.close()
//!     await writer.wait_closed()
//!
//! asyncio.run(tcp_echo_client('Hello World!'))
//! ```
//!
//! Start `cargo run --example tcp_echo_server` first, then `cargo run --example
//! tcp_echo_client` prints `Send: 'Hello World!'`, `Received: 'Hello World!'` and `Close the
//! connection`. Another server address can be given (`-- 127.0.0.1:9000`), and a message
//! after it (`-- 127.0.0.1:8888 'good morning'`).

mod support;

use std::io;
use std::process::ExitCode;

use support::net::{host_port, py_repr};

async fn tcp_echo_client(message: &str, host: String, port: u16) -> io::Result<()> {
    let (mut reader, mut writer) = asyncio::open_connection(host, port).await?;

    println!("Send: {}", py_repr(message.as_bytes()));
    writer.write(message.as_bytes())?;
    writer.drain().await?;

    let data = reader.read(100).await?;
    println!("Received: {}", py_repr(&data));

    println!("Close the connection");
    writer.close();
    writer.wait_closed().await
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() > 2 || args.iter().any(|a| a.starts_with('-')) {
        eprintln!(
            "usage: tcp_echo_client [HOST:PORT [MESSAGE]]   (default 127.0.0.1:8888 'Hello World!')"
        );
        return ExitCode::from(2);
    }
    let address = args.first().map_or("127.0.0.1:8888", String::as_str);
    let message = args.get(1).map_or("Hello World!", String::as_str);
    let (host, port) = match host_port(address) {
        Ok(hp) => hp,
        Err(e) => {
            eprintln!("tcp_echo_client: {e}");
            return ExitCode::from(2);
        }
    };
    match asyncio::run(tcp_echo_client(message, host, port)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcp_echo_client: {e}");
            ExitCode::FAILURE
        }
    }
}
