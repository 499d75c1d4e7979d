//! `safetynet settle`: settles a claims file under a policy file, file in, file out.
//!
//! This module owns the files: reading persons and claims (UTF-8, with or without
//! BOM), reporting every bad row with file, line, column and reason, and writing
//! the settlement file atomically (a temporary file renamed only on success, so a
//! refused input leaves no output). The arithmetic is the `settle` crate's.
//!
//! Memory: claims are kept compact (`settle::BatchClaim`, 32 bytes, with the claim
//! ids in one string arena and settlement order as a vector of indices), so five
//! million claims stay near 100 bytes each including the person table.

use crate::progress;
use crate::Global;
use anyhow::{bail, Context};
use chrono::Datelike;
use domain::{Claim, ColumnMap, Fen, PovertyStatus, Record, ResidentId};
use settle::{Accumulators, BatchClaim, ClaimInput, Policy};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

mod store_mode;

/// File mode: `--policy P.toml --persons F --claims F --out F` settles a file of
/// claims without a store. Store mode (no file options, see `--year`): settles the
/// store's claims, stores a policy, voids a claim, or explains a stored settlement.
#[derive(clap::Args, Debug)]
#[command(after_help = store_mode::HELP)]
pub struct Args {
    /// File mode: the policy file (TOML, specs/settlement.md "Policy file").
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// File mode: the persons file (CSV): needs the columns person_id and status.
    #[arg(long)]
    pub persons: Option<PathBuf>,
    /// File mode: the claims file (CSV with the claims columns).
    #[arg(long)]
    pub claims: Option<PathBuf>,
    /// File mode: where to write the settlements (CSV). Written only if every row is good.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the explanation of this claim's settlement (from the files, or from the store).
    #[arg(long, value_name = "CLAIM_ID")]
    pub explain: Option<String>,
    #[command(flatten)]
    pub store: store_mode::StoreArgs,
    /// Only read and check the files (for benchmarks).
    #[arg(long, hide = true)]
    pub parse_only: bool,
}

/// One refused row: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: column {}: {}", self.file, self.line, self.column, self.reason)
    }
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<()> {
    let (Some(policy_path), Some(persons_path), Some(claims_path)) = (&args.policy, &args.persons, &args.claims) else {
        return store_mode::run(&args, global);
    };
    store_mode::refuse_store_options(&args)?;
    let policy_text = std::fs::read_to_string(policy_path)
        .with_context(|| format!("cannot read the policy file {}", policy_path.display()))?;
    let policy = Policy::parse(policy_text.trim_start_matches('\u{feff}'))
        .with_context(|| format!("the policy file {} is refused", policy_path.display()))?;

    let mut errors = Vec::new();
    let persons = read_persons(persons_path, &mut errors)?;
    let claims = read_claims(claims_path, &persons, &mut errors, global.quiet)?;
    if args.parse_only {
        refuse_if_any(&errors)?;
        eprintln!("read {} persons and {} claims", persons.ids.len(), claims.rows.len());
        return Ok(());
    }
    check_duplicates(&claims, claims_path, &mut errors);
    refuse_if_any(&errors)?;

    let order = settle::settlement_order(&claims.rows, |i| claims.id(i));
    if let Some(out) = &args.out {
        write_settlements(out, &policy, &persons, &claims, &order, global.quiet)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    if let Some(id) = &args.explain {
        print!("{}", explain_claim(&policy, &persons, &claims, &order, id)?);
    }
    Ok(())
}

fn refuse_if_any(errors: &[RowError]) -> anyhow::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    for e in errors {
        eprintln!("{e}");
    }
    bail!("{} bad row{} (listed above); nothing was written", errors.len(), if errors.len() == 1 { "" } else { "s" })
}

/// Persons by index: their resident IDs and statuses.
struct Persons {
    ids: Vec<ResidentId>,
    statuses: Vec<PovertyStatus>,
    index: HashMap<ResidentId, u32>,
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

fn open_csv(path: &Path) -> anyhow::Result<csv::Reader<std::fs::File>> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(csv::ReaderBuilder::new().flexible(true).buffer_capacity(1 << 20).from_reader(f))
}

fn header(rdr: &mut csv::Reader<std::fs::File>, path: &Path) -> anyhow::Result<Vec<String>> {
    let h = rdr.byte_headers().with_context(|| format!("cannot read the header of {}", path.display()))?;
    let h: Vec<String> =
        h.iter().map(|f| String::from_utf8_lossy(f).trim().trim_start_matches('\u{feff}').trim().to_string()).collect();
    Ok(h)
}

