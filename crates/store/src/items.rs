//! The catalogue of drugs and services by province and year, and the items of
//! itemised claims (migration 19, docs/catalogue.md).
//!
//! The store keeps the catalogue and each claim's priced lines; the pricing is
//! `domain::items`' and is done by `app` before the write. A claim's items are
//! written in one transaction with the claim's eligible cost, re-checked there:
//! the claim is stored inside the scope, not settled, not voided, and its total
//! cost is the one the items were checked against. A claim's items are kept
//! with the category and share they were priced by, so the slip shows the bill
//! as it was settled even after the catalogue changes. Since migration 28 a
//! claim's lines are one row of `claim_bills`, packed (`packed_lines.rs`).
//!
//! The claims file may be imported again over an itemised claim: triggers keep
//! the claim's eligible cost the sum of its items' eligible parts, and refuse a
//! total cost that is not the sum of its items' amounts.

use crate::db::{begin_write, now, on_pool, Page, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use crate::settlements::region_of;
use crate::vals::placeholders;
use domain::items::{AsPricedLine, CatalogueItem, ItemCategory, PricedItem, PricedLine};
use domain::{ClaimKey, Fen, Rate, RegionCode};

/// Migration 19: the catalogue and the claims' items.
pub(crate) const V19: &str = r#"
CREATE TABLE catalogue_items (
    province BIGINT NOT NULL CHECK (province BETWEEN 11 AND 82),
    year BIGINT NOT NULL CHECK (year BETWEEN 1990 AND 2100),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('a', 'b', 'c')),
    self_pay_share BIGINT NOT NULL CHECK (self_pay_share >= 0 AND self_pay_share < 10000),
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (province, year, code)
);

CREATE TABLE claim_items (
    claim_id TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    line BIGINT NOT NULL,
    item_code TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    category TEXT NOT NULL CHECK (category IN ('a', 'b', 'c')),
    self_pay_share BIGINT NOT NULL,
    self_pay_first BIGINT NOT NULL,
    eligible BIGINT NOT NULL CHECK (eligible >= 0 AND eligible <= amount),
    PRIMARY KEY (claim_id, facility_id, line),
    FOREIGN KEY (claim_id, facility_id) REFERENCES claims (claim_id, facility_id)
)
"#;

/// SQLite: an itemised claim's eligible cost follows its items (reset after
/// an update; recursive triggers are off, so the reset does not fire again),
/// and its total cost may not leave the sum of its items.
pub(crate) const V19_SQLITE: &str = r#"
CREATE TRIGGER claims_itemised_total BEFORE UPDATE OF total_cost ON claims
WHEN NEW.total_cost <> OLD.total_cost
 AND EXISTS (SELECT 1 FROM claim_items i WHERE i.claim_id = OLD.claim_id AND i.facility_id = OLD.facility_id)
BEGIN
    SELECT RAISE(ABORT, 'an itemised claim''s total cost is the sum of its items: import its claim_items again to change it');
END;
CREATE TRIGGER claims_itemised_eligible AFTER UPDATE OF eligible_cost ON claims
WHEN EXISTS (SELECT 1 FROM claim_items i WHERE i.claim_id = NEW.claim_id AND i.facility_id = NEW.facility_id)
 AND NEW.eligible_cost <> (SELECT SUM(i.eligible) FROM claim_items i
                           WHERE i.claim_id = NEW.claim_id AND i.facility_id = NEW.facility_id)
BEGIN
    UPDATE claims SET eligible_cost = (SELECT SUM(i.eligible) FROM claim_items i
                                       WHERE i.claim_id = NEW.claim_id AND i.facility_id = NEW.facility_id)
    WHERE claim_id = NEW.claim_id AND facility_id = NEW.facility_id;
END;
"#;

/// PostgreSQL: the same rules in one row trigger.
pub(crate) const V19_POSTGRES: &str = r#"
CREATE FUNCTION claims_itemised() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    t BIGINT;
    e BIGINT;
BEGIN
    SELECT SUM(amount), SUM(eligible) INTO t, e FROM claim_items
    WHERE claim_id = OLD.claim_id AND facility_id = OLD.facility_id;
    IF t IS NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.total_cost <> OLD.total_cost THEN
        RAISE EXCEPTION 'an itemised claim''s total cost is the sum of its items: import its claim_items again to change it';
    END IF;
    NEW.eligible_cost := e;
    RETURN NEW;
END $$;
CREATE TRIGGER claims_itemised BEFORE UPDATE OF total_cost, eligible_cost ON claims
FOR EACH ROW EXECUTE FUNCTION claims_itemised();
"#;

