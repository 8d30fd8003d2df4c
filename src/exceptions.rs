//! The errors of asyncio, as Rust types you can match on.
//!
//! Python raises exceptions; this crate returns them. Each type here carries the name of the
//! asyncio exception it stands for, and its `Display` says what went wrong and what to do.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

use crate::timeouts::TimeoutError;

/// The operation was cancelled: asyncio's `asyncio.CancelledError`.
///
/// Returned by awaiting a [`Future`](crate::Future) that was cancelled, and carried inside
/// [`TaskError`] when a task was cancelled.
///
/// # Examples
///
/// ```
/// let fut = asyncio::Future::<i32>::new();
/// fut.cancel();
/// assert_eq!(fut.result(), Err(asyncio::InvalidStateError::Cancelled));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CancelledError;

impl fmt::Display for CancelledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the operation was cancelled (CancelledError): cancel() was called on the future \
             before it had a result, so there is none to give",
        )
    }
}

impl std::error::Error for CancelledError {}

/// A future or task was asked for something its state does not allow: asyncio's
/// `asyncio.InvalidStateError`.
///
/// # Examples
///
/// ```
/// use asyncio::InvalidStateError;
///
/// let fut = asyncio::Future::new();
/// assert_eq!(fut.result(), Err(InvalidStateError::NotDone));
/// fut.set_result(1).unwrap();
/// assert_eq!(fut.set_result(2), Err(InvalidStateError::AlreadyDone));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidStateError {
    /// The result was asked for before it was set.
    NotDone,
    /// A result was set on a future that already has one (or was cancelled).
    AlreadyDone,
    /// The result was asked for, but the future was cancelled.
    Cancelled,
}

impl fmt::Display for InvalidStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidStateError::NotDone => "Result is not set: await the future first",
            InvalidStateError::AlreadyDone => {
                "invalid state: the future is already done; a result can be set only once"
            }
            InvalidStateError::Cancelled => {
                "the future was cancelled, so it has no result: check cancelled() before \
                 asking for one"
            }
        })
    }
}

impl std::error::Error for InvalidStateError {}

/// The event loop was used in a way its state does not allow: asyncio's `RuntimeError`.
///
/// # Examples
///
/// ```
/// let lp = asyncio::new_event_loop();
/// lp.close().unwrap();
/// let err = lp.run_until_complete(async {}).unwrap_err();
/// assert_eq!(err, asyncio::RuntimeError::Closed);
/// assert!(err.to_string().starts_with("Event loop is closed: "));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeError {
    /// `run_until_complete`/`run_forever` was called on a loop that is already running.
    AlreadyRunning,
    /// Another event loop is already running on this thread.
    AnotherLoopRunning,
    /// The loop was closed; it cannot run anything again.
    Closed,
    /// `stop()` was called before the future given to `run_until_complete` finished.
    StoppedBeforeComplete,
    /// There is no running event loop on this thread.
    NoRunningLoop,
    /// `close()` was called while the loop was running.
    CloseWhileRunning,
    /// Work was submitted to an executor after it was shut down
    /// (`shutdown_default_executor`, `ThreadPoolExecutor::shutdown`).
    ExecutorShutdown,
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuntimeError::AlreadyRunning => {
                "This event loop is already running: inside a task, await the future instead \
                 of calling run_until_complete"
            }
            RuntimeError::AnotherLoopRunning => {
                "Cannot run the event loop while another loop is running on this thread: \
                 await the work on the running loop, or run the other loop on its own thread"
            }
            RuntimeError::Closed => {
                "Event loop is closed: it cannot run anything again; make a new one with \
                 asyncio::new_event_loop()"
            }
            RuntimeError::StoppedBeforeComplete => {
                "Event loop stopped before Future completed: stop() was called while \
                 run_until_complete was waiting; call stop() only once the work is done"
            }
            RuntimeError::NoRunningLoop => {
                "no running event loop: call this from inside asyncio::run(...) or a task"
            }
            RuntimeError::CloseWhileRunning => {
                "Cannot close a running event loop: call stop(), and close() it once \
                 run_forever has returned"
            }
            RuntimeError::ExecutorShutdown => {
                "Executor shutdown has been called: cannot schedule new work on it; submit \
                 work before shutting it down, or make a new executor"
            }
        })
    }
}

impl std::error::Error for RuntimeError {}

