//! `echo-client`: the load generator (see `echo_bench::client`).

fn main() -> std::process::ExitCode {
    echo_bench::client::main()
}
