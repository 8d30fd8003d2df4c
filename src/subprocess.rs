//! Subprocesses: asyncio's `asyncio.subprocess`.
//!
//! [`create_subprocess_exec`] runs a program with arguments, [`create_subprocess_shell`] a
//! command line through `/bin/sh`; both give a [`Process`] whose pipes are this crate's
//! [`StreamWriter`] (stdin) and [`StreamReader`] (stdout, stderr), registered in the loop's
//! reactor like sockets.
//!
//! ```
//! use asyncio::subprocess::PIPE;
//!
//! asyncio::run(async {
//!     let mut proc = asyncio::create_subprocess_exec("tr", ["a-z", "A-Z"])
//!         .stdin(PIPE)
//!         .stdout(PIPE)
//!         .await?;
//!     let (stdout, _) = proc.communicate(b"hello").await?;
//!     assert_eq!(stdout, b"HELLO");
//!     assert_eq!(proc.returncode(), Some(0));
//!     Ok::<(), std::io::Error>(())
//! })
//! .unwrap();
//! ```
//!
//! How the loop learns that a child exited: see `unix_events.rs` (a pidfd in the reactor, or
//! a waiter thread; never a `SIGCHLD` handler).
//!
//! Writing to the stdin of a child that has exited fails with `BrokenPipe`: Rust programs
//! ignore `SIGPIPE` from the start (a program that gives `SIGPIPE` back its default
//! disposition is killed by it instead, as with any pipe). The child starts with the default
//! disposition, as std's `Command` arranges.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::future::{IntoFuture, Ready, poll_fn};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crate::runtime::core::{Core, with_running};
use crate::runtime::io::source::no_running_loop;
use crate::runtime::io::sys;
use crate::runtime::remote::Remote;
use crate::streams::conn::{CONNECTED, Conn, Stream};
use crate::streams::{DEFAULT_LIMIT, StreamReader, StreamWriter};
use crate::unix_events::ChildWatch;

/// Where a child's standard stream goes (asyncio's `PIPE`, `DEVNULL`, `STDOUT`, or `None`
/// for inherit).
///
/// # Examples
///
/// ```
/// use asyncio::subprocess::{Stdio, DEVNULL, PIPE, STDOUT};
/// assert_eq!(PIPE, Stdio::Pipe);
/// assert_eq!(DEVNULL, Stdio::DevNull);
/// assert_eq!(STDOUT, Stdio::Stdout);
/// assert_eq!(Stdio::default(), Stdio::Inherit);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stdio {
    /// A pipe to this program: [`Process::stdin`], [`Process::stdout`] or [`Process::stderr`].
    Pipe,
    /// `/dev/null`.
    DevNull,
    /// This program's own stream (asyncio's default, `None`).
    #[default]
    Inherit,
    /// For stderr only: wherever stdout goes (asyncio's `STDOUT`).
    Stdout,
}

/// asyncio's `asyncio.subprocess.PIPE`.
pub const PIPE: Stdio = Stdio::Pipe;
/// asyncio's `asyncio.subprocess.DEVNULL`.
pub const DEVNULL: Stdio = Stdio::DevNull;
/// asyncio's `asyncio.subprocess.STDOUT`: stderr into stdout.
pub const STDOUT: Stdio = Stdio::Stdout;

/// Runs `program` with `args` (asyncio's `create_subprocess_exec`).
///
/// The program is looked up in `PATH` unless it contains a `/`. Options, as builder calls
/// before `.await`: [`stdin`](CreateSubprocess::stdin), [`stdout`](CreateSubprocess::stdout),
/// [`stderr`](CreateSubprocess::stderr) (each inherited unless set, as in asyncio),
/// [`cwd`](CreateSubprocess::cwd), [`env`](CreateSubprocess::env),
/// [`env_clear`](CreateSubprocess::env_clear) and [`limit`](CreateSubprocess::limit).
///
/// # Errors
///
/// A program that cannot be run gives the spawn's error with its name in the message: a
/// missing program is `io::ErrorKind::NotFound`. `Stdio::Stdout` for stdin or stdout is
/// `InvalidInput`.
///
/// # Examples
///
/// ```
/// use asyncio::subprocess::PIPE;
///
/// asyncio::run(async {
///     let mut proc = asyncio::create_subprocess_exec("echo", ["hello", "world"])
///         .stdout(PIPE)
///         .await?;
///     let line = proc.stdout.as_mut().unwrap().readline().await?;
///     assert_eq!(line, b"hello world\n");
///     assert_eq!(proc.wait().await, 0);
///
///     let err = asyncio::create_subprocess_exec("no-such-program", [""; 0]).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
///     assert!(err.to_string().contains("no-such-program"));
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn create_subprocess_exec<I, S>(program: impl AsRef<OsStr>, args: I) -> CreateSubprocess
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let program = program.as_ref().to_os_string();
    let mut command = Command::new(&program);
    command.args(args);
    CreateSubprocess::new(command, program)
}