/// Why awaiting a [`Task`](crate::Task) gave no value: it was cancelled, its future panicked, or
/// (for a [`TaskGroup`](crate::TaskGroup) child started with
/// [`create_try_task`](crate::TaskGroup::create_try_task)) it returned an `Err`. It is also
/// the one error of the places where asyncio has one outcome, a value or an exception:
/// [`Task::result`](crate::Task::result) on a task not done yet ([`is_not_done`]), and an
/// [`as_completed`](crate::as_completed) deadline ([`is_timeout`]; any [`TimeoutError`]
/// converts, so `wait_for(task, t).await??` flattens into a `TaskError` too).
///
/// [`is_not_done`]: TaskError::is_not_done
/// [`is_timeout`]: TaskError::is_timeout
///
/// asyncio re-raises the task's exception (or `CancelledError`) at the `await`; here the
/// `await` returns `Err(TaskError)`. A panic's payload is kept, so it can be re-raised with
/// [`std::panic::resume_unwind`] via [`TaskError::into_panic`]; a cancellation keeps the message
/// given to [`Task::cancel_with_msg`](crate::Task::cancel_with_msg).
///
/// # Examples
///
/// ```
/// asyncio::run(async {
///     let task = asyncio::create_task(async { panic!("boom") });
///     let err: asyncio::TaskError = task.await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(err.panic_message(), Some("boom"));
/// });
/// ```
pub struct TaskError {
    // Boxed: a task's stored result is `Result<T, TaskError>`, and one pointer keeps every
    // task small; errors are the rare path.
    repr: Box<Repr>,
}

/// The boxed error a [`TaskError`] can carry: what asyncio calls the raised exception.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

enum Repr {
    Cancelled {
        message: Option<Box<str>>,
    },
    // A Mutex makes the error `Sync` (so it fits `Box<dyn Error + Send + Sync>`) without unsafe;
    // it is only ever locked on the error path.
    Panic {
        message: Box<str>,
        payload: Mutex<Option<Box<dyn Any + Send>>>,
    },
    /// The task's future returned an `Err` that counts as a failure (a task group's
    /// `create_try_task`). The error itself may live elsewhere (the group's `ExceptionGroup`
    /// owns it); the message is always here.
    Error {
        message: Box<str>,
        error: Option<BoxError>,
    },
    /// `Task::result()` was asked before the task finished (asyncio's `InvalidStateError`).
    NotDone,
    /// A deadline passed first (`as_completed`'s timeout; asyncio's `TimeoutError`).
    Timeout(TimeoutError),
}

/// The panic payload a task group child uses to end its task as failed by an `Err` (rather than
/// by a panic): [`TaskError::panic`] turns it into the `Error` kind. Never seen by users.
pub(crate) struct RaisedError(pub(crate) Box<str>);

impl TaskError {
    pub(crate) fn cancelled() -> TaskError {
        TaskError::cancelled_with(None)
    }

    pub(crate) fn cancelled_with(message: Option<&str>) -> TaskError {
        TaskError {
            repr: Box::new(Repr::Cancelled {
                message: message.map(Box::from),
            }),
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send>) -> TaskError {
        let payload = match payload.downcast::<RaisedError>() {
            Ok(raised) => {
                return TaskError {
                    repr: Box::new(Repr::Error {
                        message: raised.0,
                        error: None,
                    }),
                };
            }
            Err(payload) => payload,
        };
        let message = panic_message(&*payload).into();
        TaskError {
            repr: Box::new(Repr::Panic {
                message,
                payload: Mutex::new(Some(payload)),
            }),
        }
    }

    pub(crate) fn not_done() -> TaskError {
        TaskError {
            repr: Box::new(Repr::NotDone),
        }
    }

    pub(crate) fn from_error(error: BoxError) -> TaskError {
        TaskError {
            repr: Box::new(Repr::Error {
                message: error.to_string().into(),
                error: Some(error),
            }),
        }
    }

    /// A copy without the payload or the error object (they cannot be copied): the same kind
    /// and message. For `Task::result()`, which leaves the original in the task.
    pub(crate) fn duplicate(&self) -> TaskError {
        match &*self.repr {
            Repr::Cancelled { message } => TaskError::cancelled_with(message.as_deref()),
            Repr::Panic { message, .. } => TaskError {
                repr: Box::new(Repr::Panic {
                    message: message.clone(),
                    payload: Mutex::new(None),
                }),
            },
            Repr::Error { message, .. } => TaskError {
                repr: Box::new(Repr::Error {
                    message: message.clone(),
                    error: None,
                }),
            },
            Repr::NotDone => TaskError::not_done(),
            Repr::Timeout(e) => TaskError::from(*e),
        }
    }

    /// True if the task was cancelled (asyncio: `CancelledError`).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = asyncio::TaskError::from(asyncio::CancelledError);
    /// assert!(err.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(*self.repr, Repr::Cancelled { .. })
    }

