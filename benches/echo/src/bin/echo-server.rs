//! `echo-server <runtime> <addr>`: one Rust echo server (see `echo_bench::servers`).

use std::io::Write;
use std::net::TcpListener;
use std::process::ExitCode;

use echo_bench::servers;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = servers::RUNTIMES.iter().map(|r| r.arg).collect();
    let [runtime, addr] = args.as_slice() else {
        eprintln!(
            "usage: echo-server <runtime> <addr>   (runtimes: {}; addr like 127.0.0.1:0)",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let Some(runtime) = servers::find(runtime) else {
        eprintln!(
            "echo-server: unknown runtime {runtime:?}; known: {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let Some(serve) = runtime.serve else {
        eprintln!("echo-server: {}: not built yet", runtime.arg);
        return ExitCode::from(3);
    };
    let listener = match TcpListener::bind(addr.as_str()) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("echo-server: cannot bind {addr}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().map(|a| a.to_string());
    println!("listening on {}", bound.as_deref().unwrap_or(addr));
    let _ = std::io::stdout().flush();
    if let Err(err) = listener
        .set_nonblocking(true)
        .and_then(|()| serve(listener))
    {
        eprintln!("echo-server ({}): {err}", runtime.arg);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
