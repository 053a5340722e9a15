"""The command line's contract: exit codes, one-line errors, and a cluster kept up between commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psutil
import pytest


def kch(*args, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def test_a_wrong_flag_is_one_line_and_exit_2():
    res = kch("cluster", "up", "--brokerz", "3")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "--brokerz" in res.stderr and "Traceback" not in res.stderr


def test_an_unserved_kafka_version_is_bad_input(tmp_path):
    res = kch("provision", "--kafka-version", "5.x", env={"KCH_CACHE_DIR": str(tmp_path)})
    assert res.returncode == 2 and "--kafka-version" in res.stderr


def test_a_missing_tool_names_the_fix_and_exits_3(tmp_path):
    res = kch("provision", env={"KCH_CACHE_DIR": str(tmp_path), "PATH": str(tmp_path), "JAVA_HOME": ""})
    assert res.returncode == 3
    assert res.stderr.count("\n") == 1 and "java not found" in res.stderr and "install" in res.stderr


def test_status_of_no_cluster_is_infrastructure_error(tmp_path):
    res = kch("cluster", "status", env={"KCH_STATE_DIR": str(tmp_path)})
    assert res.returncode == 3 and "kch cluster up" in res.stderr


@pytest.mark.cluster
def test_cluster_up_status_down(tmp_path):
    env = {"KCH_STATE_DIR": str(tmp_path)}
    up = kch("cluster", "up", "--brokers", "1", "--json", env=env)
    assert up.returncode == 0, up.stderr
    try:
        status = json.loads(kch("cluster", "status", "--json", env=env).stdout)
        pids = [n["pid"] for n in status["nodes"]] + [status["toxiproxy_pid"]]
        assert all(psutil.pid_exists(p) for p in pids), "the cluster outlives the command that started it"
        assert status["bootstrap_servers"].startswith("127.0.0.1:")
        assert {l["name"] for l in status["links"]} == {"client->node:1"}
        assert os.path.exists(status["nodes"][0]["log"])
        again = kch("cluster", "up", "--brokers", "1", env=env)
        assert again.returncode == 2 and "already up" in again.stderr
    finally:
        down = kch("cluster", "down", env=env)
    assert down.returncode == 0 and "stopped 2 processes" in down.stdout
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)
