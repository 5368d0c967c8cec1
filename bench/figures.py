"""The benchmark's figures as numbers: rounds summarised, goals checked, runs compared.

Nothing here touches Django or the database: ``bench.run`` measures, this module reads what
was measured. A run is a list of rounds; a round maps a measure's or a
reference's key to its figures, by metric:

- ``rps`` (requests per second) and ``p50``, ``p99`` (ms) for what wrk measures;
- ``median`` and ``p99`` (ms) for what is timed in process;
- ``rate`` (rows per second) for the import;
- ``checks``: conditions on what was answered, name → bool (every round must hold them).

Goals are stated against a reference measured in the same round (``GOALS``): a ratio is taken
round by round, and the median of those ratios is what a goal checks.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Round = Mapping[str, Mapping[str, Any]]

# What each metric counts, for the table.
UNITS = {"rps": "req/s", "p50": "ms", "p99": "ms", "median": "ms", "rate": "rows/s"}


@dataclass(frozen=True)
class Reference:
    """A figure of the machine itself, measured in every round beside the measures."""

    key: str
    label: str
    kind: str  # "http" (wrk) or "in-process"


REFERENCES: tuple[Reference, ...] = (
    Reference("bare-http", "bare /healthz under wrk", "http"),
    Reference(
        "indexed-read", "indexed read (ORM, one PublishedWebsite by primary key)", "in-process"
    ),
    Reference("bare-handler", 'bare handler in process (Client().get("/healthz"))', "in-process"),
)
REFERENCE_NAMES = {
    "bare-http": "bare",
    "indexed-read": "indexed read",
    "bare-handler": "bare handler",
}


@dataclass(frozen=True)
class Measure:
    """One row of the table: ``section`` is the name ``--only`` selects it by; ``kind`` says
    which metrics it has (``http``: rps, p50, p99; ``in-process``: median, p99; ``rate``);
    ``scale_goal`` whether its p50 is held to ``SCALE_GROWTH_PERCENT`` between two sizes."""

    key: str
    label: str
    section: str
    kind: str
    scale_goal: bool = False


MEASURES: tuple[Measure, ...] = (
    Measure(
        "public-cached", "public lookup, one domain, answer cached (HTTP)", "http", "http", True
    ),
    Measure("public-first", "public lookup, first ask of a domain (HTTP)", "http", "http", True),
    Measure("gating", "gating, one domain (HTTP)", "http", "http", True),
    Measure("gating-batch", "gating batch, 1,000 domains", "gating-batch", "in-process", True),
    Measure(
        "app-check-batch", "app check batch, 1,000 identifiers", "app-check-batch", "in-process"
    ),
    Measure("conflicts", "conflict detection, one submission", "conflicts", "in-process", True),
    Measure("queue-page", "Guangdong queue page, first page", "queue", "in-process", True),
    Measure("queue-api", "Guangdong queue API, first page", "queue", "in-process", True),
    Measure(
        "provider-queue-api",
        "provider first-review queue API, first page",
        "provider-queue",
        "in-process",
    ),
    Measure("statistics", "national statistics page", "statistics", "in-process", True),
    Measure("import", "provider import, rows end to end", "import", "rate"),
)
MEASURE_BY_KEY = {measure.key: measure for measure in MEASURES}


@dataclass(frozen=True)
class Goal:
    """``measure``'s ``metric`` divided by ``reference``'s same metric in the same round (or,
    with no reference, the figure itself), median over the rounds, held to ``bound``: at
    least (``at_least``) or at most."""

    measure: str
    metric: str
    reference: str | None
    bound: float
    at_least: bool
    description: str


# Issue 20 §2; tuned here and nowhere else.
GOALS: tuple[Goal, ...] = (
    Goal("public-cached", "rps", "bare-http", 0.6, True, "≥ 0.6× bare req/s"),
    Goal("public-first", "p99", "bare-http", 3, False, "p99 ≤ 3× bare p99"),
    Goal("gating", "rps", "bare-http", 0.5, True, "≥ 0.5× bare req/s"),
    Goal("gating", "p99", "bare-http", 2, False, "p99 ≤ 2× bare p99"),
    Goal("gating-batch", "median", "indexed-read", 30, False, "≤ 30× indexed read"),
    Goal("app-check-batch", "median", "indexed-read", 30, False, "≤ 30× indexed read"),
    Goal("conflicts", "median", "indexed-read", 20, False, "≤ 20× indexed read"),
    Goal("queue-page", "median", "bare-handler", 500, False, "≤ 500× bare handler"),
    Goal("queue-api", "median", "bare-handler", 500, False, "≤ 500× bare handler"),
    Goal("provider-queue-api", "median", "bare-handler", 500, False, "≤ 500× bare handler"),
    Goal("statistics", "median", "bare-handler", 500, False, "≤ 500× bare handler"),
    Goal("import", "rate", None, 200, True, "≥ 200 rows/s"),
)
# Between two sizes of the seed, the p50 of the measures with ``scale_goal`` grows at most
# this much, compared as ratios to the same run's reference.
SCALE_GROWTH_PERCENT = 20.0


def spread(values: Iterable[float]) -> dict[str, float]:
    """The median of ``values`` (one figure per round), their min and max, and ``pm``: the
    largest distance of a round from the median, in % of the median (0 for one round).

    Raises ValueError for no values."""
    values = list(values)
    if not values:
        raise ValueError("no rounds")
    middle = statistics.median(values)
    far = max(abs(v - middle) for v in values)
    return {
        "median": middle,
        "min": min(values),
        "max": max(values),
        "pm": 100.0 * far / middle if middle else 0.0,
    }


def reference_of(measure: str, goals: Sequence[Goal] = GOALS) -> str | None:
    """The reference ``measure``'s first relative goal uses (the one its p50 is compared to
    between runs), or None."""
    for goal in goals:
        if goal.measure == measure and goal.reference is not None:
            return goal.reference
    return None


def p50_metric(kind: str) -> str:
    """The metric that is a measure's p50: wrk's ``p50``, the in-process ``median``, or the
    import's ``rate``."""
    return {"http": "p50", "in-process": "median", "rate": "rate"}[kind]


