//! The catalogue of drugs and services by province and year, and the items of
//! itemised claims (migration 19, docs/catalogue.md).
//!
//! The store keeps the catalogue and each claim's priced lines; the pricing is
//! `domain::items`' and is done by `app` before the write. A claim's items are
//! written in one transaction with the claim's eligible cost, re-checked there:
//! the claim is stored inside the scope, not settled, not voided, and its total
//! cost is the one the items were checked against. A claim's items are kept
//! with the category and share they were priced by, so the slip shows the bill
//! as it was settled even after the catalogue changes.
//!
//! The claims file may be imported again over an itemised claim: triggers keep
//! the claim's eligible cost the sum of its items' eligible parts, and refuse a
//! total cost that is not the sum of its items' amounts.

use crate::db::{begin_write, now, on_pool, Page, Scope, Store};
use crate::error::{corrupt, Ctx, StoreError};
use crate::settlements::region_of;
use crate::vals::placeholders;
use domain::items::{AsPricedLine, CatalogueItem, ItemCategory, PricedItem, PricedLine, Quantity};
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

pub(crate) type ItemRow = (String, String, i64, i64, i64, String, i64, i64, i64);

pub(crate) fn priced_item(r: ItemRow, ctx: &str) -> Result<PricedItem, StoreError> {
    let category: ItemCategory = r.5.parse().map_err(|e: String| corrupt(ctx, &r.5, e))?;
    Ok(PricedItem {
        item_code: r.0,
        name: r.1,
        quantity: Quantity(r.2),
        unit_price: Fen(r.3),
        amount: Fen(r.4),
        category,
        self_pay_share: Rate(r.6 as u32),
        self_pay_first: Fen(r.7),
        eligible: Fen(r.8),
    })
}

pub(crate) const ITEM_COLS: &str =
    "item_code, name, quantity, unit_price, amount, category, self_pay_share, self_pay_first, eligible";

/// How each engine writes claims' items and their eligible costs. sqlx binds a
/// value by looking its parameter's name up (a scan over the statement's
/// parameters), so a bill of 50 lines in one statement of 600 values costs
/// more than the settlement itself: SQLite writes through its own interface
/// (`raw.rs`, bound by position), PostgreSQL an array a column (`unnest`).
pub(crate) trait ItemsWrite: sqlx::Database {
    /// Inserts each claim's priced lines, numbered from 1.
    fn insert_items<L: AsPricedLine + Sync>(
        conn: &mut Self::Connection,
        bills: &[(&ClaimKey, &[L])],
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
    /// Sets claims' eligible costs.
    fn set_eligible(
        conn: &mut Self::Connection,
        claims: &[(&ClaimKey, Fen)],
        ctx: &str,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send;
}

/// Rows of items a statement (SQLite: 12 values a row).
const ITEM_ROWS_A_STATEMENT: usize = 64;

/// Lines up to which SQLite writes on the async worker itself (a bill in real
/// time); more (an import) are written where blocking is allowed.
const BLOCKING_FROM: usize = 5_000;

fn item_sql(n: usize) -> String {
    format!("INSERT INTO claim_items (claim_id, facility_id, line, {ITEM_COLS}) VALUES {}", placeholders(n, 12))
}

/// Each line of `bills` with its claim and its number from 1, the claims in
/// the order of the table's key (so that its B-tree grows at one end instead
/// of splitting pages all over), each claim's lines in order.
fn numbered<'b, L: AsPricedLine>(bills: &[(&'b ClaimKey, &'b [L])]) -> Vec<(&'b ClaimKey, i64, PricedLine<'b>)> {
    let n: usize = bills.iter().map(|(_, items)| items.len()).sum();
    let mut sorted: Vec<&(&ClaimKey, &[L])> = bills.iter().collect();
    sorted.sort_by(|a, b| {
        (a.0.claim_id.as_str(), a.0.facility_id.as_str()).cmp(&(b.0.claim_id.as_str(), b.0.facility_id.as_str()))
    });
    let mut out = Vec::with_capacity(n);
    for (key, items) in sorted {
        out.extend(items.iter().enumerate().map(|(i, it)| (*key, i as i64 + 1, it.priced_line())));
    }
    out
}

/// A numbered line's values, in the order of [`item_sql`]'s columns.
fn item_vals<'r, 'b: 'r>((key, line, it): &'r (&'b ClaimKey, i64, PricedLine<'b>)) -> [crate::vals::Val<'r>; 12] {
    use crate::vals::Val;
    [
        Val::text(&key.claim_id),
        Val::text(&key.facility_id),
        Val::int(*line),
        Val::text(it.item_code),
        Val::text(it.name),
        Val::int(it.quantity.0),
        Val::int(it.unit_price.0),
        Val::int(it.amount.0),
        Val::text(it.category.as_str()),
        Val::int(it.self_pay_share.0 as i64),
        Val::int(it.self_pay_first.0),
        Val::int(it.eligible.0),
    ]
}

