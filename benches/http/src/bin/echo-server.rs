//! `echo-server <runtime> <addr>`: one TCP echo server (see `http_bench::servers`).

use std::process::ExitCode;

use http_bench::servers::ECHO;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = ECHO.iter().map(|s| s.arg).collect();
    let [runtime, addr] = args.as_slice() else {
        eprintln!(
            "usage: echo-server <runtime> <addr>   (runtimes: {})",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let Some(server) = ECHO.iter().find(|s| s.arg == runtime) else {
        eprintln!(
            "echo-server: unknown runtime {runtime:?}; known: {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let Ok(addr) = addr.parse() else {
        eprintln!("echo-server: {addr:?} is not an address like 127.0.0.1:0");
        return ExitCode::from(2);
    };
    match (server.serve)(addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo-server ({runtime}): {e}");
            ExitCode::FAILURE
        }
    }
}
