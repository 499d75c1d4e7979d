//! Pairing and telemedicine (migration 24, docs/coverage.md, "Pairing and
//! telemedicine"): the hospitals above the county paired with county hospitals
//! (对口帮扶) and the staff they send, with their terms; the telemedicine links
//! of county hospitals to the township centres of their county; and the counts
//! the pairing indicators are computed from (`app::pairing`).
//!
//! The store keeps the rows and checks, inside the one transaction of a write,
//! what needs the store: that both facilities exist and are of the kinds the
//! register joins (`domain::pairing`), that the county hospital lies inside the
//! writer's scope, and that no two pairings of the same two hospitals (no two
//! links of the same facilities and kind, no two terms of one person in one
//! pairing) share a day. The helping hospital may lie anywhere: pairings cross
//! provinces (东西部协作).

use crate::db::{begin_write, now, on_pool, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::pairing::{check_link_kinds, check_pairing_kinds, spans_overlap};
use domain::{FacilityKind, Pairing, PairingRow, RegionCode, StaffSent, TelemedicineLink};
use serde::Serialize;

/// Migration 24: the pairings, the staff they send, the telemedicine links. A
/// released migration: never edited; a change is a new one. No derived figure
/// reads these tables, so no trigger marks anything stale.
pub(crate) const V24: &str = r#"
CREATE TABLE pairings (
    id {id},
    helping_id TEXT NOT NULL REFERENCES facilities (facility_id),
    county_hospital_id TEXT NOT NULL REFERENCES facilities (facility_id),
    start_on DATE NOT NULL,
    end_on DATE,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    CHECK (end_on IS NULL OR end_on >= start_on),
    CHECK (helping_id <> county_hospital_id)
);
CREATE INDEX pairings_county_hospital ON pairings (county_hospital_id);
CREATE TABLE pairing_staff (
    id {id},
    pairing_id BIGINT NOT NULL REFERENCES pairings (id),
    practitioner_id TEXT REFERENCES practitioners (practitioner_id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    from_on DATE NOT NULL,
    to_on DATE,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    CHECK (to_on IS NULL OR to_on >= from_on)
);
CREATE INDEX pairing_staff_pairing ON pairing_staff (pairing_id);
CREATE TABLE telemedicine_links (
    id {id},
    county_hospital_id TEXT NOT NULL REFERENCES facilities (facility_id),
    township_id TEXT NOT NULL REFERENCES facilities (facility_id),
    kind TEXT NOT NULL CHECK (kind IN ('consultation', 'imaging', 'ecg', 'pathology', 'education')),
    start_on DATE NOT NULL,
    end_on DATE,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    CHECK (end_on IS NULL OR end_on >= start_on)
);
CREATE INDEX telemedicine_links_hospital ON telemedicine_links (county_hospital_id);
CREATE INDEX telemedicine_links_township ON telemedicine_links (township_id)
"#;

/// One of the staff a pairing sends, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredStaff {
    pub id: i64,
    pub staff: StaffSent,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// A pairing as stored, with its hospitals' names, the county hospital's
/// region, its staff in the order recorded, and who recorded it last and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredPairing {
    pub id: i64,
    pub pairing: Pairing,
    pub helping_name: String,
    pub county_hospital_name: String,
    pub region_code: RegionCode,
    pub staff: Vec<StoredStaff>,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// A telemedicine link as stored, with its facilities' names and the township
/// centre's region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredLink {
    pub id: i64,
    pub link: TelemedicineLink,
    pub county_hospital_name: String,
    pub township_name: String,
    pub region_code: RegionCode,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// What a write of the register did: pairings or links new, whose end changed,
/// given again as they were; staff terms new or whose end changed; and the
/// regions of the county hospitals written, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairingWrites {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub staff_inserted: u64,
    pub staff_updated: u64,
    pub regions: Vec<RegionCode>,
}

/// A facility the pairing indicators count: a county hospital or a township
/// health centre, with its days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountedFacility {
    pub facility_id: String,
    pub kind: FacilityKind,
    pub region_code: RegionCode,
    pub opened: Option<NaiveDate>,
    pub closed: Option<NaiveDate>,
}

