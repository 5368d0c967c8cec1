"""The benchmark's figures: rounds summarised as a median and its spread, goals
checked as ratios to a reference of the same round, and two saved runs compared as a scaling
curve. Pure arithmetic, no database; one test drives wrk when it is installed."""

from __future__ import annotations

import collections
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import figures, run
from bench.__main__ import scale


def http_round(bare_rps, bare_p99, rps, p99, *, both=True, bare_p50=5.0, p50=10.0):
    return {
        "bare-http": {"rps": bare_rps, "p50": bare_p50, "p99": bare_p99},
        "gating": {
            "rps": rps,
            "p50": p50,
            "p99": p99,
            "checks": {"both access outcomes": both},
        },
    }


def gating_goals(summary):
    return {goal["description"]: goal for goal in summary["gating"]["goals"]}


def test_a_spread_is_the_median_of_the_rounds_with_their_range_and_largest_distance():
    assert figures.spread([10.0, 12.0, 9.0]) == {
        "median": 10.0,
        "min": 9.0,
        "max": 12.0,
        "pm": 20.0,
    }
    assert figures.spread([7.5]) == {"median": 7.5, "min": 7.5, "max": 7.5, "pm": 0.0}
    with pytest.raises(ValueError):
        figures.spread([])


def test_a_ratio_is_taken_round_by_round_and_its_median_is_what_the_goal_checks():
    # The machine doubles its speed between rounds: each round the measure is half the bare
    # view, although the median of its figures is not half the median of the bare view's.
    rounds = [
        http_round(1000, 10, 500, 15),
        http_round(2000, 10, 1000, 15),
        http_round(4000, 10, 2000, 15),
    ]
    summary = figures.summarise(rounds)
    ratio = summary["gating"]["ratios"]["rps/bare-http"]
    assert ratio["median"] == pytest.approx(0.5)
    assert ratio["min"] == ratio["max"] == pytest.approx(0.5)
    assert gating_goals(summary)["≥ 0.5× bare req/s"]["met"] is True
    assert summary["gating"]["figures"]["rps"]["median"] == 1000


def test_a_throughput_below_its_share_of_the_bare_view_misses_the_goal():
    rounds = [http_round(1000, 10, 490, 15), http_round(1000, 10, 480, 15)]
    summary = figures.summarise(rounds)
    goals = gating_goals(summary)
    assert goals["≥ 0.5× bare req/s"]["value"] == pytest.approx(0.485)
    assert goals["≥ 0.5× bare req/s"]["met"] is False
    assert goals["p99 ≤ 2× bare p99"]["met"] is True
    assert summary["gating"]["met"] is False
    assert figures.all_met(summary) is False


def test_a_p99_above_twice_the_bare_views_misses_the_goal_even_with_the_throughput_met():
    summary = figures.summarise([http_round(1000, 10, 800, 25)])
    goals = gating_goals(summary)
    assert goals["≥ 0.5× bare req/s"]["met"] is True
    assert goals["p99 ≤ 2× bare p99"]["value"] == pytest.approx(2.5)
    assert goals["p99 ≤ 2× bare p99"]["met"] is False
    assert summary["gating"]["met"] is False


def test_a_check_failed_in_one_round_fails_the_row_whatever_its_ratios():
    rounds = [http_round(1000, 10, 900, 12), http_round(1000, 10, 900, 12, both=False)]
    summary = figures.summarise(rounds)
    assert all(goal["met"] for goal in summary["gating"]["goals"])
    assert summary["gating"]["checks"] == {"both access outcomes": False}
    assert summary["gating"]["met"] is False


def test_in_process_rows_are_held_to_their_own_reference():
    rounds = [
        {
            "indexed-read": {"median": 0.2, "p99": 0.4},
            "bare-handler": {"median": 0.5, "p99": 0.9},
            "conflicts": {"median": 3.0, "p99": 6.0},
            "statistics": {"median": 251.0, "p99": 300.0},
        }
    ]
    summary = figures.summarise(rounds)
    # 3.0 ms is 15 indexed reads (≤ 20: met); 251 ms is 502 bare handlers (≤ 500: missed).
    assert summary["conflicts"]["goals"][0]["value"] == pytest.approx(15)
    assert summary["conflicts"]["met"] is True
    assert summary["statistics"]["goals"][0]["value"] == pytest.approx(502)
    assert summary["statistics"]["met"] is False
    assert list(summary["statistics"]["ratios"]) == ["median/bare-handler"]


def test_the_import_is_held_to_an_absolute_rate():
    summary = figures.summarise([{"import": {"rate": 190.0}}, {"import": {"rate": 230.0}}])
    assert summary["import"]["goals"][0]["value"] == pytest.approx(210)
    assert summary["import"]["met"] is True
    assert figures.summarise([{"import": {"rate": 150.0}}])["import"]["met"] is False


def test_a_measure_no_round_measured_is_left_out():
    summary = figures.summarise([http_round(1000, 10, 600, 12)])
    assert set(summary) == {"gating"}


def test_every_goal_names_a_known_measure_and_metric():
    metrics = {m.key: figures.metrics_of(m.kind) for m in figures.MEASURES}
    references = {r.key for r in figures.REFERENCES}
    for goal in figures.GOALS:
        assert goal.metric in metrics[goal.measure], goal
        assert goal.reference is None or goal.reference in references, goal


