//! The claims file's fast reader (issue 21): the file cut into pieces at line
//! boundaries, each piece read into memory and parsed in place, on every core.
//!
//! A line is cut into fields at its commas (the file has no quote, else this
//! reader declines it); the claim columns of a plain line (an ASCII id, a
//! resident ID, a level and kind as named, `YYYY-MM-DD` dates, amounts of
//! digits, an upper-case ICD-10 code or none, an ASCII facility id or none, a
//! referral as `true`/`false` and the like) are parsed without an allocation.
//! Any other line, valid or not, goes field by field through the same path as
//! the CSV reader's records ([`super::push_row`]), so its claim or its error
//! (line, column, reason) is the one that reader gives.

use super::{cut, push_row, Chunk, ChunkContext, Claims, PersonsTable, Split};
use crate::error::{IngestError, RowError};
use crate::read::Progress;
use chrono::NaiveDate;
use domain::{Claim, ClaimKind, FacilityLevel, Fen, Record, ResidentId};
use settle::{BatchClaim, ClaimInput};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Reads the claims as [`super::read_claims_csv`] would, or `None` when the
/// file holds what this reader leaves to that one (a quote, a lone carriage
/// return, a byte that is not UTF-8); the errors of the pieces read by then
/// are then taken back from `errors`.
pub(super) fn read_claims(
    ctx: &ChunkContext,
    len: u64,
    errors: &mut Vec<RowError>,
    progress: Progress,
    split: Split,
) -> Result<Option<Claims>, IngestError> {
    let Some(start) = data_start(ctx.path, len)? else {
        return Ok(None);
    };
    let pieces = if len - start.offset > split.piece_bytes {
        cut(ctx.path, start.offset, len, split.piece_bytes)?
    } else if start.offset < len {
        vec![(start.offset, len)]
    } else {
        vec![]
    };
    let errors_before = errors.len();
    let layout = Layout::new(ctx);
    let read = AtomicU64::new(start.offset);
    let done = if split.threads <= 1 || pieces.len() <= 1 {
        one_thread(ctx, &layout, &pieces, start.breaks, len, errors, progress)?
    } else {
        threads(ctx, &layout, &pieces, start.breaks, len, split.threads, &read, errors, progress)?
    };
    match done {
        Some(claims) => {
            progress(len, len);
            Ok(Some(claims))
        }
        None => {
            errors.truncate(errors_before);
            Ok(None)
        }
    }
}

/// Where the claims begin: after the byte-order mark, the blank lines and the
/// header (at the header's line end, which the first piece then reads as a
/// blank line), with the line breaks before that point.
struct Start {
    offset: u64,
    breaks: u64,
}

/// [`Start`], or `None` when the header holds a quote (the CSV reader then
/// reads the file). The CSV reader drops a byte-order mark at the start and
/// skips line-end bytes before a record; the header ends at its first `\r` or
/// `\n`.
fn data_start(path: &std::path::Path, len: u64) -> Result<Option<Start>, IngestError> {
    let mut f = std::fs::File::open(path).map_err(|e| IngestError::open(path, e))?;
    let mut head: Vec<u8> = Vec::new();
    let mut block = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut block).map_err(|e| IngestError::open(path, e))?;
        head.extend_from_slice(&block[..n]);
        let eof = n == 0 || head.len() as u64 >= len;
        if head.len() < 3 && !eof {
            continue;
        }
        let mut i = if head.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        while i < head.len() && matches!(head[i], b'\r' | b'\n') {
            i += 1;
        }
        let end = match memchr::memchr2(b'\r', b'\n', &head[i..]) {
            Some(k) => i + k,
            None if eof => head.len(),
            None => continue,
        };
        if memchr::memchr(b'"', &head[..end]).is_some() {
            return Ok(None);
        }
        let breaks = memchr::memchr_iter(b'\n', &head[..end]).count() as u64;
        return Ok(Some(Start { offset: end as u64, breaks }));
    }
}

