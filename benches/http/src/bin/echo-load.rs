//! `echo-load <addr> <connections> <seconds>`: the driver's echo load on its own, to look at
//! one server with other tools (`strace -c -p`, `perf top -p`). Prints round trips/s.

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, conns, secs] = args.as_slice() else {
        eprintln!("usage: echo-load <addr> <connections> <seconds>");
        return ExitCode::from(2);
    };
    let (Ok(addr), Ok(conns), Ok(secs)) = (addr.parse(), conns.parse(), secs.parse::<f64>()) else {
        eprintln!("echo-load: bad arguments {args:?}");
        return ExitCode::from(2);
    };
    let load = http_bench::load::EchoLoad {
        addr,
        conns,
        size: 1024,
        warmup: Duration::from_millis(200),
        window: Duration::from_secs_f64(secs),
    };
    match load.run(|| {}, || {}) {
        Ok(trips) => {
            println!("{:.0} round trips/s", trips as f64 / secs);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("echo-load: {e}");
            ExitCode::FAILURE
        }
    }
}
