//! The single-machine files of the cluster's results, for comparing them byte for
//! byte with the binary's: the settlements file of `safetynet settle --out`
//! (docs/settlement.md, "The settlements file") and the alerts file of
//! `safetynet monitor --out` (docs/monitoring.md, "Output of the batch command").

use crate::error::{EngineError, Result};
use crate::input::Table;
use crate::warnings::read_findings;
use domain::Fen;

fn csv_error(e: csv::Error) -> EngineError {
    EngineError::Engine(format!("writing CSV: {e}"))
}

/// The settlements, in settlement order (`discharged`, then `claim_id` and
/// `facility_id` as bytes), one column per tier; every row must have the same
/// tiers. As the binary does, a `facility_id` column follows `claim_id` only
/// when a claim ID is used at more than one facility.
pub fn settlements(t: &Table) -> Result<Vec<u8>> {
    let ids = t.required_strings("claim_id")?;
    let facilities = if t.has("facility_id") { t.strings("facility_id")? } else { vec![None; ids.len()] };
    let facility = |i: usize| facilities[i].unwrap_or("");
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    let shared = ids.iter().fold(false, |shared, id| shared | !seen.insert(*id));
    let persons = t.required_strings("person_id")?;
    let years = t.required_ints("year")?;
    let discharged = t.required_dates("discharged")?;
    let totals = t.required_ints("total_cost")?;
    let eligibles = t.required_ints("eligible_cost")?;
    let oop = t.required_ints("out_of_pocket")?;
    let payments = t.payments("payments")?;
    let tiers: Vec<&str> = payments.first().map(|p| p.iter().map(|x| x.0).collect()).unwrap_or_default();
    for (i, p) in payments.iter().enumerate() {
        if p.len() != tiers.len() || p.iter().zip(&tiers).any(|(a, b)| a.0 != *b) {
            return Err(t.bad(i, "payments", "has other tiers than the first row: one policy's file has one set"));
        }
    }
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| {
        discharged[a]
            .cmp(&discharged[b])
            .then_with(|| ids[a].as_bytes().cmp(ids[b].as_bytes()))
            .then_with(|| facility(a).as_bytes().cmp(facility(b).as_bytes()))
    });
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["claim_id"];
    if shared {
        head.push("facility_id");
    }
    head.extend(["person_id", "year", "total_cost", "eligible_cost"]);
    head.extend(&tiers);
    head.push("out_of_pocket");
    w.write_record(&head).map_err(csv_error)?;
    for i in order {
        let mut rec = vec![ids[i].to_string()];
        if shared {
            rec.push(facility(i).to_string());
        }
        rec.extend([
            persons[i].to_string(),
            years[i].to_string(),
            Fen(totals[i]).to_string(),
            Fen(eligibles[i]).to_string(),
        ]);
        rec.extend(payments[i].iter().map(|p| Fen(p.1).to_string()));
        rec.push(Fen(oop[i]).to_string());
        w.write_record(&rec).map_err(csv_error)?;
    }
    w.into_inner().map_err(|e| EngineError::Engine(e.to_string()))
}

/// The alerts, ordered by rule, then household (both as bytes).
pub fn alerts(t: &Table) -> Result<Vec<u8>> {
    let mut found = read_findings(t)?;
    found.sort_by(|a, b| a.rule.cmp(&b.rule).then_with(|| a.household_id.cmp(&b.household_id)));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["rule", "household_id", "village_code", "year", "value", "threshold"]).map_err(csv_error)?;
    for a in &found {
        w.write_record([
            a.rule.clone(),
            a.household_id.clone(),
            a.village_code.to_string(),
            a.year.to_string(),
            a.value.to_string(),
            a.threshold.as_ref().map(|t| t.to_string()).unwrap_or_default(),
        ])
        .map_err(csv_error)?;
    }
    w.into_inner().map_err(|e| EngineError::Engine(e.to_string()))
}
