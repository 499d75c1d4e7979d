//! `safetynet_engines`: SafetyNet's engines for Python, Arrow in and Arrow out,
//! so that a Spark job runs the very code the binary runs (docs/distributed.md).
//!
//! Every function takes pyarrow tables (anything with `__arrow_c_stream__`),
//! reads them in place through the Arrow C data interface, calls the `settle`,
//! `monitor` or `indicators` crate, and returns pyarrow record batches. There is
//! no business logic on the Python side. The engines run with the GIL released.
//!
//! - [`Settler`]: a person's claims in order under a policy (one policy file, or
//!   the store's policies with the one in force per village and year), from
//!   starting accumulators; returns settlements, end accumulators and the claims
//!   left without a policy.
//! - [`Monitor`]: the warning rules over households' measures.
//! - [`Facts`]: a village's indicator facts (registry, alerts, cases) and its
//!   persons' claim facts, encoded as the store keeps them; [`expand_facts`] and
//!   [`report_lines`] roll them up and draw the report's lines.
//! - [`whatif_lines`]: the what-if comparison of the counties given.

mod buckets;
mod csvout;
mod error;
mod facts;
mod input;
mod out;
mod settlement;
mod warnings;
mod whatif;

use arrow_array::ffi_stream::ArrowArrayStreamReader;
use arrow_array::RecordBatch;
use arrow_pyarrow::{FromPyArrow, ToPyArrow};
use error::{EngineError, EngineFailure, InputError};
use input::Table;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Reads a pyarrow table (or anything exporting an Arrow stream) as `name`.
fn table(name: &'static str, obj: &Bound<'_, PyAny>) -> PyResult<Table> {
    let reader = ArrowArrayStreamReader::from_pyarrow_bound(obj)
        .map_err(|e| InputError::new_err(format!("{name}: not an Arrow table: {e}")))?;
    let schema = arrow_array::RecordBatchReader::schema(&reader);
    let batches = reader
        .collect::<Result<Vec<RecordBatch>, _>>()
        .map_err(|e| InputError::new_err(format!("{name}: cannot read the Arrow stream: {e}")))?;
    Ok(Table::new(name, schema, batches))
}

fn opt_table(name: &'static str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Table>> {
    obj.filter(|o| !o.is_none()).map(|o| table(name, o)).transpose()
}

fn to_py(py: Python<'_>, b: RecordBatch) -> PyResult<Py<PyAny>> {
    Ok(b.to_pyarrow(py)?.unbind())
}

/// Four pyarrow record batches.
type Tables4 = (Py<PyAny>, Py<PyAny>, Py<PyAny>, Py<PyAny>);

/// Settles claims. `Settler.from_toml(text)`: one policy file for every claim
/// (as `safetynet settle --policy`); `Settler(policies)`: the export's `policies`
/// table (`id, region, year, version, source`), the one in force chosen per
/// person's village (`region_code`) and year.
#[pyclass(frozen, module = "safetynet_engines")]
struct Settler(settlement::Policies);

#[pymethods]
impl Settler {
    #[new]
    fn new(policies: &Bound<'_, PyAny>) -> PyResult<Settler> {
        let t = table("policies", policies)?;
        Ok(Settler(settlement::Policies::from_table(&t)?))
    }

    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Settler> {
        Ok(Settler(settlement::Policies::from_toml(text)?))
    }

    /// The tier names of each policy, in payment order.
    fn tiers(&self) -> Vec<Vec<String>> {
        self.0.rows.iter().map(|p| p.policy.names.clone()).collect()
    }

    /// `claims`: `claim_id, person_id, facility_level, kind, discharged,
    /// total_cost, eligible_cost` (fen), the person's `status` and, with the
    /// store's policies, `region_code`; `accumulators` (optional): `person_id,
    /// year, tier, base, oop, paid`. Returns `(settlements, accumulators,
    /// without_policy)`.
    #[pyo3(signature = (claims, accumulators=None))]
    fn settle(
        &self,
        py: Python<'_>,
        claims: &Bound<'_, PyAny>,
        accumulators: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>, Py<PyAny>)> {
        let claims = table("claims", claims)?;
        let acc = opt_table("accumulators", accumulators)?;
        let done = py.detach(|| settlement::settle(&self.0, &claims, acc.as_ref(), None, None))?;
        Ok((to_py(py, done.settlements)?, to_py(py, done.accumulators)?, to_py(py, done.without_policy)?))
    }

