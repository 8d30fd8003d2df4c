"""uvloop servers for benches/http: the same HTTP hello-world and TCP echo as the Rust ones.

    python uvloop_servers.py http 127.0.0.1:0        # protocol-based HTTP/1.1 keep-alive
    python uvloop_servers.py protocol 127.0.0.1:0    # echo, asyncio.Protocol
    python uvloop_servers.py streams 127.0.0.1:0     # echo, start_server + read/write/drain

Each prints `listening on <addr>` once bound. The HTTP answer is byte for byte the one of
benches/http/src/hello.rs.
"""

import asyncio
import sys

import uvloop

HELLO = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"
HELLO_CLOSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
    b"Connection: close\r\n\r\nHello, World!"
)


class Http(asyncio.Protocol):
    """Keep-alive, pipelining, Content-Length bodies skipped, Connection: close honoured."""

    def connection_made(self, transport):
        self.transport = transport
        self.pending = b""
        self.skip = 0

    def data_received(self, data):
        buf = self.pending + data if self.pending else data
        at, out, close = 0, [], False
        while True:
            skipped = min(self.skip, len(buf) - at)
            self.skip -= skipped
            at += skipped
            if self.skip or at == len(buf):
                break
            end = buf.find(b"\r\n\r\n", at)
            if end < 0:
                break
            head = buf[at:end].lower()
            at = end + 4
            i = head.find(b"content-length:")
            if i >= 0:
                self.skip = int(head[i + 15 :].split(b"\r\n", 1)[0])
            if b"connection: close" in head or head.split(b"\r\n", 1)[0].endswith(b"http/1.0"):
                out.append(HELLO_CLOSE)
                close = True
                break
            out.append(HELLO)
        self.pending = buf[at:]
        if out:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])
        if close:
            self.transport.close()


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def echo_streams(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def main(mode, host, port):
    loop = asyncio.get_running_loop()
    if mode == "http":
        server = await loop.create_server(Http, host, port, backlog=1024)
    elif mode == "protocol":
        server = await loop.create_server(Echo, host, port)
    elif mode == "streams":
        server = await asyncio.start_server(echo_streams, host, port)
    else:
        sys.exit(f"unknown mode {mode!r}: http, protocol or streams")
    h, p = server.sockets[0].getsockname()[:2]
    print(f"listening on {h}:{p}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    mode, addr = sys.argv[1], sys.argv[2]
    host, port = addr.rsplit(":", 1)
    uvloop.run(main(mode, host, int(port)))
