//! Times an incremental refresh of a province-scale indicator cube: 25 thousand
//! villages x 12 months filled from a base of settled claims, then 10 thousand new
//! claims extracted into facts and applied as a delta, against a full rebuild.
//!
//! `cargo run --release -p indicators --example refresh_bench -- [BASE_CLAIMS] [NEW_CLAIMS]`

use chrono::{Duration, NaiveDate};
use domain::{
    Catalogue, Claim, ClaimKind, FacilityLevel, Fen, Household, Person, PovertyStatus, RegionCode, RegionLevel,
    ResidentId,
};
use indicators::extract::{ClaimLedger, FundAmounts, Registry, SettledClaim};
use indicators::report::{self, ReportSpec};
use indicators::{Definitions, IndicatorCube, Period, PeriodKind};
use std::time::Instant;

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn villages() -> Vec<RegionCode> {
    let mut v = Vec::new();
    for city in 1..=16u64 {
        for county in 1..=8u64 {
            for town in 1..=15u64 {
                for village in 1..=13u64 {
                    let code = 34 * 10_000_000_000 + city * 100_000_000 + county * 1_000_000 + town * 1_000 + village;
                    v.push(RegionCode::from_u64(code).unwrap());
                }
            }
        }
    }
    v
}

fn claims(rng: &mut Rng, persons: &[Person], n: usize, start: usize) -> Vec<(Claim, FundAmounts, Fen)> {
    let d0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    (0..n)
        .map(|i| {
            let p = &persons[rng.below(persons.len() as u64) as usize];
            let day = d0 + Duration::days(rng.below(366) as i64);
            let total = 10_000 + rng.below(2_000_000) as i64;
            let eligible = total * 8 / 10;
            let basic = eligible * 6 / 10;
            let claim = Claim {
                claim_id: format!("C{}", start + i),
                person_id: p.person_id,
                facility_level: FacilityLevel::ALL[rng.below(6) as usize],
                kind: ClaimKind::ALL[rng.below(3) as usize],
                admitted: day,
                discharged: day,
                total_cost: Fen(total),
                eligible_cost: Fen(eligible),
                diagnosis: String::new(),
                facility_id: String::new(),
                referred: false,
            };
            (claim, FundAmounts([basic, 0, eligible / 10, 0, 0]), Fen(total - basic - eligible / 10))
        })
        .collect()
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let base_n = args.first().copied().unwrap_or(2_000_000);
    let new_n = args.get(1).copied().unwrap_or(10_000);
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    let vs = villages();
    let t = Instant::now();
    // 16 households a village, 4 persons a household: 400 thousand households.
    let mut households = Vec::new();
    let mut persons = Vec::new();
    let birth0 = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap();
    for (vi, v) in vs.iter().enumerate() {
        for h in 0..16 {
            let hid = format!("H{vi}-{h}");
            households.push(Household {
                household_id: hid.clone(),
                village_code: *v,
                size: 4,
                income: Fen(4_000_000),
                consumption: None,
                food: None,
            });
            for k in 0..4u64 {
                let n = persons.len() as u64;
                let status = PovertyStatus::ALL[rng.below(5) as usize];
                let diagnoses = match rng.below(20) {
                    0 => vec!["C16.9".to_string()],
                    1 | 2 => vec!["I10".to_string()],
                    _ => vec![],
                };
                persons.push(Person {
                    person_id: ResidentId::from_parts(
                        340102,
                        birth0 + Duration::days((n / 1000) as i64),
                        (n % 1000) as u16,
                    )
                    .unwrap(),
                    household_id: hid.clone(),
                    name: format!("P{n}-{k}"),
                    status,
                    status_since: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                    diagnoses,
                });
            }
        }
    }
    let registry = Registry::new(&households, &persons).unwrap();
    eprintln!(
        "registry: {} villages, {} households, {} persons in {:.2?}",
        vs.len(),
        households.len(),
        persons.len(),
        t.elapsed()
    );

    let defs = Definitions::shipped();
    let serious = Catalogue::serious();
    let base = claims(&mut rng, &persons, base_n, 0);
    let new = claims(&mut rng, &persons, new_n, base_n);
    // Every village and month gets a cell: a stock fact per village in every month.
    let stocks: Vec<indicators::Fact> = vs
        .iter()
        .flat_map(|v| {
            (1..=12).map(move |m| indicators::Fact {
                village: *v,
                month: indicators::Month::new(2024, m),
                slice: indicators::Slice::NONE,
                measure: indicators::Measure::Villages,
                value: if m == 1 { 1 } else { 0 },
            })
        })
        .collect();

    let t = Instant::now();
    let mut ledger = ClaimLedger::new(&persons, &serious, 2024);
    let mut facts = ledger.facts(&registry, &settled(&base)).unwrap();
    facts.extend(stocks.iter().copied());
    let mut cube = IndicatorCube::build(&defs, &facts);
    let build = t.elapsed();
    let cells = cube.regions(RegionLevel::Village).len() * cube.months().len();
    eprintln!(
        "base cube: {base_n} claims, {} facts, {} village-month cells, {} columns, built in {build:.2?}",
        facts.len(),
        cells,
        cube.columns().len()
    );

    let t = Instant::now();
    let delta = ledger.facts(&registry, &settled(&new)).unwrap();
    let extract = t.elapsed();
    let t = Instant::now();
    let stats = cube.apply_delta(&delta);
    let apply = t.elapsed();
    eprintln!(
        "refresh: {new_n} new claims -> {} facts extracted in {extract:.2?}, applied in {apply:.2?} ({} cell additions); total {:.2?}",
        delta.len(),
        stats.additions,
        extract + apply
    );

    let t = Instant::now();
    let spec = ReportSpec {
        levels: vec![RegionLevel::Province, RegionLevel::City, RegionLevel::County],
        periods: Period::of_year(2024, PeriodKind::Quarter),
        scope: String::new(),
    };
    let rows = report::build(&cube, &spec);
    let mut csv = Vec::new();
    report::write_csv(
        &defs,
        &rows,
        &Default::default(),
        &indicators::Targets::shipped(),
        indicators::Comparisons::NONE,
        &mut csv,
    )
    .unwrap();
    eprintln!(
        "query: {} rows (province, cities, counties x 4 quarters x {} indicators) in {:.2?}",
        rows.len(),
        defs.indicators.len(),
        t.elapsed()
    );

    // The refreshed cube equals a rebuild from all claims.
    let t = Instant::now();
    let mut all = base;
    all.extend(new);
    let mut f2 = ClaimLedger::new(&persons, &serious, 2024).facts(&registry, &settled(&all)).unwrap();
    f2.extend(stocks);
    let rebuilt = IndicatorCube::build(&defs, &f2);
    let rebuild = t.elapsed();
    let same = (0..defs.indicators.len()).all(|i| {
        cube.regions(RegionLevel::County).iter().all(|c| {
            Period::of_year(2024, PeriodKind::Month)
                .iter()
                .all(|p| cube.indicator(i, *c, *p) == rebuilt.indicator(i, *c, *p))
        })
    });
    eprintln!("full rebuild from {} claims: {rebuild:.2?}; refreshed cube equals rebuild: {same}", all.len());
    assert!(same);
}

fn settled(v: &[(Claim, FundAmounts, Fen)]) -> Vec<SettledClaim<'_>> {
    v.iter().map(|(c, p, o)| SettledClaim { claim: c, paid: *p, out_of_pocket: *o }).collect()
}
