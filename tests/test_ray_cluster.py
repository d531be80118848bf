"""The Ray executor on a two-node cluster: a head node and a worker node started as separate
``ray start`` processes on this machine (loopback), the benchmark joining with ``address``.
Its tables must equal the local executor's, and one split cell's units must have run on
both nodes.

Teardown stops the two ``ray start --block`` processes this test started, by their ids
(each takes down the Ray processes it started); ``ray stop`` is not used, as it would stop
every Ray instance of the user on the machine, other runs' included. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from unit_helpers import spec_of, stored, table_without_clock

from hmarl_bench import benchmark

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
START_SECONDS = 120  # a node that is not up by then fails the test


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_node(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    """``ray start ... --block`` in its own process group, up within START_SECONDS."""
    ray_cli = Path(sys.executable).with_name("ray")
    command = [str(ray_cli), "start", *args, "--block", "--disable-usage-stats"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    deadline = time.monotonic() + START_SECONDS
    while "Ray runtime started" not in log.read_text("utf-8", errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_node(process)
            pytest.fail(f"ray start {' '.join(args)} did not come up:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return process


def stop_node(process: subprocess.Popen) -> None:
    """Stop a node this test started: SIGTERM its ``ray start --block`` (which stops the
    node's processes), then kill what is left of its own process group."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    time.sleep(1)
    with contextlib.suppress(ProcessLookupError):  # the group start_new_session made for it
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def cluster(tmp_path, monkeypatch) -> Iterator[str]:
    """A head node and a worker node of one CPU each on 127.0.0.1; yields the address."""
    pytest.importorskip("ray", reason="ray is not installed (pip install 'hmarl_bench[ray]')")
    # a private loopback cluster: no token authentication (Ray would otherwise share the
    # user's ~/.ray/auth_token, which other Ray instances may rewrite while this one runs)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's Unix socket paths
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    port = free_port()
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1"]
    nodes = []
    try:
        head = [
            "--head",
            f"--port={port}",
            *common,
            "--include-dashboard=false",
            f"--dashboard-port={free_port()}",
            f"--ray-client-server-port={free_port()}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--temp-dir={temp}",
        ]
        nodes.append(start_node(head, tmp_path / "head.log", env))
        worker = [
            f"--address=127.0.0.1:{port}",
            *common,
            f"--dashboard-agent-listen-port={free_port()}",
        ]
        nodes.append(start_node(worker, tmp_path / "worker.log", env))
        yield f"127.0.0.1:{port}"
    finally:
        for process in reversed(nodes):
            stop_node(process)
        shutil.rmtree(temp, ignore_errors=True)


def test_benchmark_on_a_two_node_cluster_equals_the_local_executor(tmp_path, cluster):
    import ray

    spec = spec_of(tmp_path, ["tuned_mpc_fast_free", "seed_ss_free"])
    local = benchmark.run_benchmark(spec, tmp_path / "local", progress=False, figures=False)
    on_ray = benchmark.run_benchmark(
        spec,
        tmp_path / "ray",
        executor="ray",
        address=cluster,
        progress=False,
        figures=False,
        split="all",
    )
    assert not local.failed and not on_ray.failed
    assert not ray.is_initialized()  # the driver left the cluster; the nodes stay up
    for name in ("headline.csv", "per_seed.csv"):
        want = table_without_clock(tmp_path / "local" / "units" / "tables" / name)
        assert want == table_without_clock(tmp_path / "ray" / "units" / "tables" / name)
    cells = stored(tmp_path / "ray", "units")
    units = cells["short__tuned_mpc_fast_free"]["info"]["units"]
    assert units["count"] == 3 * 2 + 3 and len(units["nodes"]) == 2  # both nodes ran units
    folder = tmp_path / "ray" / "units" / "cells" / "short__tuned_mpc_fast_free.units"
    records = [json.loads(p.read_text("utf-8")) for p in folder.glob("*.json")]
    assert {r["node"] for r in records} == set(units["nodes"])
