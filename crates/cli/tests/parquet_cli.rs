//! The exchange with a cluster (docs/parquet.md) end to end: a synthetic county
//! imported, its year exported as Parquet and read back; its settlements by
//! `settle --year` taken as a cluster's results and loaded into a second store
//! with the same registry, which then holds the same settlements and
//! accumulators; bad results refused whole, the store unchanged. On SQLite, and
//! on PostgreSQL when SAFETYNET_TEST_PG names a server.

mod common;

use common::Env;
use ingest::parquet::{dataset_files, read_file, Batch, Cell, DatasetWriter};
use std::path::{Path, PathBuf};
use std::process::Command;

const YEAR: &str = "2024";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The synthetic county's files (written once per test).
fn synth(env: &Env) -> PathBuf {
    let out = env.dir.path().join("synth");
    env.ok(&["synth", "--scale", "small", "--claims-per-person", "0.5", "--out", s(&out)]);
    out
}

/// Imports the county and stores its policy for the nation.
fn load_county(env: &Env, synth: &Path) {
    for kind in ["regions", "households", "persons", "facilities", "practitioners", "claims", "thresholds"] {
        env.ok(&["import", kind, s(&synth.join(format!("{kind}.csv")))]);
    }
    env.ok(&["settle", "--store-policy", s(&synth.join("policy.toml")), "--region", "", "--year", YEAR]);
}

/// Every row of a dataset as strings of its columns, in column order.
fn rows_of(dir: &Path, dataset: &str, cols: &[&str]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for f in dataset_files(dir, dataset).unwrap() {
        let name = f.display().to_string();
        read_file(&f, |b, offset| {
            let b = Batch { file: &name, batch: b, offset };
            for i in 0..b.rows() {
                let mut row = Vec::new();
                for c in cols {
                    let cell = if let Ok(v) = b.strs(c) {
                        v.get(i).unwrap_or("<null>").to_string()
                    } else if let Ok(v) = b.ints(c) {
                        v.get(i).map(|n| n.to_string()).unwrap_or("<null>".into())
                    } else if let Ok(v) = b.pays(c) {
                        format!("{:?}", v.get(i).unwrap())
                    } else {
                        let k = b.batch.schema().index_of(c).unwrap();
                        format!("{:?}", b.batch.column(k).slice(i, 1))
                    };
                    row.push(cell);
                }
                out.push(row);
            }
            Ok(())
        })
        .unwrap();
    }
    out.sort();
    out
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Copies a folder, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The results of a cluster's settlement made from an export of a settled
/// store: its manifest, `settled` as `settlements`, and its accumulators.
fn results_from(export: &Path, out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    std::fs::copy(export.join("manifest.json"), out.join("manifest.json")).unwrap();
    copy_dir(&export.join("settled"), &out.join("settlements"));
    copy_dir(&export.join("accumulators"), &out.join("accumulators"));
}

const SETTLED_COLS: &[&str] = &[
    "claim_id",
    "facility_id",
    "person_id",
    "year",
    "total_cost",
    "eligible_cost",
    "out_of_pocket",
    "payments",
    "policy_id",
    "policy_version",
    "status",
    "province",
    "region_code",
];
const ACC_COLS: &[&str] = &["person_id", "year", "tier", "base", "oop", "paid", "province", "region_code"];

fn export_reads_back(env: &Env, synth: &Path) {
    let dir = env.dir.path().join("export");
    env.ok(&["export", "--year", YEAR, "--parquet", s(&dir)]);
    let m = manifest(&dir);
    assert_eq!(m["year"], 2024);
    assert_eq!(m["region"], "");
    assert_eq!(m["provinces"], serde_json::json!(["34"]));
    // The claims of 2024, all of the file's, in fen.
    let text = std::fs::read_to_string(synth.join("claims.csv")).unwrap();
    let mut csv: Vec<Vec<String>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .filter(|r: &Vec<String>| r[5].starts_with(YEAR))
        .collect();
    csv.sort();
    let claims = rows_of(
        &dir,
        "claims",
        &["claim_id", "person_id", "total_cost", "eligible_cost", "year", "province", "region_code"],
    );
    assert_eq!(claims.len(), csv.len());
    assert_eq!(m["rows"]["claims"], csv.len());
    let fen = |y: &str| y.replace('.', "").trim_start_matches('0').to_string();
    assert_eq!(claims[0][0], csv[0][0]);
    assert_eq!(claims[0][1], csv[0][1]);
    assert_eq!(claims[0][2], fen(&csv[0][6]));
    assert_eq!(claims[0][3], fen(&csv[0][7]));
    assert_eq!(claims[0][4], "2024");
    assert_eq!(claims[0][5], "34");
    assert_eq!(claims[0][6].len(), 12);
    // Partitioned by province, hive style.
    assert!(dir.join("claims/province=34/part-00000.parquet").is_file());
    assert!(dir.join("policies/part-00000.parquet").is_file());
    let households = rows_of(&dir, "households", &["household_id", "village_code", "region_code"]);
    assert_eq!(households.len(), std::fs::read_to_string(synth.join("households.csv")).unwrap().lines().count() - 1);
    assert!(households.iter().all(|h| h[1] == h[2]));
    let persons = rows_of(&dir, "persons", &["person_id"]);
    assert_eq!(m["rows"]["persons"], persons.len());
    let policies = rows_of(&dir, "policies", &["id", "region", "year", "version", "source"]);
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0][4], std::fs::read_to_string(synth.join("policy.toml")).unwrap());
    assert_eq!(rows_of(&dir, "settled", &["claim_id"]).len(), 0, "nothing is settled yet");
    // A second export into a non-empty directory is refused and leaves it.
    let err = env.fails(&["export", "--year", YEAR, "--parquet", s(&dir)]);
    assert!(err.contains("is not empty"), "{err}");
    assert!(std::fs::read_dir(env.dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains(".tmp-")));
}

