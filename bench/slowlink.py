#!/usr/bin/env python3
"""A TCP proxy that makes a link slow: every chunk waits DELAY_MS before it is forwarded,
in both directions (so a round trip costs 2 x DELAY_MS more), and client turns are
counted (a client chunk on a connection after the server spoke starts a round trip).

    python3 bench/slowlink.py LISTEN_PORT UPSTREAM_PORT DELAY_MS COUNT_FILE

The round-trip count so far is written to COUNT_FILE after every turn, so a benchmark can
read it between commands. Used by bench/slow_link.sh.
"""

import asyncio
import sys

listen_port, upstream_port, delay_ms, count_file = (
    int(sys.argv[1]),
    int(sys.argv[2]),
    float(sys.argv[3]),
    sys.argv[4],
)
turns = 0


def count_turn():
    global turns
    turns += 1
    with open(count_file, "w") as f:
        f.write(str(turns))


async def pump(reader, writer, from_client, state):
    """Reads chunks as they come and forwards each DELAY_MS after it arrived: a latency,
    not a bandwidth limit, so a long message is not delayed once per chunk."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def forward():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(forward())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if from_client:
                if state["server_spoke"]:
                    count_turn()
                state["server_spoke"] = False
            else:
                state["server_spoke"] = True
            queue.put_nowait((loop.time() + delay_ms / 1000, data))
    except (ConnectionResetError, BrokenPipeError):
        pass
    finally:
        queue.put_nowait((0, None))
        try:
            await sender
        except (ConnectionResetError, BrokenPipeError):
            pass
        writer.close()


async def handle(client_reader, client_writer):
    server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
    state = {"server_spoke": True}
    await asyncio.gather(
        pump(client_reader, server_writer, True, state),
        pump(server_reader, client_writer, False, state),
    )


async def main():
    with open(count_file, "w") as f:
        f.write("0")
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


asyncio.run(main())
