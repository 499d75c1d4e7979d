//! The programme indicators from facts kept in the store: a report sums the
//! stored facts of its scope instead of reading and recomputing the scope's
//! registry, claims and alerts, and a refresh recomputes only the villages whose
//! data changed since.
//!
//! The store keeps the facts and knows which villages and persons are stale
//! (`store::indicator_facts`); the `indicators` crate computes, encodes and
//! merges them (`indicators::stored`); this module wires the two. A year is kept
//! from the first report asked of it: its first build recomputes every county.
//! Each later refresh
//! - groups the stale villages into the code ranges it reads (a county when many
//!   of its villages are stale, else a township or the village alone) and
//!   replaces their facts of the registry and the alerts, in turns;
//! - first recomputes the claim facts of the stale persons from their own
//!   claims, and the store moves the difference into their villages' sums, in
//!   turns; since a household's spending measures add up its members' claims,
//!   the spending facts of the stale persons' households move in the same
//!   transaction, by the difference between the members' rows before and after;
//! - then the stale villages, whose households' spending is summed from the
//!   persons' kept claim facts (their out-of-pocket by month), just brought up
//!   to date, rather than from the claims again.
//!
//! The villages' reach, which depends on the whole network, is measured again
//! when the network changed or, for the year under way, each day.

use crate::analysis::{
    claim_facts_by_person, coverage_day, network_facts, registry_alert_facts, report_of_facts, PersonClaimFacts,
    Report, ReportFrame,
};
use crate::model::{ClaimSettlement, IndicatorData, NetworkData};
use chrono::{Datelike, NaiveDate};
use domain::{CountyGroup, RegionCode, RegionLevel};
use indicators::extract::Registry;
use indicators::{stored, Compare, Comparisons, Definitions, Fact, PeriodKind};
use std::collections::HashMap;
use std::sync::Arc;
use store::{FactsWrite, PersonFacts, PersonsWrite, Scope, Store, YearFacts};

/// One refresh at a time in this process (another process may run one too: its
/// writes replace the same ranges with the same facts).
static REFRESHING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A village's share of a 12-digit code, a township's, a county's.
const TOWNSHIP: i64 = 1_000;
const COUNTY: i64 = 1_000_000;

/// With at least this many stale villages a county is read whole.
const COUNTY_AT: usize = 24;
/// With at least this many stale villages a township is read whole.
const TOWNSHIP_AT: usize = 3;
/// A turn writes once it holds facts of this many villages.
const VILLAGES_A_TURN: usize = 500;
/// A turn recomputes this many stale persons.
const PERSONS_A_TURN: usize = 10_000;

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Years built for the first time (every county).
    pub built: Vec<i32>,
    /// Code ranges read and recomputed.
    pub ranges: usize,
    /// Stale villages recomputed.
    pub stale: usize,
    /// Stale persons whose claim facts were recomputed.
    pub persons: usize,
    /// Village rows of facts written, over all years.
    pub rows: usize,
    /// Years whose villages' reach was measured again.
    pub coverage: Vec<i32>,
}

/// The code ranges to read for the stale villages (sorted codes): a county's
/// whole range where at least [`COUNTY_AT`] of its villages are stale, a
/// township's where at least [`TOWNSHIP_AT`] are, else the village's own.
pub fn ranges_of(stale: &[i64]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < stale.len() {
        let county = stale[i] / COUNTY;
        let end = i + stale[i..].partition_point(|v| v / COUNTY == county);
        if end - i >= COUNTY_AT {
            out.push((county * COUNTY, county * COUNTY + COUNTY - 1));
        } else {
            let mut j = i;
            while j < end {
                let town = stale[j] / TOWNSHIP;
                let tend = j + stale[j..end].partition_point(|v| v / TOWNSHIP == town);
                if tend - j >= TOWNSHIP_AT {
                    out.push((town * TOWNSHIP, town * TOWNSHIP + TOWNSHIP - 1));
                } else {
                    out.extend(stale[j..tend].iter().map(|&v| (v, v)));
                }
                j = tend;
            }
        }
        i = end;
    }
    out.dedup();
    out
}