/// Settles store `a` with `settle --year`, takes its settlements as a cluster's
/// results, loads them into store `b` (same registry, unsettled): both then
/// export the same settlements and accumulators.
fn round_trip(a: &Env, b: &Env) {
    let synth = synth(a);
    load_county(a, &synth);
    export_reads_back(a, &synth);
    load_county(b, &synth);
    a.ok(&["settle", "--year", YEAR]);
    let ea = a.dir.path().join("export-a");
    a.ok(&["export", "--year", YEAR, "--parquet", s(&ea)]);
    let results = a.dir.path().join("results");
    results_from(&ea, &results);
    let reference = rows_of(&ea, "settled", SETTLED_COLS);
    assert!(reference.len() > 1000, "{} settlements", reference.len());

    refusals(b, &results);

    let out = b.ok(&["import", "settlements", s(&results)]);
    assert!(out.is_empty() || out.contains("settlements"), "{out}");
    let eb = b.dir.path().join("export-b");
    b.ok(&["export", "--year", YEAR, "--parquet", s(&eb)]);
    assert_eq!(rows_of(&eb, "settled", SETTLED_COLS), reference);
    assert_eq!(rows_of(&eb, "accumulators", ACC_COLS), rows_of(&ea, "accumulators", ACC_COLS));
    // Loaded twice: the claims are settled now, so the second load is refused.
    let err = b.fails(&["import", "settlements", s(&results)]);
    assert!(err.contains("is settled in the store already"), "{err}");
    // Nothing is left to settle, as after `settle --year`.
    let again = b.ok(&["settle", "--year", YEAR]);
    assert!(again.contains("settled 0 claims"), "{again}");
    // A stored settlement explains itself (the batch's replay).
    let first = &reference[0][0];
    let text = b.ok(&["settle", "--explain", first]);
    assert_eq!(text, a.ok(&["settle", "--explain", first]));
}