/// The pieces read in turn by the calling thread.
fn one_thread(
    ctx: &ChunkContext,
    layout: &Layout,
    pieces: &[(u64, u64)],
    breaks_before: u64,
    len: u64,
    errors: &mut Vec<RowError>,
    progress: Progress,
) -> Result<Option<Claims>, IngestError> {
    let mut f = std::fs::File::open(ctx.path).map_err(|e| IngestError::open(ctx.path, e))?;
    let mut buf = Vec::new();
    let mut claims = Claims::with_estimate(len);
    let mut lines_before = breaks_before;
    for &(from, to) in pieces {
        load(ctx.path, &mut f, from, to, &mut buf)?;
        let Some(chunk) = parse_piece(ctx, layout, &buf)? else {
            return Ok(None);
        };
        join(ctx, &mut claims, chunk, &mut lines_before, errors)?;
        progress(to, len);
    }
    Ok(Some(claims))
}

/// The pieces read by `threads` threads at once and joined in file order as
/// they come, so that few are held at once.
#[allow(clippy::too_many_arguments)]
fn threads(
    ctx: &ChunkContext,
    layout: &Layout,
    pieces: &[(u64, u64)],
    breaks_before: u64,
    len: u64,
    threads: usize,
    read: &AtomicU64,
    errors: &mut Vec<RowError>,
    progress: Progress,
) -> Result<Option<Claims>, IngestError> {
    let stop = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Option<Chunk>, IngestError>)>();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(pieces.len()) {
            let (tx, stop, next) = (tx.clone(), &stop, &next);
            scope.spawn(move || {
                let mut f = match std::fs::File::open(ctx.path) {
                    Ok(f) => f,
                    Err(e) => {
                        let _ = tx.send((0, Err(IngestError::open(ctx.path, e))));
                        return;
                    }
                };
                let mut buf = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= pieces.len() || stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let (from, to) = pieces[i];
                    let chunk =
                        load(ctx.path, &mut f, from, to, &mut buf).and_then(|()| parse_piece(ctx, layout, &buf));
                    read.fetch_add(to - from, Ordering::Relaxed);
                    if !matches!(chunk, Ok(Some(_))) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if tx.send((i, chunk)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut claims = Claims::with_estimate(len);
        let mut waiting: HashMap<usize, Chunk> = HashMap::new();
        let (mut joined, mut lines_before) = (0usize, breaks_before);
        let mut failure: Option<(usize, IngestError)> = None;
        let mut declined = false;
        for (i, chunk) in rx {
            match chunk {
                Ok(Some(c)) => {
                    waiting.insert(i, c);
                }
                Ok(None) => declined = true,
                Err(e) => {
                    if failure.as_ref().is_none_or(|(j, _)| i < *j) {
                        failure = Some((i, e));
                    }
                }
            }
            if declined || failure.is_some() {
                continue; // drain: the threads stop at their next piece
            }
            while let Some(c) = waiting.remove(&joined) {
                join(ctx, &mut claims, c, &mut lines_before, errors)?;
                joined += 1;
            }
            progress(read.load(Ordering::Relaxed).min(len), len);
        }
        match failure {
            Some((_, e)) => Err(e),
            None if declined => Ok(None),
            None => Ok(Some(claims)),
        }
    })
}

/// Reads the bytes `from..to` of the file into `buf`.
fn load(
    path: &std::path::Path,
    f: &mut std::fs::File,
    from: u64,
    to: u64,
    buf: &mut Vec<u8>,
) -> Result<(), IngestError> {
    buf.clear();
    buf.resize((to - from) as usize, 0);
    f.seek(SeekFrom::Start(from)).map_err(|e| IngestError::open(path, e))?;
    f.read_exact(buf).map_err(|e| IngestError::open(path, e))
}

/// Appends a piece, its lines `lines_before` on, and moves `lines_before` past it.
fn join(
    ctx: &ChunkContext,
    claims: &mut Claims,
    c: Chunk,
    lines_before: &mut u64,
    errors: &mut Vec<RowError>,
) -> Result<(), IngestError> {
    if claims.arena.len() + c.claims.arena.len() > u32::MAX as usize
        || claims.facility_arena.len() + c.claims.facility_arena.len() > u32::MAX as usize
    {
        let reason = "the claim or facility ids exceed 4 GiB".to_string();
        return Err(IngestError::Format { file: ctx.file.to_string(), reason });
    }
    *lines_before += claims.append(c, *lines_before, errors);
    Ok(())
}

/// Where each claim column sits among a line's fields (`Claim::COLUMNS` order).
pub(super) struct Layout {
    at: [Option<usize>; 11],
}

const CLAIM_ID: usize = 0;
const PERSON_ID: usize = 1;
const LEVEL: usize = 2;
const KIND: usize = 3;
const ADMITTED: usize = 4;
const DISCHARGED: usize = 5;
const TOTAL: usize = 6;
const ELIGIBLE: usize = 7;
const DIAGNOSIS: usize = 8;
const FACILITY: usize = 9;
const REFERRED: usize = 10;

impl Layout {
    fn new(ctx: &ChunkContext) -> Layout {
        let names = ["claim_id", "person_id", "facility_level", "kind", "admitted", "discharged", "total_cost"];
        let more = ["eligible_cost", "diagnosis", "facility_id", "referred"];
        let mut at = [None; 11];
        for (k, name) in names.iter().chain(more.iter()).enumerate() {
            let c = Claim::COLUMNS.iter().position(|c| c.name == *name);
            at[k] = c.and_then(|c| ctx.map.positions[c]);
        }
        Layout { at }
    }

    fn get<'a>(&self, fields: &[&'a str], k: usize) -> &'a str {
        self.at[k].and_then(|i| fields.get(i).copied()).unwrap_or("")
    }
}

