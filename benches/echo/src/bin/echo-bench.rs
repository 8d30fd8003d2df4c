//! `echo-bench`: the driver (see `echo_bench::driver`); `benches/echo/run.sh` builds and runs it.

fn main() -> std::process::ExitCode {
    echo_bench::driver::main()
}