/// Writes results whose settlements are `rows` (changed by `edit`) with the
/// columns `cols`, beside the good results' manifest and accumulators.
fn bad_results(good: &Path, name: &str, edit: impl Fn(usize, &mut Vec<Cell>), drop_col: Option<&str>) -> PathBuf {
    let dir = good.parent().unwrap().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(good.join("manifest.json"), dir.join("manifest.json")).unwrap();
    copy_dir(&good.join("accumulators"), &dir.join("accumulators"));
    let all: Vec<ingest::parquet::Col> = app::export::SETTLEMENTS.to_vec();
    let cols: &'static [ingest::parquet::Col] =
        Box::leak(all.into_iter().filter(|c| Some(c.name) != drop_col).collect::<Vec<_>>().into_boxed_slice());
    let mut w = DatasetWriter::new(&dir, "settlements", cols, false).unwrap();
    let names: Vec<&str> = cols.iter().map(|c| c.name).collect();
    let rows = rows_of(good, "settlements", &names);
    for (i, r) in rows.iter().enumerate() {
        let mut cells: Vec<Cell> = cols
            .iter()
            .zip(r)
            .map(|(c, v)| match c.ty {
                ingest::parquet::ColType::Int64 => Cell::int(v.parse().unwrap()),
                ingest::parquet::ColType::Payments => {
                    // `Some([("tier", 12), ...])` back into pairs.
                    let inner = v.trim_start_matches("Some([").trim_end_matches("])");
                    let pairs = inner
                        .split("), (")
                        .filter(|p| !p.is_empty())
                        .map(|p| {
                            let p = p.trim_matches(|ch| ch == '(' || ch == ')');
                            let (t, a) = p.rsplit_once(", ").unwrap();
                            (t.trim_matches('"').to_string(), a.parse().unwrap())
                        })
                        .collect();
                    Cell::Payments(pairs)
                }
                _ if v == "<null>" => Cell::opt_str(""),
                _ => Cell::str(v.clone()),
            })
            .collect();
        edit(i, &mut cells);
        w.push("", cells).unwrap();
    }
    w.finish().unwrap();
    dir
}

