//! Two event loops on two threads, passing work between them: the pattern for programs
//! that run one loop per core ([`asyncio::MultiRunner`]) and still need to talk.
//!
//! Tasks and loop objects (`asyncio::Queue`, `Rc`...) stay on their loop's thread; what
//! crosses is a `Send` value, carried by the receiving loop's `ThreadsafeHandle`:
//!
//! - `call_soon_threadsafe(closure)` runs the closure on the other loop's thread, where it
//!   can reach that loop's own objects (here a queue kept in a thread-local: one loop per
//!   thread makes a thread-local a loop-local). It is Python's
//!   `other_loop.call_soon_threadsafe(queue.put_nowait, item)`.
//! - `run_coroutine_threadsafe(|| coroutine)` runs a coroutine there and gives back a
//!   `ConcurrentFuture`, which any loop may await: a request and its answer.
//!
//! ```text
//! cargo run --example cross_loop
//! consumer got: job 0
//! consumer got: job 1
//! consumer got: job 2
//! producer: the consumer handled 3 jobs
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;

use asyncio::ThreadsafeHandle;

const JOBS: usize = 3;

thread_local! {
    /// The consumer loop's inbox (only its thread sets and reads it).
    static INBOX: RefCell<Option<Rc<asyncio::Queue<String>>>> = const { RefCell::new(None) };
    /// Set on the consumer loop when the producer has its answer: until then the consumer
    /// must keep its loop running, or the question's task would be cancelled with the loop.
    static DONE: Rc<asyncio::Event> = Rc::new(asyncio::Event::new());
}

fn inbox() -> Rc<asyncio::Queue<String>> {
    INBOX.with(|q| q.borrow().clone().expect("the consumer loop set its inbox"))
}

fn done() -> Rc<asyncio::Event> {
    DONE.with(Rc::clone)
}

/// Loop 1: takes jobs from its inbox, then keeps its loop running until the producer has
/// its answer.
async fn consumer(publish: mpsc::Sender<ThreadsafeHandle>) {
    let queue = Rc::new(asyncio::Queue::new(0));
    INBOX.with(|q| *q.borrow_mut() = Some(queue.clone()));
    let lp = asyncio::get_running_loop().expect("inside a loop");
    publish
        .send(lp.threadsafe_handle())
        .expect("the producer waits");
    for _ in 0..JOBS {
        let job = queue.get().await.expect("never shut down");
        println!("consumer got: {job}");
        queue.task_done().expect("one task_done per get");
    }
    done().wait().await;
}

/// Loop 0: posts jobs to the consumer loop, then asks it how many it handled.
async fn producer(handle: mpsc::Receiver<ThreadsafeHandle>) {
    // Waiting for the other loop's handle is a blocking call: on a thread, not on the loop.
    let consumer = asyncio::to_thread(move || handle.recv().expect("the consumer publishes"))
        .await
        .expect("the thread returns");
    for i in 0..JOBS {
        let job = format!("job {i}"); // a String: Send, so it may cross
        consumer.call_soon_threadsafe(move || {
            inbox().put_nowait(job).expect("unbounded");
        });
    }
    // A coroutine on the consumer's loop; its answer comes back as a ConcurrentFuture.
    let handled = consumer.run_coroutine_threadsafe(|| async {
        let queue = inbox();
        queue.join().await; // every job got its task_done
        JOBS
    });
    let handled = handled.await.expect("the consumer loop runs it");
    consumer.call_soon_threadsafe(|| done().set());
    println!("producer: the consumer handled {handled} jobs");
}

fn main() {
    let (publish, receive) = mpsc::channel();
    // MultiRunner's main is shared by every loop: hand each side its end of the channel.
    let ends = std::sync::Mutex::new((Some(publish), Some(receive)));
    asyncio::MultiRunner::new().loops(2).run(|index| {
        let mut ends = ends.lock().expect("not poisoned");
        let (publish, receive) = match index {
            0 => (None, ends.1.take()),
            _ => (ends.0.take(), None),
        };
        async move {
            match (publish, receive) {
                (_, Some(receive)) => producer(receive).await,
                (Some(publish), _) => consumer(publish).await,
                (None, None) => unreachable!("two loops, one end each"),
            }
        }
    });
}
