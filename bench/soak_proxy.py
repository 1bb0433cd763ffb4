#!/usr/bin/env python3
"""A TCP proxy that can cut the link: the soak script's stand-in for a database that goes away.

Listens on 127.0.0.1:LISTEN and forwards every connection to 127.0.0.1:TARGET (PostgreSQL).
SIGUSR1 cuts: every open connection is closed at once (both sides) and the listener is closed, so new
connections are refused. SIGUSR2 restores: the listener is opened again and forwarding resumes.
SIGTERM ends the proxy. Loopback only; the shared PostgreSQL itself is never touched.

Usage: soak_proxy.py LISTEN_PORT TARGET_PORT
"""

import asyncio
import signal
import sys

HOST = "127.0.0.1"
CHUNK = 64 * 1024


class Proxy:
    def __init__(self, listen_port: int, target_port: int) -> None:
        self.listen_port = listen_port
        self.target_port = target_port
        self.server: asyncio.base_events.Server | None = None
        # Every live connection's two writers, so a cut can close them all.
        self.links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self.done = asyncio.Event()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.accept, HOST, self.listen_port, reuse_address=True)

    async def accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.wait_for(asyncio.open_connection(HOST, self.target_port), 5)
        except (OSError, asyncio.TimeoutError):
            client_w.close()
            return
        link = (client_w, upstream_w)
        self.links.add(link)
        try:
            await asyncio.gather(pump(client_r, upstream_w), pump(upstream_r, client_w))
        finally:
            self.links.discard(link)
            for w in link:
                w.close()

    def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for link in list(self.links):
            for w in link:
                # abort() closes at once, dropping unsent data: the peer sees the link die mid-conversation.
                w.transport.abort()
        self.links.clear()
        print("proxy: cut", flush=True)

    async def restore(self) -> None:
        if self.server is None:
            await self.start()
        print("proxy: restored", flush=True)


async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copies one direction until EOF or error; closes the other side's write half when done."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (OSError, ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main() -> None:
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    proxy = Proxy(listen_port, target_port)
    await proxy.start()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, proxy.cut)
    loop.add_signal_handler(signal.SIGUSR2, lambda: asyncio.ensure_future(proxy.restore()))
    loop.add_signal_handler(signal.SIGTERM, proxy.done.set)
    loop.add_signal_handler(signal.SIGINT, proxy.done.set)
    print(f"proxy: 127.0.0.1:{listen_port} -> 127.0.0.1:{target_port}", flush=True)
    await proxy.done.wait()
    proxy.cut()


if __name__ == "__main__":
    asyncio.run(main())