/// Migration 27, SQLite: the claims' items kept in the order of their key
/// (`WITHOUT ROWID`): one B-tree instead of a table and the index of its
/// primary key, so that a day's half a million lines write about a third less.
/// The table is rebuilt; the triggers on `claims` that read it are dropped
/// before and made again after (as migration 19 made them). PostgreSQL keeps
/// its table as it is.
pub(crate) const V27_SQLITE: &str = r#"
DROP TRIGGER claims_itemised_total;
DROP TRIGGER claims_itemised_eligible;
CREATE TABLE claim_items_by_key (
    claim_id TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    line BIGINT NOT NULL,
    item_code TEXT NOT NULL,
    name TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    category TEXT NOT NULL CHECK (category IN ('a', 'b', 'c')),
    self_pay_share BIGINT NOT NULL,
    self_pay_first BIGINT NOT NULL,
    eligible BIGINT NOT NULL CHECK (eligible >= 0 AND eligible <= amount),
    PRIMARY KEY (claim_id, facility_id, line),
    FOREIGN KEY (claim_id, facility_id) REFERENCES claims (claim_id, facility_id)
) WITHOUT ROWID;
INSERT INTO claim_items_by_key SELECT claim_id, facility_id, line, item_code, name, quantity, unit_price, amount,
    category, self_pay_share, self_pay_first, eligible FROM claim_items;
DROP TABLE claim_items;
ALTER TABLE claim_items_by_key RENAME TO claim_items;
CREATE TRIGGER claims_itemised_total BEFORE UPDATE OF total_cost ON claims
WHEN NEW.total_cost <> OLD.total_cost
 AND EXISTS (SELECT 1 FROM claim_items i WHERE i.claim_id = OLD.claim_id AND i.facility_id = OLD.facility_id)
BEGIN
    SELECT RAISE(ABORT, 'an itemised claim''s total cost is the sum of its items: import its claim_items again to change it');
END;
CREATE TRIGGER claims_itemised_eligible AFTER UPDATE OF eligible_cost ON claims
WHEN EXISTS (SELECT 1 FROM claim_items i WHERE i.claim_id = NEW.claim_id AND i.facility_id = NEW.facility_id)
 AND NEW.eligible_cost <> (SELECT SUM(i.eligible) FROM claim_items i
                           WHERE i.claim_id = NEW.claim_id AND i.facility_id = NEW.facility_id)
BEGIN
    UPDATE claims SET eligible_cost = (SELECT SUM(i.eligible) FROM claim_items i
                                       WHERE i.claim_id = NEW.claim_id AND i.facility_id = NEW.facility_id)
    WHERE claim_id = NEW.claim_id AND facility_id = NEW.facility_id;
END;
"#;

/// Migration 27, PostgreSQL: nothing changes but the table's comment.
pub(crate) const V27_POSTGRES: &str =
    "COMMENT ON TABLE claim_items IS 'the priced lines of itemised claims (docs/catalogue.md)'";

/// Migration 28: a claim's items kept in one row (`packed_lines.rs`), with
/// their count and sums, instead of a row a line; the stored lines move over in
/// order, packed by SQL as `packed_lines::pack` packs them (a test holds the
/// two equal). The triggers on `claims` read the sums.
macro_rules! v28_table {
    () => {
        "CREATE TABLE claim_bills (
    claim_id TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    line_count BIGINT NOT NULL CHECK (line_count > 0),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    eligible BIGINT NOT NULL CHECK (eligible >= 0 AND eligible <= amount),
    lines TEXT NOT NULL,
    PRIMARY KEY (claim_id, facility_id),
    FOREIGN KEY (claim_id, facility_id) REFERENCES claims (claim_id, facility_id)
);
"
    };
}

