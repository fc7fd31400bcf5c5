"""`make run`'s options: help with defaults, the CLI's export line, and stopping when make is interrupted."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path

from devtools import parent_watch
from devtools.run_local import build_parser, cli_exports


def test_help_explains_every_option_with_its_default(monkeypatch):
    for name in ("LEADVAULT_DATA_DIR", "LEADVAULT_DDB_PORT"):
        monkeypatch.delenv(name, raising=False)
    text = " ".join(build_parser().format_help().split())
    for option, default in (("--port", "8000"), ("--ddb-port", "8001"), ("--data-dir", ".data"),
                            ("--host", "127.0.0.1"), ("--schedule-scale", "1.0")):
        assert option in text
        assert f"(default: {default})" in text, option
    assert "make run ARGS=" in text


def test_the_cli_export_line_names_this_runs_endpoint_data_and_address():
    line = cli_exports(Path("/tmp/my data"), "http://127.0.0.1:8011", "http://127.0.0.1:8010")
    assert line.startswith("export ")
    values = dict(word.split("=", 1) for word in shlex.split(line)[1:])
    assert values == {"LEADVAULT_STAGE": "local", "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:8011",
                      "LEADVAULT_DATA_DIR": "/tmp/my data", "LEADVAULT_PUBLIC_URL": "http://127.0.0.1:8010"}


def test_sigcgt_is_read_per_signal(tmp_path):
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "status").write_text("Name:\tmake\nSigCgt:\t0000000001814207\n")
    assert parent_watch.catches(42, signal.SIGINT, proc=tmp_path) is True
    (tmp_path / "42" / "status").write_text("Name:\tmake\nSigCgt:\t0000000001814205\n")  # after make's handler ran
    assert parent_watch.catches(42, signal.SIGINT, proc=tmp_path) is False
    assert parent_watch.catches(43, signal.SIGINT, proc=tmp_path) is None


def test_the_run_stops_when_make_stops_catching_sigint_or_goes_away():
    stopped = []
    caught = {"now": True}
    parent = {"pid": 100}
    watch = parent_watch.ParentWatch(100, lambda: stopped.append(1), getppid=lambda: parent["pid"],
                                     catches_sigint=lambda _pid: caught["now"])
    assert watch.check() is False and stopped == []
    caught["now"] = False  # make got SIGINT: its handler reset SIGINT and now waits for us
    assert watch.check() is True and stopped == [1]

    orphan = parent_watch.ParentWatch(100, lambda: stopped.append(2), getppid=lambda: parent["pid"],
                                      catches_sigint=lambda _pid: None)
    assert orphan.check() is False
    parent["pid"] = 1  # make is gone: adopted by init
    assert orphan.check() is True and stopped == [1, 2]


def test_only_a_make_parent_is_watched(monkeypatch):
    # Under a shell (or pytest run by hand), nobody is watched: a parent's own signal handling is none of the
    # run's business. (Under `make test` this process's real parent is make, so the parent's name is faked,
    # and the watch is not started: it would watch the real make.)
    monkeypatch.setattr(parent_watch.ParentWatch, "start", lambda self: None)
    watched = {}
    for name in ("sh", "python3", "make", "gmake"):
        monkeypatch.setattr(parent_watch, "process_name", lambda _pid, name=name: name)
        watched[name] = parent_watch.stop_with_make() is not None
    assert watched == {"sh": False, "python3": False, "make": True, "gmake": True}