/// How many plain lines wait for their person's look-up, so that the slot's
/// cache miss ([`super::PersonIndex::prefetch`]) overlaps their parsing.
const LOOKAHEAD: usize = 8;

/// Parses one piece (whole lines, or the header's line end first), its lines
/// counted from its first line (1); `None` when it holds a quote, a lone
/// carriage return or a byte that is not UTF-8.
///
/// A plain line's person is looked up [`LOOKAHEAD`] lines later than it is
/// parsed; a line that is not plain first lets every waiting line through, so
/// claims and errors keep the file's order.
fn parse_piece(ctx: &ChunkContext, layout: &Layout, buf: &[u8]) -> Result<Option<Chunk>, IngestError> {
    if memchr::memchr(b'"', buf).is_some() {
        return Ok(None);
    }
    let Ok(text) = std::str::from_utf8(buf) else {
        return Ok(None);
    };
    let mut claims = Claims::with_estimate(text.len() as u64);
    let mut errors = Vec::new();
    let mut fields: Vec<&str> = Vec::with_capacity(16);
    let (mut picked, mut picked_here): (Vec<&str>, Vec<&str>) = (Vec::with_capacity(16), Vec::with_capacity(16));
    let mut waiting: std::collections::VecDeque<Waiting> = std::collections::VecDeque::with_capacity(LOOKAHEAD + 1);
    let mut failed = Ok(());
    let breaks = each_line(text, |line, row| {
        fields.clear();
        fields.extend(row.split(','));
        let pushed = match plain_claim(layout, &fields) {
            Some(plain) => {
                ctx.persons.index.prefetch(&plain.person_id);
                waiting.push_back(Waiting { line, row, plain });
                match waiting.len() > LOOKAHEAD {
                    true => {
                        finish(ctx, waiting.pop_front().expect("a waiting line"), &mut picked, &mut claims, &mut errors)
                    }
                    false => Ok(()),
                }
            }
            None => {
                let mut pushed = Ok(());
                while let Some(w) = waiting.pop_front() {
                    pushed = pushed.and(finish(ctx, w, &mut picked, &mut claims, &mut errors));
                }
                pushed.and(push_row(ctx, line, &fields, &mut picked_here, &mut claims, &mut errors))
            }
        };
        if failed.is_ok() {
            failed = pushed;
        }
    });
    while let Some(w) = waiting.pop_front() {
        let pushed = finish(ctx, w, &mut picked, &mut claims, &mut errors);
        if failed.is_ok() {
            failed = pushed;
        }
    }
    failed?;
    Ok(breaks.map(|line_breaks| Chunk { claims, errors, line_breaks }))
}

/// Adds a waiting line's claim, or, where its person is unknown, the error
/// that the general path gives.
fn finish<'a>(
    ctx: &ChunkContext,
    w: Waiting<'a>,
    picked: &mut Vec<&'a str>,
    claims: &mut Claims,
    errors: &mut Vec<RowError>,
) -> Result<(), IngestError> {
    let p = w.plain;
    match ctx.persons.index.get(&p.person_id) {
        Some(person) => {
            let enrolled = ctx.persons.enrolled[person as usize];
            let (total_cost, eligible_cost) = (p.total, p.eligible);
            let input =
                ClaimInput { level: p.level, kind: p.kind, total_cost, eligible_cost, enrolled, referred: p.referred };
            claims.push(ctx.file, p.id, p.facility, w.line, BatchClaim { person, discharged: p.discharged, input })
        }
        None => {
            let fields: Vec<&str> = w.row.split(',').collect();
            push_row(ctx, w.line, &fields, picked, claims, errors)
        }
    }
}