def ratios_shown(measure: Measure, goals: Sequence[Goal] = GOALS) -> list[tuple[str, str]]:
    """(metric, reference) pairs printed beside ``measure``: every HTTP row's throughput and
    p99 against the bare view, and whatever its goals compare."""
    pairs = [("rps", "bare-http"), ("p99", "bare-http")] if measure.kind == "http" else []
    for goal in goals:
        if goal.measure == measure.key and goal.reference is not None:
            pair = (goal.metric, goal.reference)
            if pair not in pairs:
                pairs.append(pair)
    return pairs


def round_ratios(rounds: Sequence[Round], measure: str, metric: str, reference: str) -> list[float]:
    """``measure``'s ``metric`` over ``reference``'s, round by round, for the rounds that
    measured both."""
    out = []
    for figures in rounds:
        mine, theirs = figures.get(measure), figures.get(reference)
        if not mine or not theirs or mine.get(metric) is None or not theirs.get(metric):
            continue
        out.append(mine[metric] / theirs[metric])
    return out


def metrics_of(kind: str) -> tuple[str, ...]:
    return {
        "http": ("rps", "p50", "p99"),
        "in-process": ("median", "p99"),
        "rate": ("rate",),
    }[kind]


def summarise_reference(rounds: Sequence[Round], reference: Reference) -> dict[str, Any] | None:
    """Median and spread of each of ``reference``'s metrics over the rounds, or None when no
    round measured it."""
    present = [figures[reference.key] for figures in rounds if reference.key in figures]
    if not present:
        return None
    metrics = metrics_of(reference.kind)
    return {metric: spread(f[metric] for f in present) for metric in metrics}


def goal_met(value: float, goal: Goal) -> bool:
    return value >= goal.bound if goal.at_least else value <= goal.bound


