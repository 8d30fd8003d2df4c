//! What the loop tells its exception handler: asyncio's exception-handler `context`. Defined
//! here, on the ground floor, because the loop itself reports (a failed task nobody awaited,
//! a panicking callback); the public layer re-exports it (`asyncio::ExceptionContext`).

/// What the exception handler is told (asyncio's exception-handler `context` dict).
///
/// # Examples
///
/// ```
/// let ctx = asyncio::ExceptionContext {
///     message: "Task was destroyed but it is pending!".into(),
///     task: Some("Task-1".into()),
///     panic: None,
/// };
/// assert!(ctx.message.contains("pending"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionContext {
    /// What happened, as asyncio words it.
    pub message: String,
    /// The name of the task concerned, if any.
    pub task: Option<String>,
    /// The panic message, if a panic is the cause.
    pub panic: Option<String>,
}