/// Migration 28, SQLite. `group_concat` joins the lines in the order the inner
/// query gives them.
pub(crate) const V28_SQLITE: &str = concat!(
    v28_table!(),
    r#"INSERT INTO claim_bills (claim_id, facility_id, line_count, amount, eligible, lines)
SELECT claim_id, facility_id, COUNT(*), SUM(amount), SUM(eligible), group_concat(packed, '')
FROM (SELECT claim_id, facility_id, line, amount, eligible,
             replace(replace(replace(item_code, '\', '\\'), char(31), '\F'), char(30), '\L') || char(31)
             || replace(replace(replace(name, '\', '\\'), char(31), '\F'), char(30), '\L') || char(31)
             || quantity || char(31) || unit_price || char(31) || amount || char(31) || category || char(31)
             || self_pay_share || char(31) || self_pay_first || char(31) || eligible || char(30) AS packed
      FROM claim_items ORDER BY claim_id, facility_id, line)
GROUP BY claim_id, facility_id;
DROP TRIGGER claims_itemised_total;
DROP TRIGGER claims_itemised_eligible;
DROP TABLE claim_items;
CREATE TRIGGER claims_itemised_total BEFORE UPDATE OF total_cost ON claims
WHEN NEW.total_cost <> OLD.total_cost
 AND EXISTS (SELECT 1 FROM claim_bills b WHERE b.claim_id = OLD.claim_id AND b.facility_id = OLD.facility_id)
BEGIN
    SELECT RAISE(ABORT, 'an itemised claim''s total cost is the sum of its items: import its claim_items again to change it');
END;
CREATE TRIGGER claims_itemised_eligible AFTER UPDATE OF eligible_cost ON claims
WHEN NEW.eligible_cost <> (SELECT b.eligible FROM claim_bills b
                           WHERE b.claim_id = NEW.claim_id AND b.facility_id = NEW.facility_id)
BEGIN
    UPDATE claims SET eligible_cost = (SELECT b.eligible FROM claim_bills b
                                       WHERE b.claim_id = NEW.claim_id AND b.facility_id = NEW.facility_id)
    WHERE claim_id = NEW.claim_id AND facility_id = NEW.facility_id;
END;
"#
);

/// Migration 28, PostgreSQL: the same move, and the row trigger reading the sums.
pub(crate) const V28_POSTGRES: &str = concat!(
    v28_table!(),
    r#"INSERT INTO claim_bills (claim_id, facility_id, line_count, amount, eligible, lines)
SELECT claim_id, facility_id, COUNT(*), SUM(amount), SUM(eligible), string_agg(
    replace(replace(replace(item_code, '\', '\\'), chr(31), '\F'), chr(30), '\L') || chr(31)
    || replace(replace(replace(name, '\', '\\'), chr(31), '\F'), chr(30), '\L') || chr(31)
    || quantity::TEXT || chr(31) || unit_price::TEXT || chr(31) || amount::TEXT || chr(31) || category || chr(31)
    || self_pay_share::TEXT || chr(31) || self_pay_first::TEXT || chr(31) || eligible::TEXT || chr(30),
    '' ORDER BY line)
FROM claim_items GROUP BY claim_id, facility_id;
DROP TABLE claim_items;
CREATE OR REPLACE FUNCTION claims_itemised() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    e BIGINT;
BEGIN
    SELECT eligible INTO e FROM claim_bills WHERE claim_id = OLD.claim_id AND facility_id = OLD.facility_id;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    IF NEW.total_cost <> OLD.total_cost THEN
        RAISE EXCEPTION 'an itemised claim''s total cost is the sum of its items: import its claim_items again to change it';
    END IF;
    NEW.eligible_cost := e;
    RETURN NEW;
END $$;
"#
);

/// A stored claim as the import of its items needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimForItems {
    pub key: ClaimKey,
    pub total_cost: Fen,
    pub year: i32,
    /// The province whose catalogue prices it: its facility's, or (a claim
    /// without a stored facility) its patient's village's.
    pub province: u8,
    pub settled: bool,
    pub voided: bool,
}

/// A claim's bill whose priced lines lie in a slice beside it (see
/// [`Store::put_claim_lines`]).
#[derive(Debug, Clone)]
pub struct BillLines {
    /// Where the items came from (a file's first line of the claim), for a refusal.
    pub label: String,
    pub key: ClaimKey,
    /// The claim's total cost the items were checked against.
    pub total_cost: Fen,
    pub eligible: Fen,
    /// Its lines in the slice, in order.
    pub lines: std::ops::Range<usize>,
}

/// A claim's bill, priced, to be written with the claim's eligible cost.
#[derive(Debug, Clone)]
pub struct ItemisedBill {
    /// Where the items came from (a file's first line of the claim), for a refusal.
    pub label: String,
    pub key: ClaimKey,
    /// The claim's total cost the items were checked against.
    pub total_cost: Fen,
    pub eligible: Fen,
    pub items: Vec<PricedItem>,
}

fn rejected(ctx: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Rejected { context: ctx.to_string(), reason: reason.into() }
}

type CatalogueRow = (i64, i64, String, String, String, i64);

fn catalogue_item(r: CatalogueRow, ctx: &str) -> Result<CatalogueItem, StoreError> {
    let category: ItemCategory = r.4.parse().map_err(|e: String| corrupt(ctx, &r.4, e))?;
    Ok(CatalogueItem {
        province: r.0 as u8,
        year: r.1 as i32,
        code: r.2,
        name: r.3,
        category,
        self_pay_share: Rate(r.5 as u32),
    })
}

/// A stored claim as the write of its bill re-checks it.
pub(crate) struct Standing {
    key: ClaimKey,
    total: i64,
    eligible: i64,
    voided: bool,
    person: i64,
    village: i64,
    settled: bool,
    itemised: bool,
}

/// The claims with `n` IDs as [`Standing`] reads them, its fields in order:
/// the IDs are `$1` to `$n` (`positional`: `?`, bound by position, as
/// SQLite's own interface binds them; SQLite looks a `$n` up by name in a list
/// of them, which over 500 IDs cost as much as the query).
fn standing_sql(n: usize, positional: bool) -> String {
    let list: Vec<String> = (0..n).map(|i| if positional { "?".to_string() } else { format!("${}", i + 1) }).collect();
    format!(
        "SELECT c.claim_id, c.facility_id, c.total_cost, c.eligible_cost, c.voided, c.person_id, h.village_code,
                EXISTS (SELECT 1 FROM settlements s WHERE s.claim_id = c.claim_id AND s.facility_id = c.facility_id),
                EXISTS (SELECT 1 FROM claim_bills i WHERE i.claim_id = c.claim_id AND i.facility_id = c.facility_id)
         FROM claims c JOIN persons p ON p.person_id = c.person_id
         JOIN households h ON h.household_id = p.household_id
         WHERE c.claim_id IN ({})",
        list.join(",")
    )
}

/// IDs a statement that reads claims by ID.
const IDS_A_STATEMENT: usize = 500;

/// How each engine writes claims' items and their eligible costs: one row a
/// claim, its lines packed (`packed_lines.rs`). SQLite writes through its own
/// interface (`raw.rs`, bound by position), PostgreSQL an array a column
/// (`unnest`) for a few bills, `COPY` for an import.
pub(crate) trait ItemsWrite: sqlx::Database {
    /// Inserts each claim's priced lines, in order.
    fn insert_items<L: AsPricedLine + Sync>(
        conn: &mut Self::Connection,
        bills: &[(&ClaimKey, &[L])],
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
    /// The stored claims with these IDs (at every facility), as they stand
    /// inside the writer's transaction.
    fn claims_standing(
        conn: &mut Self::Connection,
        claim_ids: &[&str],
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<Vec<Standing>, StoreError>> + Send;
    /// Sets claims' eligible costs. The caller marks the claims' persons and
    /// villages through the unit of work (`fresh::commit`): on SQLite the row
    /// trigger on `claims` marks nothing meanwhile (migration 29); on
    /// PostgreSQL the statement trigger marks them as well.
    fn set_eligible(
        conn: &mut Self::Connection,
        claims: &[(&ClaimKey, Fen)],
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

/// Bills a statement (SQLite: 6 values a row).
const BILLS_A_STATEMENT: usize = 32;

/// Bills up to which SQLite writes on the async worker itself (bills in real
/// time); more (an import) are written where blocking is allowed.
const BLOCKING_FROM: usize = 200;

const BILL_COLUMNS: [&str; 6] = ["claim_id", "facility_id", "line_count", "amount", "eligible", "lines"];

fn bill_sql(n: usize) -> String {
    format!("INSERT INTO claim_bills ({}) VALUES {}", BILL_COLUMNS.join(", "), placeholders(n, 6))
}

/// The bills with lines, in the order of the table's key (so that its B-tree
/// grows at one end instead of splitting pages all over). A bill without lines
/// is not written: a claim of totals only has no row. Each is packed only as
/// its statement (or its line of `COPY`) is made: a day's packed bills are as
/// large as its file, and memory first touched costs more than the packing.
fn in_key_order<'b, L>(bills: &[(&'b ClaimKey, &'b [L])]) -> Vec<(&'b ClaimKey, &'b [L])> {
    let mut out: Vec<_> = bills.iter().filter(|(_, items)| !items.is_empty()).copied().collect();
    out.sort_by(|a, b| {
        (a.0.claim_id.as_str(), a.0.facility_id.as_str()).cmp(&(b.0.claim_id.as_str(), b.0.facility_id.as_str()))
    });
    out
}

/// A bill's values, packed, in the order of [`BILL_COLUMNS`].
fn bill_vals<'r, L: AsPricedLine>((key, items): &'r (&ClaimKey, &[L])) -> [crate::vals::Val<'r>; 6] {
    use crate::vals::Val;
    let p = crate::packed_lines::pack(items);
    [
        Val::text(&key.claim_id),
        Val::text(&key.facility_id),
        Val::int(p.count),
        Val::int(p.amount),
        Val::int(p.eligible),
        Val::owned(p.text),
    ]
}

impl ItemsWrite for sqlx::Sqlite {
    async fn insert_items<L: AsPricedLine + Sync>(
        conn: &mut Self::Connection,
        bills: &[(&ClaimKey, &[L])],
        ctx: &str,
    ) -> Result<(), StoreError> {
        let rows = in_key_order(bills);
        let mut handle = conn.lock_handle().await.ctx(ctx)?;
        let mut write = || crate::raw::execute_mapped(&mut handle, bill_sql, &rows, BILLS_A_STATEMENT, bill_vals);
        let done = if rows.len() >= BLOCKING_FROM { crate::raw::blocking(write) } else { write() };
        done.map_err(|e| e.into_store(ctx.to_string()))
    }

    /// Through SQLite's own interface: sqlx hands each row across threads.
    async fn claims_standing(
        conn: &mut Self::Connection,
        claim_ids: &[&str],
        ctx: &str,
    ) -> Result<Vec<Standing>, StoreError> {
        use crate::vals::Val;
        let mut out = Vec::with_capacity(claim_ids.len());
        let mut handle = conn.lock_handle().await.ctx(ctx)?;
        crate::raw::blocking(|| {
            for chunk in claim_ids.chunks(IDS_A_STATEMENT) {
                let binds: Vec<Val<'_>> = chunk.iter().map(|c| Val::text(c)).collect();
                crate::raw::query_each(&mut handle, &standing_sql(chunk.len(), true), &binds, |r| {
                    out.push(Standing {
                        key: ClaimKey { claim_id: r.text(0)?.to_string(), facility_id: r.text(1)?.to_string() },
                        total: r.int(2),
                        eligible: r.int(3),
                        voided: r.int(4) != 0,
                        person: r.int(5),
                        village: r.int(6),
                        settled: r.int(7) != 0,
                        itemised: r.int(8) != 0,
                    });
                    Ok(())
                })?;
            }
            Ok::<(), crate::raw::RawError>(())
        })
        .map_err(|e| e.into_store(ctx.to_string()))?;
        Ok(out)
    }

    async fn set_eligible(
        conn: &mut Self::Connection,
        claims: &[(&ClaimKey, Fen)],
        ctx: &str,
    ) -> Result<(), StoreError> {
        use crate::vals::Val;
        let rows: Vec<[Val<'_>; 3]> =
            claims.iter().map(|(k, e)| [Val::int(e.0), Val::text(&k.claim_id), Val::text(&k.facility_id)]).collect();
        let refs: Vec<&[Val<'_>]> = rows.iter().map(|r| r.as_slice()).collect();
        let sql = |_| {
            "UPDATE claims SET eligible_cost = $1 WHERE claim_id = $2 AND facility_id = $3 AND eligible_cost <> $1"
                .to_string()
        };
        let mut handle = conn.lock_handle().await.ctx(ctx)?;
        crate::raw::blocking(|| {
            // The trigger `fresh_claims_update` marks nothing while the row is
            // there (migration 29): the caller marks these claims, set-based.
            let mark = |sql: &'static str| move |_| sql.to_string();
            crate::raw::execute_rows(
                &mut handle,
                mark("INSERT INTO claims_marked_by_writer (marked) VALUES (1)"),
                &[&[]],
                1,
            )?;
            crate::raw::execute_rows(&mut handle, sql, &refs, 1)?;
            crate::raw::execute_rows(&mut handle, mark("DELETE FROM claims_marked_by_writer"), &[&[]], 1)
        })
        .map_err(|e| e.into_store(ctx.to_string()))
    }
}

/// Bills from which PostgreSQL takes them by `COPY` (an import) rather than
/// in one `INSERT` of arrays (bills in real time, where COPY's extra round
/// trip costs more than it saves).
const PG_COPY_FROM: usize = 100;

/// A bill, packed, as a line of `COPY` data, in the order of [`BILL_COLUMNS`].
fn bill_copy<L: AsPricedLine>((key, items): &(&ClaimKey, &[L]), out: &mut crate::vals::CopyLine<'_>) {
    let p = crate::packed_lines::pack(items);
    out.text(&key.claim_id).text(&key.facility_id).int(p.count).int(p.amount).int(p.eligible).text(&p.text);
}

impl ItemsWrite for sqlx::Postgres {
    async fn insert_items<L: AsPricedLine + Sync>(
        conn: &mut Self::Connection,
        bills: &[(&ClaimKey, &[L])],
        ctx: &str,
    ) -> Result<(), StoreError> {
        use crate::vals::{pg_copy, pg_insert, PgArray, PG_ROWS_A_STATEMENT};
        let rows = in_key_order(bills);
        if rows.len() >= PG_COPY_FROM {
            pg_copy(conn, "claim_bills", &BILL_COLUMNS, &rows, bill_copy, ctx).await?;
            return Ok(());
        }
        let rows: Vec<(&ClaimKey, crate::packed_lines::Packed)> =
            rows.iter().map(|(key, items)| (*key, crate::packed_lines::pack(items))).collect();
        for chunk in rows.chunks(PG_ROWS_A_STATEMENT) {
            let arrays = vec![
                PgArray::T(chunk.iter().map(|r| Some(r.0.claim_id.as_str())).collect()),
                PgArray::T(chunk.iter().map(|r| Some(r.0.facility_id.as_str())).collect()),
                PgArray::I(chunk.iter().map(|r| Some(r.1.count)).collect()),
                PgArray::I(chunk.iter().map(|r| Some(r.1.amount)).collect()),
                PgArray::I(chunk.iter().map(|r| Some(r.1.eligible)).collect()),
                PgArray::T(chunk.iter().map(|r| Some(r.1.text.as_str())).collect()),
            ];
            pg_insert(conn, "claim_bills", &BILL_COLUMNS, arrays, "", ctx).await?;
        }
        Ok(())
    }

    async fn claims_standing(
        conn: &mut Self::Connection,
        claim_ids: &[&str],
        ctx: &str,
    ) -> Result<Vec<Standing>, StoreError> {
        type Row = (String, String, i64, i64, bool, i64, i64, bool, bool);
        let mut out = Vec::with_capacity(claim_ids.len());
        for chunk in claim_ids.chunks(IDS_A_STATEMENT) {
            let sql = standing_sql(chunk.len(), false);
            let mut q = sqlx::query_as::<_, Row>(&sql);
            for c in chunk {
                q = q.bind(*c);
            }
            for (claim_id, facility_id, total, eligible, voided, person, village, settled, itemised) in
                q.fetch_all(&mut *conn).await.ctx(ctx)?
            {
                out.push(Standing {
                    key: ClaimKey { claim_id, facility_id },
                    total,
                    eligible,
                    voided,
                    person,
                    village,
                    settled,
                    itemised,
                });
            }
        }
        Ok(out)
    }

    async fn set_eligible(
        conn: &mut Self::Connection,
        claims: &[(&ClaimKey, Fen)],
        ctx: &str,
    ) -> Result<(), StoreError> {
        for chunk in claims.chunks(crate::vals::PG_ROWS_A_STATEMENT) {
            let ids: Vec<&str> = chunk.iter().map(|(k, _)| k.claim_id.as_str()).collect();
            let fs: Vec<&str> = chunk.iter().map(|(k, _)| k.facility_id.as_str()).collect();
            let es: Vec<i64> = chunk.iter().map(|(_, e)| e.0).collect();
            sqlx::query(
                "UPDATE claims c SET eligible_cost = u.e FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(id, f, e)
                 WHERE c.claim_id = u.id AND c.facility_id = u.f AND c.eligible_cost <> u.e",
            )
            .bind(ids)
            .bind(fs)
            .bind(es)
            .execute(&mut *conn)
            .await
            .ctx(ctx)?;
        }
        Ok(())
    }
}

/// A claim's stored lines, unpacked (none for a claim of totals only).
pub(crate) fn unpacked(lines: Option<String>, ctx: &str) -> Result<Vec<PricedItem>, StoreError> {
    match lines {
        None => Ok(Vec::new()),
        Some(text) => crate::packed_lines::unpack(&text).map_err(|e| corrupt(ctx, "claim_bills.lines", e)),
    }
}

/// Inserts claims' items inside `tx`, as the engine does best.
pub(crate) async fn insert_items<DB: ItemsWrite, L: AsPricedLine + Sync>(
    tx: &mut sqlx::Transaction<'_, DB>,
    bills: &[(&ClaimKey, &[L])],
    ctx: &str,
) -> Result<(), StoreError> {
    DB::insert_items(&mut **tx, bills, ctx).await
}

/// The stored claims with these IDs inside `tx`.
async fn claims_standing<DB: ItemsWrite>(
    tx: &mut sqlx::Transaction<'_, DB>,
    claim_ids: &[&str],
    ctx: &str,
) -> Result<Vec<Standing>, StoreError> {
    DB::claims_standing(&mut **tx, claim_ids, ctx).await
}

/// Sets claims' eligible costs inside `tx`.
pub(crate) async fn set_eligible<DB: ItemsWrite>(
    tx: &mut sqlx::Transaction<'_, DB>,
    claims: &[(&ClaimKey, Fen)],
    ctx: &str,
) -> Result<(), StoreError> {
    DB::set_eligible(&mut **tx, claims, ctx).await
}

/// A claim's stored lines on `$conn`, in order.
macro_rules! read_items {
    ($conn:ident, $key:expr, $ctx:expr) => {{
        let key: &domain::ClaimKey = $key;
        let lines: Option<String> =
            sqlx::query_scalar("SELECT lines FROM claim_bills WHERE claim_id = $1 AND facility_id = $2")
                .bind(key.claim_id.as_str())
                .bind(key.facility_id.as_str())
                .fetch_optional(&mut *$conn)
                .await
                .ctx(&$ctx)?;
        crate::items::unpacked(lines, &$ctx)?
    }};
}
pub(crate) use read_items;

impl Store {
    /// Records catalogue items (new ones, or a new name, category or share for
    /// a province's year and code), all in one transaction. Returns how many.
    pub async fn put_catalogue(&self, rows: &[(String, CatalogueItem)], actor: &str) -> Result<usize, StoreError> {
        let at = now();
        let ctx = "recording catalogue items";
        on_pool!(self, p => async {
            let mut tx = begin_write(p, ctx).await?;
            for chunk in rows.chunks(400) {
                let sql = format!(
                    "INSERT INTO catalogue_items (province, year, code, name, category, self_pay_share, changed_by, changed_at)
                     VALUES {} ON CONFLICT (province, year, code) DO UPDATE SET name = excluded.name,
                        category = excluded.category, self_pay_share = excluded.self_pay_share,
                        changed_by = excluded.changed_by, changed_at = excluded.changed_at",
                    placeholders(chunk.len(), 8)
                );
                let mut q = sqlx::query(&sql);
                for (_, i) in chunk {
                    q = q
                        .bind(i.province as i64)
                        .bind(i.year as i64)
                        .bind(&i.code)
                        .bind(&i.name)
                        .bind(i.category.as_str())
                        .bind(i.self_pay_share.0 as i64)
                        .bind(actor.trim())
                        .bind(at);
                }
                q.execute(&mut *tx).await.ctx(ctx)?;
            }
            tx.commit().await.ctx(ctx)?;
            Ok(rows.len())
        }.await)
    }

    /// The catalogue, filtered: a province, a year, and a text that an item's
    /// code starts with or its name holds; by province, year and code.
    pub async fn search_catalogue(
        &self,
        province: Option<u8>,
        year: Option<i32>,
        q: &str,
        page: Page,
    ) -> Result<Vec<CatalogueItem>, StoreError> {
        let ctx = "reading the catalogue";
        let esc: String =
            q.trim().chars().flat_map(|c| if matches!(c, '%' | '_' | '!') { vec!['!', c] } else { vec![c] }).collect();
        let sql = "SELECT province, year, code, name, category, self_pay_share FROM catalogue_items
             WHERE ($1 = 0 OR province = $1) AND ($2 = 0 OR year = $2)
               AND ($3 = '' OR lower(code) LIKE lower($3) || '%' ESCAPE '!' OR name LIKE '%' || $3 || '%' ESCAPE '!')
             ORDER BY province, year, code LIMIT $4 OFFSET $5";
        let rows: Vec<CatalogueRow> = on_pool!(self, p => sqlx::query_as(sql)
            .bind(province.unwrap_or(0) as i64)
            .bind(year.unwrap_or(0) as i64)
            .bind(&esc)
            .bind(page.limit as i64)
            .bind(page.offset as i64)
            .fetch_all(p)
            .await
            .ctx(ctx)?);
        rows.into_iter().map(|r| catalogue_item(r, ctx)).collect()
    }

    /// The items of a province's catalogue for a year with these codes (all of
    /// the catalogue where `codes` is `None`).
    pub async fn catalogue_items(
        &self,
        province: u8,
        year: i32,
        codes: Option<&[&str]>,
    ) -> Result<Vec<CatalogueItem>, StoreError> {
        let ctx = "reading catalogue items";
        let base = "SELECT province, year, code, name, category, self_pay_share FROM catalogue_items
                    WHERE province = $1 AND year = $2";
        let mut out = Vec::new();
        match codes {
            None => {
                let rows: Vec<CatalogueRow> = on_pool!(self, p => sqlx::query_as(base)
                    .bind(province as i64)
                    .bind(year as i64)
                    .fetch_all(p)
                    .await
                    .ctx(ctx)?);
                for r in rows {
                    out.push(catalogue_item(r, ctx)?);
                }
            }
            Some(codes) => {
                for chunk in codes.chunks(500) {
                    let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
                    let sql = format!("{base} AND code IN ({})", list.join(","));
                    let rows: Vec<CatalogueRow> = on_pool!(self, p => {
                        let mut q = sqlx::query_as(&sql).bind(province as i64).bind(year as i64);
                        for c in chunk {
                            q = q.bind(*c);
                        }
                        q.fetch_all(p).await.ctx(ctx)?
                    });
                    for r in rows {
                        out.push(catalogue_item(r, ctx)?);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The stored claims with these IDs, at every facility, whose patient lies
    /// inside `scope`; with what the import of their items needs.
    pub async fn claims_for_items(&self, scope: &Scope, claim_ids: &[&str]) -> Result<Vec<ClaimForItems>, StoreError> {
        let ctx = "reading the claims of the items";
        let (lo, hi) = scope.code_range();
        let mut out = Vec::with_capacity(claim_ids.len());
        // `positional`: `?` bound by position (SQLite's own interface), see `standing_sql`.
        let sql = |n: usize, positional: bool| {
            let p = |i: usize| if positional { "?".to_string() } else { format!("${i}") };
            let list: Vec<String> = (0..n).map(|i| p(i + 3)).collect();
            let (lo, hi) = (p(1), p(2));
            format!(
                "SELECT c.claim_id, c.facility_id, c.total_cost, c.year, COALESCE(f.region_code, h.village_code), c.voided,
                        EXISTS (SELECT 1 FROM settlements s WHERE s.claim_id = c.claim_id AND s.facility_id = c.facility_id)
                 FROM claims c JOIN persons p ON p.person_id = c.person_id
                 JOIN households h ON h.household_id = p.household_id
                 LEFT JOIN facilities f ON f.facility_id = c.facility_id
                 WHERE h.village_code BETWEEN {lo} AND {hi} AND c.claim_id IN ({})",
                list.join(",")
            )
        };
        type Row = (String, String, i64, i64, i64, bool, bool);
        let mut rows: Vec<Row> = Vec::with_capacity(claim_ids.len());
        for chunk in claim_ids.chunks(IDS_A_STATEMENT) {
            match &self.pool {
                // Through SQLite's own interface: sqlx hands each row across threads.
                crate::db::Pool::Sqlite(p) => {
                    use crate::vals::Val;
                    let mut binds = vec![Val::int(lo), Val::int(hi)];
                    binds.extend(chunk.iter().map(|c| Val::text(c)));
                    crate::raw::pool_each(p, &sql(chunk.len(), true), &binds, ctx, |r| {
                        rows.push((
                            r.text(0)?.to_string(),
                            r.text(1)?.to_string(),
                            r.int(2),
                            r.int(3),
                            r.int(4),
                            r.int(5) != 0,
                            r.int(6) != 0,
                        ));
                        Ok(())
                    })
                    .await?;
                }
                crate::db::Pool::Pg(p) => {
                    let sql = sql(chunk.len(), false);
                    let mut q = sqlx::query_as::<_, Row>(&sql).bind(lo).bind(hi);
                    for c in chunk {
                        q = q.bind(*c);
                    }
                    rows.extend(q.fetch_all(p).await.ctx(ctx)?);
                }
            }
        }
        for (claim_id, facility_id, total, year, region, voided, settled) in rows {
            let region = region_of(region, ctx)?;
            out.push(ClaimForItems {
                key: ClaimKey { claim_id, facility_id },
                total_cost: Fen(total),
                year: year as i32,
                province: domain::items::province_of(region),
                settled,
                voided,
            });
        }
        Ok(out)
    }

    /// Writes the bills of claims, all in one transaction: each claim's items
    /// replace those it had, and its eligible cost becomes the bill's. Each
    /// claim is re-checked in the transaction (stored inside `scope`, not
    /// settled, not voided, its total cost the one checked), and one refused
    /// refuses them all, with its label. Returns the villages of the claims'
    /// patients, in order.
    pub async fn put_claim_items(&self, scope: &Scope, bills: &[ItemisedBill]) -> Result<Vec<RegionCode>, StoreError> {
        let mut lines: Vec<PricedLine<'_>> = Vec::new();
        let mut heads = Vec::with_capacity(bills.len());
        for b in bills {
            let from = lines.len();
            lines.extend(b.items.iter().map(AsPricedLine::priced_line));
            heads.push(BillLines {
                label: b.label.clone(),
                key: b.key.clone(),
                total_cost: b.total_cost,
                eligible: b.eligible,
                lines: from..lines.len(),
            });
        }
        self.put_claim_lines(scope, &heads, &lines).await
    }

    /// [`Store::put_claim_items`] of bills whose lines lie in `lines` (each
    /// bill's at its range), borrowed from where they were priced.
    pub async fn put_claim_lines(
        &self,
        scope: &Scope,
        bills: &[BillLines],
        lines: &[PricedLine<'_>],
    ) -> Result<Vec<RegionCode>, StoreError> {
        let ctx = "recording claim items";
        if let Some(b) = bills.iter().find(|b| b.lines.start > b.lines.end || b.lines.end > lines.len()) {
            return Err(rejected(
                &b.label,
                format!("the bill's lines {:?} lie outside the {} lines given", b.lines, lines.len()),
            ));
        }
        on_pool!(self, p => async {
            let mut tx = begin_write(p, ctx).await?;
            // The claims as they stand inside the transaction, by key.
            let mut ids: Vec<&str> = bills.iter().map(|b| b.key.claim_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            let stood: std::collections::HashMap<ClaimKey, Standing> =
                claims_standing(&mut tx, &ids, ctx).await?.into_iter().map(|c| (c.key.clone(), c)).collect();
            let mut villages = Vec::with_capacity(bills.len());
            let mut replaced: Vec<&ClaimKey> = Vec::new();
            // The claims whose eligible cost changes, and the marks their update makes.
            let mut changed: Vec<(&ClaimKey, Fen)> = Vec::with_capacity(bills.len());
            let mut marks = crate::fresh::Inserted::default();
            for b in bills {
                let here = || format!("{} (claim {})", b.label, b.key);
                let Some(c) = stood.get(&b.key) else {
                    return Err(rejected(&here(), "claim_id: the claim is not in the store inside your scope"));
                };
                let village = region_of(c.village, ctx)?;
                if !scope.contains(village) {
                    return Err(rejected(&here(), "claim_id: the claim is not in the store inside your scope"));
                }
                if c.voided {
                    return Err(rejected(&here(), "the claim was voided; its bill can no longer change"));
                }
                if c.settled {
                    return Err(rejected(
                        &here(),
                        "the claim is settled: its items would change the eligible cost it was settled on; void it and settle the corrected bill under a new claim_id",
                    ));
                }
                if c.total != b.total_cost.0 {
                    return Err(rejected(&here(), format!(
                        "the claim's total cost {} is not the sum of its items' amounts ({})",
                        Fen(c.total), b.total_cost
                    )));
                }
                if c.itemised {
                    replaced.push(&b.key);
                }
                if c.eligible != b.eligible.0 {
                    changed.push((&b.key, b.eligible));
                    marks.claim_updated(c.person, c.village);
                }
                villages.push(village);
            }
            // A claim's items again: the old ones go first (rare: a file imported again).
            for key in replaced {
                sqlx::query("DELETE FROM claim_bills WHERE claim_id = $1 AND facility_id = $2")
                    .bind(&key.claim_id)
                    .bind(&key.facility_id)
                    .execute(&mut *tx)
                    .await
                    .ctx(ctx)?;
            }
            // The eligible costs before the items, so that the triggers that keep
            // an itemised claim's eligible cost have nothing to say.
            set_eligible(&mut tx, &changed, ctx).await?;
            let lines: Vec<(&ClaimKey, &[PricedLine<'_>])> = bills.iter().map(|b| (&b.key, &lines[b.lines.clone()])).collect();
            insert_items(&mut tx, &lines, ctx).await?;
            // The persons and villages of the claims whose eligible cost changed,
            // as the trigger of an update marks them (SQLite; PostgreSQL's
            // statement triggers marked them).
            crate::fresh::commit(tx, marks, ctx).await?;
            Ok(villages)
        }.await)
    }

    /// A claim's items as priced when they were recorded, in order (none for a
    /// claim of totals only). The caller checks the claim's scope.
    pub async fn claim_items(&self, key: &ClaimKey) -> Result<Vec<PricedItem>, StoreError> {
        let ctx = format!("reading the items of claim {key}");
        on_pool!(self, p => {
            let mut c = p.acquire().await.ctx(&ctx)?;
            Ok(read_items!(c, key, ctx))
        })
    }
}
