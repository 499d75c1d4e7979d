//! The programme indicators' facts kept by year (migrations 3 and 4), so that a
//! report sums stored facts instead of reading and recomputing a whole scope's
//! registry, claims and alerts.
//!
//! The store keeps the facts as bytes it does not read (the `indicators` crate
//! computes, encodes and merges them; the web layer wires the two). What it owns
//! is keeping them current. The facts come in two parts:
//!
//! - **By village** (`indicator_facts`): the registry's stocks and the alerts.
//!   The writes that change a village's households, persons, alerts or
//!   contracts name the village in `indicator_dirty` (the store's triggers and
//!   unit of work do, see `fresh.rs`); a refresh recomputes those villages and
//!   replaces their rows, clearing the marks at the versions read
//!   ([`Store::write_indicator_facts`]).
//! - **By person** (`indicator_person_facts`), for the claims: a person's claim
//!   facts depend on the person and the person's own claims and settlements
//!   only. Writes of claims and settlements, and changes to a person or a
//!   household's village, name the persons in `indicator_dirty_persons`; a
//!   refresh recomputes those persons and moves the difference between their
//!   old and new facts into their villages' sums (`indicator_claim_facts`),
//!   inside the write transaction ([`Store::write_person_facts`]). So claims
//!   spread over a province cost what they hold, not a rebuild of every village
//!   they touch.
//!
//! A village or person marked again meanwhile stays dirty. A change to the
//! network (regions, facilities, practitioners) clears every year's
//! `coverage_as_of`, so the reach is measured again.

use crate::db::{begin_write, on_pool, Scope, Store};
use crate::error::{Ctx, StoreError};
use crate::settlements::{claim_from, ClaimTuple, CLAIM_COLS};
use crate::vals::{list, placeholders, Val};
use chrono::NaiveDate;
use domain::{Claim, Fen, Household, Person};
use std::collections::{BTreeMap, HashMap};

/// On PostgreSQL, one writer of kept facts at a time (SQLite's write lock does
/// this there), for the transaction.
const ONE_WRITER: &str = "SELECT pg_advisory_xact_lock(7061968)";

/// A year whose facts are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorYear {
    pub year: i32,
    /// False until the first build of every village finished.
    pub complete: bool,
    /// The day the villages' reach was measured on; `None` when it must be
    /// measured (never yet, or the network changed since).
    pub coverage_as_of: Option<NaiveDate>,
    /// Why the reach could not be measured, when it could not.
    pub coverage_note: Option<String>,
}

/// Claim facts of a year summed over a village, or of one person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VillageFacts {
    pub village: i64,
    /// As `indicators::stored` encodes them.
    pub facts: Vec<u8>,
    /// Claims of the year with no settlement (left out of the facts).
    pub unsettled: i64,
}

/// One person's claim facts of a year, counted in `village`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonFacts {
    pub person: i64,
    pub village: i64,
    /// As `indicators::stored` encodes them.
    pub facts: Vec<u8>,
    /// The person's claims of the year with no settlement.
    pub unsettled: i64,
}

/// The facts of one year over some code ranges, to replace what is kept there.
#[derive(Debug, Clone, Default)]
pub struct YearFacts {
    pub year: i32,
    /// `(village, bytes)` of the registry and the alerts; villages of the ranges
    /// not named here have none.
    pub rows: Vec<(i64, Vec<u8>)>,
    /// The claim facts of the persons of the ranges, when recomputed too (a
    /// first build); their villages' sums are made from them.
    pub claims: Option<Vec<PersonFacts>>,
}

/// The kept facts of a year inside a scope.
#[derive(Debug, Clone, Default)]
pub struct KeptFacts {
    /// `(village, bytes)` of the registry and the alerts, then of the claims.
    pub local: Vec<(i64, Vec<u8>)>,
    /// `(village, bytes)` of the villages' reach.
    pub coverage: Vec<(i64, Vec<u8>)>,
    /// Claims of the year with no settlement.
    pub unsettled: i64,
}