/// The scope of a range made by [`ranges_of`] or of a county.
fn scope_of(range: (i64, i64)) -> Result<Scope, String> {
    let digits = match range.1 - range.0 {
        0 => 12,
        d if d == TOWNSHIP - 1 => 9,
        d if d == COUNTY - 1 => 6,
        _ => return Err(format!("the code range {}..{} is not a village, township or county", range.0, range.1)),
    };
    Scope::new(&format!("{:012}", range.0)[..digits]).map_err(|e| e.to_string())
}

/// The years a report may keep: from 2000 to next year.
pub fn check_year(year: i32, today: NaiveDate) -> Result<(), String> {
    if (2000..=today.year() + 1).contains(&year) {
        Ok(())
    } else {
        Err(format!("the year {year} is outside 2000 to {}: no indicators are kept for it", today.year() + 1))
    }
}

/// Each person's claim facts, encoded.
fn person_rows(facts: Vec<PersonClaimFacts>) -> Vec<PersonFacts> {
    facts
        .into_iter()
        .map(|p| PersonFacts {
            person: p.person.as_u64() as i64,
            village: p.village.as_u64() as i64,
            facts: stored::encode(&p.facts),
            unsettled: p.unsettled as i64,
        })
        .collect()
}

/// Sums a village's encoded claim facts (the store's [`store::Merge`]).
pub(crate) fn merge(
    village: i64,
    kept: Option<&[u8]>,
    minus: &[&[u8]],
    plus: &[&[u8]],
) -> Result<Option<Vec<u8>>, String> {
    let v = RegionCode::from_u64(village as u64).map_err(|e| format!("a kept village code {village}: {e}"))?;
    stored::merge(v, kept, minus, plus).map_err(|e| e.to_string())
}

/// The out-of-pocket spending in each person's kept claim facts, by month (the
/// first day of the month standing for its claims' days of discharge).
fn spending_of_kept<'a>(
    rows: impl IntoIterator<Item = (i64, i64, &'a [u8])>,
) -> Result<Vec<indicators::extract::Spending>, String> {
    let mut out = Vec::new();
    let mut facts = Vec::new();
    for (person, village, bytes) in rows {
        let v = RegionCode::from_u64(village as u64).map_err(|e| format!("a kept village code {village}: {e}"))?;
        let person = domain::ResidentId::from_u64(person as u64).map_err(|e| format!("a kept person {person}: {e}"))?;
        facts.clear();
        stored::decode_into(v, bytes, &mut facts).map_err(|e| e.to_string())?;
        for f in facts.iter().filter(|f| f.measure == indicators::Measure::OutOfPocket) {
            let day = NaiveDate::from_ymd_opt(f.month.year(), f.month.month(), 1).ok_or("a kept month out of range")?;
            out.push(indicators::extract::Spending { person, discharged: day, out_of_pocket: domain::Fen(f.value) });
        }
    }
    Ok(out)
}

/// A village's spending facts before and after a write, encoded: `(village, before, after)`.
type SpendingMove = (i64, Vec<u8>, Vec<u8>);

/// The spending facts of `year` of the households of `registry` (those of the
/// persons a refresh rewrites, with all their members) from the members' claim
/// rows `before` and `after` the write, by village: what
/// [`Store::write_person_facts`] moves each village's facts by.
fn household_spending(
    registry: &Registry,
    year: i32,
    before: &HashMap<i64, Vec<u8>>,
    after: &HashMap<i64, Vec<u8>>,
) -> Result<Vec<SpendingMove>, String> {
    let by_village = |rows: &HashMap<i64, Vec<u8>>| -> Result<std::collections::BTreeMap<RegionCode, Vec<u8>>, String> {
        // Each member's row, under the member's village (for the errors only).
        let mut with_village = Vec::with_capacity(rows.len());
        for (person, bytes) in rows {
            let id =
                domain::ResidentId::from_u64(*person as u64).map_err(|e| format!("a kept person {person}: {e}"))?;
            if let Some((village, _)) = registry.person(&id) {
                with_village.push((*person, village.as_u64() as i64, bytes.as_slice()));
            }
        }
        let spending = spending_of_kept(with_village)?;
        let facts =
            indicators::extract::spending_facts(registry, &spending, indicators::extract::SOCIETAL_POVERTY_LINE, year);
        Ok(stored::by_village(&facts))
    };
    let (old, new) = (by_village(before)?, by_village(after)?);
    let none = stored::encode(&[]);
    let mut villages: Vec<&RegionCode> = old.keys().chain(new.keys()).collect();
    villages.sort();
    villages.dedup();
    Ok(villages
        .into_iter()
        .filter(|v| old.get(*v) != new.get(*v))
        .map(|v| {
            let o = old.get(v).cloned().unwrap_or_else(|| none.clone());
            let n = new.get(v).cloned().unwrap_or_else(|| none.clone());
            (v.as_u64() as i64, o, n)
        })
        .collect())
}

