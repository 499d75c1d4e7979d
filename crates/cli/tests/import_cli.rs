//! `safetynet import` end to end on a file larger than one write chunk: a file is
//! stored whole or not at all (a bad row or a missing reference near its end leaves
//! the store as it was, and every such row is named with its line), a re-import
//! changes nothing, and a changed row updates. Runs on SQLite, and on PostgreSQL
//! when SAFETYNET_TEST_PG names a server.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
    db: String,
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        // Not quiet for imports: they print their counts.
        let quiet: &[&str] = if args[0] == "import" { &[] } else { &["--quiet"] };
        Command::new(env!("CARGO_BIN_EXE_safetynet")).args(quiet).args(["--db", &self.db]).args(args).output().unwrap()
    }
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?} failed:\n{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    }
    fn fails(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(!o.status.success(), "{args:?} should fail:\n{}", String::from_utf8_lossy(&o.stdout));
        String::from_utf8_lossy(&o.stderr).to_string()
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// The persons the store holds, as exported (header excluded).
    fn stored_persons(&self) -> Vec<String> {
        let out = self.path("export.csv");
        self.ok(&["export", "persons", "--out", s(&out)]);
        let text = std::fs::read_to_string(out).unwrap();
        let mut lines: Vec<String> = text.lines().skip(1).map(str::to_string).collect();
        lines.sort();
        lines
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The synthetic county's registry in a fresh store, persons not yet imported.
fn setup(db: Option<String>) -> (Env, Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let db = db.unwrap_or_else(|| dir.path().join("store.db").display().to_string());
    let env = Env { dir, db };
    let synth = env.path("synth");
    env.ok(&["synth", "--scale", "small", "--claims-per-person", "0", "--out", s(&synth)]);
    env.ok(&["import", "regions", s(&synth.join("regions.csv"))]);
    env.ok(&["import", "households", s(&synth.join("households.csv"))]);
    let text = std::fs::read_to_string(synth.join("persons.csv")).unwrap();
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap();
    (env, lines.collect(), header)
}

fn write(env: &Env, name: &str, header: &str, lines: &[String]) -> PathBuf {
    let p = env.path(name);
    std::fs::write(&p, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
    p
}

/// Replaces field `col` of a CSV line (no quoted commas in the synthetic persons).
fn with_field(line: &str, col: usize, value: &str) -> String {
    let mut f: Vec<&str> = line.split(',').collect();
    f[col] = value;
    f.join(",")
}

fn whole_or_nothing(db: Option<String>) {
    let (env, persons, header) = setup(db);
    // Many write chunks (of 1,000 rows here), so that the refusals below come after
    // rows were already written inside the transaction.
    assert!(persons.len() > 5_000, "{} persons", persons.len());
    let cols: Vec<&str> = header.split(',').collect();
    let household = cols.iter().position(|c| *c == "household_id").unwrap();
    let status = cols.iter().position(|c| *c == "status").unwrap();
    let n = persons.len();

    // A missing household near the end: refused, its line and column named.
    let mut bad = persons.clone();
    bad[n - 2] = with_field(&bad[n - 2], household, "H_NOT_THERE");
    let file = write(&env, "missing.csv", &header, &bad);
    let err = env.fails(&["import", "persons", "--chunk-rows", "1000", s(&file)]);
    assert!(err.contains(&format!(":{}:", n)), "line {} not named:\n{err}", n);
    assert!(err.contains("household_id") && err.contains("H_NOT_THERE"), "{err}");
    assert!(env.stored_persons().is_empty(), "a refused file left rows behind");

    // A bad value near the end: refused, nothing stored.
    let mut bad = persons.clone();
    bad[n - 1] = with_field(&bad[n - 1], status, "rich");
    let file = write(&env, "bad.csv", &header, &bad);
    let err = env.fails(&["import", "persons", "--chunk-rows", "1000", s(&file)]);
    assert!(err.contains(&format!(":{}:", n + 1)) && err.contains("status"), "{err}");
    assert!(env.stored_persons().is_empty(), "a refused file left rows behind");

    // The good file: all in; again: nothing changes; one changed row: one update.
    let file = write(&env, "good.csv", &header, &persons);
    let out = env.ok(&["import", "persons", "--chunk-rows", "1000", s(&file)]);
    assert!(out.contains(&format!("{n} inserted, 0 updated, 0 unchanged")), "{out}");
    let stored = env.stored_persons();
    assert_eq!(stored.len(), n);
    let out = env.ok(&["import", "persons", "--chunk-rows", "1000", s(&file)]);
    assert!(out.contains(&format!("0 inserted, 0 updated, {n} unchanged")), "{out}");
    assert_eq!(env.stored_persons(), stored);
    let mut changed = persons.clone();
    changed[n - 3] = with_field(&changed[n - 3], status, "monitored");
    let changed_file = write(&env, "changed.csv", &header, &changed);
    let out = env.ok(&["import", "persons", "--chunk-rows", "1000", s(&changed_file)]);
    let expect_updated = usize::from(changed[n - 3] != persons[n - 3]);
    assert!(out.contains(&format!("0 inserted, {expect_updated} updated, {} unchanged", n - expect_updated)), "{out}");
    // A refused file after that leaves the stored rows as they were.
    let file = write(&env, "missing.csv", &header, &{
        let mut b = persons.clone();
        b[n - 1] = with_field(&b[n - 1], household, "H_NOT_THERE");
        b
    });
    env.fails(&["import", "persons", "--chunk-rows", "1000", s(&file)]);
    let mut after = env.stored_persons();
    after.retain(|l| !stored.contains(l));
    assert!(after.len() <= 1, "a refused import changed stored rows: {after:?}");
}

#[test]
fn a_file_is_stored_whole_or_not_at_all_on_sqlite() {
    whole_or_nothing(None);
}

/// A fresh PostgreSQL database of its own (so that other tests' rows do not
/// interfere), by psql, and the way to drop it; `None` when none can be made.
fn pg_database(tag: &str) -> Option<(String, impl FnOnce())> {
    let Ok(base) = std::env::var("SAFETYNET_TEST_PG") else {
        eprintln!("SAFETYNET_TEST_PG is not set; skipped");
        return None;
    };
    let name = format!("sn_import_{tag}_{}", std::process::id());
    let admin = Command::new("psql").args([&base, "-q", "-c", &format!("CREATE DATABASE {name}")]).output();
    match admin {
        Ok(o) if o.status.success() => {}
        _ => {
            eprintln!("cannot create a database with psql; skipped");
            return None;
        }
    }
    let url = format!("{}/{name}", &base[..base.rfind('/')?]);
    let drop = move || {
        let _ = Command::new("psql").args([&base, "-q", "-c", &format!("DROP DATABASE {name}")]).output();
    };
    Some((url, drop))
}

#[test]
fn a_file_is_stored_whole_or_not_at_all_on_postgres() {
    if let Some((url, drop)) = pg_database("whole") {
        whole_or_nothing(Some(url));
        drop();
    }
}

/// A claim above its plausibility limit (a slip of several zeros) near the end of
/// a file of several write chunks: the file is refused, the line, the column and
/// the limit named, and no claim is stored.
fn implausible_claims(db: Option<String>) {
    let (env, persons, header) = setup(db);
    let file = write(&env, "persons.csv", &header, &persons);
    env.ok(&["import", "persons", s(&file)]);
    let synth = env.path("synth_claims");
    env.ok(&["synth", "--scale", "small", "--out", s(&synth)]);
    let text = std::fs::read_to_string(synth.join("claims.csv")).unwrap();
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap();
    let mut claims: Vec<String> = lines.collect();
    assert!(claims.len() > 2_000, "{} claims", claims.len());
    let cols: Vec<&str> = header.split(',').collect();
    let total = cols.iter().position(|c| *c == "total_cost").unwrap();
    let eligible = cols.iter().position(|c| *c == "eligible_cost").unwrap();
    let n = claims.len();
    claims[n - 2] = with_field(&with_field(&claims[n - 2], total, "999999999999.99"), eligible, "1000.00");
    let file = write(&env, "claims.csv", &header, &claims);
    let err = env.fails(&["import", "claims", "--chunk-rows", "1000", s(&file)]);
    assert!(err.contains(&format!(":{n}:")) && err.contains("total_cost") && err.contains("plausible"), "{err}");
    let out = env.path("claims_out.csv");
    env.ok(&["export", "claims", "--out", s(&out)]);
    assert_eq!(std::fs::read_to_string(out).unwrap().lines().count(), 1, "only the header: nothing stored");
}

#[test]
fn an_implausible_claim_refuses_its_file_on_sqlite() {
    implausible_claims(None);
}

#[test]
fn an_implausible_claim_refuses_its_file_on_postgres() {
    if let Some((url, drop)) = pg_database("limits") {
        implausible_claims(Some(url));
        drop();
    }
}