/// Runs `cmd` through the shell, `/bin/sh -c cmd` (asyncio's `create_subprocess_shell`).
///
/// The options are those of [`create_subprocess_exec`]. As in asyncio, quoting is the
/// caller's business: never pass unchecked input in `cmd`.
///
/// # Examples
///
/// ```
/// use asyncio::subprocess::{PIPE, STDOUT};
///
/// asyncio::run(async {
///     let mut proc = asyncio::create_subprocess_shell("echo out; echo err >&2; exit 3")
///         .stdout(PIPE)
///         .stderr(STDOUT)
///         .await?;
///     let (output, _) = proc.communicate(b"").await?;
///     assert_eq!(output, b"out\nerr\n");
///     assert_eq!(proc.returncode(), Some(3));
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub fn create_subprocess_shell(cmd: impl AsRef<OsStr>) -> CreateSubprocess {
    let mut command = Command::new("/bin/sh");
    command.arg("-c").arg(cmd.as_ref());
    CreateSubprocess::new(command, cmd.as_ref().to_os_string())
}

/// The future of [`create_subprocess_exec`] and [`create_subprocess_shell`], with its
/// options. The child starts when this is awaited.
///
/// # Examples
///
/// ```
/// use asyncio::subprocess::{DEVNULL, PIPE};
///
/// asyncio::run(async {
///     let mut proc = asyncio::create_subprocess_shell("pwd; echo $GREETING")
///         .cwd("/")
///         .env("GREETING", "hi")
///         .stdin(DEVNULL)
///         .stdout(PIPE)
///         .await?;
///     let (out, _) = proc.communicate(b"").await?;
///     assert_eq!(out, b"/\nhi\n");
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[must_use = "create_subprocess_* does nothing unless awaited"]
pub struct CreateSubprocess {
    command: Command,
    /// The program (or shell command), for error messages.
    name: OsString,
    cwd: Option<PathBuf>,
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
    limit: usize,
}

impl CreateSubprocess {
    fn new(command: Command, name: OsString) -> CreateSubprocess {
        CreateSubprocess {
            command,
            name,
            cwd: None,
            stdin: Stdio::Inherit,
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
            limit: DEFAULT_LIMIT,
        }
    }

    /// Where the child's stdin comes from (asyncio's `stdin=`); `Pipe` gives
    /// [`Process::stdin`].
    pub fn stdin(mut self, stdin: Stdio) -> CreateSubprocess {
        self.stdin = stdin;
        self
    }

    /// Where the child's stdout goes (asyncio's `stdout=`); `Pipe` gives
    /// [`Process::stdout`].
    pub fn stdout(mut self, stdout: Stdio) -> CreateSubprocess {
        self.stdout = stdout;
        self
    }

    /// Where the child's stderr goes (asyncio's `stderr=`); `Pipe` gives
    /// [`Process::stderr`], `Stdout` sends it wherever stdout goes.
    pub fn stderr(mut self, stderr: Stdio) -> CreateSubprocess {
        self.stderr = stderr;
        self
    }