    /// As [`Settler::settle`], with the persons' fields from `persons`
    /// (`person_id, status`, optional `enrolled` and `region_code`; every person
    /// once) rather than from the claims, as the cluster's job hands a bucket of
    /// persons with their claims. A claim whose person is not in `persons` is not
    /// settled: it comes back in the fourth table, `orphans` (`claim_id,
    /// facility_id, person_id`). The claims of `settled` (optional: `claim_id,
    /// facility_id`, settled already) are skipped. Returns `(settlements,
    /// accumulators, without_policy, orphans)`.
    #[pyo3(signature = (claims, persons, accumulators=None, settled=None))]
    fn settle_persons(
        &self,
        py: Python<'_>,
        claims: &Bound<'_, PyAny>,
        persons: &Bound<'_, PyAny>,
        accumulators: Option<&Bound<'_, PyAny>>,
        settled: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Tables4> {
        let claims = table("claims", claims)?;
        let persons = table("persons", persons)?;
        let acc = opt_table("accumulators", accumulators)?;
        let settled = opt_table("settled", settled)?;
        let done =
            py.detach(|| settlement::settle(&self.0, &claims, acc.as_ref(), Some(&persons), settled.as_ref()))?;
        Ok((
            to_py(py, done.settlements)?,
            to_py(py, done.accumulators)?,
            to_py(py, done.without_policy)?,
            to_py(py, done.orphans)?,
        ))
    }
}

/// The warning rules of a year: `Monitor(year, thresholds, rules_toml=None)`,
/// `thresholds` with `region, year, rural_income, monitoring_line` (fen).
#[pyclass(frozen, module = "safetynet_engines")]
struct Monitor(warnings::Monitor);

#[pymethods]
impl Monitor {
    #[new]
    #[pyo3(signature = (year, thresholds, rules_toml=None))]
    fn new(year: i32, thresholds: &Bound<'_, PyAny>, rules_toml: Option<&str>) -> PyResult<Monitor> {
        let t = table("thresholds", thresholds)?;
        Ok(Monitor(warnings::Monitor::new(year, &t, rules_toml)?))
    }

    /// The alerts of the households given (with their members' `persons`, the
    /// `claims` of the year with diagnoses and the `settlements`' out-of-pocket),
    /// and the households without a threshold: `(alerts, missing_thresholds)`.
    fn alerts(
        &self,
        py: Python<'_>,
        households: &Bound<'_, PyAny>,
        persons: &Bound<'_, PyAny>,
        claims: &Bound<'_, PyAny>,
        settlements: &Bound<'_, PyAny>,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
        let (h, p, c, s) = (
            table("households", households)?,
            table("persons", persons)?,
            table("claims", claims)?,
            table("settlements", settlements)?,
        );
        let (alerts, missing) = py.detach(|| self.0.alerts(&h, &p, &c, &s))?;
        Ok((to_py(py, alerts)?, to_py(py, missing)?))
    }
}

/// The indicator facts of a year: `Facts(year, facilities=None)`, `facilities`
/// with `facility_id, region_code`.
#[pyclass(frozen, module = "safetynet_engines")]
struct Facts(facts::Facts);

#[pymethods]
impl Facts {
    #[new]
    #[pyo3(signature = (year, facilities=None))]
    fn new(year: i32, facilities: Option<&Bound<'_, PyAny>>) -> PyResult<Facts> {
        let f = opt_table("facilities", facilities)?;
        Ok(Facts(facts::Facts::new(year, f.as_ref())?))
    }

