//! The tutorial's hello-world program, the simplest async/await program:
//!
//! ```python
//! async def main():
//!     print("[%s] hello" % (time.ctime()))
//!     await asyncio.sleep(1)
//!     print("[%s] world!" % (time.ctime()))
//!
//! asyncio.run(main())
//! ```
//!
//! Prints `[time] hello`, then one second later `[time] world!`.

mod support;

fn main() {
    asyncio::run(async {
        println!("[{}] hello", support::ctime());
        asyncio::sleep(1).await;
        println!("[{}] world!", support::ctime());
    });
}
