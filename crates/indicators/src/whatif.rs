//! Policy what-if: the policy in force and a draft, each applied to the same year
//! of claims and the same households, compared by county: what each fund pays,
//! the distribution of households' out-of-pocket costs (deciles), the households
//! crossing each warning rule, and what each household kept off the warning list
//! costs the funds.
//!
//! The settling and the monitoring are done by `settle` and `monitor`; this module
//! only tallies their plain results into two [`Scenario`]s and compares them, so
//! it knows nothing of either engine and cannot drift from them.

use crate::extract::{Fund, FundAmounts};
use crate::report::ReportError;
use domain::{Fen, RegionCode};
use rust_xlsxwriter::{Format, Workbook};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

/// The tallies of one policy over a year, by county.
#[derive(Debug, Clone)]
pub struct Scenario {
    counties: Vec<RegionCode>,
    /// Each household's county, as an index into `counties`.
    household_county: Vec<u32>,
    paid: Vec<FundAmounts>,
    oop: Vec<i64>,
    household_oop: Vec<i64>,
    household_claims: Vec<u32>,
    /// Rule name to the households it alerted.
    alerts: BTreeMap<String, BTreeSet<u32>>,
}

impl Scenario {
    /// `household_villages[h]` is household `h`'s village (any code under its county).
    pub fn new(household_villages: &[RegionCode]) -> Scenario {
        let mut index: HashMap<RegionCode, u32> = HashMap::new();
        let mut counties = Vec::new();
        let household_county = household_villages
            .iter()
            .map(|v| {
                let county = v
                    .ancestor(domain::RegionLevel::County)
                    .filter(|c| c.level() == domain::RegionLevel::County)
                    .unwrap_or(*v);
                *index.entry(county).or_insert_with(|| {
                    counties.push(county);
                    (counties.len() - 1) as u32
                })
            })
            .collect();
        let n = counties.len();
        Scenario {
            counties,
            household_county,
            paid: vec![FundAmounts::default(); n],
            oop: vec![0; n],
            household_oop: vec![0; household_villages.len()],
            household_claims: vec![0; household_villages.len()],
            alerts: BTreeMap::new(),
        }
    }

    /// One settled claim of a member of household `household`.
    pub fn add_claim(&mut self, household: u32, paid: &FundAmounts, out_of_pocket: Fen) {
        let h = household as usize;
        let c = self.household_county[h] as usize;
        for (a, b) in self.paid[c].0.iter_mut().zip(paid.0) {
            *a += b;
        }
        self.oop[c] += out_of_pocket.0;
        self.household_oop[h] += out_of_pocket.0;
        self.household_claims[h] += 1;
    }

    /// One alert raised by `rule` for household `household`.
    pub fn add_alert(&mut self, rule: &str, household: u32) {
        self.alerts.entry(rule.to_string()).or_default().insert(household);
    }

    /// Lists `rule` in the comparison even where it alerted none of these
    /// households: a comparison computed county by county (the cluster's what-if)
    /// names every rule that alerted anywhere, as one computed at once does.
    pub fn add_rule(&mut self, rule: &str) {
        self.alerts.entry(rule.to_string()).or_default();
    }
}

/// A compared figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Figure {
    Money(i64),
    Count(i64),
    /// Yuan per unit; `None` where undefined (nothing to divide by).
    Yuan(Option<f64>),
}

impl Figure {
    fn minus(self, o: Figure) -> Figure {
        match (self, o) {
            (Figure::Money(a), Figure::Money(b)) => Figure::Money(a - b),
            (Figure::Count(a), Figure::Count(b)) => Figure::Count(a - b),
            (Figure::Yuan(Some(a)), Figure::Yuan(Some(b))) => Figure::Yuan(Some(a - b)),
            _ => Figure::Yuan(None),
        }
    }

    pub fn text(self) -> String {
        match self {
            Figure::Money(v) => Fen(v).to_string(),
            Figure::Count(v) => v.to_string(),
            Figure::Yuan(Some(v)) => format!("{v:.2}"),
            Figure::Yuan(None) => String::new(),
        }
    }

    fn number(self) -> Option<f64> {
        match self {
            Figure::Money(v) => Some(v as f64 / 100.0),
            Figure::Count(v) => Some(v as f64),
            Figure::Yuan(v) => v,
        }
    }
}

/// One line of the comparison. `county` is `None` for the whole area.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    pub county: Option<RegionCode>,
    pub item: String,
    pub in_force: Option<Figure>,
    pub draft: Option<Figure>,
    /// Draft minus in force.
    pub difference: Figure,
}

/// The comparison, county by county (sorted by code), then the whole area.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    pub rows: Vec<ComparisonRow>,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

struct Tally {
    paid: FundAmounts,
    oop: i64,
    household_oop: Vec<i64>,
    by_rule: BTreeMap<String, i64>,
    any: i64,
}