    /// `year, village_code, facts` of the villages of the households given;
    /// `claims` and `settlements` (the villages' persons') give the households'
    /// spending measures.
    #[pyo3(signature = (households, persons, alert_dates=None, cases=None, contracts=None, claims=None, settlements=None))]
    #[allow(clippy::too_many_arguments)]
    fn village_facts(
        &self,
        py: Python<'_>,
        households: &Bound<'_, PyAny>,
        persons: &Bound<'_, PyAny>,
        alert_dates: Option<&Bound<'_, PyAny>>,
        cases: Option<&Bound<'_, PyAny>>,
        contracts: Option<&Bound<'_, PyAny>>,
        claims: Option<&Bound<'_, PyAny>>,
        settlements: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let (h, p) = (table("households", households)?, table("persons", persons)?);
        let (a, c, k) =
            (opt_table("alert_dates", alert_dates)?, opt_table("cases", cases)?, opt_table("contracts", contracts)?);
        let (cl, st) = (opt_table("claims", claims)?, opt_table("settlements", settlements)?);
        let b =
            py.detach(|| self.0.village_facts(&h, &p, a.as_ref(), c.as_ref(), k.as_ref(), cl.as_ref(), st.as_ref()))?;
        to_py(py, b)
    }

    /// `year, person_id, village_code, facts, unsettled` of the persons with claims.
    fn person_facts(
        &self,
        py: Python<'_>,
        households: &Bound<'_, PyAny>,
        persons: &Bound<'_, PyAny>,
        claims: &Bound<'_, PyAny>,
        settlements: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (h, p, c, s) = (
            table("households", households)?,
            table("persons", persons)?,
            table("claims", claims)?,
            table("settlements", settlements)?,
        );
        let b = py.detach(|| self.0.person_facts(&h, &p, &c, &s))?;
        to_py(py, b)
    }
}

/// Each encoded fact (`village_code, facts` rows) for its village and every
/// region above: `region_code, level, month, measure, slice, value`.
#[pyfunction]
fn expand_facts(py: Python<'_>, facts: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    let t = table("facts", facts)?;
    let b = py.detach(|| facts::expand(&t))?;
    to_py(py, b)
}

/// The report's CSV header line for the definitions (shipped, with a file laid over).
#[pyfunction]
#[pyo3(signature = (indicators_toml=None))]
fn report_header(indicators_toml: Option<&str>) -> PyResult<String> {
    let defs = facts::definitions(indicators_toml)?;
    Ok(facts::report_header(&defs)?)
}

/// The report lines of the regions of `level` from their summed facts:
/// `region_code, period, line`.
#[pyfunction]
#[pyo3(signature = (year, level, period, facts, indicators_toml=None))]
fn report_lines(
    py: Python<'_>,
    year: i32,
    level: &str,
    period: &str,
    facts: &Bound<'_, PyAny>,
    indicators_toml: Option<&str>,
) -> PyResult<Py<PyAny>> {
    let defs = facts::definitions(indicators_toml)?;
    let t = table("facts", facts)?;
    let b = py.detach(|| facts::report_lines(&defs, year, level, period, &t))?;
    to_py(py, b)
}

/// The what-if comparison's lines (`county, seq, line`) of the households given,
/// from both settlements and both alert sets; `rules`: every rule that alerted
/// anywhere under either policy.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn whatif_lines(
    py: Python<'_>,
    households: &Bound<'_, PyAny>,
    persons: &Bound<'_, PyAny>,
    settled_in_force: &Bound<'_, PyAny>,
    settled_draft: &Bound<'_, PyAny>,
    alerts_in_force: &Bound<'_, PyAny>,
    alerts_draft: &Bound<'_, PyAny>,
    rules: Vec<String>,
) -> PyResult<Py<PyAny>> {
    let (h, p) = (table("households", households)?, table("persons", persons)?);
    let (sa, sb) = (table("settled_in_force", settled_in_force)?, table("settled_draft", settled_draft)?);
    let (aa, ab) = (table("alerts_in_force", alerts_in_force)?, table("alerts_draft", alerts_draft)?);
    let inputs = whatif::Inputs {
        households: &h,
        persons: &p,
        settled_in_force: &sa,
        settled_draft: &sb,
        alerts_in_force: &aa,
        alerts_draft: &ab,
    };
    let b = py.detach(|| whatif::lines(&inputs, &rules))?;
    to_py(py, b)
}

