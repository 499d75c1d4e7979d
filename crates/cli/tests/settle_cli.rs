//! `safetynet settle` end to end: the spec's worked example through files, output
//! independent of row order, `--explain`, and a refused file writing nothing.

use std::path::Path;
use std::process::Command;

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");
// Two valid resident IDs (GB 11643 check digits).
const LIFTED: &str = "34010219800101001X";
const GENERAL: &str = "340102199001010022";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn safetynet(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_safetynet")).arg("--quiet").arg("settle").args(args).output().unwrap()
}

fn persons() -> String {
    // A BOM, extra columns and a different column order: only person_id and status matter.
    format!("\u{feff}household_id,status,person_id\nH1,lifted,{LIFTED}\nH2,general,{GENERAL}\n")
}

const HEADER: &str = "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis\n";

#[test]
fn settles_the_worked_example_in_any_row_order_and_explains() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "policy.toml", POLICY);
    let persons = write(dir.path(), "persons.csv", &persons());
    let rows = [
        format!("C2,{LIFTED},county,inpatient,2024-05-20,2024-06-01,20000,20000,C16\n"),
        format!("G1,{GENERAL},township,outpatient,2024-02-01,2024-02-01,100.5,80.25,\n"),
        format!("C1,{LIFTED},county,inpatient,2024-03-01,2024-03-10,60000.00,50000,C16\n"),
    ];
    let mut outputs = Vec::new();
    for (k, order) in [[0, 1, 2], [2, 0, 1]].iter().enumerate() {
        let text: String = std::iter::once(HEADER.to_string()).chain(order.iter().map(|&i| rows[i].clone())).collect();
        let claims = write(dir.path(), &format!("claims{k}.csv"), &text);
        let out = dir.path().join(format!("out{k}.csv"));
        let o = safetynet(&[
            "--policy".as_ref(),
            policy.as_os_str(),
            "--persons".as_ref(),
            persons.as_os_str(),
            "--claims".as_ref(),
            claims.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--explain".as_ref(),
            "C2".as_ref(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let explanation = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(explanation.contains("Settled after 1 earlier claim of this person"), "{explanation}");
        assert!(explanation.contains("Pays 支付 2088.12 yuan"), "{explanation}");
        outputs.push(std::fs::read_to_string(&out).unwrap());
    }
    assert_eq!(outputs[0], outputs[1], "output does not depend on row order");
    let expected = format!(
        "claim_id,person_id,year,total_cost,eligible_cost,basic,critical,assistance,safety_net,out_of_pocket\n\
         G1,{GENERAL},2024,100.50,80.25,0.00,0.00,0.00,0.00,100.50\n\
         C1,{LIFTED},2024,60000.00,50000.00,42287.50,138.13,3944.62,629.75,13000.00\n\
         C2,{LIFTED},2024,20000.00,20000.00,16787.50,2088.12,674.63,449.75,0.00\n"
    );
    assert_eq!(outputs[0], expected);
}

#[test]
fn refuses_a_bad_file_listing_every_bad_row_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "policy.toml", POLICY);
    let persons = write(dir.path(), "persons.csv", &persons());
    let claims = write(
        dir.path(),
        "claims.csv",
        &format!(
            "{HEADER}\
             C1,{LIFTED},county,inpatient,2024-03-01,2024-03-10,60000,50000,\n\
             C2,{LIFTED},county,inpatient,2024-03-01,2024-03-10,-5,0,\n\
             C3,{LIFTED},county,inpatient,2024-03-01,2024-03-10,10.001,0,\n\
             C4,{LIFTED},county,inpatient,2024-03-01,2024-03-10,100,200,\n\
             C5,{LIFTED},hamlet,inpatient,2024-03-01,2024-03-10,100,50,\n\
             C6,{LIFTED},county,dental,2024-03-01,2024-03-10,100,50,\n\
             C7,110101199003070011,county,inpatient,2024-03-01,2024-03-10,100,50,\n\
             C1,{GENERAL},county,inpatient,2024-04-01,2024-04-10,100,50,\n"
        ),
    );
    let out = dir.path().join("out.csv");
    let o = safetynet(&[
        "--policy".as_ref(),
        policy.as_os_str(),
        "--persons".as_ref(),
        persons.as_os_str(),
        "--claims".as_ref(),
        claims.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let file = claims.display().to_string();
    for (line, column, reason) in [
        (3, "7 (total_cost)", "negative"),
        (4, "7 (total_cost)", "more than two decimals"),
        (5, "8 (eligible_cost)", "exceeds the total cost"),
        (6, "3 (facility_level)", "unknown facility level"),
        (7, "4 (kind)", "unknown claim kind"),
        (8, "2 (person_id)", "not in the persons file"),
        (9, "claim_id", "used twice (first on line 2)"),
    ] {
        let want = format!("{file}:{line}: column {column}: ");
        let hit = err.lines().find(|l| l.starts_with(&want));
        assert!(hit.is_some_and(|l| l.contains(reason)), "missing {want}...{reason} in:\n{err}");
    }
    assert!(err.contains("7 bad rows"), "{err}");
    assert!(!out.exists(), "a refused file writes no output");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 3, "no temporary file left: {leftovers:?}");
}

#[test]
fn refuses_a_bad_policy_naming_tier_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "policy.toml", "[[tier]]\nname = \"basic\"\nrate = 1.5\n");
    let persons = write(dir.path(), "persons.csv", &persons());
    let claims = write(dir.path(), "claims.csv", HEADER);
    let out = dir.path().join("out.csv");
    let o = safetynet(&[
        "--policy".as_ref(),
        policy.as_os_str(),
        "--persons".as_ref(),
        persons.as_os_str(),
        "--claims".as_ref(),
        claims.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tier 1 (\"basic\"), key rate: bad rate"), "{err}");
    assert!(!out.exists());
}

