#!/usr/bin/env python3
"""The peers workloads on CPython's asyncio (and uvloop, when installed).

Prints one ``RESULT <workload> <runtime> <value>`` line per result, like the Rust ``peers``
binary (which runs this script after its own workloads), with runtime ``cpython`` or ``uvloop``.
Values are nanoseconds per operation; ``timers`` is CPU nanoseconds per timer; ``memory`` is
resident-set bytes per pending task (no allocation count: CPython's allocator is not hooked).

    python3 benches/asyncio_bench.py                 # full run
    PEERS_QUICK=1 python3 benches/asyncio_bench.py   # reduced sizes, a few seconds per runtime
    PEERS_ONLY=spawn_many,memory PEERS_RUNTIMES=cpython python3 benches/asyncio_bench.py

Each repetition runs on a fresh event loop (``asyncio.Runner``); the median is reported.
"""

import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time

try:
    import uvloop
except ImportError:  # uvloop is optional: pip install -r benches/requirements.txt
    uvloop = None


QUICK = os.environ.get("PEERS_QUICK", "0") not in ("", "0")


def env_list(name):
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or None


ONLY = env_list("PEERS_ONLY")
RUNTIMES = env_list("PEERS_RUNTIMES")

# The Rust sizes, scaled down where CPython would take minutes; per-op figures barely move with
# size, and the quick run scales down further.
SCALE = 5 if QUICK else 1
SIZES = {
    "reps": 3 if QUICK else 5,
    "spawn_many": 100_000 // SCALE,
    "yield_tasks": 1_000,
    "yields": 1_000 // SCALE // 2,
    "pairs": 1_000,
    "round_trips": 100 // SCALE,
    "chain_len": 1_000,
    "chains": 100 // SCALE,
    "timers": 100_000 // SCALE,
    "gather": 10_000,
    "gather_rounds": 10 // SCALE or 1,
    "call_soon": 1_000_000 // SCALE,
    "memory": 100_000 if QUICK else 1_000_000,
}


class XorShift:
    """xorshift64*, the same sequence as the Rust side's ``XorShift::seeded()``."""

    MASK = (1 << 64) - 1

    def __init__(self):
        self.state = 0x9E3779B97F4A7C15

    def next_u64(self):
        x = self.state
        x ^= x >> 12
        x ^= (x << 25) & self.MASK
        x ^= x >> 27
        self.state = x
        return (x * 0x2545F4914F6CDD1D) & self.MASK

    def below(self, n):
        return self.next_u64() % n


def cpu_time():
    """User plus system CPU seconds of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_bytes():
    """VmRSS from /proc/self/status, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def ns_per_op(seconds, ops):
    return seconds * 1e9 / ops


async def noop():
    pass


async def spawn_many(s):
    n = s["spawn_many"]
    start = time.perf_counter()
    tasks = [asyncio.create_task(noop()) for _ in range(n)]
    for task in tasks:
        await task
    return ns_per_op(time.perf_counter() - start, n)


async def yielder(yields):
    for _ in range(yields):
        await asyncio.sleep(0)


async def yield_many(s):
    tasks, yields = s["yield_tasks"], s["yields"]
    start = time.perf_counter()
    handles = [asyncio.create_task(yielder(yields)) for _ in range(tasks)]
    for handle in handles:
        await handle
    return ns_per_op(time.perf_counter() - start, tasks * yields)


async def pinger(ping, pong, trips):
    for i in range(trips):
        await ping.put(i)
        assert await pong.get() == i


async def ponger(ping, pong, trips):
    for _ in range(trips):
        await pong.put(await ping.get())


async def ping_pong(s):
    pairs, trips = s["pairs"], s["round_trips"]
    start = time.perf_counter()
    handles = []
    for _ in range(pairs):
        ping, pong = asyncio.Queue(1), asyncio.Queue(1)
        handles.append(asyncio.create_task(pinger(ping, pong, trips)))
        handles.append(asyncio.create_task(ponger(ping, pong, trips)))
    for handle in handles:
        await handle
    return ns_per_op(time.perf_counter() - start, pairs * trips)