    /// The message given to [`Task::cancel_with_msg`](crate::Task::cancel_with_msg), if the task
    /// was cancelled with one (asyncio's `CancelledError.args[0]`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(asyncio::sleep(3600));
    ///     task.cancel_with_msg("shutting down");
    ///     let err = task.await.unwrap_err();
    ///     assert_eq!(err.cancel_message(), Some("shutting down"));
    ///     assert_eq!(err.to_string(), "the task was cancelled (CancelledError: shutting down)");
    /// });
    /// ```
    pub fn cancel_message(&self) -> Option<&str> {
        match &*self.repr {
            Repr::Cancelled { message } => message.as_deref(),
            _ => None,
        }
    }

    /// True if the task's future panicked (asyncio: the task raised an exception).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = asyncio::TaskError::from(asyncio::CancelledError);
    /// assert!(!err.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(*self.repr, Repr::Panic { .. })
    }

    /// True if the task failed by returning an `Err` that its [`TaskGroup`](crate::TaskGroup)
    /// counts as a failure (see [`TaskGroup::create_try_task`](crate::TaskGroup::create_try_task)):
    /// asyncio's child that raised an exception.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let eg = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_try_task(async { Err::<(), _>("no route to host") });
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert!(eg.exceptions()[0].error().is_error());
    /// });
    /// ```
    pub fn is_error(&self) -> bool {
        matches!(*self.repr, Repr::Error { .. })
    }

    /// True if the task had not finished when [`Task::result`](crate::Task::result) asked for
    /// its result (asyncio: `InvalidStateError: Result is not set.`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let task = asyncio::create_task(asyncio::sleep(1));
    ///     assert!(task.result().unwrap_err().is_not_done());
    /// });
    /// ```
    pub fn is_not_done(&self) -> bool {
        matches!(*self.repr, Repr::NotDone)
    }

    /// True if a deadline passed first: the last item of an
    /// [`as_completed`](crate::as_completed) with a timeout, or a [`TimeoutError`] turned into a
    /// `TaskError` (asyncio: `TimeoutError`).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::Runner::virtual_time().run(async {
    ///     let timed_out = asyncio::wait_for(asyncio::sleep(10), 1).await.unwrap_err();
    ///     let err = asyncio::TaskError::from(timed_out);
    ///     assert!(err.is_timeout());
    ///     assert_eq!(err.timeout().unwrap().deadline(), Some(1.0));
    /// });
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(*self.repr, Repr::Timeout(_))
    }

    /// The [`TimeoutError`] of a deadline that passed (see [`is_timeout`](TaskError::is_timeout)).
    pub fn timeout(&self) -> Option<&TimeoutError> {
        match &*self.repr {
            Repr::Timeout(e) => Some(e),
            _ => None,
        }
    }

    /// The panic message, when the payload was a string (as `panic!` makes it).
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let err = asyncio::create_task(async { panic!("bad {}", 42) }).await.unwrap_err();
    ///     assert_eq!(err.panic_message(), Some("bad 42"));
    /// });
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        match &*self.repr {
            Repr::Panic { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The error a task group child returned (see [`is_error`](TaskError::is_error)), to inspect
    /// or downcast it. `None` for a panic or a cancellation, and for the child's own [`Task`]
    /// handle, whose error holds only the message: the [`ExceptionGroup`](crate::ExceptionGroup)
    /// owns the error itself.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let eg = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_try_task(async { "x".parse::<u8>() });
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     let err = eg.exceptions()[0].error().error().unwrap();
    ///     assert!(err.downcast_ref::<std::num::ParseIntError>().is_some());
    /// });
    /// ```
    ///
    /// [`Task`]: crate::Task
    pub fn error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match &*self.repr {
            Repr::Error { error, .. } => error.as_deref(),
            _ => None,
        }
    }

    /// The message of a task group child's `Err` (its `Display`), whether or not the error
    /// itself is here.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let eg = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_try_task(async { Err::<(), _>("disk full") });
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert_eq!(eg.exceptions()[0].error().error_message(), Some("disk full"));
    /// });
    /// ```
    pub fn error_message(&self) -> Option<&str> {
        match &*self.repr {
            Repr::Error { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The panic payload, to re-raise it with [`std::panic::resume_unwind`].
    ///
    /// Returns `Err(self)` if the task was cancelled or failed with an `Err` rather than
    /// panicking.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let err = asyncio::create_task(async { panic!("boom") }).await.unwrap_err();
    ///     let payload = err.into_panic().ok().unwrap();
    ///     assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    /// });
    /// ```
    pub fn into_panic(self) -> Result<Box<dyn Any + Send>, TaskError> {
        match *self.repr {
            Repr::Panic { message, payload } => {
                let taken = payload.into_inner().unwrap_or_else(|e| e.into_inner());
                Ok(taken.unwrap_or_else(|| Box::new(message.into_string())))
            }
            repr => Err(TaskError {
                repr: Box::new(repr),
            }),
        }
    }

    /// The error a task group child returned, owned (see [`error`](TaskError::error)).
    ///
    /// Returns `Err(self)` for a panic, a cancellation, or an error that holds only its message.
    ///
    /// # Examples
    ///
    /// ```
    /// asyncio::run(async {
    ///     let eg = asyncio::TaskGroup::run(|tg| async move {
    ///         tg.create_try_task(async { Err::<(), _>(std::fmt::Error) });
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     let err = eg.into_exceptions().remove(0).into_error().into_error().unwrap();
    ///     assert!(err.is::<std::fmt::Error>());
    /// });
    /// ```
    pub fn into_error(self) -> Result<BoxError, TaskError> {
        match *self.repr {
            Repr::Error {
                error: Some(error), ..
            } => Ok(error),
            repr => Err(TaskError {
                repr: Box::new(repr),
            }),
        }
    }
}

impl From<CancelledError> for TaskError {
    fn from(_: CancelledError) -> TaskError {
        TaskError::cancelled()
    }
}

impl From<TimeoutError> for TaskError {
    /// A deadline that passed, as the one error of an await (see
    /// [`is_timeout`](TaskError::is_timeout)).
    fn from(e: TimeoutError) -> TaskError {
        TaskError {
            repr: Box::new(Repr::Timeout(e)),
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.repr {
            Repr::Cancelled { message: None } => f.write_str("TaskError::Cancelled"),
            Repr::Cancelled { message: Some(m) } => write!(f, "TaskError::Cancelled({m:?})"),
            Repr::Panic { message, .. } => write!(f, "TaskError::Panic({message:?})"),
            Repr::Error { message, .. } => write!(f, "TaskError::Error({message:?})"),
            Repr::NotDone => f.write_str("TaskError::NotDone"),
            Repr::Timeout(e) => write!(f, "TaskError::Timeout({e:?})"),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.repr {
            Repr::Cancelled { message: None } => {
                f.write_str("the task was cancelled (CancelledError)")
            }
            Repr::Cancelled { message: Some(m) } => {
                write!(f, "the task was cancelled (CancelledError: {m})")
            }
            Repr::Panic { message, .. } => write!(f, "the task panicked: {message}"),
            Repr::Error { message, .. } => write!(f, "the task failed: {message}"),
            Repr::NotDone => f.write_str(
                "the task has not finished, so it has no result yet (InvalidStateError: \
                 Result is not set): await the task, or check done() first",
            ),
            Repr::Timeout(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for TaskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.repr {
            Repr::Error {
                error: Some(error), ..
            } => Some(&**error),
            _ => None,
        }
    }
}

/// The first failure of a [`try_gather`](crate::try_gather) awaited with
/// [`separate_task_errors`](crate::TryGather::separate_task_errors): a child's own `Err`, or
/// the [`TaskError`] of a child that panicked or was cancelled.
///
/// The other children keep running, as asyncio's `gather` leaves them.
///
/// # Examples
///
/// ```
/// use asyncio::TryGatherError;
///
/// asyncio::run(async {
///     let out = asyncio::try_gather([async { Err::<u8, _>("disk full") }])
///         .separate_task_errors()
///         .await;
///     let err = out.unwrap_err();
///     assert!(matches!(err, TryGatherError::Child("disk full")));
///     assert_eq!(err.to_string(), "a gathered child returned an error: disk full");
/// });
/// ```
#[derive(Debug)]
pub enum TryGatherError<E> {
    /// A child returned `Err(e)`.
    Child(E),
    /// A child panicked or was cancelled.
    Task(TaskError),
}

impl<E> TryGatherError<E> {
    /// The error as one `E`, when `E` can hold a [`TaskError`] (what
    /// `try_gather(..).await` gives).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::{TaskError, TryGatherError};
    ///
    /// let err = TryGatherError::<TaskError>::Task(TaskError::from(asyncio::CancelledError));
    /// assert!(err.into_inner().is_cancelled());
    /// ```
    pub fn into_inner(self) -> E
    where
        E: From<TaskError>,
    {
        match self {
            TryGatherError::Child(e) => e,
            TryGatherError::Task(e) => E::from(e),
        }
    }
}

impl<E: fmt::Display> fmt::Display for TryGatherError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGatherError::Child(e) => write!(f, "a gathered child returned an error: {e}"),
            TryGatherError::Task(e) => write!(
                f,
                "a gathered child failed: {e} (the other children keep running; cancel them, \
                 or gather in a TaskGroup to have them cancelled)"
            ),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TryGatherError<E> {}

/// The text of a panic payload: `panic!` makes a `&str` or a `String`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}
