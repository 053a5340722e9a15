"""No orphans: teardown, Ctrl-C, and a runner killed with SIGKILL (reaped by the next start)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from harness.procs import ProcessGroup, reap_orphans

# The runner takes SIGINT as a terminal's Ctrl-C does, whatever disposition it inherited (a
# shell that starts a job in the background hands its children SIGINT ignored).
RUNNER = textwrap.dedent("""
    import json, signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from harness.cluster import LocalCluster
    with LocalCluster(brokers=1, name=sys.argv[1]) as c:
        pids = [c.pid(n.id) for n in c.layout.nodes] + [c.toxiproxy_server.pid]
        print(json.dumps(pids), flush=True)
        time.sleep(600)
""")


def _start_runner(name: str, env: dict) -> tuple[subprocess.Popen, list[int]]:
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, name], stdout=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    assert line, "runner printed no pids"
    return proc, json.loads(line)


def _alive(pids: list[int]) -> list[int]:
    return [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]


def test_group_close_and_reap_on_plain_processes(tmp_path, monkeypatch):
    monkeypatch.setenv("KCH_STATE_DIR", str(tmp_path))
    group = ProcessGroup("unit")
    procs = [group.spawn(["sleep", "60"], log_path=tmp_path / f"s{i}.log") for i in range(2)]
    assert all(p.poll() is None for p in procs)
    group.close()
    assert all(p.poll() is not None for p in procs)
    assert not list((tmp_path / "owned").glob("*.json"))


def test_a_live_owners_processes_are_not_reaped(tmp_path, monkeypatch):
    monkeypatch.setenv("KCH_STATE_DIR", str(tmp_path))
    group = ProcessGroup("mine")
    proc = group.spawn(["sleep", "60"], log_path=tmp_path / "s.log")
    try:
        assert reap_orphans() == []
        assert proc.poll() is None
    finally:
        group.close()


@pytest.mark.cluster
def test_teardown_and_ctrl_c_leave_no_process(tmp_path):
    env = dict(os.environ, KCH_STATE_DIR=str(tmp_path))
    runner, pids = _start_runner("ctrl-c", env)
    assert len(_alive(pids)) == 2
    runner.send_signal(signal.SIGINT)
    runner.wait(timeout=60)
    assert _alive(pids) == []
    assert not list((tmp_path / "owned").glob("*.json"))


@pytest.mark.cluster
def test_a_sigkilled_runner_is_reaped_by_the_next_start(tmp_path, monkeypatch):
    monkeypatch.setenv("KCH_STATE_DIR", str(tmp_path))
    runner, pids = _start_runner("doomed", dict(os.environ))
    runner.kill()
    runner.wait(timeout=10)
    time.sleep(0.5)
    assert len(_alive(pids)) == 2, "the JVM and toxiproxy outlive a SIGKILLed runner until reaped"
    reaped = reap_orphans()  # what every LocalCluster.start() does first
    assert len(reaped) == 2
    assert _alive(pids) == []
