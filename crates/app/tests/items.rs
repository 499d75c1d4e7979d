//! Itemised bills against the catalogue, on both engines (docs/catalogue.md):
//! the import of claim items refuses an unknown item, an amount that is not
//! quantity × unit price and a total that is not the items' sum, naming the
//! line, and writes nothing then; an itemised claim settles to the fen as the
//! same claim with the computed eligible cost typed as totals, in batch and in
//! real time; a settled claim's items are refused; the scope holds; the slip
//! carries the items; a claims file imported again cannot undo the items; an
//! import of items marks stale exactly the persons and villages of the claims
//! whose eligible cost it changed, as a trigger marks an update of a claim.

mod common;
use common::*;
use domain::items::{CatalogueItem, ClaimItem, ItemCategory, Quantity};
use domain::*;
use store::Store;

both_backends!(
    itemised_claims_imported_and_settled_in_batch,
    itemised_claims_settled_in_real_time,
    an_import_of_items_marks_exactly_the_claims_it_changes
);

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");

fn facility(id: &str, village: &str) -> Facility {
    Facility {
        facility_id: id.into(),
        name: format!("hospital {id}"),
        kind: FacilityKind::CountyHospital,
        grade: None,
        region_code: code(village),
        lon: None,
        lat: None,
        opened: None,
        closed: None,
    }
}

fn item(code: &str, category: ItemCategory, share: u32) -> CatalogueItem {
    CatalogueItem {
        province: 34,
        year: 2024,
        code: code.into(),
        name: format!("item {code}"),
        category,
        self_pay_share: Rate(share),
    }
}

async fn setup(store: &Store) -> app::App {
    seed(store).await;
    store.import_facilities(&[facility("FA", "341122100201"), facility("FB", "341123100201")]).await.unwrap();
    app::settlement::put_policy(store, "34", 2024, POLICY, "admin").await.unwrap();
    let app = app::App::new(store.clone());
    let catalogue = vec![
        item("A1", ItemCategory::A, 0),
        item("B1", ItemCategory::B, 1_000),
        item("B2", ItemCategory::B, 1_500),
        item("C1", ItemCategory::C, 0),
    ];
    let rows: Vec<(String, CatalogueItem)> =
        catalogue.into_iter().enumerate().map(|(i, c)| (format!("catalogue.csv:{}", i + 2), c)).collect();
    assert_eq!(app.put_catalogue(&rows, "admin").await.unwrap(), 4);
    // Another year's catalogue does not price 2024's claims.
    let other = CatalogueItem { year: 2023, code: "OLD".into(), ..item("OLD", ItemCategory::A, 0) };
    app.put_catalogue(&[("old.csv:2".into(), other)], "admin").await.unwrap();
    app
}

/// Writes a claim items file and imports it as the command line does.
async fn import_file(app: &app::App, dir: &std::path::Path, name: &str, text: &str) -> Result<usize, String> {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let read = ingest::read_file::<ClaimItem>(&path, &mut |_, _| {});
    app::import::import_work::<ClaimItem>(app, name, read, "clerk", d("2024-12-31")).await.map_err(|e| match e {
        app::import::ImportRefused::Rows { errors, .. } => {
            errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")
        }
        other => other.to_string(),
    })
}

const HEADER: &str = "claim_id,item_code,quantity,unit_price,amount,facility_id\n";

/// X1: 100.00 (甲) twice, on two lines alike + 1 × 500.00 (乙 10%) + 0.5 × 33.33 (乙 15%) + 1 × 80.00 (丙).
/// 0.5 × 33.33 = 16.665, rounded half up: 16.67; its self-pay first 15% of
/// 16.67 = 2.5005, rounded: 2.50. Eligible: 200 + 450 + 14.17 = 664.17.
const X1_LINES: &str = "X1,A1,1,100.00,100.00,FA\nX1,A1,1,100.00,100.00,FA\nX1,B1,1,500,500,FA\nX1,B2,0.5,33.33,16.67,FA\nX1,C1,1,80,80.00,FA\n";