/// The facts of `year` in the range's villages: those of the registry, the
/// alerts, the cases and the households' spending, encoded by village, and with
/// `claims` those of each person's claims (then the spending is taken from the
/// claims read; else from the persons' kept claim facts).
async fn facts_of(store: &Store, range: (i64, i64), year: i32, claims: bool) -> Result<YearFacts, String> {
    let scope = scope_of(range)?;
    let t = std::time::Instant::now();
    let inputs =
        if claims { store.report_inputs(&scope, year).await } else { store.registry_report_inputs(&scope, year).await }
            .map_err(|e| e.to_string())?;
    let kept = match claims {
        true => Vec::new(),
        false => store.kept_person_facts(&scope, year).await.map_err(|e| e.to_string())?,
    };
    let read = t.elapsed();
    let mut data = crate::service::indicator_data_from(inputs);
    let facts = tokio::task::spawn_blocking(move || {
        if !claims {
            data.spending = spending_of_kept(kept.iter().map(|(p, v, b)| (*p, *v, b.as_slice())))?;
        }
        let registry = crate::analysis::registry_of(&data)?;
        let local = registry_alert_facts(&data, &registry, year)?;
        let rows = stored::by_village(&local).into_iter().map(|(v, b)| (v.as_u64() as i64, b)).collect();
        let claims = match claims {
            true => Some(person_rows(claim_facts_by_person(&data, &registry, year)?)),
            false => None,
        };
        Ok::<_, String>(YearFacts { year, rows, claims })
    })
    .await
    .map_err(|e| format!("computing the indicator facts failed: {e}"))??;
    tracing::debug!(scope = scope.prefix(), year, ?read, computed = ?(t.elapsed() - read), "indicator facts of a range");
    Ok(facts)
}

/// The claim facts of `year` of the persons `ids`, from their own claims; a
/// person without claims of the year (or no longer registered) has none.
/// `facilities` are the registered facilities' regions, read once per refresh.
async fn person_facts_of(
    store: &Store,
    ids: &[i64],
    year: i32,
    facilities: Arc<Vec<(String, RegionCode)>>,
) -> Result<Vec<PersonFacts>, String> {
    let inputs = store.person_claim_inputs(ids, year).await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || {
        let mut payments = inputs.payments;
        let settlements = inputs
            .out_of_pocket
            .into_iter()
            .map(|(id, out_of_pocket)| {
                let payments = payments.remove(&id).unwrap_or_default();
                (id, ClaimSettlement { payments, out_of_pocket })
            })
            .collect();
        let data = IndicatorData {
            households: inputs.households,
            persons: inputs.persons,
            claims: inputs.claims,
            settlements,
            facilities: facilities.to_vec(),
            ..IndicatorData::default()
        };
        let registry = crate::analysis::registry_of(&data)?;
        Ok(person_rows(claim_facts_by_person(&data, &registry, year)?))
    })
    .await
    .map_err(|e| format!("computing the indicator facts of persons failed: {e}"))?
}