/// Reads the persons file. Only `person_id` and `status` are needed, so any file
/// with those columns will do (the registry's full persons file among them).
fn read_persons(path: &Path, errors: &mut Vec<RowError>) -> anyhow::Result<Persons> {
    let file = display(path);
    let mut rdr = open_csv(path)?;
    let h = header(&mut rdr, path)?;
    let find = |name: &str| h.iter().position(|c| c.eq_ignore_ascii_case(name));
    let (Some(id_col), Some(status_col)) = (find("person_id"), find("status")) else {
        bail!("{file}: the persons file needs the columns person_id and status; its header is: {}", h.join(", "));
    };
    let mut persons = Persons { ids: Vec::new(), statuses: Vec::new(), index: HashMap::new() };
    let mut first_line: HashMap<ResidentId, u64> = HashMap::new();
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec).with_context(|| format!("cannot read {file}"))? {
        let line = rec.position().map_or(0, |p| p.line());
        let field =
            |i: usize| std::str::from_utf8(rec.get(i).unwrap_or(b"")).map_err(|_| "is not valid UTF-8".to_string());
        let mut bad = |column: &str, reason: String| {
            errors.push(RowError { file: file.clone(), line, column: column.to_string(), reason })
        };
        let id = match field(id_col).and_then(|s| ResidentId::parse(s).map_err(|e| e.0)) {
            Ok(id) => id,
            Err(r) => {
                bad("person_id", r);
                continue;
            }
        };
        let status: PovertyStatus =
            match field(status_col).and_then(|s| s.parse().map_err(|e: domain::DomainError| e.0)) {
                Ok(s) => s,
                Err(r) => {
                    bad("status", r);
                    continue;
                }
            };
        if let Some(prev) = first_line.get(&id) {
            bad("person_id", format!("the person {id} is listed twice (first on line {prev})"));
            continue;
        }
        first_line.insert(id, line);
        persons.index.insert(id, persons.ids.len() as u32);
        persons.ids.push(id);
        persons.statuses.push(status);
    }
    Ok(persons)
}

/// Claims in compact form: the engine's rows, the claim ids in one arena, and
/// each claim's line in the file (for error messages).
struct Claims {
    rows: Vec<BatchClaim>,
    id_ends: Vec<u32>,
    arena: String,
    lines: Vec<u32>,
}

impl Claims {
    fn id(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.id_ends[i - 1] as usize };
        &self.arena[start..self.id_ends[i] as usize]
    }
}

fn read_claims(path: &Path, persons: &Persons, errors: &mut Vec<RowError>, quiet: bool) -> anyhow::Result<Claims> {
    let file = display(path);
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut rdr = open_csv(path)?;
    let h = header(&mut rdr, path)?;
    let hrefs: Vec<&str> = h.iter().map(|s| s.as_str()).collect();
    let map = ColumnMap::new::<Claim>(&hrefs).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    // Where each claim column sits in the file, to name it in errors (1-based).
    let column_label = |name: &str| -> String {
        let k = Claim::COLUMNS.iter().position(|c| c.name == name);
        match k.and_then(|k| map.positions[k]) {
            Some(p) => format!("{} ({name})", p + 1),
            None => name.to_string(),
        }
    };
    let estimate = (len / 90) as usize;
    let mut claims = Claims {
        rows: Vec::with_capacity(estimate),
        id_ends: Vec::with_capacity(estimate),
        arena: String::with_capacity(estimate * 10),
        lines: Vec::with_capacity(estimate),
    };
    let pb = progress::bar(len, "reading", quiet);
    let mut rec = csv::ByteRecord::new();
    // Field slices borrow the record; their buffers are recycled across rows.
    let mut strs_buf: Vec<&'static str> = Vec::with_capacity(16);
    let mut fields_buf: Vec<&'static str> = Vec::with_capacity(16);
    let mut n: u64 = 0;
    while rdr.read_byte_record(&mut rec).with_context(|| format!("cannot read {file}"))? {
        let (line, byte) = rec.position().map(|p| (p.line(), p.byte())).unwrap_or((0, 0));
        n += 1;
        if n.is_multiple_of(65_536) {
            pb.set_position(byte);
        }
        let mut strs: Vec<&str> = std::mem::take(&mut strs_buf);
        let mut fields: Vec<&str> = std::mem::take(&mut fields_buf);
        'row: {
            let mut utf8_bad = None;
            for (i, f) in rec.iter().enumerate() {
                match std::str::from_utf8(f) {
                    Ok(s) => strs.push(s),
                    Err(_) => {
                        utf8_bad.get_or_insert(i);
                        strs.push("");
                    }
                }
            }
            if let Some(i) = utf8_bad {
                errors.push(RowError {
                    file: file.clone(),
                    line,
                    column: (i + 1).to_string(),
                    reason: "is not valid UTF-8 (save the file as UTF-8)".into(),
                });
                break 'row;
            }
            map.pick(&strs, &mut fields);
            let claim = match Claim::from_fields(&fields) {
                Ok(c) => c,
                Err(e) => {
                    errors.push(RowError {
                        file: file.clone(),
                        line,
                        column: column_label(e.column),
                        reason: e.reason,
                    });
                    break 'row;
                }
            };
            let Some(&person) = persons.index.get(&claim.person_id) else {
                errors.push(RowError {
                    file: file.clone(),
                    line,
                    column: column_label("person_id"),
                    reason: format!("the person {} is not in the persons file", claim.person_id),
                });
                break 'row;
            };
            claims.arena.push_str(&claim.claim_id);
            let end = u32::try_from(claims.arena.len()).context("the claim ids exceed 4 GiB")?;
            claims.id_ends.push(end);
            claims.lines.push(line.min(u32::MAX as u64) as u32);
            claims.rows.push(BatchClaim { person, discharged: claim.discharged, input: ClaimInput::from(&claim) });
        }
        strs_buf = reclaim(strs);
        fields_buf = reclaim(fields);
    }
    pb.finish_and_clear();
    Ok(claims)
}

