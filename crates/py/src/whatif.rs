//! The what-if comparison of one or more counties from the cluster's two
//! settlements and two alert sets (docs/indicators.md, "What-if comparison"):
//! `indicators::whatif::{Scenario, compare}`, written as `safetynet whatif`
//! writes its CSV. A county's rows need its own households only; the rules
//! listed are those that alerted anywhere under either policy (`rules`), so that
//! every county lists the same items whichever part of the run it was computed in.

use crate::error::{EngineError, Result};
use crate::input::Table;
use crate::out::{self, Col};
use arrow_array::RecordBatch;
use domain::{Fen, RegionCode, ResidentId};
use indicators::extract::FundAmounts;
use indicators::whatif::{compare, Scenario};
use std::collections::HashMap;

pub struct Inputs<'a> {
    pub households: &'a Table,
    pub persons: &'a Table,
    pub settled_in_force: &'a Table,
    pub settled_draft: &'a Table,
    pub alerts_in_force: &'a Table,
    pub alerts_draft: &'a Table,
}

/// `county, seq, line`: the comparison's CSV lines (no header), `county` the
/// 6-digit code or `all`, `seq` the line's position among its county's.
pub fn lines(inputs: &Inputs, rules: &[String]) -> Result<RecordBatch> {
    let ids = inputs.households.required_strings("household_id")?;
    let villages = inputs.households.parsed_from_str::<RegionCode>("village_code")?;
    let index: HashMap<&str, u32> = ids.iter().enumerate().map(|(i, h)| (*h, i as u32)).collect();
    let persons = inputs.persons.parsed_from_str::<ResidentId>("person_id")?;
    let person_households = inputs.persons.required_strings("household_id")?;
    let mut household_of: HashMap<ResidentId, u32> = HashMap::with_capacity(persons.len());
    for (i, (p, h)) in persons.iter().zip(&person_households).enumerate() {
        let Some(&h) = index.get(h) else {
            return Err(inputs.persons.bad(i, "household_id", &format!("household {h} is not in the households")));
        };
        household_of.insert(*p, h);
    }
    let scenario = |settled: &Table, alerts: &Table| -> Result<Scenario> {
        let mut s = Scenario::new(&villages);
        for r in rules {
            s.add_rule(r);
        }
        let persons = settled.parsed_from_str::<ResidentId>("person_id")?;
        let oop = settled.required_fen("out_of_pocket")?;
        let payments = settled.payments("payments")?;
        for i in 0..persons.len() {
            let Some(&h) = household_of.get(&persons[i]) else {
                return Err(settled.bad(i, "person_id", &format!("person {} is not in the persons", persons[i])));
            };
            let names: Vec<&str> = payments[i].iter().map(|p| p.0).collect();
            let amounts: Vec<Fen> = payments[i].iter().map(|p| Fen(p.1)).collect();
            s.add_claim(h, &FundAmounts::from_tiers(&names, &amounts), oop[i]);
        }
        let rule = alerts.required_strings("rule")?;
        let household = alerts.required_strings("household_id")?;
        for i in 0..rule.len() {
            let Some(&h) = index.get(household[i]) else {
                return Err(alerts.bad(
                    i,
                    "household_id",
                    &format!("household {} is not in the households", household[i]),
                ));
            };
            s.add_alert(rule[i], h);
        }
        Ok(s)
    };
    let a = scenario(inputs.settled_in_force, inputs.alerts_in_force)?;
    let b = scenario(inputs.settled_draft, inputs.alerts_draft)?;
    let mut buf = Vec::new();
    compare(&a, &b).write_csv(&HashMap::new(), &mut buf).map_err(|e| EngineError::Engine(e.to_string()))?;
    let text = String::from_utf8(buf).map_err(|e| EngineError::Engine(e.to_string()))?;
    let (mut county, mut seq, mut line) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = String::new();
    let mut n = 0i64;
    for l in text.lines().skip(1) {
        let c = l.split(',').next().unwrap_or("").to_string();
        if c != last {
            n = 0;
            last = c.clone();
        }
        county.push(c);
        seq.push(n);
        line.push(l.to_string());
        n += 1;
    }
    Ok(out::batch(vec![
        Col("county", out::strings(county), false),
        Col("seq", out::ints(seq), false),
        Col("line", out::strings(line), false),
    ]))
}