def saved_run(tmp_path, name, websites, *, bare_p50, gating_p50, read, batch):
    run = {
        "database": name,
        "websites": websites,
        "rounds": [
            {
                "bare-http": {"rps": 1000, "p50": bare_p50, "p99": 20},
                "gating": {"rps": 500, "p50": gating_p50, "p99": 30},
                "indexed-read": {"median": read, "p99": read * 2},
                "gating-batch": {"median": batch, "p99": batch * 2},
            }
        ],
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(run))
    return path


def test_the_scaling_curve_compares_ratios_so_a_slower_day_is_not_counted_as_growth(
    tmp_path, capsys
):
    # The second run is on a machine half as fast: every absolute figure doubles, gating's
    # ratio to the bare view does not move, the batch's ratio to the indexed read grows 10 %.
    small = saved_run(tmp_path, "m1", 1_000_000, bare_p50=5, gating_p50=10, read=0.2, batch=6)
    large = saved_run(tmp_path, "m4", 4_000_000, bare_p50=10, gating_p50=20, read=0.4, batch=13.2)
    runs = [json.loads(small.read_text()), json.loads(large.read_text())]
    rows = {row["measure"]: row for row in figures.compare_scale(runs)}
    assert rows["gating"]["absolute_growth"] == [pytest.approx(100)]
    assert rows["gating"]["ratio_growth"] == [pytest.approx(0)]
    assert rows["gating"]["met"] is True
    assert rows["gating-batch"]["ratio"] == [pytest.approx(30), pytest.approx(33)]
    assert rows["gating-batch"]["ratio_growth"] == [pytest.approx(10)]
    assert rows["gating-batch"]["met"] is True
    assert set(rows) == {"gating", "gating-batch"}

    assert scale([str(small), str(large)]) == 0
    printed = capsys.readouterr().out
    assert "2: 4,000,000 websites" in printed and "+0 % / +100 %" in printed


def test_two_runs_of_the_same_size_keep_a_column_each(tmp_path):
    first = saved_run(tmp_path, "a", 20_000, bare_p50=5, gating_p50=10, read=0.2, batch=6)
    again = saved_run(tmp_path, "b", 20_000, bare_p50=5, gating_p50=11, read=0.2, batch=6)
    runs = [json.loads(first.read_text()), json.loads(again.read_text())]
    text = figures.scale_table(runs, figures.compare_scale(runs))
    gating = next(line for line in text.splitlines() if line.startswith("gating, one domain"))
    assert "10.0 ms = 2.00× bare" in gating and "11.0 ms = 2.20× bare" in gating


def test_a_p50_growing_past_a_fifth_of_its_reference_misses_the_scaling_goal(tmp_path):
    small = saved_run(tmp_path, "m1", 1_000_000, bare_p50=5, gating_p50=10, read=0.2, batch=6)
    large = saved_run(tmp_path, "m4", 4_000_000, bare_p50=5, gating_p50=12.5, read=0.2, batch=7)
    runs = [json.loads(small.read_text()), json.loads(large.read_text())]
    rows = {row["measure"]: row for row in figures.compare_scale(runs)}
    assert rows["gating"]["ratio_growth"] == [pytest.approx(25)]
    assert rows["gating"]["met"] is False
    assert rows["gating-batch"]["met"] is True
    assert scale([str(small), str(large)]) == 1


def test_a_measure_the_later_run_left_out_is_not_counted_as_met(tmp_path):
    small = saved_run(tmp_path, "m1", 1_000_000, bare_p50=5, gating_p50=10, read=0.2, batch=6)
    large = json.loads(
        saved_run(
            tmp_path, "m4", 4_000_000, bare_p50=5, gating_p50=10, read=0.2, batch=6
        ).read_text()
    )
    del large["rounds"][0]["gating-batch"]
    rows = {r["measure"]: r for r in figures.compare_scale([json.loads(small.read_text()), large])}
    assert rows["gating"]["met"] is True
    assert rows["gating-batch"]["met"] is False
    assert rows["gating-batch"]["measured"] is False
    assert "not measured" in figures.scale_table([{}, large], list(rows.values()))


def test_the_scaling_curve_needs_two_runs():
    with pytest.raises(ValueError):
        figures.compare_scale([{"rounds": []}])


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    asked: collections.Counter = collections.Counter()
    lock = threading.Lock()

    def do_GET(self):
        with self.lock:
            self.asked[self.path] += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # wrk drops its connections when it stops: nothing to report.
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_first_asks_never_ask_a_path_twice_even_when_the_paths_run_out(tmp_path):
    server = QuietServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Recorder.asked.clear()
    try:
        paths = [f"/first/{k}" for k in range(100)]
        script = run.lua_paths(paths, str(tmp_path), once=True)
        measured = run.wrk(script, f"http://127.0.0.1:{server.server_port}", {}, seconds=2)
    finally:
        server.shutdown()
    asked = {path: n for path, n in Recorder.asked.items() if path.startswith("/first/")}
    assert measured["exhausted"] == run.WRK_THREADS
    assert max(asked.values()) == 1
    assert len(asked) >= 90
    assert measured["requests"] <= len(paths)
