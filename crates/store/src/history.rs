//! The history of the rural health network (migration 20, docs/coverage.md,
//! "History"): practitioners' postings (employer and place of work, each with
//! its days), their qualifications with the days they were obtained and lapse,
//! and the facilities' opening and closing days (two columns of `facilities`,
//! read and written with the facilities' records).
//!
//! The store keeps the rows and checks what needs the transaction: that the
//! practitioner and the facility lie inside the writer's scope, and that no two
//! postings of one practitioner in one role share a day. What the history means
//! on a day (where someone works, what they are qualified as) is `app`'s.
//!
//! No row is written for the data from before the migration: a practitioner
//! with no posting recorded works at the facility of their record from an
//! unknown day, and holds the qualification of their record, by rule (`app`).

use crate::db::{begin_write, now, on_pool, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use crate::vals::{list, Val};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{Facility, Posting, PostingRole, Practitioner, QualificationHeld, Region, RegionCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Migration 20: the facilities' days, postings and qualifications. A released
/// migration: never edited; a change is a new one.
pub(crate) const V20: &str = r#"
ALTER TABLE facilities ADD COLUMN opened DATE;
ALTER TABLE facilities ADD COLUMN closed DATE;
CREATE TABLE postings (
    id {id},
    practitioner_id TEXT NOT NULL REFERENCES practitioners (practitioner_id),
    facility_id TEXT NOT NULL REFERENCES facilities (facility_id),
    role TEXT NOT NULL CHECK (role IN ('employer', 'posting')),
    start_on DATE,
    end_on DATE,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    CHECK (start_on IS NULL OR end_on IS NULL OR end_on >= start_on)
);
CREATE INDEX postings_practitioner ON postings (practitioner_id, role);
CREATE INDEX postings_facility ON postings (facility_id);
CREATE TABLE qualifications (
    id {id},
    practitioner_id TEXT NOT NULL REFERENCES practitioners (practitioner_id),
    qualification TEXT NOT NULL,
    obtained DATE,
    lapses DATE,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    CHECK (obtained IS NULL OR lapses IS NULL OR lapses > obtained)
);
CREATE INDEX qualifications_practitioner ON qualifications (practitioner_id)
"#;

/// Migration 20 on SQLite: a written posting or qualification changes the
/// network, so the kept villages' reach is measured again (`fresh.rs`).
pub(crate) const V20_SQLITE: &str = "
CREATE TRIGGER fresh_postings_insert AFTER INSERT ON postings BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
CREATE TRIGGER fresh_postings_update AFTER UPDATE ON postings BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
CREATE TRIGGER fresh_postings_delete AFTER DELETE ON postings BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
CREATE TRIGGER fresh_qualifications_insert AFTER INSERT ON qualifications BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
CREATE TRIGGER fresh_qualifications_update AFTER UPDATE ON qualifications BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
CREATE TRIGGER fresh_qualifications_delete AFTER DELETE ON qualifications BEGIN
    UPDATE indicator_years SET coverage_as_of = NULL WHERE coverage_as_of IS NOT NULL;
END;
";

/// Migration 20 on PostgreSQL: the same, by the statement triggers of the
/// network (`fresh_network`, migration 5).
pub(crate) const V20_POSTGRES: &str = "
CREATE TRIGGER fresh_postings_insert AFTER INSERT ON postings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_postings_update AFTER UPDATE ON postings
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_postings_delete AFTER DELETE ON postings
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_qualifications_insert AFTER INSERT ON qualifications
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_qualifications_update AFTER UPDATE ON qualifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
CREATE TRIGGER fresh_qualifications_delete AFTER DELETE ON qualifications
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fresh_network();
";

/// The network of a scope with its history: every region and facility inside
/// it (with their days), the practitioners whose record or whose posting lies
/// at a facility inside it, and all the postings and qualifications of those
/// practitioners (a posting elsewhere says where they were not).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkHistory {
    pub regions: Vec<Region>,
    pub facilities: Vec<Facility>,
    pub practitioners: Vec<Practitioner>,
    pub postings: Vec<Posting>,
    pub qualifications: Vec<QualificationHeld>,
}

/// A posting as stored, with who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredPosting {
    pub id: i64,
    pub posting: Posting,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// A qualification as stored, with who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredQualification {
    pub id: i64,
    pub held: QualificationHeld,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// What a write of history did: rows new, rows whose end (or lapse) changed,
/// rows given again as they were; and the regions of the facilities written
/// (of the practitioners' facilities, for qualifications), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryWrites {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub regions: Vec<RegionCode>,
}

