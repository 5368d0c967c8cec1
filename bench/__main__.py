"""``python -m bench seed --websites N``, ``python -m bench run`` and ``python -m bench scale
A.json B.json`` (see README, Benchmark)."""

import argparse
import json
import os
import sys
from pathlib import Path

import django
from django.db import connection

from bench import figures

SECTION_NAMES = tuple(dict.fromkeys(measure.section for measure in figures.MEASURES))


def scale(paths: list[str]) -> int:
    """Print how each measure's p50 grows from the first run to the later ones; 0 when every
    growth goal is met."""
    runs = [json.loads(Path(path).read_text(encoding="utf-8")) for path in paths]
    rows = figures.compare_scale(runs)
    for path, run in zip(paths, runs, strict=True):
        print(
            f"{path}: {run.get('database')}, {run.get('websites', 0):,} websites, "
            f"{run.get('date')}, commit {str(run.get('git_commit'))[:12]}, "
            f"{run.get('settings', {}).get('rounds')} rounds"
        )
    print()
    print(figures.scale_table(runs, rows))
    print(
        "\nGrowth of the ratio to the same run's reference (bare /healthz p50 for HTTP rows, "
        "the goal's reference for the others) / of the absolute median; the goal is checked "
        "on the ratio."
    )
    return 0 if all(row["met"] is not False for row in rows) else 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    sub = parser.add_subparsers(dest="command", required=True)
    seed_cmd = sub.add_parser("seed", help="fill an empty, migrated PostgreSQL database")
    seed_cmd.add_argument("--websites", type=int, default=1_000_000)
    run_cmd = sub.add_parser("run", help="measure, print the table and save the figures")
    run_cmd.add_argument(
        "--only",
        default="",
        help=f"comma-separated sections: {', '.join(SECTION_NAMES)}",
    )
    run_cmd.add_argument(
        "--save", default="", help="where to write the figures (default var/bench/<database>.json)"
    )
    scale_cmd = sub.add_parser("scale", help="compare saved runs of two or more sizes")
    scale_cmd.add_argument("runs", nargs="+", help="JSON files written by `run`, smallest first")
    args = parser.parse_args()
    if args.command == "scale":
        if len(args.runs) < 2:
            parser.error("scale needs two runs or more")
        return scale(args.runs)
    only = set()
    if args.command == "run":
        only = {name.strip() for name in args.only.split(",") if name.strip()}
        unknown = only - set(SECTION_NAMES)
        if unknown:
            parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beian.settings")
    # What is timed in process runs as gunicorn and the import's worker do, as in production:
    # without DEBUG, which records every query.
    os.environ.setdefault("DEBUG", "false")
    # The benchmark measures the work, not the rate limits that protect it.
    for name in ("THROTTLE_PUBLIC", "THROTTLE_GATING", "THROTTLE_AUTH"):
        os.environ[name] = "100000000/min"
    django.setup()
    if connection.vendor != "postgresql":
        print("the benchmark needs DATABASE_URL pointing at PostgreSQL", file=sys.stderr)
        return 2
    # The benchmark's modules import the models, which exist only after django.setup().
    if args.command == "seed":
        from bench.seed import seed

        print(seed(websites=args.websites))
        return 0
    from bench.run import run

    return run(only, save=args.save or None)


if __name__ == "__main__":
    sys.exit(main())
