//! `safetynet import catalogue|claim_items` on the real binary (docs/catalogue.md):
//! the shipped sample catalogue imports; a claim items file with an amount that
//! is not quantity × unit price, an item not in the catalogue, or items that do
//! not add up to the claim's total is refused naming the line, nothing written;
//! the good file sets the eligible cost, and the batch settles the claim to the
//! fen as the same bill typed as totals; a settled claim's items are refused.

use domain::{Fen, PovertyStatus, ResidentId};
use std::process::{Command, Output};

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");

fn run(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safetynet")).args(["--db", db]).args(args).output().unwrap()
}

fn pid(seq: u16) -> ResidentId {
    ResidentId::from_parts(341122, domain::parse_date("1960-05-01").unwrap(), seq).unwrap()
}

async fn fill(db: &str) {
    let d = |s: &str| domain::parse_date(s).unwrap();
    let app = app::App::open(db).await.unwrap();
    let store = app.store();
    let village = domain::RegionCode::parse("341122100201").unwrap();
    store
        .import_regions(&[domain::Region {
            code: village,
            name: "一村".into(),
            level: domain::RegionLevel::Village,
            urban_rural: None,
            population: Some(900),
            lon: None,
            lat: None,
        }])
        .await
        .unwrap();
    store
        .import_households(&[domain::Household {
            household_id: "H1".into(),
            village_code: village,
            size: 2,
            income: Fen::from_yuan(20_000),
            consumption: None,
            food: None,
        }])
        .await
        .unwrap();
    let persons: Vec<domain::Person> = [1, 2]
        .into_iter()
        .map(|seq| domain::Person {
            person_id: pid(seq),
            household_id: "H1".into(),
            name: "张三".into(),
            status: PovertyStatus::Lifted,
            status_since: d("2020-01-01"),
            diagnoses: vec![],
        })
        .collect();
    store.import_persons(&persons).await.unwrap();
    store
        .import_facilities(&[domain::Facility {
            facility_id: "FH".into(),
            name: "县医院".into(),
            kind: domain::FacilityKind::CountyHospital,
            grade: None,
            region_code: village,
            lon: None,
            lat: None,
            opened: None,
            closed: None,
        }])
        .await
        .unwrap();
    app::settlement::put_policy(store, "34", 2024, POLICY, "test").await.unwrap();
    app.close().await;
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn claim_items_are_refused_by_line_and_the_good_file_settles_as_totals() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db").display().to_string();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(fill(&db));
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/catalogue/anhui-2024-sample.csv");
    let o = run(&db, &["import", "catalogue", sample]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("42 recorded"), "{}", String::from_utf8_lossy(&o.stdout));

    // K1 (person 1) will be itemised; K2 (person 2, the same status) carries the
    // same bill as totals: 3 × 12.50 (甲) + 2 × 45.30 (乙 10%) + 198 (丙) = 326.10,
    // eligible 37.50 + 81.54 = 119.04.
    let p1 = pid(1).to_string();
    let p2 = pid(2).to_string();
    let claims = dir.path().join("claims.csv");
    std::fs::write(
        &claims,
        format!(
            "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,facility_id\n\
             K1,{p1},county,inpatient,2024-04-01,2024-04-06,326.10,326.10,FH\n\
             K2,{p2},county,inpatient,2024-04-01,2024-04-06,326.10,119.04,FH\n"
        ),
    )
    .unwrap();
    let o = run(&db, &["import", "claims", claims.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    let items = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("claim_id,item_code,quantity,unit_price,amount\n{body}")).unwrap();
        run(&db, &["import", "claim_items", path.to_str().unwrap()])
    };
    let good = "K1,XJ01CAA040,3,12.50,37.50\nK1,XJ01MAA120,2,45.30,90.60\nK1,ZZ0001,1,198,198.00\n";
    let o = items("amount.csv", &good.replace("90.60", "90.00"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("amount.csv:3: amount"), "{}", stderr(&o));
    let o = items("unknown.csv", &good.replace("ZZ0001", "ZZ9999"));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown.csv:4") && stderr(&o).contains("ZZ9999"), "{}", stderr(&o));
    let o = items("total.csv", &good.replace("K1,ZZ0001,1,198,198.00\n", ""));
    assert!(!o.status.success());
    assert!(stderr(&o).contains("total.csv:2") && stderr(&o).contains("326.10"), "{}", stderr(&o));
    let o = items("good.csv", good);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = run(&db, &["settle", "--year", "2024"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (k1, k2) = rt.block_on(async {
        let app = app::App::open(&db).await.unwrap();
        let all = app::Scope::all();
        let k1 = app.slip(&all, &domain::ClaimKey::new("FH", "K1")).await.unwrap().unwrap();
        let k2 = app.slip(&all, &domain::ClaimKey::new("FH", "K2")).await.unwrap().unwrap();
        app.close().await;
        (k1, k2)
    });
    assert_eq!(k1.claim.eligible_cost, Fen(11_904));
    assert_eq!(k1.items.len(), 3);
    assert_eq!((k1.payments.clone(), k1.out_of_pocket), (k2.payments.clone(), k2.out_of_pocket));

    // Settled: its items can no longer change.
    let o = items("late.csv", good);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("late.csv:2") && stderr(&o).contains("is settled"), "{}", stderr(&o));
}