/// The counts the pairing indicators are computed from (`Store::pairing_facts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PairingFacts {
    /// The counties of the scope in the division table, by code.
    pub counties: Vec<(RegionCode, String)>,
    /// The county hospitals and township centres of the scope.
    pub facilities: Vec<CountedFacility>,
    /// By the patient's county (6 digits): the unvoided inpatient claims
    /// discharged in the period, and those treated outside the county.
    pub inpatients: Vec<(u64, i64, i64)>,
    /// By county (6 digits) of the reference: the distinct disease categories
    /// (3-character ICD-10) of the unvoided inpatient claims of its county
    /// hospitals discharged in the period.
    pub diseases: Vec<(u64, i64)>,
    /// The counties (6 digits) of the reference with a county hospital.
    pub reference_counties: Vec<u64>,
    /// The provinces and cities of the division table, by code, for their names.
    pub higher: Vec<(RegionCode, String)>,
}

fn rejected(ctx: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Rejected { context: ctx.to_string(), reason: reason.into() }
}

fn span(start: NaiveDate, end: Option<NaiveDate>) -> String {
    format!("from {start} to {}", end.map_or_else(|| "no end".to_string(), |d| d.to_string()))
}

type FacilityRow = (String, i64, Option<NaiveDate>);
type PairingDbRow = (i64, String, String, NaiveDate, Option<NaiveDate>, String, DateTime<Utc>, String, String, i64);
type StaffDbRow = (i64, i64, Option<String>, String, String, NaiveDate, Option<NaiveDate>, String, DateTime<Utc>);
type LinkDbRow =
    (i64, String, String, String, NaiveDate, Option<NaiveDate>, String, DateTime<Utc>, String, String, i64);

fn region(ctx: &str, r: i64) -> Result<RegionCode, StoreError> {
    RegionCode::from_u64(r as u64).map_err(|e| corrupt(ctx, r, e))
}

fn staff_of(r: StaffDbRow) -> (i64, StoredStaff) {
    (
        r.1,
        StoredStaff {
            id: r.0,
            staff: StaffSent { practitioner_id: r.2, name: r.3, role: r.4, from: r.5, to: r.6 },
            changed_by: r.7,
            changed_at: r.8,
        },
    )
}

fn link_of(r: LinkDbRow, ctx: &str) -> Result<StoredLink, StoreError> {
    let kind = r.3.parse().map_err(|e: String| corrupt(ctx, &r.3, e))?;
    Ok(StoredLink {
        id: r.0,
        link: TelemedicineLink { county_hospital_id: r.1, township_id: r.2, kind, start: r.4, end: r.5 },
        changed_by: r.6,
        changed_at: r.7,
        county_hospital_name: r.8,
        township_name: r.9,
        region_code: region(ctx, r.10)?,
    })
}

const PAIRING_SELECT: &str =
    "SELECT p.id, p.helping_id, p.county_hospital_id, p.start_on, p.end_on, p.changed_by, p.changed_at,
        h.name, c.name, c.region_code
     FROM pairings p JOIN facilities h ON h.facility_id = p.helping_id
     JOIN facilities c ON c.facility_id = p.county_hospital_id";

const LINK_SELECT: &str =
    "SELECT l.id, l.county_hospital_id, l.township_id, l.kind, l.start_on, l.end_on, l.changed_by, l.changed_at,
        c.name, t.name, t.region_code
     FROM telemedicine_links l JOIN facilities c ON c.facility_id = l.county_hospital_id
     JOIN facilities t ON t.facility_id = l.township_id";

