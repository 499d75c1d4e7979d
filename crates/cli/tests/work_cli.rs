//! `safetynet import contracts|visits` and `export contracts|visits` end to end
//! on the real binary: a file with a bad row, or a row the rules refuse, is
//! refused whole, naming its line, and writes nothing; a good file is recorded
//! and exports back in the same columns; the monitor opens cases for the
//! households it warns about.

use std::path::Path;
use std::process::{Command, Output};

fn run(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_safetynet")).args(["--db", db]).args(args).output().unwrap()
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

/// The first data row's fields of a CSV file, by column name.
fn first(path: &Path, column: &str, row: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = header.iter().position(|h| *h == column).unwrap();
    lines.nth(row).unwrap().split(',').nth(i).unwrap().to_string()
}

fn exported(db: &str, kind: &str, out: &Path) -> Vec<String> {
    ok(db, &["--quiet", "export", kind, "--out", s(out)]);
    std::fs::read_to_string(out).unwrap().lines().skip(1).map(str::to_string).collect()
}

#[test]
fn contracts_and_visits_are_imported_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db").display().to_string();
    let synth = dir.path().join("synth");
    ok(&db, &["--quiet", "synth", "--scale", "small", "--out", s(&synth)]);
    for kind in ["regions", "households", "persons", "facilities", "practitioners"] {
        ok(&db, &["--quiet", "import", kind, s(&synth.join(format!("{kind}.csv")))]);
    }
    let persons = synth.join("persons.csv");
    let (p1, h1, p2) =
        (first(&persons, "person_id", 0), first(&persons, "household_id", 0), first(&persons, "person_id", 1));
    // A doctor of the county (the first rows are of the provincial hospital).
    let doctors = std::fs::read_to_string(synth.join("practitioners.csv")).unwrap();
    let doctor = doctors.lines().find(|l| l.starts_with("TC")).unwrap().split(',').next().unwrap().to_string();

    // A bad date on line 3: refused by the reader, line named, nothing written.
    let contracts = dir.path().join("contracts.csv");
    std::fs::write(
        &contracts,
        format!("person_id,practitioner_id,signed,ends\n{p1},{doctor},2024-01-10,2025-01-09\n{p2},{doctor},2024-13-01,2025-01-09\n"),
    )
    .unwrap();
    let err = fails(&db, &["import", "contracts", s(&contracts)]);
    assert!(err.contains("contracts.csv:3") && err.contains("signed"), "{err}");
    assert!(exported(&db, "contracts", &dir.path().join("k.csv")).is_empty());
    // An unknown practitioner on line 3: refused by the rules, nothing written.
    std::fs::write(
        &contracts,
        format!("person_id,practitioner_id,signed,ends\n{p1},{doctor},2024-01-10,2025-01-09\n{p2},NOBODY,2024-02-01,2025-01-31\n"),
    )
    .unwrap();
    let err = fails(&db, &["import", "contracts", s(&contracts)]);
    assert!(err.contains("contracts.csv:3") && err.contains("practitioner_id"), "{err}");
    assert!(exported(&db, "contracts", &dir.path().join("k.csv")).is_empty());
    // Good: both recorded, and exported back in the import's columns.
    std::fs::write(
        &contracts,
        format!("person_id,practitioner_id,signed,ends\n{p1},{doctor},2024-01-10,2025-01-09\n{p2},{doctor},2024-02-01,2025-01-31\n"),
    )
    .unwrap();
    assert!(ok(&db, &["import", "contracts", s(&contracts)]).contains("2 recorded"));
    let back = exported(&db, "contracts", &dir.path().join("k.csv"));
    assert_eq!(back.len(), 2);
    assert!(back.iter().any(|l| l == &format!("{p1},{doctor},2024-01-10,2025-01-09")), "{back:?}");

    // Visits: a follow-up without its patient is refused with its line.
    let visits = dir.path().join("visits.csv");
    std::fs::write(
        &visits,
        format!(
            "household_id,kind,date,visitors,person_id,findings,next_date\n\
             {h1},household,2024-05-01,village doctor,,all well,\n\
             {h1},follow_up,2024-05-01,village doctor,,bp 150/95,2024-08-01\n"
        ),
    )
    .unwrap();
    let err = fails(&db, &["import", "visits", s(&visits)]);
    assert!(err.contains("visits.csv:3") && err.contains("person_id"), "{err}");
    assert!(exported(&db, "visits", &dir.path().join("v.csv")).is_empty());
    std::fs::write(
        &visits,
        format!(
            "household_id,kind,date,visitors,person_id,findings,next_date\n\
             {h1},household,2024-05-01,village doctor,,all well,\n\
             {h1},随访,2024-05-01,village doctor,{p1},bp 150/95,2024-08-01\n"
        ),
    )
    .unwrap();
    assert!(ok(&db, &["import", "visits", s(&visits)]).contains("2 recorded"));
    assert_eq!(exported(&db, "visits", &dir.path().join("v.csv")).len(), 2);
}

