//! Errors a program handles with `?`: a user's own error type through `try_gather`, any error
//! type through `separate_task_errors`, the one-outcome `Task::result`, and messages that say
//! what to do.

use std::error::Error;
use std::fmt;

use asyncio::{TaskError, TryGatherError};

/// An application's error type, the way one is usually written: its own cases, and a task
/// failure folded in by `From`, so `?` works on awaiting tasks and on `try_gather`.
#[derive(Debug)]
enum AppError {
    NotFound(u32),
    Task(TaskError),
}

impl From<TaskError> for AppError {
    fn from(e: TaskError) -> AppError {
        AppError::Task(e)
    }
}

async fn lookup(id: u32) -> Result<u32, AppError> {
    asyncio::sleep(f64::from(id)).await;
    match id {
        0 => Err(AppError::NotFound(0)),
        9 => panic!("corrupt record {id}"),
        _ => Ok(id * 100),
    }
}

async fn lookup_all(ids: Vec<u32>) -> Result<u32, AppError> {
    let values = asyncio::try_gather(ids.into_iter().map(lookup)).await?;
    Ok(values.iter().sum())
}

#[test]
fn question_mark_takes_a_users_error_type_through_try_gather() {
    let runner = asyncio::Runner::virtual_time();
    assert_eq!(runner.run(lookup_all(vec![1, 2, 3])).unwrap(), 600);

    let runner = asyncio::Runner::virtual_time();
    match runner.run(lookup_all(vec![3, 0, 1])) {
        Err(AppError::NotFound(0)) => {}
        other => panic!("expected NotFound(0), got {other:?}"),
    }

    // A panicking child reaches the same `?`, as the TaskError inside the user's type.
    let runner = asyncio::Runner::virtual_time();
    match runner.run(lookup_all(vec![9, 10])) {
        Err(AppError::Task(e)) => assert_eq!(e.panic_message(), Some("corrupt record 9")),
        other => panic!("expected the panic, got {other:?}"),
    }
}

/// An error type with no `From<TaskError>` (another crate's, say), turned into the
/// application's by hand, once, for `separate_task_errors`.
#[derive(Debug, PartialEq)]
struct ParseError(String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot parse {:?}", self.0)
    }
}

#[derive(Debug)]
enum ReportError {
    Parse(ParseError),
    Crashed(String),
}

impl From<TryGatherError<ParseError>> for ReportError {
    fn from(e: TryGatherError<ParseError>) -> ReportError {
        match e {
            TryGatherError::Child(e) => ReportError::Parse(e),
            TryGatherError::Task(e) => ReportError::Crashed(e.to_string()),
        }
    }
}

async fn parse(text: &'static str) -> Result<u32, ParseError> {
    asyncio::sleep(0).await;
    if text == "boom" {
        panic!("parser crashed");
    }
    text.parse().map_err(|_| ParseError(text.to_owned()))
}

async fn report(texts: Vec<&'static str>) -> Result<u32, ReportError> {
    let numbers = asyncio::try_gather(texts.into_iter().map(parse))
        .separate_task_errors()
        .await?;
    Ok(numbers.iter().sum())
}

#[test]
fn separate_task_errors_takes_any_error_type_and_keeps_it_apart() {
    assert_eq!(asyncio::run(report(vec!["1", "2"])).unwrap(), 3);
    match asyncio::run(report(vec!["1", "x"])) {
        Err(ReportError::Parse(e)) => assert_eq!(e, ParseError("x".to_owned())),
        other => panic!("expected the parse error, got {other:?}"),
    }
    match asyncio::run(report(vec!["boom", "1"])) {
        Err(ReportError::Crashed(message)) => {
            assert_eq!(message, "the task panicked: parser crashed");
        }
        other => panic!("expected the crash, got {other:?}"),
    }
}