/// More claims than one hand-over between the settling and the writing thread
/// (32,768): every claim is written once, and each line adds up.
#[test]
fn a_large_file_writes_each_claim_once_across_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "policy.toml", POLICY);
    let persons = write(dir.path(), "persons.csv", &persons());
    const N: usize = 100_000;
    let mut text = String::with_capacity(N * 90);
    text.push_str(HEADER);
    for i in 0..N {
        let who = if i % 3 == 0 { GENERAL } else { LIFTED };
        let day = 1 + i % 28;
        let cost = 50 + (i * 7919) % 5000;
        text.push_str(&format!(
            "K{i:06},{who},township,outpatient,2024-03-{day:02},2024-03-{day:02},{cost}.25,{cost},\n"
        ));
    }
    let claims = write(dir.path(), "claims.csv", &text);
    let out = dir.path().join("out.csv");
    let o = safetynet(&[
        "--policy".as_ref(),
        policy.as_os_str(),
        "--persons".as_ref(),
        persons.as_os_str(),
        "--claims".as_ref(),
        claims.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let written = std::fs::read_to_string(&out).unwrap();
    let mut lines = written.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cents = |s: &str| -> i64 {
        let (y, f) = s.split_once('.').unwrap();
        y.parse::<i64>().unwrap() * 100 + f.parse::<i64>().unwrap()
    };
    let mut seen = std::collections::HashSet::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), header.len(), "{line}");
        assert!(seen.insert(f[0].to_string()), "claim {} written twice", f[0]);
        // Payments by every tier and the out-of-pocket add up to the total cost.
        let total = cents(f[3]);
        let parts: i64 = f[5..].iter().map(|v| cents(v)).sum();
        assert_eq!(parts, total, "{line}");
    }
    assert_eq!(seen.len(), N);
}

/// Claim IDs are each facility's: one ID at two facilities is two claims, both
/// settled, in `(discharged, claim_id, facility_id)` order, and the settlement
/// file then names each row's facility; the same key twice is refused; an
/// ambiguous `--explain` asks for `--facility`.
#[test]
fn one_claim_id_at_two_facilities_is_two_claims() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "policy.toml", POLICY);
    let persons = write(dir.path(), "persons.csv", &persons());
    let header =
        "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis,facility_id\n";
    let text = format!(
        "{header}X,{LIFTED},county,inpatient,2024-03-01,2024-03-10,20000,20000,C16,HB\n\
         X,{LIFTED},county,inpatient,2024-03-01,2024-03-10,60000.00,50000,C16,HA\n"
    );
    let claims = write(dir.path(), "claims.csv", &text);
    let out = dir.path().join("out.csv");
    let run = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "--policy".as_ref(),
            policy.as_os_str(),
            "--persons".as_ref(),
            persons.as_os_str(),
            "--claims".as_ref(),
            claims.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        safetynet(&args)
    };
    let o = run(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let written = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert!(lines[0].starts_with("claim_id,facility_id,person_id,year,"), "{written}");
    // HA before HB on the same day: its 60 000 settles first, as the worked example's C1.
    assert!(lines[1].starts_with(&format!("X,HA,{LIFTED},2024,60000.00,50000.00,42287.50,")), "{written}");
    assert!(lines[2].starts_with(&format!("X,HB,{LIFTED},2024,20000.00,20000.00,16787.50,")), "{written}");
    // --explain: ambiguous without --facility, then the named one.
    let o = run(&["--explain", "X"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--facility"), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["--explain", "X", "--facility", "HB"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Claim X at HB"), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Settled after 1 earlier claim"));
    // The same key twice is refused, and nothing is written.
    std::fs::remove_file(&out).unwrap();
    let twice = format!("{text}X,{LIFTED},county,inpatient,2024-04-01,2024-04-02,100,100,C16,HA\n");
    std::fs::write(&claims, twice).unwrap();
    let o = run(&[]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(":4: column claim_id") && err.contains("used twice at the facility \"HA\""), "{err}");
    assert!(!out.exists());
}
