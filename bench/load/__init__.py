"""Load benchmarks of the whole service against the machine's ceiling: `python -m bench.load`.

Everything runs on 127.0.0.1 and stops on exit: a throwaway PostgreSQL database, the fake Stripe
server, `booking serve --workers N`, and a bare Starlette endpoint on the same server stack that
returns bodies of the same size (the ceiling each row is divided by). See docs/performance.md.
"""