/// Reports every claim id that appears more than once (each later occurrence,
/// naming the first). Hashes of the ids are sorted as integers (8 bytes a claim);
/// only ids whose hash occurs twice are then compared as text.
fn check_duplicates(claims: &Claims, path: &Path, errors: &mut Vec<RowError>) {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    let hasher = BuildHasherDefault::<DefaultHasher>::default();
    let n = claims.rows.len();
    let mut hashes: Vec<u64> = (0..n).map(|i| hasher.hash_one(claims.id(i))).collect();
    hashes.sort_unstable();
    let repeated: HashSet<u64> = hashes.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    drop(hashes);
    if repeated.is_empty() {
        return;
    }
    let file = display(path);
    // Indices ascend in file order, so the first one seen is the first in the file.
    let mut first: HashMap<&str, u32> = HashMap::new();
    for i in 0..n {
        let id = claims.id(i);
        if !repeated.contains(&hasher.hash_one(id)) {
            continue;
        }
        match first.get(id) {
            Some(&f) => errors.push(RowError {
                file: file.clone(),
                line: claims.lines[i] as u64,
                column: "claim_id".into(),
                reason: format!("the claim id {id:?} is used twice (first on line {})", claims.lines[f as usize]),
            }),
            None => {
                first.insert(id, i as u32);
            }
        }
    }
    errors.sort_by_key(|e| e.line);
}