fn rejected(ctx: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Rejected { context: ctx.to_string(), reason: reason.into() }
}

fn day(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "an unknown day".to_string(), |d| d.to_string())
}

fn span(start: Option<NaiveDate>, end: Option<NaiveDate>) -> String {
    format!("from {} to {}", day(start), end.map_or_else(|| "no end".to_string(), |d| d.to_string()))
}

type PostingRow = (i64, String, String, String, Option<NaiveDate>, Option<NaiveDate>, String, DateTime<Utc>);
type QualificationRow = (i64, String, String, Option<NaiveDate>, Option<NaiveDate>, String, DateTime<Utc>);

fn posting_of(r: PostingRow, ctx: &str) -> Result<StoredPosting, StoreError> {
    let role: PostingRole = r.3.parse().map_err(|e: String| corrupt(ctx, &r.3, e))?;
    Ok(StoredPosting {
        id: r.0,
        posting: Posting { practitioner_id: r.1, facility_id: r.2, role, start: r.4, end: r.5 },
        changed_by: r.6,
        changed_at: r.7,
    })
}

fn qualification_of(r: QualificationRow, ctx: &str) -> Result<StoredQualification, StoreError> {
    let q = r.2.parse().map_err(|e: domain::DomainError| corrupt(ctx, &r.2, e))?;
    Ok(StoredQualification {
        id: r.0,
        held: QualificationHeld { practitioner_id: r.1, qualification: q, obtained: r.3, lapses: r.4 },
        changed_by: r.5,
        changed_at: r.6,
    })
}

const POSTING_COLS: &str = "id, practitioner_id, facility_id, role, start_on, end_on, changed_by, changed_at";
const QUALIFICATION_COLS: &str = "id, practitioner_id, qualification, obtained, lapses, changed_by, changed_at";

/// The practitioners whose record or whose posting lies at a facility with a
/// region code in `$1..=$2`.
const IN_SCOPE: &str =
    "SELECT p.practitioner_id FROM practitioners p JOIN facilities f ON f.facility_id = p.facility_id
     WHERE f.region_code BETWEEN $1 AND $2
     UNION SELECT s.practitioner_id FROM postings s JOIN facilities f ON f.facility_id = s.facility_id
     WHERE f.region_code BETWEEN $1 AND $2";

/// Whether the practitioner `$1` lies inside the region codes `$2..=$3`.
const PRACTITIONER_IN_SCOPE: &str =
    "SELECT CAST(1 AS BIGINT) FROM practitioners p JOIN facilities f ON f.facility_id = p.facility_id
     WHERE p.practitioner_id = $1 AND f.region_code BETWEEN $2 AND $3
     UNION ALL SELECT CAST(1 AS BIGINT) FROM postings s JOIN facilities f ON f.facility_id = s.facility_id
     WHERE s.practitioner_id = $1 AND f.region_code BETWEEN $2 AND $3";