#[test]
fn the_monitor_opens_cases_for_the_households_it_warns_about() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db").display().to_string();
    let synth = dir.path().join("synth");
    ok(&db, &["--quiet", "synth", "--scale", "small", "--out", s(&synth)]);
    for kind in ["regions", "households", "persons", "claims", "thresholds"] {
        ok(&db, &["--quiet", "import", kind, s(&synth.join(format!("{kind}.csv")))]);
    }
    ok(&db, &["--quiet", "settle", "--store-policy", s(&synth.join("policy.toml")), "--region", "", "--year", "2024"]);
    ok(&db, &["--quiet", "settle", "--year", "2024"]);
    let out = ok(&db, &["monitor", "--year", "2024"]);
    let line = out.lines().find(|l| l.starts_with("cases:")).unwrap_or_else(|| panic!("{out}"));
    let opened: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(opened > 0, "{line}");
    let again = ok(&db, &["monitor", "--year", "2024"]);
    assert!(again.contains("cases: 0 opened"), "a second run opens none: {again}");

    // The work ledger: a workbook of every table, or one table as CSV.
    let book = dir.path().join("ledger.xlsx");
    let told = ok(&db, &["ledger", "--year", "2024", "--as-of", "2024-12-31", "--level", "county", "--out", s(&book)]);
    assert!(told.contains("个案与帮扶 ") && std::fs::metadata(&book).unwrap().len() > 0, "{told}");
    let cases = dir.path().join("cases.csv");
    ok(
        &db,
        &["--quiet", "ledger", "--year", "2024", "--as-of", "2024-12-31", "--out", s(&cases), "--table", "个案与帮扶"],
    );
    let text = std::fs::read_to_string(&cases).unwrap();
    assert!(text.starts_with("\u{feff}个案号,"), "{}", &text[..80.min(text.len())]);
    assert_eq!(text.lines().count(), opened + 1, "a row for each case opened");
    let bad = fails(&db, &["ledger", "--level", "province", "--out", s(&cases)]);
    assert!(bad.contains("village, township or county"), "{bad}");
}

#[test]
fn a_formula_in_a_name_leaves_as_text_and_comes_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db").display().to_string();
    let synth = dir.path().join("synth");
    ok(&db, &["--quiet", "synth", "--scale", "small", "--claims-per-person", "0", "--out", s(&synth)]);
    for kind in ["regions", "households"] {
        ok(&db, &["--quiet", "import", kind, s(&synth.join(format!("{kind}.csv")))]);
    }
    let text = std::fs::read_to_string(synth.join("persons.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().take(3).map(str::to_string).collect();
    // The second person's name becomes a formula.
    let mut f: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    f[2] = "=HYPERLINK(\"http://x\";\"click\")".replace(',', ";");
    lines[2] = f
        .iter()
        .map(|c| if c.contains('"') { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.clone() })
        .collect::<Vec<_>>()
        .join(",");
    let persons = dir.path().join("persons.csv");
    std::fs::write(&persons, lines.join("\n") + "\n").unwrap();
    ok(&db, &["--quiet", "import", "persons", s(&persons)]);
    let out = dir.path().join("out.csv");
    ok(&db, &["--quiet", "export", "persons", "--out", s(&out)]);
    let exported = std::fs::read_to_string(&out).unwrap();
    assert!(exported.contains("'=HYPERLINK"), "the formula is neutralised:\n{exported}");
    assert!(!exported.contains(",=HYPERLINK") && !exported.contains(",\"=HYPERLINK"), "{exported}");
    let again = ok(&db, &["import", "persons", s(&out)]);
    assert!(again.contains("0 inserted, 0 updated, 2 unchanged"), "read back as it was: {again}");
}