/// X1's bill's total.
const BILL_TOTAL: Fen = Fen(79_667);

/// A claim at hospital FA of person `n` with X1's total and `eligible` typed.
fn bill_claim(id: &str, n: u16, eligible: Fen) -> Claim {
    Claim {
        facility_id: "FA".into(),
        total_cost: BILL_TOTAL,
        eligible_cost: eligible,
        ..claim(id, n, "2024-05-10", 0, 0)
    }
}

async fn eligible_of(store: &Store, key: &ClaimKey) -> Fen {
    let mut claims = Vec::new();
    for n in [1, 3, 5, 7] {
        claims.extend(store.claims_of(pid(n)).await.unwrap());
    }
    claims
        .into_iter()
        .find(|c| c.claim_id == key.claim_id && c.facility_id == key.facility_id)
        .map(|c| c.eligible_cost)
        .unwrap()
}

async fn itemised_claims_imported_and_settled_in_batch(store: &Store) {
    let app = setup(store).await;
    let dir = tempfile::tempdir().unwrap();
    let total = BILL_TOTAL;
    // X1 of person 1 arrives with a typed eligible cost that its items will replace.
    let x1 = bill_claim("X1", 1, total);
    // Y1 of person 3 (the same status, the first claim of the year too): the same
    // bill typed as totals, with the eligible cost worked out by hand above.
    let y1 = bill_claim("Y1", 3, Fen(66_417));
    store.import_claims(&[x1.clone(), y1.clone()]).await.unwrap();
    let kx = x1.claim_key();

    // An amount that is not quantity × unit price: refused at its line.
    let bad = format!("{HEADER}X1,A1,2,100.00,200.00,FA\nX1,B1,3,10.00,30.01,FA\n");
    let e = import_file(&app, dir.path(), "amounts.csv", &bad).await.unwrap_err();
    assert!(e.contains("amounts.csv:3") && e.contains("amount") && e.contains("30.00"), "{e}");
    // An item not in the catalogue of the claim's province and year (2023's is not 2024's).
    let bad = format!("{HEADER}X1,A1,2,100.00,200.00,FA\nX1,OLD,1,1,1,FA\n");
    let e = import_file(&app, dir.path(), "unknown.csv", &bad).await.unwrap_err();
    assert!(e.contains("unknown.csv:3") && e.contains("\"OLD\" is not in the catalogue"), "{e}");
    // Items that do not add up to the claim's total: named by the claim's first line.
    let bad = format!("{HEADER}X1,A1,2,100.00,200.00,FA\n");
    let e = import_file(&app, dir.path(), "total.csv", &bad).await.unwrap_err();
    assert!(e.contains("total.csv:2") && e.contains("796.67") && e.contains("200.00"), "{e}");
    // A claim not stored, and a claim of another facility: not found.
    let bad = format!("{HEADER}{X1_LINES}Z9,A1,1,1,1,FA\n");
    let e = import_file(&app, dir.path(), "missing.csv", &bad).await.unwrap_err();
    assert!(e.contains("missing.csv:7") && e.contains("claim Z9") && e.contains("not in the store"), "{e}");
    // Nothing of a refused file was written.
    assert!(store.claim_items(&kx).await.unwrap().is_empty());
    assert_eq!(eligible_of(store, &kx).await, total);

    // The good file, without the facility column: the claim ID is stored at one facility.
    let good = X1_LINES.replace(",FA\n", "\n");
    let good = format!("claim_id,item_code,quantity,unit_price,amount\n{good}");
    assert_eq!(import_file(&app, dir.path(), "items.csv", &good).await.unwrap(), 5);
    let items = store.claim_items(&kx).await.unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0], items[1]);
    assert_eq!(items[3].quantity, Quantity(5_000));
    assert_eq!((items[3].amount, items[3].self_pay_first, items[3].eligible), (Fen(1_667), Fen(250), Fen(1_417)));
    assert_eq!(eligible_of(store, &kx).await, Fen(66_417));
    // Importing it again replaces the items with the same.
    assert_eq!(import_file(&app, dir.path(), "items.csv", &good).await.unwrap(), 5);
    assert_eq!(store.claim_items(&kx).await.unwrap(), items);

    // The claims file imported again: the typed eligible cost does not undo
    // the items; a total that is not their sum is refused.
    store.import_claims(std::slice::from_ref(&x1)).await.unwrap();
    assert_eq!(eligible_of(store, &kx).await, Fen(66_417));
    let changed = Claim { total_cost: Fen(80_000), eligible_cost: Fen(80_000), ..x1.clone() };
    let e = store.import_claims(&[changed]).await.unwrap_err().to_string();
    assert!(e.contains("itemised"), "{e}");
    assert_eq!(eligible_of(store, &kx).await, Fen(66_417));

    // Settled in batch: to the fen as the same bill typed as totals.
    let counts = app::settlement::settle_stored(store, &store::Scope::all(), 2024, "batch").await.unwrap();
    assert_eq!(counts.settled, 2);
    let sx = store.settlement(&store::Scope::all(), &kx).await.unwrap().unwrap();
    let sy = store.settlement(&store::Scope::all(), &y1.claim_key()).await.unwrap().unwrap();
    assert_eq!(sx.payments, sy.payments);
    assert_eq!(sx.out_of_pocket, sy.out_of_pocket);
    assert!(sx.payments.iter().any(|(_, a)| *a > Fen::ZERO), "{:?}", sx.payments);

    // A settled claim's items are refused: they would change what it was settled on.
    let e = import_file(&app, dir.path(), "late.csv", &format!("{HEADER}{X1_LINES}")).await.unwrap_err();
    assert!(e.contains("late.csv:2") && e.contains("is settled"), "{e}");

    // The slip shows the items; another county's clerk cannot read them.
    let slip = app.slip(&app::Scope::all(), &kx).await.unwrap().unwrap();
    assert_eq!(slip.items, items);
    assert_eq!(slip.item_totals().eligible, slip.claim.eligible_cost);
    assert_eq!(slip.item_totals().total, slip.claim.total_cost);
    let other = app::Scope::parse("341123").unwrap();
    assert!(matches!(app.claim_items(&other, &kx).await, Err(app::AppError::NotFound(_))));
    assert_eq!(app.claim_items(&app::Scope::parse("341122").unwrap(), &kx).await.unwrap().len(), 5);

    // The catalogue reads by province, year and text.
    assert_eq!(app.catalogue(Some(34), Some(2024), "", 100, 0).await.unwrap().len(), 4);
    assert_eq!(app.catalogue(None, None, "b", 100, 0).await.unwrap().len(), 2);
    assert_eq!(app.catalogue(Some(34), Some(2023), "", 100, 0).await.unwrap().len(), 1);
    assert!(app.catalogue(Some(11), None, "", 100, 0).await.unwrap().is_empty());
    // The imports are audited.
    let log = store.audit_log(50).await.unwrap();
    assert!(log.iter().any(|a| a.action == "claim_items_set"));
    assert!(log.iter().any(|a| a.action == "catalogue_set"));
}

