"""A real SMTP server (aiosmtpd) that keeps every mail it receives as a file.

Usage: sink.py DIR [PORT]. Listens on 127.0.0.1:PORT (a free port when PORT is 0 or
left out), prints "PORT <n>" once it accepts connections, and writes each mail to
DIR/<n>.eml (written under another name first, then renamed, so a reader never sees
half a mail). Runs until its standard input closes, so it never outlives the test that
started it.
"""

import asyncio
import itertools
import os
import sys

from aiosmtpd.smtp import SMTP


class Keep:
    def __init__(self, directory):
        self.directory = directory
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.numbers)
        final = os.path.join(self.directory, f"{n}.eml")
        partial = final + ".part"
        with open(partial, "wb") as f:
            f.write(f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(envelope.original_content or envelope.content)
        os.replace(partial, final)
        return "250 OK"


async def main():
    directory = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    os.makedirs(directory, exist_ok=True)
    loop = asyncio.get_running_loop()
    handler = Keep(directory)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test"), "127.0.0.1", port
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    # Stop when the test closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
