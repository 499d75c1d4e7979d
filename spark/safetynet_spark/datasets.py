"""The Parquet contract (docs/distributed.md; the exchange contract of
`safetynet export --parquet` and `safetynet import`): reading the export's
datasets and writing result directories."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

from pyspark.sql import DataFrame, SparkSession


def read(spark: SparkSession, root: str, name: str) -> Optional[DataFrame]:
    """Every `*.parquet` under `root/name`, at any depth. Hive directory names are
    not turned into columns: the files keep `province` themselves. None when the
    dataset is absent."""
    path = Path(root) / name
    if not path.exists() or not any(path.rglob("*.parquet")):
        return None
    return (
        spark.read.option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.parquet")
        .parquet(str(path))
    )


def manifest(root: str) -> dict:
    return json.loads((Path(root) / "manifest.json").read_text())


def start_result(export: str, out: str) -> None:
    """A result directory: the export's manifest, copied unchanged."""
    Path(out).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(export) / "manifest.json", Path(out) / "manifest.json")


def write(df: DataFrame, out: str, name: str, partitions: Optional[int] = None) -> None:
    """A result dataset `out/name` (Spark's committer writes it atomically)."""
    if partitions:
        df = df.coalesce(partitions)
    df.write.mode("overwrite").option("compression", "snappy").parquet(str(Path(out) / name))