/// One refresh turn by village: the inclusive code ranges recomputed, the new
/// facts of each year there, the marks to clear (village or person, version
/// read), and the years whose first build this turn finishes.
#[derive(Debug, Clone, Default)]
pub struct FactsWrite {
    pub ranges: Vec<(i64, i64)>,
    pub years: Vec<YearFacts>,
    pub clear: Vec<(i64, i64)>,
    pub clear_persons: Vec<(i64, i64)>,
    pub completes: Vec<i32>,
}

/// One refresh turn by person: the persons recomputed, their new claim facts of
/// each year kept (a person without claims in a year has no row), and the marks
/// to clear (person, version read).
#[derive(Debug, Clone, Default)]
pub struct PersonsWrite {
    pub persons: Vec<i64>,
    pub years: Vec<(i32, Vec<PersonFacts>)>,
    pub clear: Vec<(i64, i64)>,
    /// Every member of the households the persons live in (the persons among
    /// them), whose rows the households' spending is summed from ([`HouseholdSpending`]).
    pub members: Vec<i64>,
}

/// The households' spending facts of the persons written, kept with their
/// villages' facts (`indicator_facts`) and moved with the rows: given a year
/// and each member's claim-fact row ([`PersonsWrite::members`]) before and after
/// the write, the households' spending facts before and after, encoded, by
/// village: `(village, before, after)`. The store reads the rows and moves
/// each village's facts by the difference inside the write's transaction.
pub type HouseholdSpending<'a> = &'a (dyn Fn(i32, &HashMap<i64, Vec<u8>>, &HashMap<i64, Vec<u8>>) -> Result<Vec<(i64, Vec<u8>, Vec<u8>)>, String>
         + Sync);

/// Sums encoded facts of a village: `(village, kept, minus, plus)` gives
/// `kept - Σ minus + Σ plus`, encoded, or `None` when nothing is left.
pub type Merge<'a> = &'a (dyn Fn(i64, Option<&[u8]>, &[&[u8]], &[&[u8]]) -> Result<Option<Vec<u8>>, String> + Sync);

/// What the claim facts of some persons are computed from.
#[derive(Debug, Clone, Default)]
pub struct PersonClaimInputs {
    pub persons: Vec<Person>,
    /// The households of the persons.
    pub households: Vec<Household>,
    /// The persons' unvoided claims of the year, by `(discharged, claim_id, facility_id)`.
    pub claims: Vec<Claim>,
    /// The out-of-pocket of each of those claims that is settled, by claim key.
    pub out_of_pocket: HashMap<domain::ClaimKey, Fen>,
    /// The payments of each settled claim, `(tier, amount)` in tier order.
    pub payments: HashMap<domain::ClaimKey, Vec<(String, Fen)>>,
}

/// Migration 21: the kept facts change form (claim facts sliced by facility
/// level, `indicators::stored::FORMAT` 3) and the villages' facts gain the
/// households' spending measures, so every kept fact is dropped and the years
/// kept stay kept, to be built again by the next refresh (their reach measured
/// again too).
pub(crate) const V21: &str = "DELETE FROM indicator_facts; DELETE FROM indicator_coverage; \
    DELETE FROM indicator_person_facts; DELETE FROM indicator_claim_facts; \
    DELETE FROM indicator_dirty; DELETE FROM indicator_dirty_persons; \
    UPDATE indicator_years SET complete = FALSE, coverage_as_of = NULL, coverage_note = NULL";

impl Store {
    /// The years whose facts are kept, by year.
    pub async fn indicator_years(&self) -> Result<Vec<IndicatorYear>, StoreError> {
        let ctx = "reading the years of kept indicator facts";
        let rows: Vec<(i64, bool, Option<NaiveDate>, Option<String>)> = on_pool!(self, p => {
            sqlx::query_as("SELECT year, complete, coverage_as_of, coverage_note FROM indicator_years ORDER BY year")
                .fetch_all(p)
                .await
                .ctx(ctx)?
        });
        Ok(rows
            .into_iter()
            .map(|(year, complete, coverage_as_of, coverage_note)| IndicatorYear {
                year: year as i32,
                complete,
                coverage_as_of,
                coverage_note,
            })
            .collect())
    }

