//! `use asyncio::prelude::*` leaves std's names alone: this file compiles only if plain
//! `#[test]` and the `Future` trait still mean what they mean without the import.

use std::pin::Pin;
use std::task::{Context, Poll};

use asyncio::prelude::*;

/// A hand-written future: `Future` here must be std's trait, not asyncio's struct.
struct Ready(u32);

impl Future for Ready {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u32> {
        Poll::Ready(self.0)
    }
}

fn ready(x: u32) -> impl Future<Output = u32> {
    Ready(x)
}

async fn doubled<F: Future<Output = u32>>(future: F) -> u32 {
    future.await * 2
}

#[test]
fn impl_future_and_the_future_trait_still_name_std_s_trait() {
    let out = run(async {
        let task = create_task(doubled(ready(21)));
        let (a, b) = gather!(task, doubled(Ready(1))).await.unwrap();
        (a, b)
    });
    assert_eq!(out, (42, 2));
}

#[test]
fn the_prelude_names_work_unqualified() {
    let runner = Runner::virtual_time();
    let (items, elapsed) = runner.run(async {
        let lp = get_running_loop().unwrap();
        let start = lp.time();
        let queue = Queue::new(1);
        let lock = Lock::new();
        let producer = create_task({
            let queue = queue.clone();
            async move {
                for i in 0..3 {
                    sleep(1).await;
                    queue.put(i).await.unwrap();
                }
            }
        });
        let mut items = Vec::new();
        for _ in 0..3 {
            let _guard = lock.acquire().await;
            items.push(wait_for(queue.get(), 5).await.unwrap().unwrap());
        }
        producer.await.unwrap();
        (items, lp.time() - start)
    });
    assert_eq!(items, [0, 1, 2]);
    assert_eq!(elapsed, 3.0);
}

#[test]
fn asyncio_s_future_is_reached_by_its_path() {
    let value = run(async {
        let fut = asyncio::Future::new();
        let setter = create_task({
            let fut = fut.clone();
            async move { fut.set_result(7).unwrap() }
        });
        setter.await.unwrap();
        fut.await
    });
    assert_eq!(value, Ok(7));
}