async def link(left, done):
    if left == 0:
        done.set_result(None)
    else:
        asyncio.create_task(link(left - 1, done))


async def chained_spawn(s):
    length, chains = s["chain_len"], s["chains"]
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    for _ in range(chains):
        done = loop.create_future()
        asyncio.create_task(link(length - 1, done))
        await done
    return ns_per_op(time.perf_counter() - start, length * chains)


async def timers(s):
    n = s["timers"]
    rng = XorShift()
    cpu = cpu_time()
    handles = [asyncio.create_task(asyncio.sleep(rng.below(100_001) / 1e6)) for _ in range(n)]
    for handle in handles:
        await handle
    return ns_per_op(cpu_time() - cpu, n)


async def trivial(i):
    return i


async def gather(s):
    n, rounds = s["gather"], s["gather_rounds"]
    start = time.perf_counter()
    for _ in range(rounds):
        out = await asyncio.gather(*[trivial(i) for i in range(n)])
        assert len(out) == n and out[-1] == n - 1
    return ns_per_op(time.perf_counter() - start, n * rounds)


async def call_soon(s):
    n = s["call_soon"]
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    ran = 0

    def callback():
        nonlocal ran
        ran += 1
        if ran == n:
            done.set_result(None)

    start = time.perf_counter()
    for _ in range(n):
        loop.call_soon(callback)
    await done
    return ns_per_op(time.perf_counter() - start, n)


async def memory(n):
    """Spawns n tasks that wait forever on one never-finished future; runs until each has been
    stepped once; returns RSS bytes per task."""
    loop = asyncio.get_running_loop()
    never = loop.create_future()
    polled = 0

    async def waiter():
        nonlocal polled
        polled += 1
        await never

    before = rss_bytes()
    tasks = [asyncio.create_task(waiter()) for _ in range(n)]
    while polled < n:
        await asyncio.sleep(0)
    after = rss_bytes()
    del tasks
    return max(after - before, 0) / n


WORKLOADS = {
    "spawn_many": spawn_many,
    "yield_many": yield_many,
    "ping_pong": ping_pong,
    "chained_spawn": chained_spawn,
    "timers": timers,
    "gather": gather,
    "call_soon": call_soon,
}


def loop_factories():
    factories = {"cpython": asyncio.new_event_loop}
    if uvloop is not None:
        factories["uvloop"] = uvloop.new_event_loop
    return {name: f for name, f in factories.items() if RUNTIMES is None or name in RUNTIMES}


def run_on(factory, coro):
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


def memory_child(runtime, n):
    """Runs memory in this (fresh) process and prints its RESULT line."""
    factory = {"cpython": asyncio.new_event_loop}
    if uvloop is not None:
        factory["uvloop"] = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory[runtime]) as runner:
        per_task = runner.run(memory(n))
        print(f"RESULT memory {runtime} {per_task}", flush=True)
        # Skip cancelling a million tasks on the way out: the measurement is done.
        os._exit(0)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--memory-child":
        memory_child(sys.argv[2], int(sys.argv[3]))
        return

    factories = loop_factories()
    if uvloop is None:
        print("# uvloop not installed (pip install -r benches/requirements.txt): cpython only")
    print(f"# asyncio_bench.py: Python {sys.version.split()[0]}, {'quick' if QUICK else 'full'} run,"
          f" {SIZES['reps']} repetitions, median reported", flush=True)
    for name, workload in WORKLOADS.items():
        if ONLY is not None and name not in ONLY:
            continue
        samples = {runtime: [] for runtime in factories}
        for _ in range(SIZES["reps"]):
            for runtime, factory in factories.items():
                samples[runtime].append(run_on(factory, workload(SIZES)))
        for runtime, values in samples.items():
            print(f"RESULT {name} {runtime} {statistics.median(values)}", flush=True)
    if ONLY is None or "memory" in ONLY:
        for runtime in factories:
            out = subprocess.run(
                [sys.executable, __file__, "--memory-child", runtime, str(SIZES["memory"])],
                check=True, capture_output=True, text=True,
            ).stdout
            print(out, end="", flush=True)


if __name__ == "__main__":
    main()
