//! Every command that reads or changes personal data in the store writes an audit
//! row under the operating-system account that ran it (not a name it was told):
//! imports (accepted or refused), exports, the ledger.

use std::path::Path;
use std::process::Command;

fn run(db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_safetynet"))
        .args(["--quiet", "--db", db])
        .args(args)
        // A name in the environment does not make an identity.
        .env("USER", "pretender")
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn commands_are_audited_under_the_operating_system_account() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db").display().to_string();
    let synth = dir.path().join("synth");
    assert!(run(&db, &["synth", "--scale", "small", "--claims-per-person", "0", "--out", s(&synth)]).status.success());
    for kind in ["regions", "households", "persons"] {
        let o = run(&db, &["import", kind, s(&synth.join(format!("{kind}.csv")))]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "household_id,village_code,size,income\nHX,999999999999,1,1\n").unwrap();
    assert!(!run(&db, &["import", "households", s(&bad)]).status.success());
    let out = dir.path().join("persons_out.csv");
    assert!(run(&db, &["export", "persons", "--out", s(&out)]).status.success());
    let book = dir.path().join("ledger.xlsx");
    let o = run(&db, &["ledger", "--out", s(&book)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let rows = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = store::Store::open(&db).await.unwrap();
        let rows = store.audit_log(1000).await.unwrap();
        store.close().await;
        rows
    });
    let me = std::fs::read_to_string("/proc/self/status").ok().is_some();
    for r in &rows {
        assert!(r.actor.starts_with("os:"), "{r:?}");
        if me {
            assert_ne!(r.actor, "os:pretender", "the environment named the actor: {r:?}");
        }
    }
    let has = |action: &str, target: &str, detail: &str| {
        rows.iter().any(|r| r.action == action && r.object_id == target && r.detail.contains(detail))
    };
    assert!(has("import", "persons", "inserted"), "{rows:?}");
    assert!(has("import", "households", "refused"), "{rows:?}");
    assert!(has("export", "persons", "persons_out.csv"), "{rows:?}");
    assert!(has("export", "ledger", "ledger.xlsx"), "{rows:?}");
}