fn line(code: &str, q: &str, price: i64) -> app::items::BillLine {
    app::items::BillLine {
        item_code: code.into(),
        quantity: Quantity::parse(q).unwrap(),
        unit_price: Fen(price),
        amount: None,
    }
}

async fn itemised_claims_settled_in_real_time(store: &Store) {
    let app = setup(store).await;
    let fengyang = app::Scope::parse("341123").unwrap();
    let laian = app::Scope::parse("341122").unwrap();
    // A bill of 50 lines for person 7 at FB.
    let lines: Vec<app::items::BillLine> = (0..50)
        .map(|i| match i % 4 {
            0 => line("A1", "2", 1_234 + i),
            1 => line("B1", "1.5", 9_999 + i),
            2 => line("B2", "0.25", 777 + i),
            _ => line("C1", "3", 500 + i),
        })
        .collect();
    let r1 = claim("R1", 7, "2024-06-01", 0, 0);
    let r1 = Claim { facility_id: "FB".into(), ..r1 };
    let s1 = app.settle_itemised(&fengyang, r1.clone(), None, &lines, "clerk").await.unwrap();
    assert_eq!(s1.items.len(), 50);
    let t = domain::items::BillTotals::of(&s1.items);
    assert_eq!((s1.claim.total_cost, s1.claim.eligible_cost), (t.total, t.eligible));
    assert!(t.eligible < t.total && t.self_pay_first > Fen::ZERO && t.not_covered > Fen::ZERO);
    // The same bill typed as totals for person 9 (the same status, the first claim
    // of the year too) settles to the fen the same.
    let r2 = Claim {
        facility_id: "FB".into(),
        total_cost: t.total,
        eligible_cost: t.eligible,
        ..claim("R2", 9, "2024-06-01", 0, 0)
    };
    let s2 = app.settle_claim(&fengyang, r2, "clerk").await.unwrap();
    assert_eq!(s1.settlement, s2.settlement);
    assert!(s2.items.is_empty());
    // Stored with the claim; the slip shows them.
    let slip = app.slip(&fengyang, &r1.claim_key()).await.unwrap().unwrap();
    assert_eq!(slip.items, s1.items);
    // The same again is a replay, with the items; other items are a conflict.
    let again = app.settle_itemised(&fengyang, r1.clone(), Some(t.total), &lines, "clerk").await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.items, s1.items);
    let mut other = lines.clone();
    other.swap(0, 1);
    let e = app.settle_itemised(&fengyang, r1.clone(), None, &other, "clerk").await.unwrap_err();
    assert!(matches!(e, app::AppError::Conflict(_)), "{e}");

    // Refusals: an unknown item (named by its line), an amount that does not add
    // up, a total that is not the items' sum; nothing stored.
    let r3 = Claim { facility_id: "FB".into(), ..claim("R3", 9, "2024-07-01", 0, 0) };
    let mut unknown = lines.clone();
    unknown[7].item_code = "NOPE".into();
    let e = app.settle_itemised(&fengyang, r3.clone(), None, &unknown, "clerk").await.unwrap_err().to_string();
    assert!(e.contains("items[7]") && e.contains("NOPE"), "{e}");
    let mut off = lines.clone();
    off[3].amount = Some(Fen(1));
    let e = app.settle_itemised(&fengyang, r3.clone(), None, &off, "clerk").await.unwrap_err().to_string();
    assert!(e.contains("items[3]") && e.contains("quantity × unit price"), "{e}");
    let e = app.settle_itemised(&fengyang, r3.clone(), Some(t.total + Fen(1)), &lines, "clerk").await.unwrap_err();
    assert!(e.to_string().contains("total_cost"), "{e}");
    assert!(store.claim_facilities(&store::Scope::all(), "R3").await.unwrap().is_empty());
    // 2024's catalogue is not 2023's: a claim discharged in 2023 finds no item.
    let old = Claim { facility_id: "FB".into(), ..claim("R4", 9, "2023-12-30", 0, 0) };
    let e = app.settle_itemised(&fengyang, old, None, &lines[..1], "clerk").await.unwrap_err().to_string();
    assert!(e.contains("items[0]") && e.contains("2023"), "{e}");

    // Scope: another county's facility is unknown to a clerk of Laian.
    let r5 = Claim { facility_id: "FB".into(), ..claim("R5", 7, "2024-08-01", 0, 0) };
    let e = app.settle_itemised(&laian, r5, None, &lines, "clerk").await.unwrap_err();
    assert!(matches!(e, app::AppError::NotFound(_)), "{e}");
    assert!(matches!(app.claim_items(&laian, &r1.claim_key()).await, Err(app::AppError::NotFound(_))));
}

