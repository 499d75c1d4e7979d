//! `safetynet import` refuses bytes that are not text in the file's encoding and
//! names with control or bidirectional formatting characters: the whole file is
//! refused, the message names the file, the line, the column and why, and nothing
//! of the file is stored (issue 20, item 10).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
    db: String,
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_safetynet")).args(["--db", &self.db]).args(args).output().unwrap()
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
    /// The records of a kind the store holds, as exported (header excluded).
    fn stored(&self, kind: &str) -> Vec<String> {
        let out = self.path(&format!("export_{kind}.csv"));
        self.ok(&["export", kind, "--out", s(&out)]);
        std::fs::read_to_string(out).unwrap().lines().skip(1).map(str::to_string).collect()
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A synthetic county with its regions and households imported; the persons file
/// (header and rows) not yet.
fn setup() -> (Env, String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db").display().to_string();
    let env = Env { dir, db };
    let synth = env.path("synth");
    env.ok(&["--quiet", "synth", "--scale", "small", "--claims-per-person", "0", "--out", s(&synth)]);
    env.ok(&["import", "regions", s(&synth.join("regions.csv"))]);
    env.ok(&["import", "households", s(&synth.join("households.csv"))]);
    let text = std::fs::read_to_string(synth.join("persons.csv")).unwrap();
    let mut lines = text.lines().map(str::to_string);
    let header = lines.next().unwrap();
    (env, header, lines.collect())
}

/// The persons file as bytes, with `insert` put at the start of the name of row
/// `at` (0-based); also the column (in characters) where it lands.
fn persons_with(header: &str, rows: &[String], at: usize, insert: &[u8]) -> (Vec<u8>, usize) {
    let name = header.split(',').position(|c| c == "name").unwrap();
    let mut out = format!("{header}\n").into_bytes();
    let mut column = 0;
    for (i, r) in rows.iter().enumerate() {
        if i == at {
            let fields: Vec<&str> = r.split(',').collect();
            let before = format!("{},", fields[..name].join(","));
            column = before.chars().count() + 1;
            out.extend(before.as_bytes());
            out.extend(insert);
            out.extend(format!("{}\n", fields[name..].join(",")).as_bytes());
        } else {
            out.extend(format!("{r}\n").as_bytes());
        }
    }
    (out, column)
}

#[test]
fn invalid_bytes_and_bidi_overrides_refuse_the_file_and_store_nothing() {
    let (env, header, rows) = setup();
    let n = rows.len();
    assert!(n > 2_000, "{n} persons: the bad rows must come after the first 64 KiB and many write chunks");
    let at = n - 3;
    let line = at + 2;

    // A byte that is not UTF-8 near the end of a UTF-8 file.
    let (bytes, column) = persons_with(&header, &rows, at, b"\xFF");
    let file = env.path("persons_bad_byte.csv");
    std::fs::write(&file, bytes).unwrap();
    let err = env.fails(&["import", "persons", "--chunk-rows", "500", s(&file)]);
    let want = format!("{}:{line}: name: the byte 0xFF at column {column} is not UTF-8 text", file.display());
    assert!(err.contains(&want), "expected {want:?} in:\n{err}");
    assert!(err.contains("refused, 1 bad row"), "{err}");
    assert!(env.stored("persons").is_empty(), "a refused file left persons behind");

    // A right-to-left override in a name.
    let (bytes, _) = persons_with(&header, &rows, at, "\u{202E}".as_bytes());
    let file = env.path("persons_bidi.csv");
    std::fs::write(&file, bytes).unwrap();
    let err = env.fails(&["import", "persons", "--chunk-rows", "500", s(&file)]);
    let want = format!("{}:{line}: name: holds U+202E (right-to-left override) at character 1", file.display());
    assert!(err.contains(&want), "expected {want:?} in:\n{err}");
    assert!(env.stored("persons").is_empty(), "a refused file left persons behind");

    // A facility's name with an isolate: refused the same way.
    let synth = env.path("synth");
    let facilities = std::fs::read_to_string(synth.join("facilities.csv")).unwrap();
    let mut lines: Vec<String> = facilities.lines().map(str::to_string).collect();
    let fname = lines[0].split(',').position(|c| c == "name").unwrap();
    let mut f: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    f[fname] = format!("{}\u{2067}", f[fname]);
    lines[1] = f.join(",");
    let file = env.path("facilities_bidi.csv");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let err = env.fails(&["import", "facilities", s(&file)]);
    assert!(err.contains(&format!("{}:2: name: holds U+2067 (right-to-left isolate)", file.display())), "{err}");
    assert!(env.stored("facilities").is_empty(), "a refused file left facilities behind");

    // The good file goes in whole.
    let file = env.path("persons_good.csv");
    std::fs::write(&file, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    let out = env.ok(&["import", "persons", "--chunk-rows", "500", s(&file)]);
    assert!(out.contains(&format!("{n} inserted")), "{out}");
}