impl ItemsWrite for sqlx::Sqlite {
    async fn insert_items<L: AsPricedLine + Sync>(
        conn: &mut Self::Connection,
        bills: &[(&ClaimKey, &[L])],
        ctx: &str,
    ) -> Result<(), StoreError> {
        let lines = numbered(bills);
        let mut handle = conn.lock_handle().await.ctx(ctx)?;
        let mut write = || crate::raw::execute_mapped(&mut handle, item_sql, &lines, ITEM_ROWS_A_STATEMENT, item_vals);
        let done = if lines.len() >= BLOCKING_FROM { crate::raw::blocking(write) } else { write() };
        done.map_err(|e| e.into_store(ctx.to_string()))
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
        crate::raw::blocking(|| crate::raw::execute_rows(&mut handle, sql, &refs, 1))
            .map_err(|e| e.into_store(ctx.to_string()))
    }
}

/// Lines from which PostgreSQL takes a bill's items by `COPY` (an import)
/// rather than in one `INSERT` of arrays (a bill in real time, where COPY's
/// extra round trip costs more than it saves).
const PG_COPY_FROM: usize = 2_000;

const ITEM_COLUMNS: [&str; 12] = [
    "claim_id",
    "facility_id",
    "line",
    "item_code",
    "name",
    "quantity",
    "unit_price",
    "amount",
    "category",
    "self_pay_share",
    "self_pay_first",
    "eligible",
];