/// The columns of `claim_items` as migrations 19 and 27 kept them.
const OLD_ITEM: &str = "INSERT INTO claim_items (claim_id, facility_id, line, item_code, name, quantity, unit_price,
    amount, category, self_pay_share, self_pay_first, eligible) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

macro_rules! old_items {
    ($pool:expr, $key:expr, $items:expr) => {{
        for (i, it) in $items.iter().enumerate() {
            sqlx::query(OLD_ITEM)
                .bind(&$key.claim_id)
                .bind(&$key.facility_id)
                .bind(i as i64 + 1)
                .bind(&it.item_code)
                .bind(&it.name)
                .bind(it.quantity.0)
                .bind(it.unit_price.0)
                .bind(it.amount.0)
                .bind(it.category.as_str())
                .bind(it.self_pay_share.0 as i64)
                .bind(it.self_pay_first.0)
                .bind(it.eligible.0)
                .execute(&$pool)
                .await
                .unwrap();
        }
        // Migration 19's triggers set the claim's eligible cost from its items.
        sqlx::query("UPDATE claims SET eligible_cost = 0 WHERE claim_id = $1 AND facility_id = $2")
            .bind(&$key.claim_id)
            .bind(&$key.facility_id)
            .execute(&$pool)
            .await
            .unwrap();
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migration_28_packs_the_stored_lines_sqlite() {
    let (now, old) = (TestDb::sqlite().await, TestDb::sqlite_at(27).await);
    let pool = sqlx::SqlitePool::connect(&old.url).await.unwrap();
    let (x, items) = itemise_both(&now.store, &old.store).await;
    old_items!(pool, x, items);
    the_migration_keeps_the_bills(&now.store, &old.store, &x, &items).await;
    pool.close().await;
    now.finish().await;
    old.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migration_28_packs_the_stored_lines_postgres() {
    let (Some(now), Some(old)) = (TestDb::pg().await, TestDb::pg_at(27).await) else { return };
    let pool = sqlx::PgPool::connect(&old.url).await.unwrap();
    let (x, items) = itemise_both(&now.store, &old.store).await;
    old_items!(pool, x, items);
    the_migration_keeps_the_bills(&now.store, &old.store, &x, &items).await;
    pool.close().await;
    now.finish().await;
    old.finish().await;
}

/// Both stores get X1 and Y1 of the batch test; `now` itemises X1 through the
/// import. Returns X1's key and the lines `old` is to get as it kept them, the
/// imported ones but for a name with a backslash (a name may hold one).
async fn itemise_both(now: &Store, old: &Store) -> (ClaimKey, Vec<domain::items::PricedItem>) {
    let (x1, y1) = (bill_claim("X1", 1, BILL_TOTAL), bill_claim("Y1", 3, BILL_TOTAL));
    let app = setup(now).await;
    seed(old).await;
    old.import_facilities(&[facility("FA", "341122100201"), facility("FB", "341123100201")]).await.unwrap();
    app::settlement::put_policy(old, "34", 2024, POLICY, "admin").await.unwrap();
    for s in [now, old] {
        s.import_claims(&[x1.clone(), y1.clone()]).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let two = X1_LINES.replace("X1,", "Y1,");
    assert_eq!(import_file(&app, dir.path(), "items.csv", &format!("{HEADER}{X1_LINES}{two}")).await.unwrap(), 10);
    let mut items = now.claim_items(&x1.claim_key()).await.unwrap();
    assert_eq!(items.len(), 5);
    items[2].name = "a \\ name\\F".into();
    (x1.claim_key(), items)
}

async fn the_migration_keeps_the_bills(now: &Store, old: &Store, x: &ClaimKey, items: &[domain::items::PricedItem]) {
    assert_eq!(old.schema_version().await.unwrap(), 27);
    assert_eq!(eligible_of(old, x).await, Fen(66_417), "migration 19's trigger");
    assert_eq!(old.migrate().await.unwrap(), store::SCHEMA_VERSION);
    assert_eq!(old.claim_items(x).await.unwrap(), items, "the lines moved over in order, texts as they were");
    let y = ClaimKey::new("FA", "Y1");
    assert!(old.claim_items(&y).await.unwrap().is_empty(), "a claim of totals only has no lines");
    // The triggers read the packed bill: the typed eligible cost does not undo
    // the items, a total that is not their sum is refused.
    let x1 = bill_claim("X1", 1, BILL_TOTAL);
    old.import_claims(std::slice::from_ref(&x1)).await.unwrap();
    assert_eq!(eligible_of(old, x).await, Fen(66_417));
    let changed = Claim { total_cost: Fen(80_000), eligible_cost: Fen(80_000), ..x1 };
    let e = old.import_claims(&[changed]).await.unwrap_err().to_string();
    assert!(e.contains("itemised"), "{e}");
    // Both stores settle X1 to the same payments.
    let all = store::Scope::all();
    for s in [now, old] {
        assert_eq!(app::settlement::settle_stored(s, &all, 2024, "batch").await.unwrap().settled, 2);
    }
    let (a, b) = (now.settlement(&all, x).await.unwrap().unwrap(), old.settlement(&all, x).await.unwrap().unwrap());
    assert_eq!((a.payments, a.out_of_pocket), (b.payments, b.out_of_pocket));
}

/// The marks of stale data, `(key, version)`, of `table` (keyed by `key`), and
/// the rows of SQLite's `claims_marked_by_writer` (migration 29; none on
/// PostgreSQL), read on a connection of its own.
async fn marks(store: &Store) -> (Vec<(i64, i64)>, Vec<(i64, i64)>, i64) {
    use sqlx::Connection;
    let villages = "SELECT village_code, version FROM dirty_villages ORDER BY 1";
    let persons = "SELECT person_id, version FROM indicator_dirty_persons ORDER BY 1";
    match store.backend() {
        store::Backend::Sqlite => {
            let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(store.url());
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
            let v = sqlx::query_as(villages).fetch_all(&mut c).await.unwrap();
            let p = sqlx::query_as(persons).fetch_all(&mut c).await.unwrap();
            let flag: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM claims_marked_by_writer").fetch_one(&mut c).await.unwrap();
            c.close().await.unwrap();
            (v, p, flag)
        }
        store::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(store.url()).await.unwrap();
            let v = sqlx::query_as(villages).fetch_all(&mut c).await.unwrap();
            let p = sqlx::query_as(persons).fetch_all(&mut c).await.unwrap();
            c.close().await.unwrap();
            (v, p, 0)
        }
    }
}

/// Deletes every mark of stale data, so that the next write's marks stand alone.
async fn clear_marks(store: &Store) {
    use sqlx::Connection;
    let sql = ["DELETE FROM dirty_villages", "DELETE FROM indicator_dirty_persons"];
    match store.backend() {
        store::Backend::Sqlite => {
            let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(store.url());
            let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
            for s in sql {
                sqlx::query(s).execute(&mut c).await.unwrap();
            }
            c.close().await.unwrap();
        }
        store::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(store.url()).await.unwrap();
            for s in sql {
                sqlx::query(s).execute(&mut c).await.unwrap();
            }
            c.close().await.unwrap();
        }
    }
}

fn keys(marks: &[(i64, i64)]) -> Vec<i64> {
    marks.iter().map(|m| m.0).collect()
}

/// The import of claim items sets the eligible cost of the claims it itemises
/// (on SQLite with the claims' row trigger silent, marking them itself,
/// migration 29): it marks the person and the village of each claim whose
/// eligible cost changed, and nothing else, on both engines; a write that fails
/// marks nothing and leaves no trace of its own marking; every other update of a
/// claim is still marked by the trigger.
async fn an_import_of_items_marks_exactly_the_claims_it_changes(store: &Store) {
    let app = setup(store).await;
    let dir = tempfile::tempdir().unwrap();
    // X1 of person 1 (village A1): the items change its eligible cost. Y1 of
    // person 7 (village B1): typed with the eligible cost its items give, so
    // they change nothing. Z1 of person 5 (village A2): no items.
    let x1 = bill_claim("X1", 1, BILL_TOTAL);
    let y1 = bill_claim("Y1", 7, Fen(66_417));
    let z1 = bill_claim("Z1", 5, BILL_TOTAL);
    store.import_claims(&[x1.clone(), y1.clone(), z1.clone()]).await.unwrap();
    let person = |n: u16| pid(n).as_u64() as i64;
    let village = |c: &str| code(c).as_u64() as i64;

    // A write that fails half-way (Y1's eligible cost above its total breaks
    // the claims' check after X1's was set): nothing changes, nothing is marked.
    clear_marks(store).await;
    let item = |code: &str, amount: i64, category| domain::items::PricedItem {
        item_code: code.into(),
        name: code.into(),
        quantity: Quantity::units(1),
        unit_price: Fen(amount),
        amount: Fen(amount),
        category,
        self_pay_share: Rate(0),
        self_pay_first: Fen::ZERO,
        eligible: if category == ItemCategory::C { Fen::ZERO } else { Fen(amount) },
    };
    let bill = |key: ClaimKey, eligible: Fen| store::ItemisedBill {
        label: format!("bill of {key}"),
        key,
        total_cost: BILL_TOTAL,
        eligible,
        items: vec![item("A1", 70_000, ItemCategory::A), item("C1", 9_667, ItemCategory::C)],
    };
    let bad = [bill(x1.claim_key(), Fen(70_000)), bill(y1.claim_key(), Fen(BILL_TOTAL.0 + 1))];
    assert!(store.put_claim_items(&store::Scope::all(), &bad).await.is_err());
    assert_eq!(marks(store).await, (vec![], vec![], 0), "a failed write marks nothing");
    assert_eq!(eligible_of(store, &x1.claim_key()).await, BILL_TOTAL);
    assert_eq!(eligible_of(store, &y1.claim_key()).await, Fen(66_417));
    assert!(store.claim_items(&x1.claim_key()).await.unwrap().is_empty());

    // The file of X1's and Y1's items: X1's eligible cost changes, Y1's does not.
    let text = format!("{HEADER}{X1_LINES}{}", X1_LINES.replace("X1,", "Y1,"));
    assert_eq!(import_file(&app, dir.path(), "items.csv", &text).await.unwrap(), 10);
    assert_eq!(eligible_of(store, &x1.claim_key()).await, Fen(66_417));
    assert_eq!(store.claim_items(&y1.claim_key()).await.unwrap().len(), 5);
    let (v, p, flag) = marks(store).await;
    assert_eq!(keys(&v), vec![village("341122100201")], "the village of X1's patient only");
    assert_eq!(keys(&p), vec![person(1)], "X1's patient only");
    assert_eq!(flag, 0, "the writer's row does not outlive its transaction");

    // The same file again changes no eligible cost, and marks nothing.
    clear_marks(store).await;
    assert_eq!(import_file(&app, dir.path(), "items.csv", &text).await.unwrap(), 10);
    assert_eq!(marks(store).await, (vec![], vec![], 0));

    // Any other update of a claim is marked by the trigger as before: Z1's
    // diagnosis changed by the claims file, and X1's eligible cost typed again
    // (the items keep it, but the row was written).
    clear_marks(store).await;
    let z1 = Claim { diagnosis: "I10".into(), ..z1 };
    store.import_claims(&[z1, x1.clone()]).await.unwrap();
    assert_eq!(eligible_of(store, &x1.claim_key()).await, Fen(66_417));
    let (v, p, _) = marks(store).await;
    assert_eq!(keys(&v), vec![village("341122100201"), village("341122100202")]);
    assert_eq!(keys(&p), vec![person(1), person(5)]);

    // Z1's bill written by the store's write of priced bills: its patient and village.
    clear_marks(store).await;
    let kz = ClaimKey::new("FA", "Z1");
    let bills = [bill(kz.clone(), Fen(70_000))];
    store.put_claim_items(&store::Scope::all(), &bills).await.unwrap();
    let (v, p, flag) = marks(store).await;
    assert_eq!((keys(&v), keys(&p), flag), (vec![village("341122100202")], vec![person(5)], 0));
    assert_eq!(eligible_of(store, &kz).await, Fen(70_000));
}
