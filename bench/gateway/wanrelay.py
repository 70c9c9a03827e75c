#!/usr/bin/env python3
"""A TCP relay that makes a local server look far away: netem does not exist on these machines (see
../shared/reference/machine.md), so the delay is added in user space.

  wanrelay.py LISTEN-PORT TARGET-PORT RTT-MS

Every byte takes RTT/2 in each direction, in order. A new connection's first bytes towards the target also wait
one RTT from the moment the connection was accepted, which is what a TCP handshake over that link costs before a
client can send (the handshake with the relay itself is local and instant). TLS is not emulated.
"""
import asyncio
import sys
import time


async def pipe(reader, writer, delay, not_before):
    queue = asyncio.Queue()

    async def pump():
        while True:
            data = await reader.read(65536)
            queue.put_nowait((max(time.monotonic(), not_before) + delay, data))
            if not data:
                return

    async def deliver():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(pump(), deliver())
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main(listen, target, rtt):
    half = rtt / 2

    async def serve(client_reader, client_writer):
        accepted = time.monotonic()
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pipe(client_reader, server_writer, half, accepted + rtt),
            pipe(server_reader, client_writer, half, 0.0),
        )

    server = await asyncio.start_server(serve, "127.0.0.1", listen)
    print(f"relaying 127.0.0.1:{listen} -> 127.0.0.1:{target} with {rtt * 1000:.0f} ms round trip", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]) / 1000))