/// Bad results are refused whole, each bad row named, and leave the store as
/// it was (nothing settled).
fn refusals(b: &Env, good: &Path) {
    let unsettled = |env: &Env| {
        let out = env.dir.path().join(format!("check-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        env.ok(&["export", "--year", YEAR, "--parquet", s(&out)]);
        let n = rows_of(&out, "settled", &["claim_id"]).len();
        std::fs::remove_dir_all(&out).unwrap();
        n
    };
    let unknown = bad_results(
        good,
        "bad-claim",
        |i, r| {
            if i == 2 {
                r[0] = Cell::str("NO-SUCH-CLAIM")
            }
        },
        None,
    );
    let err = b.fails(&["import", "settlements", s(&unknown)]);
    assert!(err.contains("row 3: column claim_id: the claim NO-SUCH-CLAIM"), "{err}");
    assert!(err.contains("is not in the store"), "{err}");
    assert!(err.contains("nothing was imported into settlements"), "{err}");
    let negative = bad_results(
        good,
        "bad-amount",
        |i, r| {
            if i == 4 {
                r[6] = Cell::int(-1)
            }
        },
        None,
    );
    let err = b.fails(&["import", "settlements", s(&negative)]);
    assert!(err.contains("row 5: column out_of_pocket: the amount -1 fen is negative"), "{err}");
    let missing = bad_results(good, "bad-column", |_, _| {}, Some("status"));
    let err = b.fails(&["import", "settlements", s(&missing)]);
    assert!(err.contains("column status: the file lacks this required column"), "{err}");
    // A person's accumulators missing.
    let no_acc = good.parent().unwrap().join("bad-acc");
    std::fs::create_dir_all(no_acc.join("accumulators")).unwrap();
    std::fs::copy(good.join("manifest.json"), no_acc.join("manifest.json")).unwrap();
    copy_dir(&good.join("settlements"), &no_acc.join("settlements"));
    let err = b.fails(&["import", "settlements", s(&no_acc)]);
    assert!(err.contains("is missing") || err.contains("accumulator"), "{err}");
    assert_eq!(unsettled(b), 0, "a refused load leaves nothing behind");
}

#[test]
fn settlements_round_trip_on_sqlite() {
    let (a, b) = (Env::new(), Env::new());
    round_trip(&a, &b);
}

/// Two fresh PostgreSQL databases (so that other tests' rows do not interfere),
/// by psql, and the way to drop them; `None` when none can be made.
fn pg_databases(tag: &str) -> Option<(Vec<String>, impl FnOnce())> {
    let Ok(base) = std::env::var("SAFETYNET_TEST_PG") else {
        eprintln!("SAFETYNET_TEST_PG is not set; skipped");
        return None;
    };
    let names: Vec<String> = (0..2).map(|k| format!("sn_parquet_{tag}{k}_{}", std::process::id())).collect();
    for name in &names {
        let made = Command::new("psql").args([&base, "-q", "-c", &format!("CREATE DATABASE {name}")]).output();
        if !matches!(made, Ok(o) if o.status.success()) {
            eprintln!("cannot create a database with psql; skipped");
            return None;
        }
    }
    let urls = names.iter().map(|n| format!("{}/{n}", &base[..base.rfind('/').unwrap()])).collect();
    let drop = move || {
        for name in names {
            let _ = Command::new("psql").args([&base, "-q", "-c", &format!("DROP DATABASE {name}")]).output();
        }
    };
    Some((urls, drop))
}

#[test]
fn settlements_round_trip_on_postgres() {
    if let Some((urls, drop)) = pg_databases("rt") {
        let mut envs = urls.into_iter().map(|db| Env { dir: tempfile::tempdir().unwrap(), db });
        let (a, b) = (envs.next().unwrap(), envs.next().unwrap());
        round_trip(&a, &b);
        drop();
    }
}

#[test]
fn the_kind_or_parquet_is_required() {
    let env = Env::new();
    let err = env.fails(&["export", "--year", YEAR]);
    assert!(err.contains("--parquet") || err.contains("required"), "{err}");
    let err = env.fails(&["export", "settlements", "--out", s(&env.dir.path().join("x.csv"))]);
    assert!(err.contains("not a kind to export"), "{err}");
}

use ingest::parquet::{Col, ColType};

const ALERT_COLS: &[Col] = &[
    Col::req("rule", ColType::Utf8),
    Col::req("household_id", ColType::Utf8),
    Col::req("village_code", ColType::Utf8),
    Col::req("year", ColType::Int64),
    Col::opt("value", ColType::Int64),
    Col::opt("value_text", ColType::Utf8),
    Col::opt("threshold", ColType::Int64),
    Col::opt("threshold_text", ColType::Utf8),
];
const VILLAGE_FACTS: &[Col] =
    &[Col::req("year", ColType::Int64), Col::req("village_code", ColType::Utf8), Col::req("facts", ColType::Binary)];
const PERSON_FACTS: &[Col] = &[
    Col::req("year", ColType::Int64),
    Col::req("person_id", ColType::Utf8),
    Col::req("village_code", ColType::Utf8),
    Col::req("facts", ColType::Binary),
    Col::req("unsettled", ColType::Int64),
];

/// A dataset to write: its name, columns and rows.
type Dataset<'a> = (&'a str, &'static [Col], Vec<Vec<Cell>>);

/// A result directory: the export's manifest and the datasets given.
fn results(export: &Path, out: &Path, datasets: &[Dataset<'_>]) -> PathBuf {
    std::fs::create_dir_all(out).unwrap();
    std::fs::copy(export.join("manifest.json"), out.join("manifest.json")).unwrap();
    for (name, cols, rows) in datasets {
        let mut w = DatasetWriter::new(out, name, cols, false).unwrap();
        for r in rows {
            w.push("", r.clone()).unwrap();
        }
        w.finish().unwrap();
    }
    out.to_path_buf()
}

/// Alerts and indicator facts of a cluster load, and bad ones are refused.
#[test]
fn alerts_and_indicator_facts_load() {
    let env = Env::new();
    let synth = synth(&env);
    load_county(&env, &synth);
    let e = env.dir.path().join("export");
    env.ok(&["export", "--year", YEAR, "--parquet", s(&e)]);
    let homes = rows_of(&e, "households", &["household_id", "village_code"]);
    let (h1, h2) = (&homes[0], &homes[1]);
    let alert = |rule: &str, h: &Vec<String>, value: Cell, text: Cell, threshold: Cell| {
        vec![
            Cell::str(rule),
            Cell::str(&h[0]),
            Cell::str(&h[1]),
            Cell::int(2024),
            value,
            text,
            threshold,
            Cell::Str(None),
        ]
    };
    let good = vec![
        alert("high_oop", h1, Cell::int(123_456), Cell::Str(None), Cell::int(100_000)),
        alert("serious_diagnosis", h2, Cell::Int(None), Cell::str("C16"), Cell::Int(None)),
    ];
    let r = results(&e, &env.dir.path().join("alerts-ok"), &[("alerts", ALERT_COLS, good.clone())]);
    let out = env.ok(&["import", "alerts", s(&r)]);
    assert!(out.is_empty() || out.contains("2 raised"), "{out}");
    let listed = env.ok(&["alert", "list", "--year", YEAR]);
    assert!(listed.contains(&h1[0]) && listed.contains("1234.56"), "{listed}");
    let mut bad = good.clone();
    bad[1][1] = Cell::str("NO-SUCH-HOUSEHOLD");
    let r = results(&e, &env.dir.path().join("alerts-bad"), &[("alerts", ALERT_COLS, bad)]);
    let err = env.fails(&["import", "alerts", s(&r)]);
    assert!(err.contains("row 2: column household_id: the household NO-SUCH-HOUSEHOLD is not in the store"), "{err}");

    // Facts: a village with none (the format byte alone) is kept; bytes of
    // another format are refused.
    let village = &h1[1];
    let persons = rows_of(&e, "persons", &["person_id", "region_code"]);
    let marks = rows_of(&e, "indicator_marks", &["kind", "id", "version"]);
    let copy_marks = |dir: &Path| copy_dir(&e.join("indicator_marks"), &dir.join("indicator_marks"));
    let facts = |b: u8| vec![Cell::int(2024), Cell::str(village), Cell::Bin(Some(vec![b]))];
    let person = vec![
        Cell::int(2024),
        Cell::str(&persons[0][0]),
        Cell::str(&persons[0][1]),
        Cell::Bin(Some(vec![indicators::stored::FORMAT])),
        Cell::int(0),
    ];
    let ok = env.dir.path().join("facts-ok");
    results(
        &e,
        &ok,
        &[
            ("village_facts", VILLAGE_FACTS, vec![facts(indicators::stored::FORMAT)]),
            ("person_facts", PERSON_FACTS, vec![person.clone()]),
        ],
    );
    copy_marks(&ok);
    let out = env.ok(&["import", "indicator-facts", s(&ok)]);
    assert!(out.is_empty() || out.contains(&format!("{} stale marks cleared", marks.len())), "{out}");
    let bad = env.dir.path().join("facts-bad");
    results(
        &e,
        &bad,
        &[("village_facts", VILLAGE_FACTS, vec![facts(99)]), ("person_facts", PERSON_FACTS, vec![person])],
    );
    copy_marks(&bad);
    let err = env.fails(&["import", "indicator-facts", s(&bad)]);
    assert!(err.contains("row 1: column facts:"), "{err}");
}