    /// The child's working directory (asyncio's `cwd=`).
    pub fn cwd(mut self, dir: impl AsRef<Path>) -> CreateSubprocess {
        self.command.current_dir(dir.as_ref());
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Sets an environment variable for the child (asyncio's `env=`, one variable at a time;
    /// the rest of this program's environment is inherited unless
    /// [`env_clear`](Self::env_clear) is called first).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> CreateSubprocess {
        self.command.env(key, value);
        self
    }

    /// Starts the child with an empty environment (then add variables with
    /// [`env`](Self::env)).
    pub fn env_clear(mut self) -> CreateSubprocess {
        self.command.env_clear();
        self
    }

    /// The buffer limit of the stdout and stderr readers (asyncio's `limit=`, 64 KiB by
    /// default): the longest line `readline` accepts.
    pub fn limit(mut self, limit: usize) -> CreateSubprocess {
        self.limit = limit;
        self
    }

    /// Starts the child on the running loop.
    fn spawn(self) -> io::Result<Process> {
        let core = with_running(Core::rc).ok_or_else(no_running_loop)?;
        let CreateSubprocess {
            mut command,
            name,
            cwd,
            stdin,
            stdout,
            stderr,
            limit,
        } = self;
        let invalid = |which: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("Stdio::Stdout is only for stderr, not for {which}"),
            )
        };
        command.stdin(std_stdio(stdin).ok_or_else(|| invalid("stdin"))?);
        // stderr into stdout's pipe needs a pipe of our own, whose write end both get.
        let mut merged = None;
        match (stdout, stderr) {
            (Stdio::Stdout, _) => return Err(invalid("stdout")),
            (Stdio::Pipe, Stdio::Stdout) => {
                let (read, write) = sys::pipe()?;
                command.stdout(write.try_clone()?).stderr(write);
                merged = Some(read);
            }
            (Stdio::Inherit, Stdio::Stdout) => {
                let fd = std::os::fd::AsFd::as_fd(&io::stdout()).try_clone_to_owned()?;
                command.stdout(std::process::Stdio::inherit()).stderr(fd);
            }
            (Stdio::DevNull, Stdio::Stdout) => {
                command
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
            }
            (out, err) => {
                command
                    .stdout(std_stdio(out).ok_or_else(|| invalid("stdout"))?)
                    .stderr(std_stdio(err).ok_or_else(|| invalid("stderr"))?);
            }
        }
        let spawned = command.spawn();
        // The command holds our copies of the child's ends (the merged pipe's write end):
        // closed now, or the readers would never see EOF.
        drop(command);
        let mut child = spawned.map_err(|e| {
            let message = match &cwd {
                Some(dir) => format!("cannot run {name:?} in {dir:?}: {e}"),
                None => format!("cannot run {name:?}: {e}"),
            };
            io::Error::new(e.kind(), message)
        })?;
        let pid = child.id();
        let raw_pid =
            libc::pid_t::try_from(pid).map_err(|_| io::Error::other("pid out of range"))?;
        // From here on the child is watched, so it is reaped whatever happens below.
        let watch = ChildWatch::start(&core, raw_pid)?;
        let pipes = (|| -> io::Result<_> {
            let stdin = match child.stdin.take() {
                Some(pipe) => {
                    let pipe = mio::unix::pipe::Sender::from(pipe);
                    pipe.set_nonblocking(true)?;
                    let conn = Conn::new(&core, Stream::PipeWrite(pipe), limit, CONNECTED)?;
                    Some(StreamWriter::new(conn))
                }
                None => None,
            };
            let reader = |pipe: mio::unix::pipe::Receiver| -> io::Result<StreamReader> {
                pipe.set_nonblocking(true)?;
                let conn = Conn::new(&core, Stream::PipeRead(pipe), limit, CONNECTED)?;
                Ok(StreamReader::new(conn))
            };
            let stdout = match (merged, child.stdout.take()) {
                (Some(fd), _) => Some(reader(mio::unix::pipe::Receiver::from(fd))?),
                (None, Some(pipe)) => Some(reader(mio::unix::pipe::Receiver::from(pipe))?),
                (None, None) => None,
            };
            let stderr = match child.stderr.take() {
                Some(pipe) => Some(reader(mio::unix::pipe::Receiver::from(pipe))?),
                None => None,
            };
            Ok((stdin, stdout, stderr))
        })();
        let (stdin, stdout, stderr) = match pipes {
            Ok(pipes) => pipes,
            Err(e) => {
                // As asyncio when its transport cannot be set up: kill the child (the watch
                // reaps it).
                let _ = watch.send_signal(libc::SIGKILL);
                return Err(e);
            }
        };
        Ok(Process {
            pid,
            watch,
            remote: core.remote().clone(),
            stdin,
            stdout,
            stderr,
        })
    }
}