/// The settlements file of `safetynet settle --out` from settlement results.
#[pyfunction]
fn settlements_csv<'py>(py: Python<'py>, settlements: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let t = table("settlements", settlements)?;
    let bytes = py.detach(|| csvout::settlements(&t))?;
    Ok(PyBytes::new(py, &bytes))
}

/// The alerts file of `safetynet monitor --out` from alert results.
#[pyfunction]
fn alerts_csv<'py>(py: Python<'py>, alerts: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let t = table("alerts", alerts)?;
    let bytes = py.detach(|| csvout::alerts(&t))?;
    Ok(PyBytes::new(py, &bytes))
}

/// Yuan as files write them (`1234.5`) to fen, by the domain's parser: a text
/// column `column` of `table` as `(fen: Int64)`, null kept null.
#[pyfunction]
fn yuan_to_fen(py: Python<'_>, table_: &Bound<'_, PyAny>, column: &str) -> PyResult<Py<PyAny>> {
    let t = table("yuan", table_)?;
    let values = t.strings(column)?;
    let fen = values
        .iter()
        .enumerate()
        .map(|(i, v)| match v.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => domain::Fen::parse_yuan(s).map(|f| Some(f.0)).map_err(|e| t.bad(i, column, &e.to_string())),
            None => Ok(None),
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    to_py(py, out::batch(vec![out::Col("fen", out::opt_ints(fen), true)]))
}

/// Each row's settlement bucket among `n` (`bucket: Int32`, `0..n`) from its
/// `column` (a person's ID): a fixed hash of the text, the same in every
/// process and release, so that a person's claims, their person's row, their
/// accumulators and their settled claims, read by different tasks from
/// different files, meet in one bucket.
#[pyfunction]
fn person_buckets(py: Python<'_>, table_: &Bound<'_, PyAny>, column: &str, n: u32) -> PyResult<Py<PyAny>> {
    if n == 0 {
        return Err(InputError::new_err("person_buckets: n must be at least 1"));
    }
    let t = table("buckets", table_)?;
    let ids = t.required_strings(column)?;
    let buckets = py.detach(|| ids.iter().map(|id| i64::from(buckets::bucket_of(id, n))).collect::<Vec<_>>());
    to_py(py, out::batch(vec![out::Col("bucket", out::ints(buckets), false)]))
}

/// The rows of `table` grouped by their bucket (as [`person_buckets`]): `(rows,
/// counts)`, `rows` (`row: Int64`) the row numbers of bucket 0, then of bucket
/// 1, and so on, each bucket's in the table's order, and `counts` how many
/// each bucket has; `table.take(rows)` sliced by `counts` gives each bucket's
/// rows.
#[pyfunction]
fn bucket_rows(py: Python<'_>, table_: &Bound<'_, PyAny>, column: &str, n: u32) -> PyResult<(Py<PyAny>, Vec<u64>)> {
    if n == 0 {
        return Err(InputError::new_err("bucket_rows: n must be at least 1"));
    }
    let t = table("buckets", table_)?;
    let ids = t.required_strings(column)?;
    let (rows, counts) = py.detach(|| buckets::group(&ids, n));
    Ok((to_py(py, out::batch(vec![out::Col("row", out::ints(rows), false)]))?, counts))
}

#[pymodule]
fn safetynet_engines(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Settler>()?;
    m.add_class::<Monitor>()?;
    m.add_class::<Facts>()?;
    m.add_function(wrap_pyfunction!(expand_facts, m)?)?;
    m.add_function(wrap_pyfunction!(report_header, m)?)?;
    m.add_function(wrap_pyfunction!(report_lines, m)?)?;
    m.add_function(wrap_pyfunction!(whatif_lines, m)?)?;
    m.add_function(wrap_pyfunction!(settlements_csv, m)?)?;
    m.add_function(wrap_pyfunction!(alerts_csv, m)?)?;
    m.add_function(wrap_pyfunction!(yuan_to_fen, m)?)?;
    m.add_function(wrap_pyfunction!(person_buckets, m)?)?;
    m.add_function(wrap_pyfunction!(bucket_rows, m)?)?;
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("EngineFailure", m.py().get_type::<EngineFailure>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
