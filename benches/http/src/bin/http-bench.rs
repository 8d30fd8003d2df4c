//! `http-bench`: the driver (see `http_bench::driver`).

fn main() -> std::process::ExitCode {
    http_bench::driver::main()
}
