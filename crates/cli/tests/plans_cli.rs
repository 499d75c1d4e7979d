//! Kept plans on the command line (docs/plans.md): `plan --save` keeps the
//! planner's plan of a county as a draft, the next version each time;
//! `import plan-visits` records visits against the plan in force, all or
//! nothing, naming the refused line.

use std::path::Path;
use std::process::{Command, Output};

const REGIONS: &str = "code,name,level,urban_rural,population,lon,lat
340000000000,安徽省,province,,,,
341100000000,滁州市,city,,,,
341122000000,来安县,county,,,,
341122100000,新安镇,township,220,,,
341122100201,东村,village,220,800,118.40,32.40
341122100202,西村,village,220,900,118.40,32.45
";

/// 东村 has a clinic and no doctor: blank, and roved by the township's p2.
const FACILITIES: &str = "facility_id,name,kind,grade,region_code,lon,lat,opened,closed
T1,新安镇卫生院,township_center,,341122100000,118.40,32.42,,
V1,东村卫生室,village_clinic,,341122100201,,,,
V2,西村卫生室,village_clinic,,341122100202,,,,
";

const PRACTITIONERS: &str = "practitioner_id,facility_id,qualification,gp,birth_date,active,name
p2,T1,physician,true,1985-07-01,true,李医生
r2,V2,rural_doctor,false,1975-01-01,true,张三
";

fn run(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safetynet")).args(["--quiet", "--db", db]).args(args).output().unwrap()
}

fn ok(db: &str, args: &[&str]) -> String {
    let o = run(db, args);
    assert!(o.status.success(), "{args:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn fails(db: &str, args: &[&str]) -> String {
    let o = run(db, args);
    assert!(!o.status.success(), "{args:?} should fail:\n{}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn plan_save_keeps_a_draft_and_visits_are_imported_against_the_plan_in_force() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let db = dir.path().join("store.db").display().to_string();
    for (kind, name, text) in
        [("regions", "r.csv", REGIONS), ("facilities", "f.csv", FACILITIES), ("practitioners", "p.csv", PRACTITIONERS)]
    {
        ok(&db, &["import", kind, s(&at(name, text))]);
    }

    let save =
        ["plan", "--as-of", "2024-06-01", "--save", "--period-start", "2024-01-01", "--period-end", "2024-12-31"];
    let err = fails(&db, &save);
    assert!(err.contains("--region"), "{err}");
    let mut county = save.to_vec();
    county.extend(["--region", "34"]);
    let err = fails(&db, &county);
    assert!(err.contains("county (6 digits) or township"), "{err}");
    let mut county = save.to_vec();
    county.extend(["--region", "341122"]);
    let out = ok(&db, &county);
    assert!(out.contains("plan 1 saved: region 341122") && out.contains("version 1, draft, 1 lines"), "{out}");
    let out = ok(&db, &county);
    assert!(out.contains("plan 2 saved") && out.contains("version 2"), "{out}");

    // Visits against a draft are refused, naming the line; nothing written.
    let visits = at(
        "visits.csv",
        "plan_id,village_code,date,practitioner_id,note\n2,341122100201,2024-06-03,p2,\n2,341122100201,2024-06-05,,checks\n",
    );
    let err = fails(&db, &["import", "plan-visits", s(&visits)]);
    assert!(err.contains("visits.csv:2") && err.contains("the plan is draft"), "{err}");

    // Approved and put in force (by the application, as the county officer does
    // on the page), the file is taken; a bad line refuses the whole of it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let app = app::App::open(&db).await.unwrap();
        let all = app::Scope::all();
        let day = domain::parse_date("2024-06-01").unwrap();
        for to in [domain::PlanState::Approved, domain::PlanState::InForce] {
            app.move_plan(&all, app::Role::Officer, 2, to, day, "chief").await.unwrap();
        }
        app.close().await;
    });
    let bad = at(
        "bad.csv",
        "plan_id,village_code,date\n2,341122100201,2024-06-03\n2,341122100202,2024-06-04\n2,341122100201,2025-01-06\n",
    );
    let err = fails(&db, &["import", "plan-visits", s(&bad)]);
    assert!(err.contains("bad.csv:3") && err.contains("not in the plan"), "{err}");
    let out = ok(&db, &["import", "plan-visits", s(&visits)]);
    assert!(out.is_empty() || out.contains("2 recorded"), "{out}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let made = rt.block_on(async {
        let app = app::App::open(&db).await.unwrap();
        let k = app.kept_plan(&app::Scope::all(), 2).await.unwrap();
        app.close().await;
        k.visits.iter().map(|v| v.visited_on.to_string()).collect::<Vec<_>>()
    });
    assert_eq!(made, ["2024-06-03", "2024-06-05"]);
}