    /// Starts keeping the facts of `year` (incomplete until a refresh builds every
    /// village); a no-op when it is kept already.
    pub async fn keep_indicator_year(&self, year: i32) -> Result<(), StoreError> {
        let ctx = format!("keeping the indicator facts of {year}");
        on_pool!(self, p => {
            sqlx::query("INSERT INTO indicator_years (year) VALUES ($1) ON CONFLICT (year) DO NOTHING")
                .bind(year as i64)
                .execute(p)
                .await
                .ctx(&ctx)?;
        });
        Ok(())
    }

    /// The villages whose indicator facts are stale, with the versions of their
    /// marks, by code.
    pub async fn indicator_dirty(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let ctx = "reading the villages whose indicator facts are stale";
        Ok(on_pool!(self, p => {
            sqlx::query_as("SELECT village_code, version FROM indicator_dirty ORDER BY village_code")
                .fetch_all(p)
                .await
                .ctx(ctx)?
        }))
    }

    /// The persons whose claim facts are stale, with the versions of their marks,
    /// by resident ID.
    pub async fn indicator_dirty_persons(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let ctx = "reading the persons whose indicator facts are stale";
        Ok(on_pool!(self, p => {
            sqlx::query_as("SELECT person_id, version FROM indicator_dirty_persons ORDER BY person_id")
                .fetch_all(p)
                .await
                .ctx(ctx)?
        }))
    }