def summarise(
    rounds: Sequence[Round],
    measures: Sequence[Measure] = MEASURES,
    goals: Sequence[Goal] = GOALS,
) -> dict[str, dict[str, Any]]:
    """For every measure some round measured, by key:

    - ``figures``: metric → ``spread`` of its per-round figures;
    - ``ratios``: "metric/reference" → ``spread`` of the per-round ratios;
    - ``goals``: one dict per goal (``description``, ``value``: the median ratio or figure,
      ``bound``, ``met``);
    - ``checks``: name → held in every round;
    - ``met``: every goal met and every check held.
    """
    out: dict[str, dict[str, Any]] = {}
    for measure in measures:
        present = [figures[measure.key] for figures in rounds if measure.key in figures]
        if not present:
            continue
        figures = {
            metric: spread(f[metric] for f in present if f.get(metric) is not None)
            for metric in metrics_of(measure.kind)
            if any(f.get(metric) is not None for f in present)
        }
        ratios = {}
        for metric, reference in ratios_shown(measure, goals):
            values = round_ratios(rounds, measure.key, metric, reference)
            if values:
                ratios[f"{metric}/{reference}"] = spread(values)
        checked = []
        for goal in (g for g in goals if g.measure == measure.key):
            if goal.reference is None:
                value = figures.get(goal.metric, {}).get("median")
            else:
                value = ratios.get(f"{goal.metric}/{goal.reference}", {}).get("median")
            checked.append(
                {
                    "description": goal.description,
                    "metric": goal.metric,
                    "reference": goal.reference,
                    "value": value,
                    "bound": goal.bound,
                    "met": value is not None and goal_met(value, goal),
                }
            )
        checks: dict[str, bool] = {}
        for f in present:
            for name, held in (f.get("checks") or {}).items():
                checks[name] = checks.get(name, True) and bool(held)
        out[measure.key] = {
            "figures": figures,
            "ratios": ratios,
            "goals": checked,
            "checks": checks,
            "met": all(g["met"] for g in checked) and all(checks.values()),
        }
    return out


def all_met(summary: Mapping[str, Mapping[str, Any]]) -> bool:
    return all(entry["met"] for entry in summary.values())


# --- comparing runs at two or more sizes (``python -m bench scale``) ----------------------


def p50_ratio(run: Mapping[str, Any], measure: Measure, goals: Sequence[Goal] = GOALS):
    """The median over ``run``'s rounds of ``measure``'s p50 divided by its reference's same
    metric in the same round (``reference_of``), or None."""
    reference = reference_of(measure.key, goals)
    if measure.kind == "http":
        reference = "bare-http"
    if reference is None:
        return None
    values = round_ratios(run.get("rounds", []), measure.key, p50_metric(measure.kind), reference)
    return statistics.median(values) if values else None


def p50_absolute(run: Mapping[str, Any], measure: Measure):
    """The median over ``run``'s rounds of ``measure``'s p50 (ms; rows/s for the import), or
    None."""
    metric = p50_metric(measure.kind)
    values = [
        figures[measure.key][metric]
        for figures in run.get("rounds", [])
        if figures.get(measure.key, {}).get(metric) is not None
    ]
    return statistics.median(values) if values else None


def growth(first: float | None, later: float | None) -> float | None:
    """How much ``later`` is above ``first``, in % of ``first`` (None when either is
    missing)."""
    if first is None or later is None or not first:
        return None
    return 100.0 * (later / first - 1.0)


