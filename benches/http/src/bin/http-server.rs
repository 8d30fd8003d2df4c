//! `http-server <runtime> <addr>`: one HTTP hello-world server (see `http_bench::servers`).

use std::process::ExitCode;

use http_bench::servers::HTTP;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = HTTP.iter().map(|s| s.arg).collect();
    let [runtime, addr] = args.as_slice() else {
        eprintln!(
            "usage: http-server <runtime> <addr>   (runtimes: {})",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let Some(server) = HTTP.iter().find(|s| s.arg == runtime) else {
        eprintln!(
            "http-server: unknown runtime {runtime:?}; known: {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let Ok(addr) = addr.parse() else {
        eprintln!("http-server: {addr:?} is not an address like 127.0.0.1:8080");
        return ExitCode::from(2);
    };
    match (server.serve)(addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http-server ({runtime}): {e}");
            ExitCode::FAILURE
        }
    }
}