/// std's equivalent of `stdio`, or `None` for `Stdout` (which only stderr can take).
fn std_stdio(stdio: Stdio) -> Option<std::process::Stdio> {
    match stdio {
        Stdio::Pipe => Some(std::process::Stdio::piped()),
        Stdio::DevNull => Some(std::process::Stdio::null()),
        Stdio::Inherit => Some(std::process::Stdio::inherit()),
        Stdio::Stdout => None,
    }
}

impl IntoFuture for CreateSubprocess {
    type Output = io::Result<Process>;
    type IntoFuture = Ready<io::Result<Process>>;

    /// Spawning does not wait for anything (`fork`/`exec` report at once), so the child
    /// starts right here, at the `.await`.
    fn into_future(self) -> Self::IntoFuture {
        std::future::ready(self.spawn())
    }
}

impl fmt::Debug for CreateSubprocess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateSubprocess")
            .field("command", &self.command)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}

/// A child process (asyncio's `asyncio.subprocess.Process`).
///
/// Its pipes are public fields, as in asyncio (and `std::process::Child`): `None` unless
/// that stream was `PIPE`. Dropping a `Process` neither kills nor waits for the child; the
/// loop still reaps it when it exits, so no zombie is left behind.
///
/// As asyncio warns: with `stdout` or `stderr` piped, [`wait`](Process::wait) can deadlock
/// when the child writes more than a pipe holds (64 KiB) and nobody reads it; use
/// [`communicate`](Process::communicate), which reads while it waits.
///
/// # Examples
///
/// ```
/// use asyncio::subprocess::PIPE;
///
/// asyncio::run(async {
///     let mut proc = asyncio::create_subprocess_exec("cat", [""; 0])
///         .stdin(PIPE)
///         .stdout(PIPE)
///         .await?;
///     let stdin = proc.stdin.as_mut().unwrap();
///     stdin.write(b"ping\n")?;
///     let stdout = proc.stdout.as_mut().unwrap();
///     assert_eq!(stdout.readline().await?, b"ping\n");
///     proc.stdin.take().unwrap().close(); // cat sees EOF and exits
///     assert_eq!(proc.wait().await, 0);
///     Ok::<(), std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct Process {
    pid: u32,
    watch: Arc<ChildWatch>,
    remote: Arc<Remote>,
    /// The child's stdin, if it was [`PIPE`]. Close it (or drop it) to send EOF.
    pub stdin: Option<StreamWriter>,
    /// The child's stdout, if it was [`PIPE`] (with stderr too, if that was [`STDOUT`]).
    pub stdout: Option<StreamReader>,
    /// The child's stderr, if it was [`PIPE`].
    pub stderr: Option<StreamReader>,
}

impl Process {
    /// The child's process id (asyncio's `pid`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let proc = asyncio::create_subprocess_exec("true", [""; 0]).await.unwrap();
    ///     assert!(proc.pid() > 0);
    ///     proc.wait().await;
    /// });
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit code once the child has exited and the loop has reaped it, else `None`
    /// (asyncio's `returncode`). A child killed by a signal has minus that signal's number,
    /// as in asyncio: `-9` for `SIGKILL`.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let proc = asyncio::create_subprocess_exec("sleep", ["10"]).await.unwrap();
    ///     assert_eq!(proc.returncode(), None); // still running
    ///     proc.kill().unwrap();
    ///     assert_eq!(proc.wait().await, -9);
    ///     assert_eq!(proc.returncode(), Some(-9));
    /// });
    /// ```
    pub fn returncode(&self) -> Option<i32> {
        self.watch.returncode()
    }

    /// Waits for the child to exit and returns its [`returncode`](Self::returncode)
    /// (asyncio's `wait`). Read piped output meanwhile, or use
    /// [`communicate`](Self::communicate): a child blocked writing to a full pipe never exits.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let proc = asyncio::create_subprocess_shell("exit 7").await.unwrap();
    ///     assert_eq!(proc.wait().await, 7);
    ///     assert_eq!(proc.wait().await, 7); // again: at once
    /// });
    /// ```
    pub async fn wait(&self) -> i32 {
        // The child runs in real time: a virtual clock must not jump ahead meanwhile.
        let _hold = self.remote.hold_clock();
        let watch = &*self.watch;
        poll_fn(|cx| watch.poll_exit(cx)).await
    }

