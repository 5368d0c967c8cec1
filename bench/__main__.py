"""``python -m bench seed --websites N`` then ``python -m bench run`` (see README, Benchmark)."""

import argparse
import os
import sys

import django
from django.db import connection


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beian.settings")
    # The benchmark measures the work, not the rate limits that protect it.
    for name in ("THROTTLE_PUBLIC", "THROTTLE_GATING", "THROTTLE_AUTH"):
        os.environ[name] = "100000000/min"
    django.setup()

    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="command", required=True)
    seed_cmd = sub.add_parser("seed", help="fill an empty, migrated PostgreSQL database")
    seed_cmd.add_argument("--websites", type=int, default=1_000_000)
    run_cmd = sub.add_parser("run", help="measure and print the table")
    run_cmd.add_argument(
        "--only",
        default="",
        help="comma-separated sections: http, gating-batch, app-check-batch, conflicts, queue, "
        "provider-queue, statistics, import",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("the benchmark needs DATABASE_URL pointing at PostgreSQL", file=sys.stderr)
        return 2
    # The benchmark's modules import the models, which exist only after django.setup().
    if args.command == "seed":
        from .seed import seed

        print(seed(websites=args.websites))
        return 0
    from .run import SECTIONS, run

    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    return run(only)


if __name__ == "__main__":
    sys.exit(main())