#[test]
fn a_string_error_goes_through_question_mark_into_a_boxed_error() {
    async fn sum(texts: [&'static str; 2]) -> Result<u32, Box<dyn Error>> {
        let numbers = asyncio::try_gather(
            texts.map(|t| async move { t.parse::<u32>().map_err(|e| format!("{t:?}: {e}")) }),
        )
        .separate_task_errors()
        .await?;
        Ok(numbers.iter().sum())
    }
    assert_eq!(asyncio::run(sum(["4", "5"])).unwrap(), 9);
    let err = asyncio::run(sum(["4", "five"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a gathered child returned an error: \"five\": invalid digit found in string"
    );
}

#[test]
fn task_result_has_one_outcome_as_in_asyncio() {
    asyncio::Runner::virtual_time().run(async {
        let ok = asyncio::create_task(async { 1 });
        let bad = asyncio::create_task(async {
            asyncio::sleep(1).await;
            panic!("no")
        });
        let slow = asyncio::create_task(asyncio::sleep(10));
        let not_yet = ok.result().unwrap_err();
        assert!(not_yet.is_not_done());
        assert!(
            not_yet
                .to_string()
                .contains("await the task, or check done() first")
        );

        asyncio::sleep(2).await;
        slow.cancel();
        asyncio::sleep(0).await;
        assert_eq!(ok.result().unwrap(), 1);
        assert_eq!(bad.result().unwrap_err().panic_message(), Some("no"));
        assert!(slow.result().unwrap_err().is_cancelled());
        // The result stays in the task: awaiting it still gives it.
        assert_eq!(ok.await.unwrap(), 1);
        assert_eq!(bad.await.unwrap_err().panic_message(), Some("no"));
    });
}

#[test]
fn a_timeout_flattens_into_a_task_error() {
    async fn within(secs: u64) -> Result<(), TaskError> {
        let task = asyncio::create_task(asyncio::sleep(secs));
        asyncio::wait_for(task, 5).await??;
        Ok(())
    }
    let runner = asyncio::Runner::virtual_time();
    assert!(runner.run(within(1)).is_ok());
    let runner = asyncio::Runner::virtual_time();
    let err = runner.run(within(10)).unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(err.timeout().unwrap().deadline(), Some(5.0));
    assert!(err.to_string().starts_with("asyncio::wait_for timed out"));
}

/// Each message names what went wrong and then, after a colon or a semicolon, what to do.
#[test]
fn error_messages_say_what_to_do() {
    let lp = asyncio::new_event_loop();
    lp.close().unwrap();
    let closed = lp.run_until_complete(async {}).unwrap_err();
    let barrier = asyncio::Barrier::new(2);
    barrier.abort();
    let broken = asyncio::run(barrier.wait()).unwrap_err();
    let cases: Vec<(Box<dyn Error>, &str)> = vec![
        (Box::new(closed), "make a new one"),
        (Box::new(asyncio::CancelledError), "cancel() was called"),
        (
            Box::new(asyncio::InvalidStateError::Cancelled),
            "check cancelled()",
        ),
        (Box::new(asyncio::QueueEmpty), "await get()"),
        (Box::new(broken), "call reset()"),
        (
            Box::new(asyncio::IncompleteReadError {
                partial: b"ab".to_vec(),
                expected: Some(4),
            }),
            "the bytes that did arrive are in `partial`",
        ),
        (
            Box::new(asyncio::LimitOverrunError {
                message: "Separator is not found, and chunk exceed the limit".into(),
                consumed: 70000,
            }),
            "raise the limit",
        ),
        (
            Box::new(TryGatherError::<String>::Task(TaskError::from(
                asyncio::CancelledError,
            ))),
            "cancel them",
        ),
    ];
    for (err, advice) in cases {
        let message = err.to_string();
        assert!(message.contains(advice), "{message:?} lacks {advice:?}");
    }
}

#[test]
fn a_task_groups_failures_are_errors_with_their_task_error_as_source() {
    let eg = asyncio::run(asyncio::TaskGroup::run(|tg| async move {
        tg.create_task_named("fetch", async { panic!("timeout") });
    }))
    .unwrap_err();
    let failure: &dyn Error = &eg.exceptions()[0];
    assert_eq!(failure.to_string(), "task 'fetch' panicked: timeout");
    let source = failure.source().expect("the TaskError");
    assert_eq!(source.to_string(), "the task panicked: timeout");
}