    /// The latest year with a claim, if any (from the year's index).
    pub async fn latest_claim_year(&self) -> Result<Option<i32>, StoreError> {
        let ctx = "finding the latest year with claims";
        let year: Option<i64> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT MAX(year) FROM claims").fetch_one(p).await.ctx(ctx)?
        });
        Ok(year.map(|y| y as i32))
    }

    /// The county codes (12 digits) of every village with households, the units of
    /// a year's first build.
    pub async fn counties_with_households(&self) -> Result<Vec<i64>, StoreError> {
        let ctx = "listing the counties with households";
        Ok(on_pool!(self, p => {
            sqlx::query_scalar(
                "SELECT DISTINCT (village_code / 1000000) * 1000000 FROM households ORDER BY 1",
            )
            .fetch_all(p)
            .await
            .ctx(ctx)?
        }))
    }

    /// Replaces the kept facts of each year of `w` inside its ranges (the claim
    /// facts too where given, summing them by village with `merge`), clears the
    /// marks at the versions read, and marks the finished years complete, in one
    /// transaction.
    pub async fn write_indicator_facts(&self, w: &FactsWrite, merge: Merge<'_>) -> Result<(), StoreError> {
        let ctx = "writing the indicator facts";
        let pg = self.backend() == crate::db::Backend::Postgres;
        let max = self.max_binds();
        for y in &w.years {
            let villages = y.rows.iter().map(|r| r.0);
            let claims = y.claims.iter().flatten().map(|p| p.village);
            if let Some(v) = villages.chain(claims).find(|&v| !w.ranges.iter().any(|&(lo, hi)| lo <= v && v <= hi)) {
                return Err(StoreError::Invalid(format!("{ctx}: village {v} lies outside the ranges recomputed")));
            }
        }
        on_pool!(self, p => async {
            let mut tx = begin_write(p, ctx).await?;
            if pg {
                // One writer of kept facts at a time (SQLite's write lock does this there).
                sqlx::query(ONE_WRITER).execute(&mut *tx).await.ctx(ctx)?;
            }
            for y in &w.years {
                let mut tables = vec!["indicator_facts"];
                if y.claims.is_some() {
                    tables.extend(["indicator_claim_facts", "indicator_person_facts"]);
                }
                for table in tables {
                    for &(lo, hi) in &w.ranges {
                        sqlx::query(&format!("DELETE FROM {table} WHERE year = $1 AND village_code BETWEEN $2 AND $3"))
                            .bind(y.year as i64)
                            .bind(lo)
                            .bind(hi)
                            .execute(&mut *tx)
                            .await
                            .ctx(ctx)?;
                    }
                }
                for chunk in y.rows.chunks((max / 3).max(1)) {
                    let sql = format!(
                        "INSERT INTO indicator_facts (year, village_code, facts) VALUES {}",
                        placeholders(chunk.len(), 3)
                    );
                    let mut q = sqlx::query(&sql);
                    for (v, facts) in chunk {
                        q = q.bind(y.year as i64).bind(*v).bind(facts.as_slice());
                    }
                    q.execute(&mut *tx).await.ctx(ctx)?;
                }
                if let Some(rows) = &y.claims {
                    // A person counted outside the ranges (moved since that range was
                    // built) leaves that village's sum as the row moves here.
                    let persons: Vec<i64> = rows.iter().map(|r| r.person).collect();
                    put_persons!(tx, y.year as i64, &persons, rows, merge, max, ctx);
                }
            }
            // Cleared at the versions read: a village marked again meanwhile stays dirty.
            crate::fresh::clear_marks(&mut tx, "indicator_dirty", "village_code", &w.clear, ctx).await?;
            crate::fresh::clear_marks(&mut tx, "indicator_dirty_persons", "person_id", &w.clear_persons, ctx).await?;
            for y in &w.completes {
                sqlx::query("UPDATE indicator_years SET complete = TRUE WHERE year = $1")
                    .bind(*y as i64)
                    .execute(&mut *tx)
                    .await
                    .ctx(ctx)?;
            }
            tx.commit().await.ctx(ctx)?;
            Ok(())
        }.await)
    }

    /// Replaces the claim facts of the persons of `w` in every year it names and
    /// moves the difference into their villages' sums with `merge`, then clears
    /// the persons' marks at the versions read, in one transaction: the old facts
    /// are read inside it, so the sums stay those of the persons' rows whatever
    /// else writes meanwhile.
    ///
    /// With `spending`, the households' spending facts of the members' villages
    /// move too: the members' rows are read before and after inside the same
    /// transaction, and each village's facts move by the difference.
    pub async fn write_person_facts(
        &self,
        w: &PersonsWrite,
        merge: Merge<'_>,
        spending: Option<HouseholdSpending<'_>>,
    ) -> Result<(), StoreError> {
        let ctx = "writing the indicator facts of persons";
        let pg = self.backend() == crate::db::Backend::Postgres;
        let max = self.max_binds();
        let per = (max - 1).max(1);
        on_pool!(self, p => async {
            let mut tx = begin_write(p, ctx).await?;
            if pg {
                sqlx::query(ONE_WRITER).execute(&mut *tx).await.ctx(ctx)?;
            }
            for (year, rows) in &w.years {
                // The members' rows before, read inside the transaction.
                let mut before: HashMap<i64, Vec<u8>> = HashMap::new();
                if spending.is_some() {
                    for part in w.members.chunks(per) {
                        let sql = format!(
                            "SELECT person_id, facts FROM indicator_person_facts WHERE year = $1 AND person_id IN ({})",
                            list(2, part.len())
                        );
                        let mut q = sqlx::query_as(&sql).bind(*year as i64);
                        for id in part {
                            q = q.bind(*id);
                        }
                        let got: Vec<(i64, Vec<u8>)> = q.fetch_all(&mut *tx).await.ctx(ctx)?;
                        before.extend(got);
                    }
                }
                put_persons!(tx, *year as i64, &w.persons, rows, merge, max, ctx);
                let Some(spending) = spending else { continue };
                let mut after = before.clone();
                for id in &w.persons {
                    after.remove(id);
                }
                after.extend(rows.iter().map(|r| (r.person, r.facts.clone())));
                let moved = spending(*year, &before, &after)
                    .map_err(|e| StoreError::Invalid(format!("{ctx}: the households' spending: {e}")))?;
                let villages: Vec<i64> = moved.iter().map(|m| m.0).collect();
                let mut kept: HashMap<i64, Vec<u8>> = HashMap::new();
                for part in villages.chunks(per) {
                    let sql = format!(
                        "SELECT village_code, facts FROM indicator_facts WHERE year = $1 AND village_code IN ({})",
                        list(2, part.len())
                    );
                    let mut q = sqlx::query_as(&sql).bind(*year as i64);
                    for v in part {
                        q = q.bind(*v);
                    }
                    let got: Vec<(i64, Vec<u8>)> = q.fetch_all(&mut *tx).await.ctx(ctx)?;
                    kept.extend(got);
                }
                for (village, old, new) in &moved {
                    let merged = merge(*village, kept.get(village).map(Vec::as_slice), &[old], &[new])
                        .map_err(|e| StoreError::Invalid(format!("{ctx}: village {village}: {e}")))?;
                    sqlx::query("DELETE FROM indicator_facts WHERE year = $1 AND village_code = $2")
                        .bind(*year as i64)
                        .bind(*village)
                        .execute(&mut *tx)
                        .await
                        .ctx(ctx)?;
                    if let Some(f) = merged {
                        sqlx::query("INSERT INTO indicator_facts (year, village_code, facts) VALUES ($1, $2, $3)")
                            .bind(*year as i64)
                            .bind(*village)
                            .bind(f.as_slice())
                            .execute(&mut *tx)
                            .await
                            .ctx(ctx)?;
                    }
                }
            }
            crate::fresh::clear_marks(&mut tx, "indicator_dirty_persons", "person_id", &w.clear, ctx).await?;
            tx.commit().await.ctx(ctx)?;
            Ok(())
        }.await)
    }

    /// The households `persons` live in now and every member of them (a person
    /// no longer registered has none): what the households' spending measures
    /// of persons whose claims changed are summed over.
    pub async fn households_of_persons(&self, persons: &[i64]) -> Result<(Vec<Household>, Vec<Person>), StoreError> {
        let (mut households, mut members) = (Vec::new(), Vec::new());
        for part in persons.chunks(2_000) {
            let ids: Vec<Val<'static>> = part.iter().map(|&id| Val::int(id)).collect();
            let cond = format!(
                "t.household_id IN (SELECT household_id FROM persons WHERE person_id IN ({}))",
                list(1, part.len())
            );
            households.extend(self.records_where::<Household>(&cond, ids.clone()).await?);
            members.extend(self.records_where::<Person>(&cond, ids).await?);
        }
        households.sort_by(|a, b| a.household_id.cmp(&b.household_id));
        households.dedup_by(|a, b| a.household_id == b.household_id);
        members.sort_by_key(|p| p.person_id);
        members.dedup_by_key(|p| p.person_id);
        Ok((households, members))
    }

    /// The kept claim facts of `year` of each person whose row names a village
    /// inside the scope, `(person, village, bytes)`: what the households'
    /// spending measures of those villages are summed from, once the stale
    /// persons' rows are recomputed (a person who moved is stale, and the
    /// recomputed row names the village the person lives in now).
    pub async fn kept_person_facts(&self, scope: &Scope, year: i32) -> Result<Vec<(i64, i64, Vec<u8>)>, StoreError> {
        let ctx = format!("reading the kept claim facts of persons of {year}");
        let (lo, hi) = scope.code_range();
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT person_id, village_code, facts FROM indicator_person_facts
             WHERE year = $1 AND village_code BETWEEN $2 AND $3",
        )
        .bind(year as i64)
        .bind(lo)
        .bind(hi)
        .fetch_all(p)
        .await
        .ctx(&ctx)?))
    }

    /// What the claim facts of `persons` in `year` are computed from.
    pub async fn person_claim_inputs(&self, persons: &[i64], year: i32) -> Result<PersonClaimInputs, StoreError> {
        let ctx = format!("reading the claims of {} person(s) in {year} for the indicators", persons.len());
        // Persons a query: each is a few index lookups.
        let per = 2_000;
        let mut out = PersonClaimInputs::default();
        for part in persons.chunks(per) {
            let ids: Vec<Val<'static>> = part.iter().map(|&id| Val::int(id)).collect();
            let cond = format!("t.person_id IN ({})", list(1, part.len()));
            out.persons.extend(self.records_where::<Person>(&cond, ids.clone()).await?);
            let cond = format!(
                "t.household_id IN (SELECT household_id FROM persons WHERE person_id IN ({}))",
                list(1, part.len())
            );
            out.households.extend(self.records_where::<Household>(&cond, ids).await?);
            // `$1` first: SQLite's own interface binds by the order of appearance.
            let ids = list(2, part.len());
            // A claim's settlement is read through the claim, whose person it
            // follows when the claim is corrected to another person, as the
            // report computed at once reads it.
            let claims_sql = format!(
                "SELECT {CLAIM_COLS} FROM claims c WHERE c.year = $1 AND c.person_id IN ({ids}) AND NOT c.voided"
            );
            let oop_sql = format!(
                "SELECT s.claim_id, s.facility_id, s.out_of_pocket FROM settlements s
                 JOIN claims c ON c.claim_id = s.claim_id AND c.facility_id = s.facility_id
                 WHERE c.year = $1 AND c.person_id IN ({ids}) AND NOT c.voided"
            );
            let pay_sql = format!(
                "SELECT sp.claim_id, sp.facility_id, sp.position, sp.tier, sp.amount FROM settlements s
                 JOIN claims c ON c.claim_id = s.claim_id AND c.facility_id = s.facility_id
                 JOIN settlement_payments sp ON sp.claim_id = s.claim_id AND sp.facility_id = s.facility_id
                 WHERE c.year = $1 AND c.person_id IN ({ids}) AND NOT c.voided"
            );
            // Each claim's tiers, put in the policy's order below.
            let mut pays = crate::report_inputs::TiersByClaim::default();
            let (claims, oop): (Vec<ClaimTuple>, Vec<(String, String, i64)>) = match &self.pool {
                // Through SQLite's own interface: sqlx's cost per row is most of a read's.
                crate::db::Pool::Sqlite(p) => {
                    let mut binds = vec![Val::int(year as i64)];
                    binds.extend(part.iter().map(|&id| Val::int(id)));
                    let (mut claims, mut oop) = (Vec::new(), Vec::new());
                    crate::raw::pool_each(p, &claims_sql, &binds, &ctx, |r| {
                        claims.push(crate::settlements::claim_tuple(r)?);
                        Ok(())
                    })
                    .await?;
                    crate::raw::pool_each(p, &oop_sql, &binds, &ctx, |r| {
                        oop.push((r.text(0)?.to_string(), r.text(1)?.to_string(), r.int(2)));
                        Ok(())
                    })
                    .await?;
                    crate::raw::pool_each(p, &pay_sql, &binds, &ctx, |r| pays.push(r)).await?;
                    (claims, oop)
                }
                crate::db::Pool::Pg(p) => {
                    let mut q = sqlx::query_as(&claims_sql).bind(year as i64);
                    for id in part {
                        q = q.bind(*id);
                    }
                    let claims = q.fetch_all(p).await.ctx(&ctx)?;
                    let mut q = sqlx::query_as(&oop_sql).bind(year as i64);
                    for id in part {
                        q = q.bind(*id);
                    }
                    let oop = q.fetch_all(p).await.ctx(&ctx)?;
                    let mut q = sqlx::query_as(&pay_sql).bind(year as i64);
                    for id in part {
                        q = q.bind(*id);
                    }
                    let rows: Vec<(String, String, i64, String, i64)> = q.fetch_all(p).await.ctx(&ctx)?;
                    for (claim_id, facility_id, position, tier, amount) in rows {
                        pays.0.entry(domain::ClaimKey { facility_id, claim_id }).or_default().push((
                            position,
                            tier,
                            Fen(amount),
                        ));
                    }
                    (claims, oop)
                }
            };
            for c in claims {
                out.claims.push(claim_from(c)?);
            }
            out.out_of_pocket.extend(
                oop.into_iter().map(|(claim_id, facility_id, a)| (domain::ClaimKey { facility_id, claim_id }, Fen(a))),
            );
            out.payments.extend(pays.in_order());
        }
        out.claims.sort_by(|a, b| {
            (a.discharged, &a.claim_id, &a.facility_id).cmp(&(b.discharged, &b.claim_id, &b.facility_id))
        });
        out.households.sort_by(|a, b| a.household_id.cmp(&b.household_id));
        out.households.dedup_by(|a, b| a.household_id == b.household_id);
        Ok(out)
    }

    /// Replaces every village's coverage facts of `year` with `rows`, measured on
    /// `as_of` (`note`: why they could not be measured, with `rows` empty).
    pub async fn write_indicator_coverage(
        &self,
        year: i32,
        as_of: NaiveDate,
        note: Option<&str>,
        rows: &[(i64, Vec<u8>)],
    ) -> Result<(), StoreError> {
        let ctx = format!("writing the coverage facts of {year}");
        let per = (self.max_binds() / 3).max(1);
        on_pool!(self, p => async {
            let mut tx = begin_write(p, &ctx).await?;
            sqlx::query("DELETE FROM indicator_coverage WHERE year = $1").bind(year as i64).execute(&mut *tx).await.ctx(&ctx)?;
            for chunk in rows.chunks(per) {
                let sql = format!(
                    "INSERT INTO indicator_coverage (year, village_code, facts) VALUES {}",
                    placeholders(chunk.len(), 3)
                );
                let mut q = sqlx::query(&sql);
                for (v, bytes) in chunk {
                    q = q.bind(year as i64).bind(*v).bind(bytes.as_slice());
                }
                q.execute(&mut *tx).await.ctx(&ctx)?;
            }
            sqlx::query("UPDATE indicator_years SET coverage_as_of = $1, coverage_note = $2 WHERE year = $3")
                .bind(as_of)
                .bind(note)
                .bind(year as i64)
                .execute(&mut *tx)
                .await
                .ctx(&ctx)?;
            tx.commit().await.ctx(&ctx)?;
            Ok(())
        }.await)
    }

    /// The kept facts of `year` inside the scope.
    pub async fn indicator_facts(&self, scope: &Scope, year: i32) -> Result<KeptFacts, StoreError> {
        let ctx = format!("reading the kept indicator facts of {year}");
        let (lo, hi) = scope.code_range();
        let read = |table: &str| {
            format!("SELECT village_code, facts FROM {table} WHERE year = $1 AND village_code BETWEEN $2 AND $3")
        };
        let (local_sql, coverage_sql) = (read("indicator_facts"), read("indicator_coverage"));
        Ok(on_pool!(self, p => {
            let mut local: Vec<(i64, Vec<u8>)> =
                sqlx::query_as(&local_sql).bind(year as i64).bind(lo).bind(hi).fetch_all(p).await.ctx(&ctx)?;
            let claims: Vec<(i64, Vec<u8>, i64)> = sqlx::query_as(
                "SELECT village_code, facts, unsettled FROM indicator_claim_facts
                 WHERE year = $1 AND village_code BETWEEN $2 AND $3",
            )
            .bind(year as i64)
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(&ctx)?;
            let coverage = sqlx::query_as(&coverage_sql).bind(year as i64).bind(lo).bind(hi).fetch_all(p).await.ctx(&ctx)?;
            let unsettled = claims.iter().map(|r| r.2).sum();
            local.extend(claims.into_iter().filter(|r| !r.1.is_empty()).map(|(v, b, _)| (v, b)));
            KeptFacts { local, coverage, unsettled }
        }))
    }
}

