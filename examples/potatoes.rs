//! The tutorial's potato program, its last (section "异步生成器"): two buyers take
//! potatoes from one shared pool through an async generator. When the pool is empty the
//! generator asks for more, which takes a random while, and the other buyer runs meanwhile.
//!
//! ```python
//! class Potato:
//!     @classmethod
//!     def make(cls, num, *args, **kws):
//!         potatos = []
//!         for i in range(num):
//!             potatos.append(cls.__new__(cls, *args, **kws))
//!         return potatos
//!
//! all_potatos = Potato.make(2)
//!
//! async def take_potatos(num):
//!     count = 0
//!     while True:
//!         if len(all_potatos) == 0:
//!             await ask_for_potato()
//!         potato = all_potatos.pop()
//!         yield potato
//!         count += 1
//!         if count == num:
//!             break
//!
//! async def ask_for_potato():
//!     await asyncio.sleep(random.random())
//!     all_potatos.extend(Potato.make(random.randint(1, 3)))
//!
//! async def buy_potatos():
//!     global bucket
//!     async for p in take_potatos(10):
//!         bucket.append(p)
//!         print(f'Got potato {id(p)}...')
//!
//! async def buy_tomatos():
//!     global bucket
//!     async for p in take_potatos(10):
//!         bucket.append(p)
//!         print(f'Got tomato {id(p)}...')
//!
//! def main():
//!     loop = asyncio.get_event_loop()
//!     res = loop.run_until_complete(asyncio.wait([buy_potatos(), buy_tomatos()]))
//!     loop.close()
//!
//! bucket = []
//! main()
//! ```
//!
//! Prints 10 `Got potato <id>...` and 10 `Got tomato <id>...` lines, interleaved as the random
//! restocking falls. Python prints `id(p)`, the object's address; here every potato gets a
//! serial number when it is made.
//!
//! `cargo run --example potatoes -- --fast --seed 7`: `--fast` divides every sleep by 100, and
//! `--seed N` fixes the random numbers (by default they are seeded from the clock).

mod support;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use asyncio::{AsyncGenerator, async_gen};
use futures::StreamExt;

/// A potato, known by its serial number (Python's `id(p)`).
#[derive(Debug)]
struct Potato {
    id: u64,
}

impl Potato {
    /// `Potato.make(num)`: `num` new potatoes.
    fn make(num: u64) -> Vec<Potato> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        (0..num)
            .map(|_| Potato {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            })
            .collect()
    }
}

/// Python's `random` module, as a xorshift64 generator: plenty for picking sleep times.
#[derive(Debug)]
struct Random {
    state: Cell<u64>,
}

impl Random {
    fn new(seed: u64) -> Random {
        // One splitmix64 step spreads small seeds over all 64 bits; xorshift needs a non-zero
        // state.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Random {
            state: Cell::new((z ^ (z >> 31)).max(1)),
        }
    }

    fn next_u64(&self) -> u64 {
        let mut x = self.state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state.set(x);
        x
    }

    /// `random.random()`: a float in `[0, 1)`.
    fn random(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `random.randint(a, b)`: an integer in `[a, b]`, both ends included.
    fn randint(&self, a: u64, b: u64) -> u64 {
        a + self.next_u64() % (b - a + 1)
    }
}

/// The tutorial program's module globals, shared by every coroutine: the potato pool, the random
/// generator, and how fast time runs (1.0, or 0.01 with `--fast`).
#[derive(Debug, Clone)]
struct Shop {
    all_potatos: Rc<RefCell<Vec<Potato>>>,
    random: Rc<Random>,
    time_scale: f64,
}

/// `async def take_potatos(num)`: an async generator yielding `num` potatoes from the pool,
/// restocking it whenever it runs dry.
fn take_potatos(num: usize, shop: Shop) -> AsyncGenerator<Potato> {
    async_gen(move |co| async move {
        let mut count = 0;
        loop {
            // Each borrow of the pool ends within its statement, so none is held across an
            // await: the other buyer may take potatoes while this one waits.
            let empty = shop.all_potatos.borrow().is_empty();
            if empty {
                ask_for_potato(&shop).await;
            }
            // Nothing was awaited since `ask_for_potato` restocked, so the pool has a potato.
            let potato = shop
                .all_potatos
                .borrow_mut()
                .pop()
                .expect("ask_for_potato adds at least one potato");
            co.yield_(potato).await;
            count += 1;
            if count == num {
                break;
            }
        }
    })
}

/// `async def ask_for_potato()`: waits a random while, then adds 1 to 3 potatoes to the pool.
async fn ask_for_potato(shop: &Shop) {
    asyncio::sleep(shop.random.random() * shop.time_scale).await;
    let more = Potato::make(shop.random.randint(1, 3));
    shop.all_potatos.borrow_mut().extend(more);
}

/// `async def buy_potatos()`.
async fn buy_potatos(shop: Shop, bucket: Rc<RefCell<Vec<Potato>>>) {
    let mut potatos = take_potatos(10, shop);
    // async for p in take_potatos(10):
    while let Some(p) = potatos.next().await {
        let id = p.id;
        bucket.borrow_mut().push(p);
        println!("Got potato {id}...");
    }
}

/// `async def buy_tomatos()`: the same, printing `tomato`.
async fn buy_tomatos(shop: Shop, bucket: Rc<RefCell<Vec<Potato>>>) {
    let mut potatos = take_potatos(10, shop);
    while let Some(p) = potatos.next().await {
        let id = p.id;
        bucket.borrow_mut().push(p);
        println!("Got tomato {id}...");
    }
}

/// Reads `--fast` and `--seed N`.
fn parse_args() -> Result<(f64, u64), String> {
    let mut time_scale = 1.0;
    let mut seed = support::unix_time().to_bits();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--fast" => time_scale = 0.01,
            "--seed" => {
                let value = args.next().ok_or("--seed needs a number")?;
                seed = value
                    .parse()
                    .map_err(|_| format!("--seed needs a number, not {value:?}"))?;
            }
            other => return Err(format!("unknown argument {other:?} (try --fast, --seed N)")),
        }
    }
    Ok((time_scale, seed))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (time_scale, seed) = parse_args()?;
    let shop = Shop {
        all_potatos: Rc::new(RefCell::new(Potato::make(2))),
        random: Rc::new(Random::new(seed)),
        time_scale,
    };
    let bucket = Rc::new(RefCell::new(Vec::new()));

    let lp = asyncio::get_event_loop();
    let tasks = [
        lp.create_task(buy_potatos(shop.clone(), bucket.clone())),
        lp.create_task(buy_tomatos(shop, bucket)),
    ];
    lp.run_until_complete(asyncio::wait(tasks))?;
    lp.close()?;
    Ok(())
}