impl Store {
    /// The pairings whose county hospital lies inside `scope`, in the order
    /// recorded, each with its staff.
    pub async fn pairings(&self, scope: &Scope) -> Result<Vec<StoredPairing>, StoreError> {
        let ctx = "reading the pairings";
        let (lo, hi) = scope.code_range();
        let (rows, staff): (Vec<PairingDbRow>, Vec<StaffDbRow>) = on_pool!(self, p => {
            let rows = sqlx::query_as(&format!("{PAIRING_SELECT} WHERE c.region_code BETWEEN $1 AND $2 ORDER BY p.id"))
                .bind(lo)
                .bind(hi)
                .fetch_all(p)
                .await
                .ctx(ctx)?;
            let staff = sqlx::query_as(
                "SELECT s.id, s.pairing_id, s.practitioner_id, s.name, s.role, s.from_on, s.to_on, s.changed_by, s.changed_at
                 FROM pairing_staff s JOIN pairings p ON p.id = s.pairing_id
                 JOIN facilities c ON c.facility_id = p.county_hospital_id
                 WHERE c.region_code BETWEEN $1 AND $2 ORDER BY s.id",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            (rows, staff)
        });
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(StoredPairing {
                id: r.0,
                pairing: Pairing { helping_id: r.1, county_hospital_id: r.2, start: r.3, end: r.4 },
                changed_by: r.5,
                changed_at: r.6,
                helping_name: r.7,
                county_hospital_name: r.8,
                region_code: region(ctx, r.9)?,
                staff: Vec::new(),
            });
        }
        for s in staff {
            let (pairing, s) = staff_of(s);
            if let Some(p) = out.iter_mut().find(|p| p.id == pairing) {
                p.staff.push(s);
            }
        }
        Ok(out)
    }

    /// The telemedicine links whose county hospital lies inside `scope`, in
    /// the order recorded.
    pub async fn telemedicine_links(&self, scope: &Scope) -> Result<Vec<StoredLink>, StoreError> {
        let ctx = "reading the telemedicine links";
        let (lo, hi) = scope.code_range();
        let rows: Vec<LinkDbRow> = on_pool!(self, p => sqlx::query_as(&format!(
            "{LINK_SELECT} WHERE c.region_code BETWEEN $1 AND $2 ORDER BY l.id"
        ))
        .bind(lo)
        .bind(hi)
        .fetch_all(p)
        .await
        .ctx(ctx)?);
        rows.into_iter().map(|r| link_of(r, ctx)).collect()
    }

