#!/usr/bin/env python3
"""TCP echo servers on CPython's asyncio and on uvloop, for benches/echo.

    python3 benches/echo/echo_server.py <mode> <host:port>     # port 0 picks a free one

Modes:
  asyncio-streams    asyncio.start_server; per connection: reader.read(64 KiB), writer.write, drain
  asyncio-protocol   loop.create_server with a Protocol whose data_received writes the data back
  uvloop-streams     the same as asyncio-streams on uvloop's loop
  uvloop-protocol    the same as asyncio-protocol on uvloop's loop

Prints ``listening on <host>:<port>`` once bound, then serves until killed. Every connection gets
TCP_NODELAY (asyncio sets it already; uvloop may not), as in every other server of the benchmark.
Exits 3 with a message when uvloop is asked for and not installed.
"""

import asyncio
import socket
import sys

BUF_SIZE = 64 * 1024
MODES = ("asyncio-streams", "asyncio-protocol", "uvloop-streams", "uvloop-protocol")


def nodelay(transport):
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def echo_stream(reader, writer):
    nodelay(writer.transport)
    try:
        while True:
            data = await reader.read(BUF_SIZE)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        nodelay(transport)

    def data_received(self, data):
        self.transport.write(data)


async def serve(mode, host, port):
    if mode.endswith("-streams"):
        server = await asyncio.start_server(echo_stream, host, port, backlog=1024)
    else:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(EchoProtocol, host, port, backlog=1024)
    bound = server.sockets[0].getsockname()
    print(f"listening on {bound[0]}:{bound[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv):
    if len(argv) != 3 or argv[1] not in MODES or ":" not in argv[2]:
        print(f"usage: echo_server.py <{'|'.join(MODES)}> <host:port>", file=sys.stderr)
        return 2
    mode = argv[1]
    host, _, port = argv[2].rpartition(":")
    loop_factory = None
    if mode.startswith("uvloop-"):
        try:
            import uvloop
        except ImportError:
            print("echo_server.py: uvloop is not installed (pip install -r benches/requirements.txt)",
                  file=sys.stderr)
            return 3
        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve(mode, host, int(port)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        pass