/// Brings the kept indicator facts up to date: starts keeping `want` (if given),
/// builds the years not yet built, recomputes the stale villages of the others,
/// and measures the reach again where it is out of date. `write` is the turn to
/// write, where writes take turns (SQLite), held for each write only.
pub async fn refresh(
    store: &Store,
    want: Option<i32>,
    today: NaiveDate,
    write: Option<&tokio::sync::Mutex<()>>,
) -> Result<Refreshed, String> {
    let _one = REFRESHING.lock().await;
    let started = std::time::Instant::now();
    let err = |e: store::StoreError| e.to_string();
    if let Some(y) = want {
        check_year(y, today)?;
        store.keep_indicator_year(y).await.map_err(err)?;
    }
    let years = store.indicator_years().await.map_err(err)?;
    let mut done = Refreshed::default();
    if years.is_empty() {
        return Ok(done);
    }
    let marks = store.indicator_dirty().await.map_err(err)?;
    let persons = store.indicator_dirty_persons().await.map_err(err)?;
    let built: Vec<i32> = years.iter().filter(|y| !y.complete).map(|y| y.year).collect();
    let all: Vec<i32> = years.iter().map(|y| y.year).collect();
    let ranges: Vec<(i64, i64)> = if built.is_empty() {
        let stale: Vec<i64> = marks.iter().map(|m| m.0).collect();
        ranges_of(&stale)
    } else {
        // A first build: every county with households, and those of the marks
        // (whose villages may have lost theirs), for every year kept.
        let mut counties = store.counties_with_households().await.map_err(err)?;
        counties.extend(marks.iter().map(|m| m.0 / COUNTY * COUNTY));
        counties.sort_unstable();
        counties.dedup();
        counties.into_iter().map(|c| (c, c + COUNTY - 1)).collect()
    };
    let first = !built.is_empty();
    if !first && !persons.is_empty() {
        // The persons whose claims, settlements or registry entries changed,
        // first: the villages recomputed next sum their households' spending
        // from these persons' kept claim facts.
        let facilities = Arc::new(store.facility_regions().await.map_err(err)?);
        for part in persons.chunks(PERSONS_A_TURN) {
            let ids: Vec<i64> = part.iter().map(|m| m.0).collect();
            let t = std::time::Instant::now();
            // Their households and every member: their spending moves with the rows.
            let (households, members) = store.households_of_persons(&ids).await.map_err(err)?;
            let registry = Registry::new(&households, &members).map_err(|e| e.to_string())?;
            let member_ids = members.iter().map(|p| p.person_id.as_u64() as i64).collect();
            let mut w = PersonsWrite { persons: ids, years: Vec::new(), clear: part.to_vec(), members: member_ids };
            for &year in &all {
                let rows = person_facts_of(store, &w.persons, year, facilities.clone()).await?;
                w.years.push((year, rows));
            }
            let computed = t.elapsed();
            let _turn = take(write).await;
            let spending = |year: i32, before: &HashMap<i64, Vec<u8>>, after: &HashMap<i64, Vec<u8>>| {
                household_spending(&registry, year, before, after)
            };
            store.write_person_facts(&w, &merge, Some(&spending)).await.map_err(err)?;
            tracing::debug!(persons = part.len(), ?computed, written = ?(t.elapsed() - computed), "claim facts of persons");
            done.persons += part.len();
        }
    }
    done.built = built.clone();
    done.ranges = ranges.len();
    done.stale = marks.len();
    let mut turn = FactsWrite::default();
    let mut held = 0;
    for (i, &range) in ranges.iter().enumerate() {
        for &year in &all {
            let facts = facts_of(store, range, year, first).await?;
            held += facts.rows.len() + facts.claims.as_ref().map_or(0, |c| c.len() / 100);
            match turn.years.iter_mut().find(|y| y.year == year) {
                Some(y) => {
                    y.rows.extend(facts.rows);
                    if let (Some(to), Some(from)) = (&mut y.claims, facts.claims) {
                        to.extend(from);
                    }
                }
                None => turn.years.push(facts),
            }
        }
        turn.ranges.push(range);
        let from = marks.partition_point(|m| m.0 < range.0);
        let to = marks.partition_point(|m| m.0 <= range.1);
        turn.clear.extend_from_slice(&marks[from..to]);
        let last = i + 1 == ranges.len();
        if held >= VILLAGES_A_TURN || last {
            if last && first {
                // Every person's claim facts were read after the marks were: the
                // build holds what they marked.
                turn.completes = built.clone();
                turn.clear_persons = persons.clone();
            }
            done.rows += turn.years.iter().map(|y| y.rows.len()).sum::<usize>();
            let _turn = take(write).await;
            store.write_indicator_facts(&turn, &merge).await.map_err(err)?;
            turn = FactsWrite::default();
            held = 0;
        }
    }
    if ranges.is_empty() && first {
        // Nothing to build (no households): the years are complete as they are.
        let turn = FactsWrite { completes: built, clear_persons: persons.clone(), ..FactsWrite::default() };
        store.write_indicator_facts(&turn, &merge).await.map_err(err)?;
    }
    // The villages' reach, where it was measured on another day or not since the
    // network changed.
    let mut stale = Vec::new();
    for y in &years {
        let day = coverage_day(y.year, today)?;
        if y.coverage_as_of != Some(day) {
            stale.push((y.year, day));
        }
    }
    if !stale.is_empty() {
        let n = store.network_history(&Scope::all()).await.map_err(err)?;
        let network = NetworkData {
            regions: n.regions,
            facilities: n.facilities,
            practitioners: n.practitioners,
            postings: n.postings,
            qualifications: n.qualifications,
        };
        for (year, day) in stale {
            let net = network.clone();
            let t = std::time::Instant::now();
            let measured = tokio::task::spawn_blocking(move || network_facts(net, year, day))
                .await
                .map_err(|e| format!("measuring the villages' reach failed: {e}"))?;
            let (rows, note): (Vec<(i64, Vec<u8>)>, Option<String>) = match measured {
                Ok(facts) => {
                    (stored::by_village(&facts).into_iter().map(|(v, b)| (v.as_u64() as i64, b)).collect(), None)
                }
                Err(e) => (Vec::new(), Some(e)),
            };
            let _turn = take(write).await;
            store.write_indicator_coverage(year, day, note.as_deref(), &rows).await.map_err(err)?;
            tracing::debug!(year, elapsed = ?t.elapsed(), "measured the villages' reach for the indicators");
            done.coverage.push(year);
        }
    }
    if done != Refreshed::default() {
        tracing::info!(
            built = ?done.built,
            ranges = done.ranges,
            villages = done.stale,
            persons = done.persons,
            coverage = ?done.coverage,
            elapsed = ?started.elapsed(),
            "refreshed the kept indicator facts"
        );
    }
    Ok(done)
}