/// Writes the settlement file to a temporary file beside `out` and renames it into
/// place once complete.
fn write_settlements(
    out: &Path,
    policy: &Policy,
    persons: &Persons,
    claims: &Claims,
    order: &[u32],
    quiet: bool,
) -> anyhow::Result<()> {
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().context("the output path has no file name")?.to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> anyhow::Result<()> {
        let f = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        let mut head = String::from("claim_id,person_id,year,total_cost,eligible_cost");
        for n in &policy.names {
            head.push(',');
            head.push_str(&csv_field(n));
        }
        head.push_str(",out_of_pocket\n");
        w.write_all(head.as_bytes())?;
        let pb = progress::bar(order.len() as u64, "settling", quiet);
        // Two stages on two cores: one thread settles in order and hands over
        // chunks of (claim index, payments, out-of-pocket); this one formats and
        // writes them. Formatting costs about as much as settling.
        const CHUNK: usize = 1 << 15;
        let width = policy.names.len() + 2;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<i64>>(4);
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<i64>>();
        let written = std::thread::scope(|scope| -> anyhow::Result<()> {
            scope.spawn(move || {
                let mut chunk: Vec<i64> = Vec::with_capacity(CHUNK * width);
                let mut open = true;
                settle::settle_in_order(policy, &claims.rows, order, &persons.statuses, |i, payments, oop| {
                    chunk.push(i as i64);
                    chunk.extend(payments.iter().map(|p| p.0));
                    chunk.push(oop.0);
                    if chunk.len() >= CHUNK * width {
                        let next = back_rx.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK * width));
                        open = tx.send(std::mem::replace(&mut chunk, next)).is_ok();
                    }
                    open
                });
                if open && !chunk.is_empty() {
                    let _ = tx.send(chunk);
                }
            });
            // Resident IDs as text once per person, not once per claim.
            let ids: Vec<[u8; 18]> = persons
                .ids
                .iter()
                .map(|p| {
                    let mut b = [0u8; 18];
                    b.copy_from_slice(p.to_string().as_bytes());
                    b
                })
                .collect();
            let mut line: Vec<u8> = Vec::with_capacity(256);
            let mut done: u64 = 0;
            for mut chunk in rx {
                line.clear();
                for rec in chunk.chunks_exact(width) {
                    let i = rec[0] as usize;
                    let c = &claims.rows[i];
                    line.extend_from_slice(csv_field(claims.id(i)).as_bytes());
                    line.push(b',');
                    line.extend_from_slice(&ids[c.person as usize]);
                    let _ = write!(line, ",{}", c.discharged.year());
                    push_fen(&mut line, c.input.total_cost);
                    push_fen(&mut line, c.input.eligible_cost);
                    for p in &rec[1..] {
                        push_fen(&mut line, Fen(*p));
                    }
                    line.push(b'\n');
                }
                // A failed write drops the receiver, which stops the settling thread.
                w.write_all(&line)?;
                done += (chunk.len() / width) as u64;
                pb.set_position(done);
                // Handed back empty, to be filled again.
                chunk.clear();
                let _ = back_tx.send(chunk);
            }
            Ok(())
        });
        pb.finish_and_clear();
        written?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all().ok();
        std::fs::rename(&tmp, out).with_context(|| format!("cannot move {} to {}", tmp.display(), out.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Appends `,` and the amount in yuan with two decimals.
fn push_fen(line: &mut Vec<u8>, f: Fen) {
    line.push(b',');
    let v = f.0;
    if v < 0 {
        line.push(b'-');
    }
    let a = v.unsigned_abs();
    let mut digits = [0u8; 24];
    let mut k = digits.len();
    let mut y = a / 100;
    loop {
        k -= 1;
        digits[k] = b'0' + (y % 10) as u8;
        y /= 10;
        if y == 0 {
            break;
        }
    }
    line.extend_from_slice(&digits[k..]);
    let c = a % 100;
    line.extend_from_slice(&[b'.', b'0' + (c / 10) as u8, b'0' + (c % 10) as u8]);
}

/// Quotes a field if CSV needs it.
fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The explanation of one claim: its person's earlier claims of the year are
/// settled first (accumulators are per person and year, so nothing else matters).
fn explain_claim(
    policy: &Policy,
    persons: &Persons,
    claims: &Claims,
    order: &[u32],
    id: &str,
) -> anyhow::Result<String> {
    let Some(target) = (0..claims.rows.len()).find(|&i| claims.id(i) == id) else {
        bail!("the claim {id:?} is not in the claims file");
    };
    let t = &claims.rows[target];
    let status = persons.statuses[t.person as usize];
    let mut acc = Accumulators::new(policy);
    let mut earlier = 0;
    for &i in order {
        let i = i as usize;
        if i == target {
            break;
        }
        let c = &claims.rows[i];
        if c.person == t.person && c.discharged.year() == t.discharged.year() {
            settle::settle_claim(policy, &c.input, status, &mut acc);
            earlier += 1;
        }
    }
    let ex = settle::explain(policy, &t.input, status, &acc);
    let mut text = format!(
        "Claim {id} of person {}, discharged {} (policy year {}), policy {:?}\n\
         Settled after {earlier} earlier claim{} of this person in the year.\n",
        persons.ids[t.person as usize],
        t.discharged,
        t.discharged.year(),
        policy.name,
        if earlier == 1 { "" } else { "s" },
    );
    text.push_str(&ex.render(policy));
    Ok(text)
}

/// An emptied buffer of field slices, given back for the next row (no allocation).
fn reclaim(mut v: Vec<&str>) -> Vec<&'static str> {
    v.clear();
    v.into_iter().map(|_| "").collect()
}