/// Replaces the claim facts of `$persons` in `$year` with `$rows` (`&[PersonFacts]`)
/// on `$conn` inside the writer's transaction, moving the difference between the
/// persons' old rows and the new ones into their villages' sums with `$merge`.
/// The old rows are read here, inside the transaction, so each village's sum
/// stays that of its persons' rows.
macro_rules! put_persons {
    ($conn:expr, $year:expr, $persons:expr, $rows:expr, $merge:expr, $max:expr, $ctx:expr) => {{
        let (year, persons, rows, merge, max, ctx): (i64, &[i64], &[PersonFacts], Merge<'_>, usize, &str) =
            ($year, $persons, $rows, $merge, $max, $ctx);
        let per = (max - 1).max(1);
        // What the persons counted before, and where.
        let mut old: Vec<(i64, Vec<u8>, i64)> = Vec::new();
        for part in persons.chunks(per) {
            let sql = format!(
                "SELECT village_code, facts, unsettled FROM indicator_person_facts WHERE year = $1 AND person_id IN ({})",
                list(2, part.len())
            );
            let mut q = sqlx::query_as(&sql).bind(year);
            for id in part {
                q = q.bind(*id);
            }
            old.extend(q.fetch_all(&mut *$conn).await.ctx(ctx)?);
        }
        let mut minus: BTreeMap<i64, Vec<&[u8]>> = BTreeMap::new();
        let mut plus: BTreeMap<i64, Vec<&[u8]>> = BTreeMap::new();
        let mut unsettled: BTreeMap<i64, i64> = BTreeMap::new();
        for (v, facts, u) in &old {
            minus.entry(*v).or_default().push(facts);
            *unsettled.entry(*v).or_default() -= u;
        }
        for r in rows.iter() {
            plus.entry(r.village).or_default().push(&r.facts);
            *unsettled.entry(r.village).or_default() += r.unsettled;
        }
        let villages: Vec<i64> = unsettled.keys().copied().collect();
        let mut kept: HashMap<i64, (Vec<u8>, i64)> = HashMap::new();
        for part in villages.chunks(per) {
            let sql = format!(
                "SELECT village_code, facts, unsettled FROM indicator_claim_facts WHERE year = $1 AND village_code IN ({})",
                list(2, part.len())
            );
            let mut q = sqlx::query_as(&sql).bind(year);
            for v in part {
                q = q.bind(*v);
            }
            let got: Vec<(i64, Vec<u8>, i64)> = q.fetch_all(&mut *$conn).await.ctx(ctx)?;
            kept.extend(got.into_iter().map(|(v, f, u)| (v, (f, u))));
        }
        let mut sums: Vec<VillageFacts> = Vec::with_capacity(villages.len());
        for v in &villages {
            let (facts, before) = match kept.get(v) {
                // A sum of unsettled claims alone keeps no facts.
                Some((f, u)) => ((!f.is_empty()).then_some(f.as_slice()), *u),
                None => (None, 0),
            };
            let none = Vec::new();
            let merged = merge(*v, facts, minus.get(v).unwrap_or(&none), plus.get(v).unwrap_or(&none))
                .map_err(|e| StoreError::Invalid(format!("{ctx}: village {v}: {e}")))?;
            let after = before + unsettled[v];
            if merged.is_some() || after != 0 {
                sums.push(VillageFacts { village: *v, facts: merged.unwrap_or_default(), unsettled: after });
            }
        }
        for (table, key, keys) in
            [("indicator_claim_facts", "village_code", villages.as_slice()), ("indicator_person_facts", "person_id", persons)]
        {
            for part in keys.chunks(per) {
                let sql = format!("DELETE FROM {table} WHERE year = $1 AND {key} IN ({})", list(2, part.len()));
                let mut q = sqlx::query(&sql).bind(year);
                for k in part {
                    q = q.bind(*k);
                }
                q.execute(&mut *$conn).await.ctx(ctx)?;
            }
        }
        for chunk in sums.chunks((max / 4).max(1)) {
            let sql = format!(
                "INSERT INTO indicator_claim_facts (year, village_code, facts, unsettled) VALUES {}",
                placeholders(chunk.len(), 4)
            );
            let mut q = sqlx::query(&sql);
            for v in chunk {
                q = q.bind(year).bind(v.village).bind(v.facts.as_slice()).bind(v.unsettled);
            }
            q.execute(&mut *$conn).await.ctx(ctx)?;
        }
        for chunk in rows.chunks((max / 5).max(1)) {
            let sql = format!(
                "INSERT INTO indicator_person_facts (year, person_id, village_code, facts, unsettled) VALUES {}",
                placeholders(chunk.len(), 5)
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q.bind(year).bind(r.person).bind(r.village).bind(r.facts.as_slice()).bind(r.unsettled);
            }
            q.execute(&mut *$conn).await.ctx(ctx)?;
        }
    }};
}
use put_persons;
