//! The network's history on the command line (docs/coverage.md, "History"):
//! `import postings|qualifications` all or nothing with the bad line named,
//! `export` of them back in the import's columns, and `coverage` of any date
//! from the history, from files or from the store, the same either way.

use std::path::Path;
use std::process::{Command, Output};

const REGIONS: &str = "code,name,level,urban_rural,population,lon,lat
340000000000,安徽省,province,,,,
341100000000,滁州市,city,,,,
341122000000,来安县,county,,,,
341122100000,新安镇,township,220,,,
341122100201,东村,village,220,800,118.40,32.40
341122100202,西村,village,220,900,118.40,32.45
341122100204,北村,village,220,600,118.40,32.50
";

/// 东村's clinic V1 opened in 2023; 北村's V4 closes at the end of 2026.
const FACILITIES: &str = "facility_id,name,kind,grade,region_code,lon,lat,opened,closed
H1,来安县人民医院,county_hospital,2,341122000000,118.40,32.30,,
T1,新安镇卫生院,township_center,,341122100000,118.40,32.42,,
V1,东村卫生室,village_clinic,,341122100201,,,2023-01-01,
V2,西村卫生室,village_clinic,,341122100202,,,,
V4,北村卫生室,village_clinic,,341122100204,118.40,32.50,,2027-01-01
";

const PRACTITIONERS: &str = "practitioner_id,facility_id,qualification,gp,birth_date,active,name
p1,H1,physician,false,1980-03-01,true,王医生
p2,T1,physician,true,1985-07-01,true,李医生
r2,V2,rural_doctor,false,1975-01-01,true,张三
r4,V4,rural_doctor,false,1975-01-01,true,钱四
";

/// r2, employed by the township centre, posted to 东村 from 2023 to 2024
/// (乡聘村用); its certificate lapses in 2026.
const POSTINGS: &str = "practitioner_id,facility_id,role,start,end
r2,T1,employer,2010-01-01,
r2,V1,posting,2023-01-01,2024-12-31
";

const QUALIFICATIONS: &str = "practitioner_id,qualification,obtained,lapses
r2,rural_doctor,2000-05-01,2026-05-01
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

/// The villages blank at `in_years` in a blank-spots file.
fn blank(file: &Path, in_years: &str) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[0].starts_with("village_") && f[3] == in_years)
        .map(|f| f[1].to_string())
        .collect()
}

