//! Pairing and telemedicine on the command line (docs/files.md):
//! `import pairings` and `import telemedicine`, all or nothing with the bad
//! line named, and again with nothing changed.

mod common;

use common::Env;

const REGIONS: &str = "code,name,level,urban_rural,population,lon,lat
340000000000,安徽省,province,,,,
340100000000,合肥市,city,,,,
341100000000,滁州市,city,,,,
341122000000,来安县,county,,,,
341122100000,新安镇,township,220,,,
341122101000,半塔镇,township,220,,,
341125000000,定远县,county,,,,
341125100000,定城镇,township,220,,,
";

const FACILITIES: &str = "facility_id,name,kind,grade,region_code,lon,lat,opened,closed
P1,安徽省立医院,provincial_hospital,3,340100000000,117.2,31.8,,
H1,来安县人民医院,county_hospital,2,341122000000,118.40,32.30,,
H2,定远县人民医院,county_hospital,2,341125000000,117.6,32.5,,
T1,新安镇卫生院,township_center,,341122100000,118.40,32.42,,
T2,半塔镇卫生院,township_center,,341122101000,118.50,32.60,,
T9,定城镇卫生院,township_center,,341125100000,117.6,32.5,,
";

const PRACTITIONERS: &str = "practitioner_id,facility_id,qualification,gp,birth_date,active,name
d1,P1,physician,false,1975-03-01,true,王主任
";

/// The provincial hospital paired with 来安 for five years, sending 王主任
/// for a year and a nurse named by hand for two.
const PAIRINGS: &str =
    "helping_id,county_hospital_id,start,end,staff_practitioner_id,staff_name,staff_role,staff_from,staff_to
P1,H1,2021-01-01,2025-12-31,,,,,
P1,H1,2021-01-01,2025-12-31,d1,,外科主任,2021-03-01,2022-02-28
P1,H1,2021-01-01,2025-12-31,,李护士长,护理部,2022-01-01,2023-12-31
";

const LINKS: &str = "county_hospital_id,township_id,kind,start,end
H1,T1,远程会诊,2022-01-01,
H1,T2,imaging,2022-06-01,2024-05-31
";

async fn counts(db: &str) -> (i64, i64, i64) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{db}?mode=ro")).await.unwrap();
    let n = |table: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&pool).await.unwrap() }
    };
    let out = (n("pairings").await, n("pairing_staff").await, n("telemedicine_links").await);
    pool.close().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairings_and_links_import_whole_or_not_at_all() {
    let env = Env::new();
    for (kind, text) in [("regions", REGIONS), ("facilities", FACILITIES), ("practitioners", PRACTITIONERS)] {
        let f = env.write(&format!("{kind}.csv"), text);
        env.ok(&["import", kind, f.to_str().unwrap()]);
    }
    let file = |name: &str, text: &str| env.write(name, text).display().to_string();

    // A bad field: the line and the column named, nothing written.
    let bad =
        file("bad.csv", "helping_id,county_hospital_id,start,end\nP1,H1,2021-01-01,\nP1,H2,2021-01-01,2020-12-31\n");
    let err = env.fails(&["import", "pairings", &bad]);
    assert!(err.contains("bad.csv:3") && err.contains("end"), "{err}");
    assert_eq!(counts(&env.db).await, (0, 0, 0));
    // A row the rules refuse: a township centre is not helped by a pairing.
    let kinds = file("kinds.csv", "helping_id,county_hospital_id,start,end\nP1,H1,2021-01-01,\nP1,T1,2021-01-01,\n");
    let err = env.fails(&["import", "pairings", &kinds]);
    assert!(err.contains("kinds.csv:3") && err.contains("county_hospital_id"), "{err}");
    assert_eq!(counts(&env.db).await, (0, 0, 0), "line 2 was not written either");
    // A link across counties.
    let across = file(
        "across.csv",
        "county_hospital_id,township_id,kind,start,end\nH1,T1,ecg,2022-01-01,\nH1,T9,ecg,2022-01-01,\n",
    );
    let err = env.fails(&["import", "telemedicine", &across]);
    assert!(err.contains("across.csv:3") && err.contains("own county"), "{err}");
    assert_eq!(counts(&env.db).await, (0, 0, 0));

    // The good files, twice: the second changes nothing.
    let pairings = file("pairings.csv", PAIRINGS);
    let links = file("links.csv", LINKS);
    let out = env.ok(&["import", "pairings", &pairings]);
    assert!(!out.contains("refused"), "{out}");
    env.ok(&["import", "telemedicine", &links]);
    assert_eq!(counts(&env.db).await, (1, 2, 2));
    env.ok(&["import", "pairings", &pairings]);
    env.ok(&["import", "telemedicine", &links]);
    assert_eq!(counts(&env.db).await, (1, 2, 2));
    // Exported back in the import's columns; 王主任's name from the registry.
    let out = env.dir.path().join("out.csv").display().to_string();
    env.ok(&["export", "pairings", "--out", &out]);
    let back = std::fs::read_to_string(&out).unwrap();
    assert_eq!(back, PAIRINGS.replace("d1,,外科主任", "d1,王主任,外科主任"));
    env.ok(&["export", "telemedicine", "--out", &out]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), LINKS.replace("远程会诊", "consultation"));
    // Each import is audited under the operating-system account.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", env.db)).await.unwrap();
    let actions: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, action FROM audit_log ORDER BY id").fetch_all(&pool).await.unwrap();
    assert_eq!(actions.iter().filter(|(_, a)| a == "pairings_recorded").count(), 2, "{actions:?}");
    assert_eq!(actions.iter().filter(|(_, a)| a == "telemedicine_recorded").count(), 2, "{actions:?}");
    assert!(actions.iter().any(|(who, a)| who.starts_with("os:") && a == "pairings_recorded"), "{actions:?}");
}
