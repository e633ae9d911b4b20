"""`python -m bench.load`: start everything on 127.0.0.1, run bounded load, stop it all, print the table.

    .venv/bin/python -m bench.load                      # about 2 minutes on 2 cores
    .venv/bin/python -m bench.load --seconds 3 --workers 1
    .venv/bin/python -m bench.load --profile var/profiles   # py-spy over the server, 1 file a phase

PostgreSQL: a throwaway database on the server of BOOKING_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test), dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from bench.load.report import flash_table, raw_insert_line, rows_table
from bench.load.run import LoadRun, Options

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
MAX_SECONDS = 20.0  # per phase: keeps a whole run within a few minutes


def _options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=5.0, help=f"measured per phase (max {MAX_SECONDS:g})"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="unrecorded seconds before each phase")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections per phase")
    parser.add_argument("--practitioners", type=int, default=300)
    parser.add_argument("--profile", type=Path, help="record py-spy profiles of the server into this folder")
    parser.add_argument(
        "--access-log", action="store_true", help="the service writes its access log (ACCESS_LOG=true)"
    )
    args = parser.parse_args(argv)
    return Options(
        admin_url=os.environ.get("BOOKING_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL),
        workers=tuple(int(n) for n in args.workers.split(",")),
        seconds=min(args.seconds, MAX_SECONDS),
        warmup=min(args.warmup, MAX_SECONDS),
        connections=args.connections,
        practitioners=max(args.practitioners, 80),
        profile_dir=args.profile,
        access_log=args.access_log,
    )


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds the ExitStack: every child process is stopped


def main(argv: list[str] | None = None) -> None:
    options = _options(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    load = os.getloadavg()
    started = time.monotonic()
    with ExitStack() as stack:
        results = LoadRun(options, stack).execute()
    print(
        f"{os.cpu_count()} cores shared by the load generator, the servers and PostgreSQL; "
        f"load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
        f"{options.seconds:g} s per phase after {options.warmup:g} s warm-up, "
        f"{options.connections} connections; access log {'on' if options.access_log else 'off'}; "
        f"run took {time.monotonic() - started:.0f} s"
    )
    if results.raw_insert is not None:
        print(raw_insert_line(results.raw_insert, options.connections))
    print()
    print(rows_table(results.rows))
    print()
    print(flash_table(results.flash_sales))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
