//! `cargo run --release -p peers --bin cross_loop`: a ping-pong between two event loops on two
//! threads, each leg a callback posted to the other loop: asyncio-rs's
//! `call_soon_threadsafe`, tokio's `Handle::spawn` between two current-thread runtimes (its
//! way to run something on another runtime), and two std threads over channels as the floor.
//! Prints the median round trip in microseconds over a few repetitions and one
//! `RESULT cross_loop_round_trip_us <runtime> <µs>` line each. `PEERS_QUICK=1` makes it short.

use std::sync::mpsc;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Microseconds per round trip between two asyncio-rs loops.
fn asyncio_rs(n: u32) -> f64 {
    let (handle_tx, handle_rx) = mpsc::channel();
    let other = std::thread::spawn(move || {
        let lp = asyncio::EventLoop::new();
        handle_tx.send(lp.threadsafe_handle()).unwrap();
        lp.run_forever().unwrap();
    });
    let b = handle_rx.recv().unwrap();
    let elapsed = asyncio::run(async move {
        let a = asyncio::get_running_loop().unwrap().threadsafe_handle();
        let start = Instant::now();
        for _ in 0..n {
            let (tx, rx) = futures::channel::oneshot::channel::<()>();
            let back = a.clone();
            // A -> B: a callback on B's loop, which posts the reply B -> A on A's loop.
            b.call_soon_threadsafe(move || {
                back.call_soon_threadsafe(move || {
                    let _ = tx.send(());
                })
            });
            rx.await.unwrap();
        }
        let elapsed = start.elapsed();
        b.stop();
        elapsed
    });
    other.join().unwrap();
    elapsed.as_secs_f64() * 1e6 / f64::from(n)
}

/// Microseconds per round trip between two tokio current-thread runtimes.
fn tokio_rt(n: u32) -> f64 {
    let (handle_tx, handle_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let other = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        handle_tx.send(rt.handle().clone()).unwrap();
        rt.block_on(async move {
            let _ = stop_rx.await;
        });
    });
    let b = handle_rx.recv().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let elapsed = rt.block_on(async move {
        let a = tokio::runtime::Handle::current();
        let start = Instant::now();
        for _ in 0..n {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let back = a.clone();
            b.spawn(async move {
                back.spawn(async move {
                    let _ = tx.send(());
                });
            });
            rx.await.unwrap();
        }
        start.elapsed()
    });
    let _ = stop_tx.send(());
    other.join().unwrap();
    elapsed.as_secs_f64() * 1e6 / f64::from(n)
}

/// Microseconds per round trip between two plain threads blocked on channels.
fn std_threads(n: u32) -> f64 {
    let (to_b, b_rx) = mpsc::channel::<()>();
    let (to_a, a_rx) = mpsc::channel::<()>();
    let other = std::thread::spawn(move || {
        while b_rx.recv().is_ok() {
            if to_a.send(()).is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    for _ in 0..n {
        to_b.send(()).unwrap();
        a_rx.recv().unwrap();
    }
    let elapsed = start.elapsed();
    drop(to_b);
    other.join().unwrap();
    elapsed.as_secs_f64() * 1e6 / f64::from(n)
}

fn main() {
    let quick = std::env::var_os("PEERS_QUICK").is_some_and(|v| v != "0");
    let (n, reps) = if quick { (2_000, 3) } else { (20_000, 7) };
    type Run = fn(u32) -> f64;
    let runtimes: [(&str, Run); 3] = [
        ("asyncio-rs", asyncio_rs),
        ("tokio", tokio_rt),
        ("std-threads", std_threads),
    ];
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); runtimes.len()];
    for _ in 0..reps {
        // Round-robin, so that noise on this shared machine falls on all alike.
        for (i, (_, run)) in runtimes.iter().enumerate() {
            results[i].push(run(n));
        }
    }
    println!("cross-loop ping-pong, {n} round trips x {reps} repetitions (median):");
    for ((name, _), times) in runtimes.iter().zip(results) {
        let us = median(times);
        println!("  {name:<12} {us:8.2} µs per round trip");
        println!("RESULT cross_loop_round_trip_us {name} {us:.3}");
    }
}