/// The turn to write, where writes take turns.
async fn take(write: Option<&tokio::sync::Mutex<()>>) -> Option<tokio::sync::MutexGuard<'_, ()>> {
    match write {
        Some(m) => Some(m.lock().await),
        None => None,
    }
}

/// Decodes kept facts.
fn decode(rows: &[(i64, Vec<u8>)], out: &mut Vec<Fact>) -> Result<(), String> {
    for (v, bytes) in rows {
        let village = RegionCode::from_u64(*v as u64).map_err(|e| format!("a kept village code {v}: {e}"))?;
        stored::decode_into(village, bytes, out).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The report of `year` for the rows inside `scope` (a code prefix), from the
/// kept facts, refreshed first.
#[allow(clippy::too_many_arguments)]
pub async fn report(
    store: &Store,
    defs: Definitions,
    scope: &str,
    year: i32,
    levels: Vec<RegionLevel>,
    period: PeriodKind,
    today: NaiveDate,
    write: Option<&tokio::sync::Mutex<()>>,
) -> Result<Report, String> {
    report_compared(store, defs, scope, year, levels, period, Comparisons::NONE, CountyGroup::All, today, write).await
}

/// The report of `year` as [`report`] draws it, and with `compare` each row
/// beside the same period of the year before, from that year's kept facts
/// (kept from now on, and built with this year's if they were not), and beside
/// its province's and the nation's values, from the whole country's kept facts
/// (read here for their sums alone: no row or sum of another region leaves
/// this function). With `counties`, only the facts of the villages of those
/// counties are summed, in the wider regions too.
#[allow(clippy::too_many_arguments)]
pub async fn report_compared(
    store: &Store,
    defs: Definitions,
    scope: &str,
    year: i32,
    levels: Vec<RegionLevel>,
    period: PeriodKind,
    compare: Comparisons,
    counties: CountyGroup,
    today: NaiveDate,
    write: Option<&tokio::sync::Mutex<()>>,
) -> Result<Report, String> {
    let err = |e: store::StoreError| e.to_string();
    if compare.previous_year {
        // Kept before the refresh, so that one build makes both years.
        check_year(year - 1, today)?;
        store.keep_indicator_year(year - 1).await.map_err(err)?;
    }
    refresh(store, Some(year), today, write).await?;
    let s = Scope::new(scope).map_err(err)?;
    let kept = store.indicator_facts(&s, year).await.map_err(err)?;
    // With the regions, the whole country's facts, for their sums alone.
    let wide = match compare.regions {
        true => Some(store.indicator_facts(&Scope::all(), year).await.map_err(err)?),
        false => None,
    };
    let before = match compare.previous_year {
        true => Some(store.indicator_facts(&s, year - 1).await.map_err(err)?),
        false => None,
    };
    let names = store.region_names(&s).await.map_err(err)?;
    let unsettled = kept.unsettled.max(0) as usize;
    let (local, coverage) = (kept.local, kept.coverage);
    let coverage_note =
        store.indicator_years().await.map_err(err)?.into_iter().find(|y| y.year == year).and_then(|y| y.coverage_note);
    let frame = ReportFrame { scope: scope.to_string(), year, levels, period, names, unsettled, coverage_note };
    tokio::task::spawn_blocking(move || {
        let mut facts = Vec::new();
        decode(&local, &mut facts)?;
        decode(&coverage, &mut facts)?;
        facts.retain(|f| counties.keeps(f.village));
        let mut r = report_of_facts(defs, &facts, frame);
        if let Some(before) = before {
            facts.clear();
            decode(&before.local, &mut facts)?;
            decode(&before.coverage, &mut facts)?;
            facts.retain(|f| counties.keeps(f.village));
            r.compare_with(Compare::PreviousYear, &facts);
        }
        if let Some(wide) = wide {
            facts.clear();
            decode(&wide.local, &mut facts)?;
            decode(&wide.coverage, &mut facts)?;
            facts.retain(|f| counties.keeps(f.village));
            r.compare_with(Compare::Regions, &facts);
        }
        Ok(r)
    })
    .await
    .map_err(|e| format!("building the report failed: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_villages_are_read_by_village_township_or_county() {
        let county = 341_122_000_000i64;
        // Two villages of one township, three of another, one alone elsewhere.
        let mut stale = vec![county + 100_201, county + 100_202, county + 101_201, county + 101_202, county + 101_203];
        stale.push(341_123_100_201);
        assert_eq!(
            ranges_of(&stale),
            vec![
                (county + 100_201, county + 100_201),
                (county + 100_202, county + 100_202),
                (county + 101_000, county + 101_999),
                (341_123_100_201, 341_123_100_201),
            ]
        );
        let many: Vec<i64> = (0..COUNTY_AT as i64).map(|i| county + 100_000 + i * 1000 + 201).collect();
        assert_eq!(ranges_of(&many), vec![(county, county + COUNTY - 1)]);
        for r in ranges_of(&stale).into_iter().chain(ranges_of(&many)) {
            let (lo, hi) = scope_of(r).unwrap().code_range();
            assert_eq!((lo, hi), r);
        }
    }

    #[test]
    fn years_far_off_are_not_kept() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert!(check_year(2024, today).is_ok());
        assert!(check_year(2027, today).is_ok());
        assert!(check_year(2028, today).unwrap_err().contains("2028"));
        assert!(check_year(1999, today).is_err());
    }
}