impl Store {
    /// The network of `scope` with its history ([`NetworkHistory`]).
    pub async fn network_history(&self, scope: &Scope) -> Result<NetworkHistory, StoreError> {
        let ctx = "reading the history of the health network";
        let n = self.network(scope).await?;
        let mut h = NetworkHistory {
            regions: n.regions,
            facilities: n.facilities,
            practitioners: n.practitioners,
            ..Default::default()
        };
        let (lo, hi) = scope.code_range();
        type PractitionerRow = (String, String, String, String, bool, NaiveDate, bool);
        let (posted, postings, qualifications): (Vec<PractitionerRow>, Vec<PostingRow>, Vec<QualificationRow>) = on_pool!(self, p => {
            // Practitioners posted inside the scope whose record lies outside it.
            let posted = sqlx::query_as(
                "SELECT p.practitioner_id, p.facility_id, p.name, p.qualification, p.gp, p.birth_date, p.active
                     FROM practitioners p JOIN facilities f ON f.facility_id = p.facility_id
                     WHERE f.region_code NOT BETWEEN $1 AND $2 AND p.practitioner_id IN (
                        SELECT s.practitioner_id FROM postings s JOIN facilities g ON g.facility_id = s.facility_id
                        WHERE g.region_code BETWEEN $1 AND $2)
                     ORDER BY p.practitioner_id",
            )
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            let postings = sqlx::query_as(&format!(
                "SELECT {POSTING_COLS} FROM postings WHERE practitioner_id IN ({IN_SCOPE}) ORDER BY id"
            ))
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            let qualifications = sqlx::query_as(&format!(
                "SELECT {QUALIFICATION_COLS} FROM qualifications WHERE practitioner_id IN ({IN_SCOPE}) ORDER BY id"
            ))
            .bind(lo)
            .bind(hi)
            .fetch_all(p)
            .await
            .ctx(ctx)?;
            (posted, postings, qualifications)
        });
        for (id, facility_id, name, q, gp, birth_date, active) in posted {
            let qualification = q.parse().map_err(|e: domain::DomainError| corrupt(ctx, &q, e))?;
            h.practitioners.push(Practitioner {
                practitioner_id: id,
                facility_id,
                name,
                qualification,
                gp,
                birth_date,
                active,
            });
        }
        h.postings = postings.into_iter().map(|r| posting_of(r, ctx).map(|s| s.posting)).collect::<Result<_, _>>()?;
        h.qualifications =
            qualifications.into_iter().map(|r| qualification_of(r, ctx).map(|s| s.held)).collect::<Result<_, _>>()?;
        Ok(h)
    }

    /// The places (villages, and the regions of township centres) inside
    /// `scope` whose network alerts a change of these practitioners or these
    /// facilities may change: the region of each facility named, and of each
    /// village clinic or township centre where one of the practitioners may
    /// work (their record's facility, and the facility of each of their
    /// postings). Sorted, once each.
    pub async fn network_places(
        &self,
        scope: &Scope,
        practitioners: &[String],
        facilities: &[String],
    ) -> Result<Vec<RegionCode>, StoreError> {
        let ctx = "finding the places a change of the network touches";
        let (lo, hi) = scope.code_range();
        let chunk = self.max_binds() - 2;
        let mut codes: BTreeSet<i64> = BTreeSet::new();
        for ids in facilities.chunks(chunk) {
            let sql = format!(
                "SELECT region_code FROM facilities WHERE region_code BETWEEN $1 AND $2 AND facility_id IN ({})",
                list(3, ids.len())
            );
            codes.extend(self.codes(&sql, lo, hi, ids, ctx).await?);
        }
        for ids in practitioners.chunks(chunk) {
            let within = list(3, ids.len());
            let sql = format!(
                "SELECT f.region_code FROM practitioners p JOIN facilities f ON f.facility_id = p.facility_id
                 WHERE f.region_code BETWEEN $1 AND $2 AND f.kind IN ('village_clinic', 'township_center')
                   AND p.practitioner_id IN ({within})
                 UNION SELECT f.region_code FROM postings s JOIN facilities f ON f.facility_id = s.facility_id
                 WHERE f.region_code BETWEEN $1 AND $2 AND f.kind IN ('village_clinic', 'township_center')
                   AND s.practitioner_id IN ({within})"
            );
            codes.extend(self.codes(&sql, lo, hi, ids, ctx).await?);
        }
        codes.into_iter().map(|c| RegionCode::from_u64(c as u64).map_err(|e| corrupt(ctx, c, e))).collect()
    }

    /// The region codes a query of `$1..=$2` and the ids from `$3` answers.
    async fn codes(&self, sql: &str, lo: i64, hi: i64, ids: &[String], ctx: &str) -> Result<Vec<i64>, StoreError> {
        on_pool!(self, p => {
            let mut q = sqlx::query_scalar(sql).bind(lo).bind(hi);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(p).await.ctx(ctx)
        })
    }

