"""Reading Locust's --csv-full-history stats history."""

from __future__ import annotations

from pathlib import Path

from hello_platform.pipeline.loadtest.watcher import load_window, parse_history, read_history

HEADER = (
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
    "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    "Total Average Content Size"
)
ROWS = [
    "1796006991,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,"
    "0,0,0,0.0,0,0,0",
    "1796006992,5,GET,GET /,40.000000,0.000000,2,3,3,4,5,6,8,32,34,34,34,44,0,1,2.2,0.6,13,79.0",
    "1796006992,5,,Aggregated,42.000000,0.000000,2,3,3,4,5,7,8,32,34,34,34,46,0,1,2.2,0.6,13,79",
    "1796006993,10,,Aggregated,95.500000,1.000000,2,3,3,4,5,9,8,32,34,34,34,140,1,1,2.2,0.6,13,79",
    "1796006994,0,,Aggregated,3.000000,0.000000,2,3,3,4,5,9,8,32,34,34,34,150,1,1,2.2,0.6,13,79",
    "1796006995,0,,Aggreg",  # cut short while Locust writes
]


def test_parse_history_keeps_aggregated_rows() -> None:
    points = parse_history([HEADER, *ROWS])
    assert [p.t for p in points] == [1796006991, 1796006992, 1796006993, 1796006994]
    first, second, third, _ = points
    assert first.p95_ms is None and first.rps == 0.0
    assert (second.users, second.rps, second.p95_ms) == (5, 42.0, 7.0)
    assert (third.fail_per_s, third.total_requests, third.total_failures) == (1.0, 140, 1)


def test_load_window() -> None:
    points = parse_history([HEADER, *ROWS])
    assert load_window(points) == (1796006992, 1796006993)
    assert load_window(points[:1]) is None


def test_read_history_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_history(tmp_path / "none.csv") == []
    path = tmp_path / "h.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    assert len(read_history(path)) == 4
