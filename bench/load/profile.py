"""py-spy over the server while a phase runs, and a text summary of what it recorded.

python -m bench.load --profile var/profiles      record the 1-worker phases (py-spy in .venv)
python -m bench.load.profile var/profiles/availability-week-1w.txt [--top 30]
python -m bench.load.profile var/profiles/booking-create-1w.txt --steps   # samples by step
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def profiling(pid: int, output: Path | None, seconds: float) -> Iterator[None]:
    """Sample `pid` and its worker processes for `seconds` into `output` (collapsed stacks)."""
    if output is None:
        yield
        return
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists():
        raise RuntimeError("--profile needs py-spy (in requirements.lock: `make test` installs it)")
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [str(py_spy), "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
    command += ["--rate", "200", "--format", "raw", "--duration", str(max(1, round(seconds)))]
    recorder = subprocess.Popen([*command, "--output", str(output)], stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        try:
            recorder.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait()


def _samples(lines: list[str]) -> Iterator[tuple[str, int]]:
    """(stack, samples) of each line of py-spy's raw (collapsed) output."""
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if stack and count_text.isdigit():
            yield stack, int(count_text)


def summarise(lines: list[str], top: int) -> str:
    """Functions by share of samples: inclusive (anywhere on the stack) and self (on top)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for stack, count in _samples(lines):
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return "no samples"
    out = [f"{total} samples", "", "inclusive:"]
    out += [f"{n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    out += ["", "self:"]
    out += [f"{n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(out)


# A booking's steps, each named by a frame on its stack: a sample counts for the first that matches.
STEPS = (
    ("Stripe call (the floor makes it too)", "StripeGateway.start_checkout"),
    ("add_if_free (hold the slot)", "SqlBookingStore.add_if_free"),
    ("save (store the checkout session)", "SqlBookingStore.save"),
    ("outbox worker", "OutboxWorker.run"),
    ("change listener", "ChangeListener"),
    ("slot offered? (schedule, notice, horizon)", "BookingService._free_slots"),
    ("rest of request_booking (validation, hold, events)", "BookingService.request_booking"),
    ("endpoint (JSON in and out)", "create_booking"),
    ("middleware and routing", "Starlette.__call__"),
    ("HTTP server (uvicorn, httptools)", "uvicorn"),
)


def steps(lines: list[str]) -> str:
    """Samples by the step of `STEPS` they fall in (the rest: the event loop and anything else)."""
    counts: Counter[str] = Counter()
    total = 0
    for stack, count in _samples(lines):
        total += count
        label = next((label for label, frame in STEPS if frame in stack), "other (event loop, ...)")
        counts[label] += count
    if not total:
        return "no samples"
    return "\n".join(
        [f"{total} samples"] + [f"{n / total:6.1%}  {label}" for label, n in counts.most_common()]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load.profile")
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--steps", action="store_true", help="samples by a booking's step")
    args = parser.parse_args()
    lines = args.file.read_text().splitlines()
    print(steps(lines) if args.steps else summarise(lines, args.top))


if __name__ == "__main__":
    main()