#[test]
fn postings_import_whole_or_not_at_all_and_coverage_reads_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let (regions, facilities, practitioners) =
        (at("regions.csv", REGIONS), at("facilities.csv", FACILITIES), at("practitioners.csv", PRACTITIONERS));
    let (postings, qualifications) = (at("postings.csv", POSTINGS), at("qualifications.csv", QUALIFICATIONS));
    let db = dir.path().join("store.db").display().to_string();
    for (kind, file) in [("regions", &regions), ("facilities", &facilities), ("practitioners", &practitioners)] {
        ok(&db, &["import", kind, s(file)]);
    }

    // A bad line refuses the file, naming the line; nothing is written.
    let bad = at(
        "bad.csv",
        "practitioner_id,facility_id,role,start,end\nr2,T1,employer,2010-01-01,\nr2,V1,posting,2023-01-01,2022-12-31\n",
    );
    let err = fails(&db, &["import", "postings", s(&bad)]);
    assert!(err.contains("bad.csv:3") && err.contains("end"), "{err}");
    // A row the rules refuse (sharing days with line 2 in the same role): the
    // same, named by its line.
    let overlap = at("overlap.csv", "practitioner_id,facility_id,role,start,end\nr2,T1,employer,2010-01-01,\nr2,V2,employer,2015-01-01,2015-12-31\n");
    let err = fails(&db, &["import", "postings", s(&overlap)]);
    assert!(err.contains("overlap.csv:3") && err.contains("shares days"), "{err}");
    let unknown = at("unknown.csv", "practitioner_id,facility_id,role,start,end\nr2,NOPE,posting,,\n");
    let err = fails(&db, &["import", "postings", s(&unknown)]);
    assert!(err.contains("unknown.csv:2") && err.contains("facility_id"), "{err}");
    let out = dir.path().join("export.csv");
    ok(&db, &["export", "postings", "--out", s(&out)]);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 1, "nothing written");

    // The good files; again, nothing changes; exported back as imported.
    ok(&db, &["import", "postings", s(&postings)]);
    ok(&db, &["import", "postings", s(&postings)]);
    ok(&db, &["import", "qualifications", s(&qualifications)]);
    ok(&db, &["export", "postings", "--out", s(&out)]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), POSTINGS);
    ok(&db, &["export", "qualifications", "--out", s(&out)]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), QUALIFICATIONS);
    ok(&db, &["export", "facilities", "--out", s(&out)]);
    let back = std::fs::read_to_string(&out).unwrap();
    assert!(back.starts_with("facility_id,name,kind,grade,region_code,lon,lat,opened,closed\n"), "{back}");
    assert!(back.contains("V1,东村卫生室,village_clinic,,341122100201,,,2023-01-01,\n"), "{back}");
    assert!(back.lines().any(|l| l.starts_with("V4,") && l.ends_with(",,2027-01-01")), "{back}");

    // Coverage of a date from the history, from the store and from the files:
    // the same file.
    let from_store = dir.path().join("store_spots.csv");
    let from_files = dir.path().join("file_spots.csv");
    for day in ["2022-06-01", "2024-06-01", "2025-06-01"] {
        ok(&db, &["coverage", "--as-of", day, "--out", s(&from_store)]);
        let files = [
            "coverage",
            "--as-of",
            day,
            "--regions",
            s(&regions),
            "--facilities",
            s(&facilities),
            "--practitioners",
            s(&practitioners),
            "--postings",
            s(&postings),
            "--qualifications",
            s(&qualifications),
            "--out",
            s(&from_files),
        ];
        ok(&db, &files);
        assert_eq!(
            std::fs::read_to_string(&from_store).unwrap(),
            std::fs::read_to_string(&from_files).unwrap(),
            "{day}"
        );
        match day {
            // 东村 has no clinic before 2023; r2 works at the township centre.
            "2022-06-01" => assert_eq!(blank(&from_store, "0"), ["341122100201", "341122100202"]),
            // r2 posted to 东村: 西村 is blank.
            "2024-06-01" => {
                assert_eq!(blank(&from_store, "0"), ["341122100202"]);
                // In a year the posting has ended (东村 blank); in three, 北村's
                // clinic has closed too.
                assert_eq!(blank(&from_store, "1"), ["341122100201", "341122100202"]);
                assert_eq!(blank(&from_store, "3"), ["341122100204", "341122100201", "341122100202"]);
            }
            _ => assert_eq!(blank(&from_store, "0"), ["341122100201", "341122100202"]),
        }
    }
    // The files without the history: the registry as it stands, for every date.
    ok(
        &db,
        &[
            "coverage",
            "--as-of",
            "2024-06-01",
            "--regions",
            s(&regions),
            "--facilities",
            s(&facilities),
            "--practitioners",
            s(&practitioners),
            "--out",
            s(&from_files),
        ],
    );
    assert_eq!(blank(&from_files, "0"), ["341122100201"], "r2 at its record's clinic V2");
    // History naming a practitioner not in the files is refused.
    let stray = at("stray.csv", "practitioner_id,facility_id,role,start,end\nzz,V1,posting,,\n");
    let o = run(
        &db,
        &[
            "coverage",
            "--as-of",
            "2024-06-01",
            "--regions",
            s(&regions),
            "--facilities",
            s(&facilities),
            "--practitioners",
            s(&practitioners),
            "--postings",
            s(&stray),
            "--out",
            s(&dir.path().join("none.csv")),
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("posting of zz at V1"));
    assert!(!dir.path().join("none.csv").exists(), "nothing written");

    // The plan of a day reads the same history from the store.
    let plan = dir.path().join("plan.csv");
    ok(&db, &["plan", "--as-of", "2024-06-01", "--out", s(&plan)]);
    let text = std::fs::read_to_string(&plan).unwrap();
    assert!(text.contains("341122100202") && !text.contains("341122100201"), "{text}");
}