fn tally(s: &Scenario, county: Option<u32>, rules: &BTreeSet<String>) -> Tally {
    let in_scope = |h: usize| county.is_none_or(|c| s.household_county[h] == c);
    let (mut paid, mut oop) = (FundAmounts::default(), 0);
    for c in 0..s.counties.len() {
        if county.is_none_or(|x| x as usize == c) {
            for (a, b) in paid.0.iter_mut().zip(s.paid[c].0) {
                *a += b;
            }
            oop += s.oop[c];
        }
    }
    let mut household_oop: Vec<i64> = (0..s.household_oop.len())
        .filter(|&h| s.household_claims[h] > 0 && in_scope(h))
        .map(|h| s.household_oop[h])
        .collect();
    household_oop.sort_unstable();
    let mut any = BTreeSet::new();
    let mut by_rule = BTreeMap::new();
    for r in rules {
        let hs = s.alerts.get(r);
        let n = hs
            .map(|hs| {
                hs.iter()
                    .filter(|&&h| in_scope(h as usize))
                    .inspect(|&&h| {
                        any.insert(h);
                    })
                    .count()
            })
            .unwrap_or(0);
        by_rule.insert(r.clone(), n as i64);
    }
    Tally { paid, oop, household_oop, by_rule, any: any.len() as i64 }
}

/// Compares a draft with the policy in force. Both scenarios must have been built
/// over the same households.
pub fn compare(in_force: &Scenario, draft: &Scenario) -> Comparison {
    assert_eq!(in_force.counties, draft.counties, "both scenarios must be built over the same households");
    let rules: BTreeSet<String> = in_force.alerts.keys().chain(draft.alerts.keys()).cloned().collect();
    let mut order: Vec<(Option<RegionCode>, Option<u32>)> =
        in_force.counties.iter().enumerate().map(|(i, c)| (Some(*c), Some(i as u32))).collect();
    order.sort_by_key(|x| x.0);
    order.push((None, None));
    let mut rows = Vec::new();
    for (code, ci) in order {
        let a = tally(in_force, ci, &rules);
        let b = tally(draft, ci, &rules);
        let mut row = |item: String, x: Figure, y: Figure| {
            rows.push(ComparisonRow { county: code, item, in_force: Some(x), draft: Some(y), difference: y.minus(x) });
        };
        for f in Fund::ALL {
            row(format!("paid_{}", f.as_str()), Figure::Money(a.paid.get(f)), Figure::Money(b.paid.get(f)));
        }
        row("paid_total".into(), Figure::Money(a.paid.total()), Figure::Money(b.paid.total()));
        row("out_of_pocket".into(), Figure::Money(a.oop), Figure::Money(b.oop));
        row(
            "households_with_claims".into(),
            Figure::Count(a.household_oop.len() as i64),
            Figure::Count(b.household_oop.len() as i64),
        );
        for p in (10..=90).step_by(10) {
            row(
                format!("household_out_of_pocket_p{p}"),
                Figure::Money(percentile(&a.household_oop, p)),
                Figure::Money(percentile(&b.household_oop, p)),
            );
        }
        for r in &rules {
            row(format!("households_alerted_{r}"), Figure::Count(a.by_rule[r]), Figure::Count(b.by_rule[r]));
        }
        row("households_alerted_any_rule".into(), Figure::Count(a.any), Figure::Count(b.any));
        let kept_off = a.any - b.any;
        rows.push(ComparisonRow {
            county: code,
            item: "households_kept_off".into(),
            in_force: None,
            draft: None,
            difference: Figure::Count(kept_off),
        });
        let extra = b.paid.total() - a.paid.total();
        rows.push(ComparisonRow {
            county: code,
            item: "cost_per_household_kept_off".into(),
            in_force: None,
            draft: None,
            difference: Figure::Yuan((kept_off > 0).then(|| extra as f64 / 100.0 / kept_off as f64)),
        });
    }
    Comparison { rows }
}

impl Comparison {
    /// Whether every difference is zero (or undefined).
    pub fn is_unchanged(&self) -> bool {
        self.rows.iter().all(|r| matches!(r.difference, Figure::Money(0) | Figure::Count(0) | Figure::Yuan(None)))
    }

    fn county_text(r: &ComparisonRow) -> String {
        r.county.map(|c| c.short()).unwrap_or_else(|| "all".into())
    }

    /// `county, county_name, item, in_force, draft, difference`; money in yuan.
    pub fn write_csv<W: Write>(&self, names: &HashMap<RegionCode, String>, out: W) -> Result<(), ReportError> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(["county", "county_name", "item", "in_force", "draft", "difference"])?;
        for r in &self.rows {
            let name = r.county.and_then(|c| names.get(&c)).map(String::as_str).unwrap_or("");
            w.write_record([
                Self::county_text(r),
                name.to_string(),
                r.item.clone(),
                r.in_force.map(Figure::text).unwrap_or_default(),
                r.draft.map(Figure::text).unwrap_or_default(),
                r.difference.text(),
            ])?;
        }
        w.flush()?;
        Ok(())
    }

    /// The same table as a one-sheet workbook.
    pub fn write_xlsx<W: Write>(&self, names: &HashMap<RegionCode, String>, mut out: W) -> Result<(), ReportError> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let ws = wb.add_worksheet();
        ws.set_name("comparison")?;
        for (c, h) in ["county", "county_name", "item", "in_force", "draft", "difference"].iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (i, r) in self.rows.iter().enumerate() {
            let row = i as u32 + 1;
            ws.write_string(row, 0, Self::county_text(r))?;
            ws.write_string(row, 1, r.county.and_then(|c| names.get(&c)).map(String::as_str).unwrap_or(""))?;
            ws.write_string(row, 2, &r.item)?;
            for (c, f) in [(3u16, r.in_force), (4, r.draft), (5, Some(r.difference))] {
                if let Some(x) = f.and_then(Figure::number) {
                    ws.write_number(row, c, x)?;
                }
            }
        }
        ws.set_freeze_panes(1, 3)?;
        out.write_all(&wb.save_to_buffer()?)?;
        Ok(())
    }
}