/// A plain line waiting for its person's look-up.
struct Waiting<'a> {
    line: u64,
    row: &'a str,
    plain: Plain<'a>,
}

/// A plain line's claim, all but its person number.
struct Plain<'a> {
    id: &'a str,
    facility: &'a str,
    person_id: ResidentId,
    level: FacilityLevel,
    kind: ClaimKind,
    discharged: NaiveDate,
    total: Fen,
    eligible: Fen,
    referred: bool,
}

/// Calls `each` with every line of `text` that is not blank, and its number
/// (1 for the first), as the CSV reader splits records: a line ends at `\n`,
/// `\r\n`, or a `\r` that ends the text. Gives the line breaks (`\n`), or
/// `None` at a lone carriage return (where the CSV reader ends a record but
/// no line), leaving the rest unread.
fn each_line<'a>(text: &'a str, mut each: impl FnMut(u64, &'a str)) -> Option<u64> {
    let b = text.as_bytes();
    let (mut line, mut pos) = (1u64, 0usize);
    while pos < b.len() {
        let (end, next, lf) = match memchr::memchr2(b'\n', b'\r', &b[pos..]) {
            Some(k) if b[pos + k] == b'\n' => (pos + k, pos + k + 1, true),
            Some(k) if pos + k + 1 == b.len() => (pos + k, pos + k + 1, false),
            Some(k) if b[pos + k + 1] == b'\n' => (pos + k, pos + k + 2, true),
            Some(_) => return None,
            None => (b.len(), b.len(), false),
        };
        if end > pos {
            each(line, &text[pos..end]);
        }
        line += u64::from(lf);
        pos = next;
    }
    Some(line - 1)
}

/// Reads the persons file's records into `table` as the CSV reader would,
/// piece by piece on this thread; `false` (with `table` and `errors` to be
/// reset) when the file holds a quote, a lone carriage return or a byte that
/// is not UTF-8.
pub(super) fn read_persons(
    path: &std::path::Path,
    table: &mut PersonsTable,
    errors: &mut Vec<RowError>,
) -> Result<bool, IngestError> {
    let len = std::fs::metadata(path).map(|m| m.len()).map_err(|e| IngestError::open(path, e))?;
    let Some(start) = data_start(path, len)? else {
        return Ok(false);
    };
    // Sized once for the file (a person's line is some 27 bytes), so that the
    // index is not moved as it grows.
    table.persons.index = super::PersonIndex::with_capacity((len / 24) as usize);
    let pieces = if start.offset < len { cut(path, start.offset, len, 16 << 20)? } else { vec![] };
    let mut f = std::fs::File::open(path).map_err(|e| IngestError::open(path, e))?;
    let mut buf = Vec::new();
    let mut lines_before = start.breaks;
    for (from, to) in pieces {
        load(path, &mut f, from, to, &mut buf)?;
        if memchr::memchr(b'"', &buf).is_some() {
            return Ok(false);
        }
        let Ok(text) = std::str::from_utf8(&buf) else {
            return Ok(false);
        };
        let mut fields: Vec<&str> = Vec::with_capacity(16);
        let breaks = each_line(text, |line, row| {
            fields.clear();
            fields.extend(row.split(','));
            table.push(lines_before + line, |i| fields.get(i).copied().unwrap_or(""), errors);
        });
        let Some(breaks) = breaks else {
            return Ok(false);
        };
        lines_before += breaks;
    }
    Ok(true)
}