/// A numbered line as a line of `COPY` data, in the order of [`ITEM_COLUMNS`].
fn item_copy((key, line, it): &(&ClaimKey, i64, PricedLine<'_>), out: &mut crate::vals::CopyLine<'_>) {
    out.text(&key.claim_id)
        .text(&key.facility_id)
        .int(*line)
        .text(it.item_code)
        .text(it.name)
        .int(it.quantity.0)
        .int(it.unit_price.0)
        .int(it.amount.0)
        .text(it.category.as_str())
        .int(it.self_pay_share.0 as i64)
        .int(it.self_pay_first.0)
        .int(it.eligible.0);
}

impl ItemsWrite for sqlx::Postgres {
    async fn insert_items<L: AsPricedLine + Sync>(
        conn: &mut Self::Connection,
        bills: &[(&ClaimKey, &[L])],
        ctx: &str,
    ) -> Result<(), StoreError> {
        use crate::vals::{pg_copy, pg_insert, PgArray, PG_ROWS_A_STATEMENT};
        let lines = numbered(bills);
        if lines.len() >= PG_COPY_FROM {
            pg_copy(conn, "claim_items", &ITEM_COLUMNS, &lines, item_copy, ctx).await?;
            return Ok(());
        }
        for chunk in lines.chunks(PG_ROWS_A_STATEMENT) {
            let arrays = vec![
                PgArray::T(chunk.iter().map(|l| Some(l.0.claim_id.as_str())).collect()),
                PgArray::T(chunk.iter().map(|l| Some(l.0.facility_id.as_str())).collect()),
                PgArray::I(chunk.iter().map(|l| Some(l.1)).collect()),
                PgArray::T(chunk.iter().map(|l| Some(l.2.item_code)).collect()),
                PgArray::T(chunk.iter().map(|l| Some(l.2.name)).collect()),
                PgArray::I(chunk.iter().map(|l| Some(l.2.quantity.0)).collect()),
                PgArray::I(chunk.iter().map(|l| Some(l.2.unit_price.0)).collect()),
                PgArray::I(chunk.iter().map(|l| Some(l.2.amount.0)).collect()),
                PgArray::T(chunk.iter().map(|l| Some(l.2.category.as_str())).collect()),
                PgArray::I(chunk.iter().map(|l| Some(l.2.self_pay_share.0 as i64)).collect()),
                PgArray::I(chunk.iter().map(|l| Some(l.2.self_pay_first.0)).collect()),
                PgArray::I(chunk.iter().map(|l| Some(l.2.eligible.0)).collect()),
            ];
            pg_insert(conn, "claim_items", &ITEM_COLUMNS, arrays, "", ctx).await?;
        }
        Ok(())
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

/// Inserts claims' items inside `tx`, as the engine does best.
pub(crate) async fn insert_items<DB: ItemsWrite, L: AsPricedLine + Sync>(
    tx: &mut sqlx::Transaction<'_, DB>,
    bills: &[(&ClaimKey, &[L])],
    ctx: &str,
) -> Result<(), StoreError> {
    DB::insert_items(&mut **tx, bills, ctx).await
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
        let sql = format!(
            "SELECT {} FROM claim_items WHERE claim_id = $1 AND facility_id = $2 ORDER BY line",
            crate::items::ITEM_COLS
        );
        let rows: Vec<crate::items::ItemRow> = sqlx::query_as(&sql)
            .bind(key.claim_id.as_str())
            .bind(key.facility_id.as_str())
            .fetch_all(&mut *$conn)
            .await
            .ctx(&$ctx)?;
        rows.into_iter().map(|r| crate::items::priced_item(r, &$ctx)).collect::<Result<Vec<_>, StoreError>>()?
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
        type Row = (String, String, i64, i64, i64, bool, bool);
        for chunk in claim_ids.chunks(500) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "SELECT c.claim_id, c.facility_id, c.total_cost, c.year, COALESCE(f.region_code, h.village_code), c.voided,
                        EXISTS (SELECT 1 FROM settlements s WHERE s.claim_id = c.claim_id AND s.facility_id = c.facility_id)
                 FROM claims c JOIN persons p ON p.person_id = c.person_id
                 JOIN households h ON h.household_id = p.household_id
                 LEFT JOIN facilities f ON f.facility_id = c.facility_id
                 WHERE h.village_code BETWEEN $1 AND $2 AND c.claim_id IN ({})",
                list.join(",")
            );
            let rows: Vec<Row> = on_pool!(self, p => {
                let mut q = sqlx::query_as(&sql).bind(lo).bind(hi);
                for c in chunk {
                    q = q.bind(*c);
                }
                q.fetch_all(p).await.ctx(ctx)?
            });
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
        type Row = (String, String, i64, bool, i64, bool, bool);
        on_pool!(self, p => async {
            let mut tx = begin_write(p, ctx).await?;
            // The claims as they stand inside the transaction, by key.
            let mut stood: std::collections::HashMap<ClaimKey, (i64, bool, i64, bool, bool)> =
                std::collections::HashMap::with_capacity(bills.len());
            let mut ids: Vec<&str> = bills.iter().map(|b| b.key.claim_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            for chunk in ids.chunks(500) {
                let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 1)).collect();
                let sql = format!(
                    "SELECT c.claim_id, c.facility_id, c.total_cost, c.voided, h.village_code,
                            EXISTS (SELECT 1 FROM settlements s WHERE s.claim_id = c.claim_id AND s.facility_id = c.facility_id),
                            EXISTS (SELECT 1 FROM claim_items i WHERE i.claim_id = c.claim_id AND i.facility_id = c.facility_id)
                     FROM claims c JOIN persons p ON p.person_id = c.person_id
                     JOIN households h ON h.household_id = p.household_id
                     WHERE c.claim_id IN ({})",
                    list.join(",")
                );
                let mut q = sqlx::query_as::<_, Row>(&sql);
                for c in chunk {
                    q = q.bind(*c);
                }
                for (id, f, total, voided, village, settled, itemised) in q.fetch_all(&mut *tx).await.ctx(ctx)? {
                    stood.insert(ClaimKey { claim_id: id, facility_id: f }, (total, voided, village, settled, itemised));
                }
            }
            let mut villages = Vec::with_capacity(bills.len());
            let mut replaced: Vec<&ClaimKey> = Vec::new();
            for b in bills {
                let here = format!("{} (claim {})", b.label, b.key);
                let Some(&(total, voided, village, settled, itemised)) = stood.get(&b.key) else {
                    return Err(rejected(&here, "claim_id: the claim is not in the store inside your scope"));
                };
                let village = region_of(village, &here)?;
                if !scope.contains(village) {
                    return Err(rejected(&here, "claim_id: the claim is not in the store inside your scope"));
                }
                if voided {
                    return Err(rejected(&here, "the claim was voided; its bill can no longer change"));
                }
                if settled {
                    return Err(rejected(
                        &here,
                        "the claim is settled: its items would change the eligible cost it was settled on; void it and settle the corrected bill under a new claim_id",
                    ));
                }
                if total != b.total_cost.0 {
                    return Err(rejected(&here, format!(
                        "the claim's total cost {} is not the sum of its items' amounts ({})",
                        Fen(total), b.total_cost
                    )));
                }
                if itemised {
                    replaced.push(&b.key);
                }
                villages.push(village);
            }
            // A claim's items again: the old ones go first (rare: a file imported again).
            for key in replaced {
                sqlx::query("DELETE FROM claim_items WHERE claim_id = $1 AND facility_id = $2")
                    .bind(&key.claim_id)
                    .bind(&key.facility_id)
                    .execute(&mut *tx)
                    .await
                    .ctx(ctx)?;
            }
            // The eligible costs before the items, so that the triggers that keep
            // an itemised claim's eligible cost have nothing to say.
            let eligible: Vec<(&ClaimKey, Fen)> = bills.iter().map(|b| (&b.key, b.eligible)).collect();
            set_eligible(&mut tx, &eligible, ctx).await?;
            let lines: Vec<(&ClaimKey, &[PricedLine<'_>])> = bills.iter().map(|b| (&b.key, &lines[b.lines.clone()])).collect();
            insert_items(&mut tx, &lines, ctx).await?;
            tx.commit().await.ctx(ctx)?;
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
