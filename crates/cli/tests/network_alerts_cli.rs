//! `safetynet network-alerts` (docs/coverage.md, "Kept alerts and the cases
//! they raise"): the alerts of a region listed from the store's history, and
//! with `--raise` kept once: raising again raises nothing new.

use std::process::{Command, Output};

fn run(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safetynet")).args(["--quiet", "--db", db]).args(args).output().unwrap()
}

fn ok(db: &str, args: &[&str]) -> String {
    let o = run(db, args);
    assert!(o.status.success(), "{args:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// The number before `what` in the command's summary line.
fn count(out: &str, what: &str) -> usize {
    let i = out.find(what).unwrap_or_else(|| panic!("no {what:?} in {out}"));
    out[..i].split_whitespace().last().unwrap().parse().unwrap()
}

#[test]
fn alerts_are_listed_and_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let db = dir.path().join("store.db").display().to_string();
    let files = [
        (
            "regions",
            at(
                "regions.csv",
                "code,name,level,urban_rural,population,lon,lat\n340000000000,安徽省,province,,,,\n\
                 341100000000,滁州市,city,,,,\n341122000000,来安县,county,,,,\n\
                 341122100000,新安镇,township,220,,,\n341122100201,东村,village,220,800,118.40,32.40\n",
            ),
        ),
        (
            "facilities",
            at(
                "facilities.csv",
                "facility_id,name,kind,grade,region_code,lon,lat,opened,closed\n\
                 T1,新安镇卫生院,township_center,,341122100000,118.40,32.42,,\n\
                 V1,东村卫生室,village_clinic,,341122100201,,,,\n",
            ),
        ),
        (
            "practitioners",
            at(
                "practitioners.csv",
                "practitioner_id,facility_id,qualification,gp,birth_date,active,name\n\
                 p2,T1,physician,true,1985-07-01,true,李医生\nr2,T1,rural_doctor,false,1975-01-01,true,张三\n",
            ),
        ),
        (
            "postings",
            at("postings.csv", "practitioner_id,facility_id,role,start,end\nr2,V1,posting,2023-01-01,2024-12-31\n"),
        ),
    ];
    for (kind, file) in &files {
        ok(&db, &["import", kind, file]);
    }
    let list = ok(&db, &["network-alerts", "--region", "341122", "--as-of", "2024-06-01"]);
    let rows: Vec<&str> = list.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{list}");
    assert!(
        rows[0].starts_with("village_no_doctor,341122100201,东村,341122100,341122,2025-01-01,posting_end,"),
        "{list}"
    );
    let args = ["network-alerts", "--region", "341122", "--as-of", "2024-06-01", "--raise", "--actor", "wang"];
    let first = ok(&db, &args);
    assert_eq!((count(&first, "raised"), count(&first, "kept already")), (1, 0), "{first}");
    let again = ok(&db, &args);
    assert_eq!(
        (count(&again, "raised"), count(&again, "kept already"), count(&again, "resolved")),
        (0, 1, 0),
        "{again}"
    );
    // A horizon of 0 does not see the gap, and does not resolve it either.
    let short =
        ok(&db, &["network-alerts", "--region", "341122", "--as-of", "2024-06-01", "--horizon", "0", "--raise"]);
    assert_eq!((count(&short, "raised"), count(&short, "resolved")), (0, 0), "{short}");

    // An import of postings raises the alerts of the whole store after it: a
    // posting with no end fills the village, and its alert is resolved.
    let filled = at("filled.csv", "practitioner_id,facility_id,role,start,end\nr2,V1,posting,2025-01-01,\n");
    let out = ok(&db, &["import", "postings", &filled, "--raise-network-alerts", "1"]);
    assert_eq!((count(&out, "raised"), count(&out, "resolved")), (0, 1), "{out}");
    let o = run(&db, &["import", "regions", &files[0].1, "--raise-network-alerts", "1"]);
    assert!(!o.status.success(), "only for the network's files");
}