def compare_scale(
    runs: Sequence[Mapping[str, Any]],
    measures: Sequence[Measure] = MEASURES,
    goals: Sequence[Goal] = GOALS,
) -> list[dict[str, Any]]:
    """For each measure present in the first run: its p50 (absolute and as a ratio to the
    same run's reference) in every run, the growth of both from the first run to each later
    one (%), and, for the measures with ``scale_goal``, whether the ratio's growth (the
    absolute one when no ratio exists) stays within ``SCALE_GROWTH_PERCENT`` in every later
    run (not when a later run did not measure it: ``measured`` is then false).

    Raises ValueError for fewer than two runs."""
    if len(runs) < 2:
        raise ValueError("the scaling curve needs two runs or more")
    rows = []
    for measure in measures:
        absolute = [p50_absolute(run, measure) for run in runs]
        if absolute[0] is None:
            continue
        ratio = [p50_ratio(run, measure, goals) for run in runs]
        absolute_growth = [growth(absolute[0], value) for value in absolute[1:]]
        ratio_growth = [growth(ratio[0], value) for value in ratio[1:]]
        judged = [
            r if r is not None else a for r, a in zip(ratio_growth, absolute_growth, strict=True)
        ]
        met = None
        if measure.scale_goal:
            met = all(g is not None and g <= SCALE_GROWTH_PERCENT for g in judged)
        measured = all(g is not None for g in judged)
        rows.append(
            {
                "measure": measure.key,
                "label": measure.label,
                "unit": UNITS[p50_metric(measure.kind)],
                "reference": "bare-http" if measure.kind == "http" else reference_of(measure.key),
                "absolute": absolute,
                "ratio": ratio,
                "absolute_growth": absolute_growth,
                "ratio_growth": ratio_growth,
                "met": met,
                "measured": measured,
            }
        )
    return rows


# --- text -----------------------------------------------------------------------------------


def number(value: float | None, unit: str = "") -> str:
    """A figure as the table prints it: ms to one decimal (two below 1 ms), rates as whole
    numbers with thousands separators."""
    if value is None:
        return "—"
    if unit in ("req/s", "rows/s"):
        text = f"{value:,.0f}"
    elif abs(value) < 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:,.1f}"
    return f"{text} {unit}".rstrip()


def with_spread(figure: Mapping[str, float] | None, unit: str = "", rounds: int = 0) -> str:
    """``median unit [min–max ±pm%]``; only the median with one round."""
    if not figure:
        return "—"
    text = number(figure["median"], unit)
    if rounds > 1:
        low, high = number(figure["min"]), number(figure["max"])
        if unit in ("req/s", "rows/s"):
            low, high = f"{figure['min']:,.0f}", f"{figure['max']:,.0f}"
        text += f" [{low}–{high} ±{figure['pm']:.0f}%]"
    return text


def multiple(figure: Mapping[str, float] | None, rounds: int = 0) -> str:
    """A ratio as ``0.62×``, with ``[min–max]`` over several rounds."""
    if not figure:
        return "—"
    text = f"{figure['median']:.2f}×"
    if rounds > 1:
        text += f" [{figure['min']:.2f}–{figure['max']:.2f}]"
    return text


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:+.0f} %"


def table(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> str:
    """Rows as a plain-text table under a header of ``columns``."""
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
    lines = [" | ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines.append("-+-".join("-" * widths[c] for c in columns))
    for r in rows:
        lines.append(" | ".join(r.get(c, "").ljust(widths[c]) for c in columns).rstrip())
    return "\n".join(lines)


def scale_table(runs: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]) -> str:
    """``compare_scale``'s rows as text: one column per run (p50, and × its reference), one
    per later run for the growth (of the ratio, then of the absolute figure)."""
    # Numbered, so that two runs of the same size keep a column each.
    sizes = [f"{k}: {run.get('websites', 0):,} websites" for k, run in enumerate(runs, 1)]
    columns = ["measure", *sizes]
    columns += [f"growth to {size} (ratio / absolute)" for size in sizes[1:]]
    columns += ["goal", "met"]
    printed = []
    for row in rows:
        cells = {"measure": row["label"]}
        for size, absolute, ratio in zip(sizes, row["absolute"], row["ratio"], strict=True):
            text = number(absolute, row["unit"])
            if ratio is not None:
                text += f" = {ratio:.2f}× {REFERENCE_NAMES[row['reference']]}"
            cells[size] = text
        for size, by_ratio, by_absolute in zip(
            sizes[1:], row["ratio_growth"], row["absolute_growth"], strict=True
        ):
            cells[f"growth to {size} (ratio / absolute)"] = (
                f"{percent(by_ratio)} / {percent(by_absolute)}"
            )
        if row["met"] is not None:
            cells["goal"] = f"p50 grows ≤ {SCALE_GROWTH_PERCENT:.0f} %"
            cells["met"] = "yes" if row["met"] else "NO" if row["measured"] else "not measured"
        printed.append(cells)
    return table(printed, columns)