    /// The part of the network of `scope` that the network alerts of
    /// `places` depend on: the places' regions and the facilities standing in
    /// them; the practitioners whose record or whose posting lies at one of
    /// those facilities, with all their postings and qualifications; and the
    /// other facilities inside the scope where those practitioners may work,
    /// with their regions. What [`Store::network_history`] holds of these, read
    /// without the rest of the scope.
    pub async fn network_history_at(&self, scope: &Scope, places: &[RegionCode]) -> Result<NetworkHistory, StoreError> {
        let ctx = "reading the history of the health network around some places";
        let (lo, hi) = scope.code_range();
        let chunk = self.max_binds() - 2;
        let inside = |codes: &[i64]| -> Vec<Val<'static>> {
            [lo, hi].into_iter().chain(codes.iter().copied()).map(Val::int).collect()
        };
        let places: Vec<i64> = places.iter().map(|c| c.as_u64() as i64).filter(|c| (lo..=hi).contains(c)).collect();
        let mut h = NetworkHistory::default();
        for codes in places.chunks(chunk) {
            let cond = format!("t.region_code BETWEEN $1 AND $2 AND t.region_code IN ({})", list(3, codes.len()));
            h.facilities.extend(self.records_where::<Facility>(&cond, inside(codes)).await?);
        }
        let standing: Vec<String> = h.facilities.iter().map(|f| f.facility_id.clone()).collect();
        let mut people: BTreeSet<String> = BTreeSet::new();
        for ids in standing.chunks(chunk) {
            let within = list(1, ids.len());
            let sql = format!(
                "SELECT practitioner_id FROM practitioners WHERE facility_id IN ({within})
                 UNION SELECT practitioner_id FROM postings WHERE facility_id IN ({within})"
            );
            let found: Vec<String> = on_pool!(self, p => {
                let mut q = sqlx::query_scalar(&sql);
                for id in ids {
                    q = q.bind(id);
                }
                q.fetch_all(p).await.ctx(ctx)?
            });
            people.extend(found);
        }
        let people: Vec<String> = people.into_iter().collect();
        for ids in people.chunks(chunk) {
            let within = list(1, ids.len());
            let binds: Vec<Val<'static>> = ids.iter().map(|id| Val::owned(id.clone())).collect();
            h.practitioners
                .extend(self.records_where::<Practitioner>(&format!("t.practitioner_id IN ({within})"), binds).await?);
            let (postings, qualifications): (Vec<PostingRow>, Vec<QualificationRow>) = on_pool!(self, p => {
                let sql = format!("SELECT {POSTING_COLS} FROM postings WHERE practitioner_id IN ({within}) ORDER BY id");
                let mut q = sqlx::query_as(&sql);
                for id in ids {
                    q = q.bind(id);
                }
                let postings = q.fetch_all(p).await.ctx(ctx)?;
                let sql = format!(
                    "SELECT {QUALIFICATION_COLS} FROM qualifications WHERE practitioner_id IN ({within}) ORDER BY id"
                );
                let mut q = sqlx::query_as(&sql);
                for id in ids {
                    q = q.bind(id);
                }
                (postings, q.fetch_all(p).await.ctx(ctx)?)
            });
            for r in postings {
                h.postings.push(posting_of(r, ctx)?.posting);
            }
            for r in qualifications {
                h.qualifications.push(qualification_of(r, ctx)?.held);
            }
        }
        // Where those practitioners may work besides.
        let known: BTreeSet<&str> = h.facilities.iter().map(|f| f.facility_id.as_str()).collect();
        let others: BTreeSet<String> = h
            .practitioners
            .iter()
            .map(|p| p.facility_id.as_str())
            .chain(h.postings.iter().map(|x| x.facility_id.as_str()))
            .filter(|f| !known.contains(f))
            .map(String::from)
            .collect();
        let others: Vec<String> = others.into_iter().collect();
        for ids in others.chunks(chunk) {
            let cond = format!("t.region_code BETWEEN $1 AND $2 AND t.facility_id IN ({})", list(3, ids.len()));
            let binds = [Val::int(lo), Val::int(hi)].into_iter().chain(ids.iter().map(|id| Val::owned(id.clone())));
            h.facilities.extend(self.records_where::<Facility>(&cond, binds.collect()).await?);
        }
        let codes: BTreeSet<i64> =
            places.iter().copied().chain(h.facilities.iter().map(|f| f.region_code.as_u64() as i64)).collect();
        let codes: Vec<i64> = codes.into_iter().collect();
        for codes in codes.chunks(chunk) {
            let cond = format!("t.code BETWEEN $1 AND $2 AND t.code IN ({})", list(3, codes.len()));
            h.regions.extend(self.records_where::<Region>(&cond, inside(codes)).await?);
        }
        Ok(h)
    }

    /// A practitioner's record, when it lies inside `scope`: their record's
    /// facility, or a facility they are posted to, is inside it. `None` when
    /// the practitioner is not in the store or lies outside.
    pub async fn practitioner_in_scope(&self, scope: &Scope, id: &str) -> Result<Option<Practitioner>, StoreError> {
        let ctx = "reading a practitioner";
        let (lo, hi) = scope.code_range();
        let inside: Option<i64> = on_pool!(self, p => sqlx::query_scalar(&format!("{PRACTITIONER_IN_SCOPE} LIMIT 1"))
            .bind(id)
            .bind(lo)
            .bind(hi)
            .fetch_optional(p)
            .await
            .ctx(ctx)?);
        if inside.is_none() {
            return Ok(None);
        }
        self.get::<Practitioner>(id).await
    }

    /// A practitioner's postings, in the order they were recorded (the caller
    /// checks the scope: [`Store::practitioner_in_scope`]).
    pub async fn postings_of(&self, id: &str) -> Result<Vec<StoredPosting>, StoreError> {
        let ctx = "reading a practitioner's postings";
        let rows: Vec<PostingRow> = on_pool!(self, p => sqlx::query_as(&format!(
            "SELECT {POSTING_COLS} FROM postings WHERE practitioner_id = $1 ORDER BY id"
        ))
        .bind(id)
        .fetch_all(p)
        .await
        .ctx(ctx)?);
        rows.into_iter().map(|r| posting_of(r, ctx)).collect()
    }

    /// A practitioner's qualifications, in the order they were recorded.
    pub async fn qualifications_of(&self, id: &str) -> Result<Vec<StoredQualification>, StoreError> {
        let ctx = "reading a practitioner's qualifications";
        let rows: Vec<QualificationRow> = on_pool!(self, p => sqlx::query_as(&format!(
            "SELECT {QUALIFICATION_COLS} FROM qualifications WHERE practitioner_id = $1 ORDER BY id"
        ))
        .bind(id)
        .fetch_all(p)
        .await
        .ctx(ctx)?);
        rows.into_iter().map(|r| qualification_of(r, ctx)).collect()
    }

    /// Records postings, all in one transaction, each labelled (a file's line,
    /// a request) for its refusal, which refuses them all: a practitioner or a
    /// facility not in the store inside `scope`; a posting that shares a day
    /// with another of the same practitioner in the same role. A posting given
    /// again (same practitioner, facility, role and start) sets its end, or is
    /// left as it is.
    pub async fn record_postings(
        &self,
        scope: &Scope,
        rows: &[(String, Posting)],
        actor: &str,
    ) -> Result<HistoryWrites, StoreError> {
        let at = now();
        let (lo, hi) = scope.code_range();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, "recording postings").await?;
            let mut done = HistoryWrites::default();
            for (label, new) in rows {
                let ctx = format!("{label} (practitioner {}, facility {})", new.practitioner_id, new.facility_id);
                let inside: Option<i64> = sqlx::query_scalar(&format!("{PRACTITIONER_IN_SCOPE} LIMIT 1"))
                    .bind(&new.practitioner_id)
                    .bind(lo)
                    .bind(hi)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                if inside.is_none() {
                    return Err(rejected(&ctx, "practitioner_id: the practitioner is not in the store inside your scope"));
                }
                let region: Option<i64> = sqlx::query_scalar("SELECT region_code FROM facilities WHERE facility_id = $1")
                    .bind(&new.facility_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                let region = match region {
                    Some(r) if (lo..=hi).contains(&r) => {
                        RegionCode::from_u64(r as u64).map_err(|e| corrupt(&ctx, r, e))?
                    }
                    _ => return Err(rejected(&ctx, "facility_id: the facility is not in the store inside your scope")),
                };
                let kept: Vec<PostingRow> = sqlx::query_as(&format!(
                    "SELECT {POSTING_COLS} FROM postings WHERE practitioner_id = $1 AND role = $2 ORDER BY id"
                ))
                .bind(&new.practitioner_id)
                .bind(new.role.as_str())
                .fetch_all(&mut *tx)
                .await
                .ctx(&ctx)?;
                let kept = kept.into_iter().map(|r| posting_of(r, &ctx)).collect::<Result<Vec<_>, _>>()?;
                let same = kept.iter().find(|k| k.posting.same_posting(new));
                if let Some(other) = kept.iter().find(|k| Some(k.id) != same.map(|s| s.id) && k.posting.overlaps(new)) {
                    let o = &other.posting;
                    return Err(rejected(
                        &ctx,
                        format!(
                            "start: the {} {} shares days with the {} at {} {}; a practitioner has one {} at a time",
                            new.role,
                            span(new.start, new.end),
                            o.role,
                            o.facility_id,
                            span(o.start, o.end),
                            new.role
                        ),
                    ));
                }
                match same {
                    Some(s) if s.posting.end == new.end => done.unchanged += 1,
                    Some(s) => {
                        sqlx::query("UPDATE postings SET end_on = $1, changed_by = $2, changed_at = $3 WHERE id = $4")
                            .bind(new.end)
                            .bind(actor.trim())
                            .bind(at)
                            .bind(s.id)
                            .execute(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                        done.updated += 1;
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO postings (practitioner_id, facility_id, role, start_on, end_on, changed_by, changed_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(&new.practitioner_id)
                        .bind(&new.facility_id)
                        .bind(new.role.as_str())
                        .bind(new.start)
                        .bind(new.end)
                        .bind(actor.trim())
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                        done.inserted += 1;
                    }
                }
                done.regions.push(region);
            }
            tx.commit().await.ctx("recording postings")?;
            Ok(done)
        }.await)
    }

    /// Records qualifications, all in one transaction, each labelled for its
    /// refusal, which refuses them all: a practitioner not in the store inside
    /// `scope`. A qualification given again (same practitioner, qualification
    /// and day obtained) sets its lapse, or is left as it is.
    pub async fn record_qualifications(
        &self,
        scope: &Scope,
        rows: &[(String, QualificationHeld)],
        actor: &str,
    ) -> Result<HistoryWrites, StoreError> {
        let at = now();
        let (lo, hi) = scope.code_range();
        on_pool!(self, p => async {
            let mut tx = begin_write(p, "recording qualifications").await?;
            let mut done = HistoryWrites::default();
            for (label, new) in rows {
                let ctx = format!("{label} (practitioner {})", new.practitioner_id);
                let inside: Option<i64> = sqlx::query_scalar(&format!("{PRACTITIONER_IN_SCOPE} LIMIT 1"))
                    .bind(&new.practitioner_id)
                    .bind(lo)
                    .bind(hi)
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx(&ctx)?;
                if inside.is_none() {
                    return Err(rejected(&ctx, "practitioner_id: the practitioner is not in the store inside your scope"));
                }
                let region: i64 = sqlx::query_scalar(
                    "SELECT f.region_code FROM practitioners p JOIN facilities f ON f.facility_id = p.facility_id
                     WHERE p.practitioner_id = $1",
                )
                .bind(&new.practitioner_id)
                .fetch_one(&mut *tx)
                .await
                .ctx(&ctx)?;
                let kept: Vec<QualificationRow> = sqlx::query_as(&format!(
                    "SELECT {QUALIFICATION_COLS} FROM qualifications WHERE practitioner_id = $1 ORDER BY id"
                ))
                .bind(&new.practitioner_id)
                .fetch_all(&mut *tx)
                .await
                .ctx(&ctx)?;
                let kept = kept.into_iter().map(|r| qualification_of(r, &ctx)).collect::<Result<Vec<_>, _>>()?;
                match kept.iter().find(|k| k.held.same_grant(new)) {
                    Some(s) if s.held.lapses == new.lapses => done.unchanged += 1,
                    Some(s) => {
                        sqlx::query("UPDATE qualifications SET lapses = $1, changed_by = $2, changed_at = $3 WHERE id = $4")
                            .bind(new.lapses)
                            .bind(actor.trim())
                            .bind(at)
                            .bind(s.id)
                            .execute(&mut *tx)
                            .await
                            .ctx(&ctx)?;
                        done.updated += 1;
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO qualifications (practitioner_id, qualification, obtained, lapses, changed_by, changed_at)
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(&new.practitioner_id)
                        .bind(new.qualification.as_str())
                        .bind(new.obtained)
                        .bind(new.lapses)
                        .bind(actor.trim())
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .ctx(&ctx)?;
                        done.inserted += 1;
                    }
                }
                done.regions.push(RegionCode::from_u64(region as u64).map_err(|e| corrupt(&ctx, region, e))?);
            }
            tx.commit().await.ctx("recording qualifications")?;
            Ok(done)
        }.await)
    }
}