    /// Sends `input` to stdin (then closes it), reads stdout and stderr to their end, and
    /// waits for the child to exit (asyncio's `communicate`). Returns `(stdout, stderr)`;
    /// each is empty unless that stream is piped. Pass `b""` for no input (asyncio's
    /// `communicate()`): stdin, if piped, is closed all the same.
    ///
    /// Writing and both reads go on at once, so a child that writes much more than a pipe
    /// holds before reading all its input does not deadlock. As in asyncio, a child that
    /// exits without reading all its input is not an error (`BrokenPipe` is ignored).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::subprocess::PIPE;
    ///
    /// asyncio::run(async {
    ///     let mut proc = asyncio::create_subprocess_shell("wc -c; echo done >&2")
    ///         .stdin(PIPE)
    ///         .stdout(PIPE)
    ///         .stderr(PIPE)
    ///         .await?;
    ///     let (out, err) = proc.communicate(vec![b'x'; 1 << 20]).await?; // 1 MiB in
    ///     assert_eq!(String::from_utf8_lossy(&out).trim(), "1048576");
    ///     assert_eq!(err, b"done\n");
    ///     Ok::<(), std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn communicate(&mut self, input: impl AsRef<[u8]>) -> io::Result<(Vec<u8>, Vec<u8>)> {
        let _hold = self.remote.hold_clock();
        let input = input.as_ref();
        let stdin = self.stdin.take();
        let feed = async move {
            let Some(mut stdin) = stdin else {
                return Ok(());
            };
            let fed = async {
                if !input.is_empty() {
                    stdin.write(input)?;
                    stdin.drain().await?;
                }
                Ok::<(), io::Error>(())
            }
            .await;
            stdin.close(); // what is still buffered is sent first, then the pipe closes
            match fed {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    Ok(())
                }
                other => other,
            }
        };
        let (fed, out, err) = futures::future::join3(
            feed,
            read_to_end(self.stdout.as_mut()),
            read_to_end(self.stderr.as_mut()),
        )
        .await;
        fed?;
        let (out, err) = (out?, err?);
        self.wait().await;
        Ok((out, err))
    }

    /// Sends signal `sig` to the child (asyncio's `send_signal`); nothing if it has already
    /// exited.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::signal::SIGINT;
    ///
    /// asyncio::run(async {
    ///     let proc = asyncio::create_subprocess_exec("sleep", ["10"]).await.unwrap();
    ///     proc.send_signal(SIGINT).unwrap();
    ///     assert_eq!(proc.wait().await, -SIGINT);
    ///     proc.send_signal(SIGINT).unwrap(); // exited: nothing to do
    /// });
    /// ```
    pub fn send_signal(&self, sig: i32) -> io::Result<()> {
        self.watch.send_signal(sig)
    }

    /// Sends `SIGTERM` (asyncio's `terminate`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let proc = asyncio::create_subprocess_exec("sleep", ["10"]).await.unwrap();
    ///     proc.terminate().unwrap();
    ///     assert_eq!(proc.wait().await, -15);
    /// });
    /// ```
    pub fn terminate(&self) -> io::Result<()> {
        self.send_signal(libc::SIGTERM)
    }

    /// Sends `SIGKILL` (asyncio's `kill`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let proc = asyncio::create_subprocess_exec("sleep", ["10"]).await.unwrap();
    ///     proc.kill().unwrap();
    ///     assert_eq!(proc.wait().await, -9);
    /// });
    /// ```
    pub fn kill(&self) -> io::Result<()> {
        self.send_signal(libc::SIGKILL)
    }
}

/// Everything left in `reader` up to EOF, or nothing without a reader.
async fn read_to_end(reader: Option<&mut StreamReader>) -> io::Result<Vec<u8>> {
    match reader {
        Some(reader) => reader.read(-1).await,
        None => Ok(Vec::new()),
    }
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid)
            .field("returncode", &self.returncode())
            .finish()
    }
}
