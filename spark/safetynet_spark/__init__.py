"""SafetyNet's batch paths on Apache Spark (issue 19, docs/distributed.md).

The jobs read the Parquet export of `safetynet export --year Y --parquet DIR`,
run SafetyNet's own engines on the workers through the `safetynet_engines`
extension module (crates/py), and write Parquet results that
`safetynet import settlements|alerts|indicator-facts DIR` loads back. Python here
only moves data: grouping, joining and writing; every figure comes from the
engines.
"""

__all__ = ["jobs", "session", "datasets"]
