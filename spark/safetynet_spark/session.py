"""Starting Spark, shipping this package to the workers, and counting which
executor processes did work."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Optional

from pyspark.accumulators import AccumulatorParam
from pyspark.sql import SparkSession


class _SetParam(AccumulatorParam):
    def zero(self, value: set) -> set:
        return set()

    def addInPlace(self, a: set, b: set) -> set:
        a |= b
        return a


_executors = None  # set on the driver by start(); pickled into tasks as an accumulator


def executor_name() -> str:
    """The executor process a Python worker serves: host and the executor JVM's
    pid (the worker's parent is the Python daemon, whose parent is the JVM)."""
    daemon = os.getppid()
    jvm = daemon
    try:
        with open(f"/proc/{daemon}/stat") as f:
            jvm = int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return f"{socket.gethostname()}:{jvm}"


def mark(acc) -> None:
    """Records, inside a task, the executor that ran it."""
    if acc is not None:
        acc.add({executor_name()})


def _package_zip() -> str:
    """This package as a zip for `addPyFile`, as a real cluster ships it."""
    here = Path(__file__).resolve().parent
    out = Path(tempfile.mkdtemp(prefix="safetynet-spark-")) / "safetynet_spark.zip"
    with zipfile.ZipFile(out, "w") as z:
        for p in sorted(here.rglob("*.py")):
            z.write(p, Path("safetynet_spark") / p.relative_to(here))
    return str(out)


def start(master: Optional[str] = None, partitions: int = 8, executor_memory: str = "1g", app: str = "safetynet"):
    """A session for the jobs. `master` None keeps what spark-submit gave.

    Adaptive execution is off so that a job's partitions are not coalesced onto
    one executor behind our back; Arrow batches are kept small because bundled
    inputs carry whole villages per row."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    b = SparkSession.builder.appName(app)
    if master:
        b = b.master(master)
        if master.startswith("local-cluster"):
            b = b.config("spark.executor.memory", executor_memory)
    spark = (
        b.config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.default.parallelism", str(partitions))
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "64")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.pyspark.python", sys.executable)
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.addPyFile(_package_zip())
    global _executors
    _executors = spark.sparkContext.accumulator(set(), _SetParam())
    return spark


@contextlib.contextmanager
def arrow_batches(rows: int):
    """Arrow batches of `rows` rows to the Python workers for the actions run
    inside (the session's default of 64 suits the bundled jobs' wide rows)."""
    conf = SparkSession.getActiveSession().conf
    name = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = conf.get(name)
    conf.set(name, str(rows))
    try:
        yield
    finally:
        conf.set(name, before)


def local_executor_cpu() -> Optional[float]:
    """CPU seconds (user + system) used so far by the processes the driver's JVM
    started on this machine: with `local-cluster[...]`, the executor JVMs and
    their Python workers (finished workers counted through their parents).
    None where the JVM is not a local process (then the executors are elsewhere)
    or /proc cannot be read."""
    try:
        root = SparkSession.getActiveSession().sparkContext._gateway.proc.pid
        tick = os.sysconf("SC_CLK_TCK")
        parent, cpu = {}, {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(d)] = int(fields[1])
            cpu[int(d)] = sum(int(x) for x in fields[11:15]) / tick
    except (AttributeError, OSError, ValueError):
        return None
    children: dict = {}
    for pid, pp in parent.items():
        children.setdefault(pp, []).append(pid)
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def executors() -> set:
    """The executor processes that ran any task of the jobs so far."""
    return set(_executors.value) if _executors is not None else set()


def tracker():
    return _executors
