//! asyncio's documentation example for subprocesses: run a shell command, collect its output,
//! print how it ended.
//!
//! ```python
//! import asyncio
//!
//! async def run(cmd):
//!     proc = await asyncio.create_subprocess_shell(
//!         cmd,
//!         stdout=asyncio.subprocess.PIPE,
//!         stderr=asyncio.subprocess.PIPE)
//!
//!     stdout, stderr = await proc.communicate()
//!
//!     print(f'[{cmd!r} exited with {proc.returncode}]')
//!     if stdout:
//!         print(f'[stdout]\n{stdout.decode()}')
//!     if stderr:
//!         print(f'[stderr]\n{stderr.decode()}')
//!
//! asyncio.run(run('ls /zzz'))
//! ```
//!
//! `cargo run --example subprocess` prints, with GNU ls (and `LC_ALL=C`), what CPython prints:
//!
//! ```text
//! ['ls /zzz' exited with 2]
//! [stderr]
//! ls: cannot access '/zzz': No such file or directory
//!
//! ```
//!
//! Another command can be given: `cargo run --example subprocess -- 'echo hello'`.

use std::io;

use asyncio::subprocess::PIPE;

async fn run(cmd: &str) -> io::Result<()> {
    let mut proc = asyncio::create_subprocess_shell(cmd)
        .stdout(PIPE)
        .stderr(PIPE)
        .await?;

    let (stdout, stderr) = proc.communicate(b"").await?;

    // Python's `{cmd!r}` quotes a string with single quotes.
    let code = proc.returncode().expect("communicate waits for the exit");
    println!("['{cmd}' exited with {code}]");
    if !stdout.is_empty() {
        println!("[stdout]\n{}", String::from_utf8_lossy(&stdout));
    }
    if !stderr.is_empty() {
        println!("[stderr]\n{}", String::from_utf8_lossy(&stderr));
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let cmd = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ls /zzz".to_owned());
    asyncio::run(run(&cmd))
}