    /// Records pairings and their staff, all in one transaction, each row
    /// labelled (a file's line, a request) for its refusal, which refuses
    /// them all: a hospital not in the store, or the county hospital outside
    /// `scope`; hospitals of the wrong kinds; a county hospital closed before
    /// the start; a pairing of the same two hospitals sharing a day with
    /// another; a practitioner sent who is not in the store; a term outside
    /// the pairing's days, or sharing a day with another term of the same
    /// person in the pairing; an end before a term's first day. A pairing
    /// given again (same hospitals and start) sets its end (ending the terms
    /// still running then on that day), or is left as it is; a term given
    /// again (same person and first day) sets its end and role.
    pub async fn record_pairings(
        &self,
        scope: &Scope,
        rows: &[(String, PairingRow)],
        actor: &str,
    ) -> Result<PairingWrites, StoreError> {
        let at = now();
        let (lo, hi) = scope.code_range();
        let actor = actor.trim();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, "recording pairings").await?;
            let mut done = PairingWrites::default();
            for (label, row) in rows {
                let new = &row.pairing;
                let ctx = format!("{label} (pairing of {} with {})", new.helping_id, new.county_hospital_id);
                let fetch = "SELECT kind, region_code, closed FROM facilities WHERE facility_id = $1";
                let helping: Option<FacilityRow> =
                    sqlx::query_as(fetch).bind(&new.helping_id).fetch_optional(&mut *tx).await.ctx(&ctx)?;
                let county: Option<FacilityRow> =
                    sqlx::query_as(fetch).bind(&new.county_hospital_id).fetch_optional(&mut *tx).await.ctx(&ctx)?;
                let Some(helping) = helping else {
                    return Err(rejected(&ctx, "helping_id: the hospital is not in the store"));
                };
                let county = match county {
                    Some(c) if (lo..=hi).contains(&c.1) => c,
                    _ => return Err(rejected(&ctx, "county_hospital_id: the county hospital is not in the store inside your scope")),
                };
                let kind = |r: &FacilityRow| r.0.parse::<FacilityKind>().map_err(|e| corrupt(&ctx, &r.0, e));
                check_pairing_kinds(kind(&helping)?, kind(&county)?)
                    .map_err(|e| rejected(&ctx, format!("{}: {}", e.column, e.reason)))?;
                for (column, f) in [("helping_id", &helping), ("county_hospital_id", &county)] {
                    if let Some(c) = f.2.filter(|c| *c <= new.start) {
                        return Err(rejected(&ctx, format!("{column}: the hospital closed on {c}, before the pairing's start {}", new.start)));
                    }
                }
                let kept: Vec<PairingDbRow> = sqlx::query_as(&format!(
                    "{PAIRING_SELECT} WHERE p.helping_id = $1 AND p.county_hospital_id = $2 ORDER BY p.id"
                ))
                .bind(&new.helping_id)
                .bind(&new.county_hospital_id)
                .fetch_all(&mut *tx)
                .await
                .ctx(&ctx)?;
                let same = kept.iter().find(|k| k.3 == new.start);
                if let Some(o) = kept.iter().find(|k| k.3 != new.start && spans_overlap((k.3, k.4), (new.start, new.end))) {
                    return Err(rejected(
                        &ctx,
                        format!(
                            "start: the pairing {} shares days with the pairing of the same hospitals {}; a pairing is recorded once",
                            span(new.start, new.end),
                            span(o.3, o.4)
                        ),
                    ));
                }
                let pairing_id = match same {
                    Some(s) if s.4 == new.end => {
                        done.unchanged += 1;
                        s.0
                    }
                    Some(s) => {
                        if let Some(end) = new.end {
                            // Ending a pairing ends the terms still running then;
                            // a term that starts after the end refuses it.
                            let late: Option<(String, NaiveDate)> = sqlx::query_as(
                                "SELECT name, from_on FROM pairing_staff WHERE pairing_id = $1 AND from_on > $2
                                 ORDER BY id LIMIT 1",
                            )
                            .bind(s.0)
                            .bind(end)
                            .fetch_optional(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                            if let Some((name, from)) = late {
                                return Err(rejected(
                                    &ctx,
                                    format!("end: the term of {name} starts on {from}, after the end {end}"),
                                ));
                            }
                            let cut = sqlx::query(
                                "UPDATE pairing_staff SET to_on = $1, changed_by = $2, changed_at = $3
                                 WHERE pairing_id = $4 AND (to_on IS NULL OR to_on > $1)",
                            )
                            .bind(end)
                            .bind(actor)
                            .bind(at)
                            .bind(s.0)
                            .execute(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                            done.staff_updated += cut.rows_affected();
                        }
                        sqlx::query("UPDATE pairings SET end_on = $1, changed_by = $2, changed_at = $3 WHERE id = $4")
                            .bind(new.end)
                            .bind(actor)
                            .bind(at)
                            .bind(s.0)
                            .execute(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                        done.updated += 1;
                        s.0
                    }
                    None => {
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO pairings (helping_id, county_hospital_id, start_on, end_on, changed_by, changed_at)
                             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                        )
                        .bind(&new.helping_id)
                        .bind(&new.county_hospital_id)
                        .bind(new.start)
                        .bind(new.end)
                        .bind(actor)
                        .bind(at)
                        .fetch_one(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                        done.inserted += 1;
                        id
                    }
                };
                if let Some(staff) = &row.staff {
                    let mut staff = staff.clone();
                    if let Some(pid) = &staff.practitioner_id {
                        let name: Option<String> = sqlx::query_scalar("SELECT name FROM practitioners WHERE practitioner_id = $1")
                            .bind(pid)
                            .fetch_optional(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                        match name {
                            None => return Err(rejected(&ctx, "staff_practitioner_id: the practitioner is not in the store")),
                            Some(n) if staff.name.is_empty() => staff.name = n,
                            Some(_) => {}
                        }
                    }
                    if staff.from < new.start || new.end.is_some_and(|e| staff.to.is_none_or(|t| t > e) || staff.from > e) {
                        return Err(rejected(
                            &ctx,
                            format!("staff_from: the term {} lies outside the pairing {}", span(staff.from, staff.to), span(new.start, new.end)),
                        ));
                    }
                    let terms: Vec<StaffDbRow> = sqlx::query_as(
                        "SELECT id, pairing_id, practitioner_id, name, role, from_on, to_on, changed_by, changed_at
                         FROM pairing_staff WHERE pairing_id = $1 ORDER BY id",
                    )
                    .bind(pairing_id)
                    .fetch_all(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                    let terms: Vec<StoredStaff> = terms.into_iter().map(|r| staff_of(r).1).collect();
                    let mine: Vec<&StoredStaff> = terms.iter().filter(|t| t.staff.who() == staff.who()).collect();
                    let same = mine.iter().find(|t| t.staff.same_term(&staff));
                    if let Some(o) = mine.iter().find(|t| !t.staff.same_term(&staff) && spans_overlap((t.staff.from, t.staff.to), (staff.from, staff.to))) {
                        return Err(rejected(
                            &ctx,
                            format!(
                                "staff_from: the term of {} {} shares days with their term {} in the same pairing",
                                staff.who(),
                                span(staff.from, staff.to),
                                span(o.staff.from, o.staff.to)
                            ),
                        ));
                    }
                    match same {
                        Some(s) if s.staff.to == staff.to && s.staff.role == staff.role => {}
                        Some(s) => {
                            sqlx::query("UPDATE pairing_staff SET to_on = $1, role = $2, changed_by = $3, changed_at = $4 WHERE id = $5")
                                .bind(staff.to)
                                .bind(&staff.role)
                                .bind(actor)
                                .bind(at)
                                .bind(s.id)
                                .execute(&mut *tx)
                                .await
                                .ctx(&ctx)?;
                            done.staff_updated += 1;
                        }
                        None => {
                            sqlx::query(
                                "INSERT INTO pairing_staff (pairing_id, practitioner_id, name, role, from_on, to_on, changed_by, changed_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                            )
                            .bind(pairing_id)
                            .bind(&staff.practitioner_id)
                            .bind(&staff.name)
                            .bind(&staff.role)
                            .bind(staff.from)
                            .bind(staff.to)
                            .bind(actor)
                            .bind(at)
                            .execute(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                            done.staff_inserted += 1;
                        }
                    }
                }
                done.regions.push(region(&ctx, county.1)?);
            }
            tx.commit().await.ctx("recording pairings")?;
            Ok(done)
        }.await)
    }

    /// Records telemedicine links, all in one transaction, each labelled for
    /// its refusal, which refuses them all: a facility not in the store, or
    /// the county hospital outside `scope`; facilities of the wrong kinds or of
    /// two counties; either closed before the start; a link of the same
    /// facilities and kind sharing a day with another. A link given again
    /// (same facilities, kind and start) sets its end, or is left as it is.
    pub async fn record_telemedicine(
        &self,
        scope: &Scope,
        rows: &[(String, TelemedicineLink)],
        actor: &str,
    ) -> Result<PairingWrites, StoreError> {
        let at = now();
        let (lo, hi) = scope.code_range();
        let actor = actor.trim();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, "recording telemedicine links").await?;
            let mut done = PairingWrites::default();
            for (label, new) in rows {
                let ctx = format!("{label} (link of {} to {})", new.county_hospital_id, new.township_id);
                let fetch = "SELECT kind, region_code, closed FROM facilities WHERE facility_id = $1";
                let hospital: Option<FacilityRow> =
                    sqlx::query_as(fetch).bind(&new.county_hospital_id).fetch_optional(&mut *tx).await.ctx(&ctx)?;
                let township: Option<FacilityRow> =
                    sqlx::query_as(fetch).bind(&new.township_id).fetch_optional(&mut *tx).await.ctx(&ctx)?;
                let hospital = match hospital {
                    Some(h) if (lo..=hi).contains(&h.1) => h,
                    _ => return Err(rejected(&ctx, "county_hospital_id: the county hospital is not in the store inside your scope")),
                };
                let Some(township) = township else {
                    return Err(rejected(&ctx, "township_id: the township centre is not in the store"));
                };
                let kind = |r: &FacilityRow| r.0.parse::<FacilityKind>().map_err(|e| corrupt(&ctx, &r.0, e));
                check_link_kinds((kind(&hospital)?, region(&ctx, hospital.1)?), (kind(&township)?, region(&ctx, township.1)?))
                    .map_err(|e| rejected(&ctx, format!("{}: {}", e.column, e.reason)))?;
                for (column, f) in [("county_hospital_id", &hospital), ("township_id", &township)] {
                    if let Some(c) = f.2.filter(|c| *c <= new.start) {
                        return Err(rejected(&ctx, format!("{column}: the facility closed on {c}, before the link's start {}", new.start)));
                    }
                }
                let kept: Vec<LinkDbRow> = sqlx::query_as(&format!(
                    "{LINK_SELECT} WHERE l.county_hospital_id = $1 AND l.township_id = $2 AND l.kind = $3 ORDER BY l.id"
                ))
                .bind(&new.county_hospital_id)
                .bind(&new.township_id)
                .bind(new.kind.as_str())
                .fetch_all(&mut *tx)
                .await
                .ctx(&ctx)?;
                if let Some(o) = kept.iter().find(|k| k.4 != new.start && spans_overlap((k.4, k.5), (new.start, new.end))) {
                    return Err(rejected(
                        &ctx,
                        format!(
                            "start: the {} link {} shares days with the same link {}; a link is recorded once",
                            new.kind,
                            span(new.start, new.end),
                            span(o.4, o.5)
                        ),
                    ));
                }
                match kept.iter().find(|k| k.4 == new.start) {
                    Some(s) if s.5 == new.end => done.unchanged += 1,
                    Some(s) => {
                        sqlx::query("UPDATE telemedicine_links SET end_on = $1, changed_by = $2, changed_at = $3 WHERE id = $4")
                            .bind(new.end)
                            .bind(actor)
                            .bind(at)
                            .bind(s.0)
                            .execute(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                        done.updated += 1;
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO telemedicine_links (county_hospital_id, township_id, kind, start_on, end_on, changed_by, changed_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(&new.county_hospital_id)
                        .bind(&new.township_id)
                        .bind(new.kind.as_str())
                        .bind(new.start)
                        .bind(new.end)
                        .bind(actor)
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                        done.inserted += 1;
                    }
                }
                done.regions.push(region(&ctx, hospital.1)?);
            }
            tx.commit().await.ctx("recording telemedicine links")?;
            Ok(done)
        }.await)
    }

    /// The counts of the pairing indicators ([`PairingFacts`]) for the
    /// counties of `scope` and the claims discharged from `from` to `to`
    /// (both included); the diseases treated are counted over `reference`
    /// (a wider scope, for the median the counties are compared with).
    pub async fn pairing_facts(
        &self,
        scope: &Scope,
        reference: &Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<PairingFacts, StoreError> {
        let ctx = "reading the counts of the pairing indicators";
        let (lo, hi) = scope.code_range();
        let (rlo, rhi) = reference.code_range();
        type Fac = (String, String, i64, Option<NaiveDate>, Option<NaiveDate>);
        type FactRows =
            (Vec<(i64, String)>, Vec<Fac>, Vec<(i64, i64, i64)>, Vec<(i64, i64)>, Vec<i64>, Vec<(i64, String)>);
        let (counties, facilities, inpatients, diseases, reference_counties, higher): FactRows = on_pool!(self, p => {
            let counties = sqlx::query_as(
                "SELECT code, name FROM regions WHERE level = 'county' AND code BETWEEN $1 AND $2 ORDER BY code",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            let facilities = sqlx::query_as(
                "SELECT facility_id, kind, region_code, opened, closed FROM facilities
                 WHERE kind IN ('county_hospital', 'township_center') AND region_code BETWEEN $1 AND $2
                 ORDER BY facility_id",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            // Treated outside the patient's county: at a registered facility
            // whose region is not under the patient's county (a facility
            // registered at a city or province code is outside every county),
            // else by the claim's facility level above the county.
            let inpatients = sqlx::query_as(
                "SELECT h.village_code / 1000000, CAST(COUNT(*) AS BIGINT),
                    CAST(SUM(CASE WHEN f.facility_id IS NOT NULL
                                   AND (f.region_code % 100000000 = 0 OR f.region_code / 1000000 <> h.village_code / 1000000)
                                  THEN 1
                                  WHEN f.facility_id IS NULL
                                   AND c.facility_level IN ('municipal', 'provincial', 'out_of_province')
                                  THEN 1 ELSE 0 END) AS BIGINT)
                 FROM claims c JOIN persons s ON s.person_id = c.person_id
                 JOIN households h ON h.household_id = s.household_id
                 LEFT JOIN facilities f ON f.facility_id = c.facility_id
                 WHERE c.kind = 'inpatient' AND NOT c.voided AND c.discharged BETWEEN $1 AND $2
                   AND h.village_code BETWEEN $3 AND $4
                 GROUP BY h.village_code / 1000000 ORDER BY 1",
            )
            .bind(from)
            .bind(to)
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            let diseases = sqlx::query_as(
                "SELECT f.region_code / 1000000, CAST(COUNT(DISTINCT SUBSTR(c.diagnosis, 1, 3)) AS BIGINT)
                 FROM claims c JOIN facilities f ON f.facility_id = c.facility_id
                 WHERE f.kind = 'county_hospital' AND c.kind = 'inpatient' AND NOT c.voided AND c.diagnosis <> ''
                   AND c.discharged BETWEEN $1 AND $2 AND f.region_code BETWEEN $3 AND $4
                 GROUP BY f.region_code / 1000000 ORDER BY 1",
            )
            .bind(from)
            .bind(to)
            .bind(rlo)
            .bind(rhi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            let reference_counties = sqlx::query_scalar(
                "SELECT DISTINCT region_code / 1000000 FROM facilities
                 WHERE kind = 'county_hospital' AND region_code BETWEEN $1 AND $2 ORDER BY 1",
            )
            .bind(rlo)
            .bind(rhi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            let higher = sqlx::query_as("SELECT code, name FROM regions WHERE level IN ('province', 'city') ORDER BY code")
                .fetch_all(p)
                .await
                .ctx(ctx)?;
            (counties, facilities, inpatients, diseases, reference_counties, higher)
        });
        let mut out = PairingFacts {
            inpatients: inpatients.into_iter().map(|(c, n, o)| (c as u64, n, o)).collect(),
            diseases: diseases.into_iter().map(|(c, n)| (c as u64, n)).collect(),
            reference_counties: reference_counties.into_iter().map(|c| c as u64).collect(),
            ..Default::default()
        };
        for (code, name) in counties {
            out.counties.push((region(ctx, code)?, name));
        }
        for (code, name) in higher {
            out.higher.push((region(ctx, code)?, name));
        }
        for (facility_id, kind, r, opened, closed) in facilities {
            let kind = kind.parse().map_err(|e: domain::DomainError| corrupt(ctx, &kind, e))?;
            out.facilities.push(CountedFacility { facility_id, kind, region_code: region(ctx, r)?, opened, closed });
        }
        Ok(out)
    }
}
