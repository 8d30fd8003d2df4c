//! `#[asyncio::test]` and `#[asyncio::main]`, used the way a program uses them. (What they
//! refuse, and where the errors point, is tested in `macros/tests/compile_errors.rs`.)
#![cfg(feature = "macros")]

use std::time::{Duration, Instant};

use asyncio::TaskError;

#[asyncio::test]
async fn the_body_runs_on_a_fresh_running_loop() {
    let lp = asyncio::get_running_loop().expect("the test body runs inside a loop");
    assert!(lp.is_running());
    assert!(asyncio::all_tasks().is_empty(), "a fresh loop has no tasks");
    let task = asyncio::create_task(async { 6 * 7 });
    assert_eq!(task.await.unwrap(), 42);
}

#[asyncio::test]
async fn the_default_loop_runs_on_the_real_clock() {
    let lp = asyncio::get_running_loop().unwrap();
    let (start, real_start) = (lp.time(), Instant::now());
    asyncio::sleep(0.02).await;
    // Timers never fire early: a real clock must have let 20 ms pass.
    assert!(real_start.elapsed() >= Duration::from_millis(20));
    assert!(lp.time() - start >= 0.02);
}

#[asyncio::test(virtual_time)]
async fn virtual_time_sleeps_take_no_real_time_and_exact_loop_time() {
    let lp = asyncio::get_running_loop().unwrap();
    let (start, real_start) = (lp.time(), Instant::now());
    asyncio::sleep(10).await;
    assert_eq!(lp.time() - start, 10.0);
    assert!(
        real_start.elapsed() < Duration::from_secs(5),
        "ten seconds of sleep took {:?} of real time: the clock is not virtual",
        real_start.elapsed()
    );
}

#[asyncio::test(virtual_time)]
async fn virtual_time_orders_concurrent_sleeps_by_deadline() {
    let lp = asyncio::get_running_loop().unwrap();
    let start = lp.time();
    let slow = asyncio::create_task(async move {
        asyncio::sleep(4).await;
        "world"
    });
    let fast = asyncio::create_task(async move {
        asyncio::sleep(1).await;
        "hello"
    });
    assert_eq!(fast.await.unwrap(), "hello");
    assert_eq!(lp.time() - start, 1.0);
    assert_eq!(slow.await.unwrap(), "world");
    assert_eq!(lp.time() - start, 4.0); // 4 s, not 5 s
}

/// A test's own error type, the way an application defines one. (Its fields are read only
/// by `Debug`, when a test fails.)
#[derive(Debug)]
#[allow(dead_code)]
enum AppError {
    Task(TaskError),
    Wrong(u32),
}

impl From<TaskError> for AppError {
    fn from(e: TaskError) -> AppError {
        AppError::Task(e)
    }
}

#[asyncio::test]
async fn a_test_may_return_a_result_and_use_question_mark() -> Result<(), AppError> {
    let answer = asyncio::create_task(async { 21 * 2 }).await?;
    if answer != 42 {
        return Err(AppError::Wrong(answer));
    }
    Ok(())
}

#[asyncio::test(virtual_time)]
async fn a_virtual_time_test_may_return_a_result() -> Result<(), TaskError> {
    let task = asyncio::create_task(async {
        asyncio::sleep(3).await;
        "done"
    });
    assert_eq!(task.await?, "done");
    Ok(())
}

#[asyncio::test]
#[should_panic(expected = "the body panicked")]
async fn should_panic_is_kept_and_sees_the_bodys_panic() {
    asyncio::sleep(0).await;
    panic!("the body panicked");
}

#[asyncio::test(virtual_time)]
#[should_panic(expected = "after a virtual hour")]
async fn should_panic_works_on_virtual_time_too() {
    asyncio::sleep(3600).await;
    panic!("after a virtual hour");
}

/// `#[asyncio::main]` on a function other than `main`: it becomes a plain blocking `fn`
/// that runs its body on a new loop each time it is called.
#[asyncio::main]
async fn blocking_sum() -> u64 {
    let tasks: Vec<_> = (1..=10)
        .map(|i| asyncio::create_task(async move { i }))
        .collect();
    asyncio::gather(tasks).await.unwrap().into_iter().sum()
}

#[test]
fn main_attribute_makes_a_blocking_fn_that_runs_a_loop_each_call() {
    assert_eq!(blocking_sum(), 55);
    assert_eq!(blocking_sum(), 55);
    assert!(
        asyncio::get_running_loop().is_err(),
        "no loop runs once the call returned"
    );
}