/// The claim of a plain line, but for its person number, or `None` when some
/// field is not plain or not valid: the general path then says which. Where
/// this gives a claim and the person is known, `Claim::from_fields` gives the
/// same one.
fn plain_claim<'a>(layout: &Layout, fields: &[&'a str]) -> Option<Plain<'a>> {
    let get = |k| layout.get(fields, k);
    let id = get(CLAIM_ID);
    if id.is_empty() || id.len() > 64 || !plain_ascii(id) {
        return None;
    }
    let person_id = ResidentId::parse(get(PERSON_ID)).ok()?;
    let level: FacilityLevel = get(LEVEL).parse().ok()?;
    let kind: ClaimKind = get(KIND).parse().ok()?;
    let admitted = plain_date(get(ADMITTED))?;
    let discharged = plain_date(get(DISCHARGED))?;
    if discharged < admitted {
        return None;
    }
    let total = plain_yuan(get(TOTAL))?;
    let eligible = plain_yuan(get(ELIGIBLE))?;
    if eligible > total {
        return None;
    }
    let diagnosis = get(DIAGNOSIS);
    if !diagnosis.is_empty() && !plain_icd10(diagnosis) {
        return None;
    }
    let facility = get(FACILITY);
    if !plain_ascii(facility) {
        return None;
    }
    let referred = match get(REFERRED) {
        "" | "false" | "0" | "no" | "n" | "否" => false,
        "true" | "1" | "yes" | "y" | "是" => true,
        _ => return None,
    };
    Some(Plain { id, facility, person_id, level, kind, discharged, total, eligible, referred })
}

/// Printable ASCII without spaces (`!` to `~`): no trimming, no control or
/// bidirectional formatting character, one byte a character.
fn plain_ascii(s: &str) -> bool {
    s.bytes().all(|c| (0x21..=0x7E).contains(&c))
}

/// A date written `YYYY-MM-DD` (the year 1880 to 2200), as `parse_date` reads it.
fn plain_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digit = |i: usize| b[i].is_ascii_digit().then(|| u32::from(b[i] - b'0'));
    let y = digit(0)? * 1000 + digit(1)? * 100 + digit(2)? * 10 + digit(3)?;
    let m = digit(5)? * 10 + digit(6)?;
    let d = digit(8)? * 10 + digit(9)?;
    if !(1880..=2200).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

/// An amount in yuan of 1 to 13 digits with none, one or two decimals, as
/// `Fen::parse_yuan` reads it (which allows up to 10^13 yuan).
fn plain_yuan(s: &str) -> Option<Fen> {
    let b = s.as_bytes();
    let (int, frac): (&[u8], &[u8]) = match memchr::memchr(b'.', b) {
        Some(k) if k + 1 == b.len() || b.len() - k - 1 > 2 => return None,
        Some(k) => (&b[..k], &b[k + 1..]),
        None => (b, &[]),
    };
    if int.is_empty() || int.len() > 13 {
        return None;
    }
    let mut yuan: i64 = 0;
    for &c in int {
        if !c.is_ascii_digit() {
            return None;
        }
        yuan = yuan * 10 + i64::from(c - b'0');
    }
    let mut fen: i64 = 0;
    for (i, &c) in frac.iter().enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        fen += i64::from(c - b'0') * if i == 0 { 10 } else { 1 };
    }
    Some(Fen(yuan * 100 + fen))
}

/// An ICD-10 code as `parse_icd10` accepts it, already upper case and
/// without spaces: a letter, a digit, a digit or `.`, then letters, digits
/// and dots, 3 to 16 in all.
fn plain_icd10(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3
        && b.len() <= 16
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && (b[2].is_ascii_digit() || b[2] == b'.')
        && b[3..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_read_as_the_domain_reads_them() {
        for s in ["0", "1", "12.5", "12.50", "007.05", "1234567890123", "9999999999999.99", "0.0"] {
            assert_eq!(plain_yuan(s), Some(Fen::parse_yuan(s).unwrap()), "{s}");
        }
        for s in ["", ".", "1.", ".5", "1.234", "-1", "+1", "1,0", "1 ", "12345678901234", "1.2.3", "1e3", "١"] {
            assert_eq!(plain_yuan(s), None, "{s}");
        }
        for s in ["2024-02-29", "1880-01-01", "2200-12-31", "2024-12-31"] {
            assert_eq!(plain_date(s), Some(domain::parse_date(s).unwrap()), "{s}");
        }
        for s in ["2023-02-29", "1879-12-31", "2201-01-01", "2024/01/01", " 2024-01-01", "2024-1-01", "2024-00-10"] {
            assert_eq!(plain_date(s), None, "{s}");
        }
        for s in ["I10", "C91.0", "I10.X05", "A1.", "Z99ZZZZZZZZZZZZZ"] {
            assert!(plain_icd10(s) && domain::parse_icd10(s).is_ok(), "{s}");
        }
        for s in ["i10", "I1", "10A", "I10 ", "I10-1", "II0"] {
            assert!(!plain_icd10(s), "{s}");
        }
    }
}
