#!/usr/bin/env python3
"""A real SMTP server for Vigie's integration tests (aiosmtpd).

Stores every accepted message, as received (CRLF, dot-unstuffed), in
OUT_DIR/<n>.eml, written through a temporary file and a rename. Prints
"PORT <n>" on stdout once it listens, then serves until killed.

  python3 tests/smtp_sink.py OUT_DIR [--port 0] [--transient-first N]
                             [--reject ADDR ...] [--delay-ms MS]
                             [--close-after N] [--workers N]

--transient-first N   answer 451 to the end of DATA of the first N messages
                      (transient mode), then 250.
--reject ADDR         answer 550 to RCPT TO:<ADDR> (permanent mode).
--delay-ms MS         wait MS milliseconds before answering RCPT TO, to make
                      a send last long enough for a test to interrupt it.
                      The wait is before DATA on purpose: the time between
                      receiving the message and answering 250 is kept as short
                      as a fast server's (see src/deliver/mod.rs).
--close-after N       close the connection, without a word, right after
                      answering 250 to the N-th message of that connection
                      (a server that drops connections it considers idle or
                      too busy): the client's next command on it fails.
--workers N           serve from N processes sharing the listening socket
                      (benchmarks: one Python process tops out near 200
                      messages of 60 KB per second). Messages are still
                      numbered 1, 2, 3… in order of acceptance across all of
                      them; the extra processes die with the first one.
                      --transient-first counts per process.
The same options may come from the environment: SINK_TRANSIENT_FIRST,
SINK_REJECT (comma-separated), SINK_DELAY_MS.
"""

import argparse
import asyncio
import ctypes
import multiprocessing
import os
import signal
import socket
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out_dir, transient_first, reject, delay, close_after):
        self.out_dir = out_dir
        self.close_after = close_after
        self.transient_first = transient_first
        self.reject = {a.lower() for a in reject}
        self.delay = delay
        self.data_seen = 0
        # Shared by the worker processes (fork inherits it).
        self.stored = multiprocessing.Value("q", 0)

    def next_number(self):
        with self.stored.get_lock():
            self.stored.value += 1
            return self.stored.value

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.delay:
            await asyncio.sleep(self.delay)
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_seen += 1
        if self.data_seen <= self.transient_first:
            return "451 4.3.0 temporary failure, try again later"
        n = self.next_number()
        path = os.path.join(self.out_dir, "%d.eml" % n)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(envelope.original_content)
        os.rename(tmp, path)
        if self.close_after:
            session.accepted = getattr(session, "accepted", 0) + 1
            if session.accepted % self.close_after == 0:
                # After the reply below is queued: close() flushes it first.
                asyncio.get_running_loop().call_soon(server.transport.close)
        return "250 2.0.0 OK queued as %d" % n


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--transient-first", type=int,
                   default=int(os.environ.get("SINK_TRANSIENT_FIRST", "0")))
    p.add_argument("--reject", action="append",
                   default=[a for a in os.environ.get("SINK_REJECT", "").split(",") if a])
    p.add_argument("--delay-ms", type=int, default=int(os.environ.get("SINK_DELAY_MS", "0")))
    p.add_argument("--close-after", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    sink = Sink(args.out_dir, args.transient_first, args.reject, args.delay_ms / 1000,
                args.close_after)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(256)

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(sink, hostname="sink.test", decode_data=False,
                         enable_SMTPUTF8=True, data_size_limit=10 * 1024 * 1024),
            sock=listener)
        async with server:
            await server.serve_forever()

    for _ in range(max(args.workers, 1) - 1):
        if os.fork() == 0:
            # Linux: die with the parent, whoever kills it and how.
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            break
    else:
        print("PORT %d" % listener.getsockname()[1], flush=True)

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
