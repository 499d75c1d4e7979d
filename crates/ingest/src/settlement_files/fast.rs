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

use super::{cut, push_row, Chunk, ChunkContext, Claims, PersonColumns, PersonsTable, Split};
use crate::error::{IngestError, RowError};
use crate::read::Progress;
use chrono::NaiveDate;
use domain::{Claim, ClaimKind, FacilityLevel, Fen, PovertyStatus, Record, ResidentId};
use settle::{BatchClaim, ClaimInput};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

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
    let mut claims = Claims::with_estimate(len);
    let mut lines_before = start.breaks;
    // The claims of the pieces joined, emptied, for the pieces still to read:
    // their room is then written once, not mapped afresh for each piece.
    let spent: Mutex<Vec<Claims>> = Mutex::new(Vec::new());
    let read = in_order(
        ctx.path,
        &pieces,
        split.threads,
        |buf| {
            let room = spent.lock().ok().and_then(|mut s| s.pop());
            parse_piece(ctx, &layout, buf, room)
        },
        |chunk| {
            join(ctx, &mut claims, &chunk, &mut lines_before, errors)?;
            let mut room = chunk.claims;
            room.clear();
            if let Ok(mut s) = spent.lock() {
                s.push(room);
            }
            Ok(())
        },
        &mut |at| progress(at.min(len), len),
    )?;
    match read {
        true => {
            progress(len, len);
            Ok(Some(claims))
        }
        false => {
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

/// Reads each piece of the file and gives its bytes to `work`, on up to
/// `threads` threads at once, and hands `work`'s results to `take` in file
/// order on the calling thread as they come (so that few are held at once),
/// telling `tick` after each piece how far the reading is (the offset of the
/// first piece plus the bytes read). `false` when `work` declined a piece
/// (gave `None`): the pieces after it are then left unread and untaken. An
/// error is the first piece's (in file order) among the pieces read, or
/// `take`'s.
fn in_order<T: Send>(
    path: &std::path::Path,
    pieces: &[(u64, u64)],
    threads: usize,
    work: impl Fn(&[u8]) -> Result<Option<T>, IngestError> + Sync,
    mut take: impl FnMut(T) -> Result<(), IngestError>,
    tick: &mut dyn FnMut(u64),
) -> Result<bool, IngestError> {
    let first = pieces.first().map_or(0, |p| p.0);
    if threads <= 1 || pieces.len() <= 1 {
        let mut f = std::fs::File::open(path).map_err(|e| IngestError::open(path, e))?;
        let mut buf = Vec::new();
        for &(from, to) in pieces {
            load(path, &mut f, from, to, &mut buf)?;
            let Some(done) = work(&buf)? else {
                return Ok(false);
            };
            take(done)?;
            tick(to);
        }
        return Ok(true);
    }
    let read = AtomicU64::new(first);
    let stop = AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Option<T>, IngestError>)>();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(pieces.len()) {
            let (tx, stop, next, read, work) = (tx.clone(), &stop, &next, &read, &work);
            scope.spawn(move || {
                let mut f = match std::fs::File::open(path) {
                    Ok(f) => f,
                    Err(e) => {
                        let _ = tx.send((0, Err(IngestError::open(path, e))));
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
                    let done = load(path, &mut f, from, to, &mut buf).and_then(|()| work(&buf));
                    read.fetch_add(to - from, Ordering::Relaxed);
                    if !matches!(done, Ok(Some(_))) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if tx.send((i, done)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting: HashMap<usize, T> = HashMap::new();
        let mut taken = 0usize;
        let mut failure: Option<(usize, IngestError)> = None;
        let mut declined = false;
        for (i, done) in rx {
            match done {
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
            while let Some(c) = waiting.remove(&taken) {
                take(c)?;
                taken += 1;
            }
            tick(read.load(Ordering::Relaxed));
        }
        match failure {
            Some((_, e)) => Err(e),
            None => Ok(!declined),
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
    // Read into the buffer's spare room (not zeroed first), all of it or an error.
    buf.clear();
    buf.reserve((to - from) as usize);
    f.seek(SeekFrom::Start(from)).map_err(|e| IngestError::open(path, e))?;
    let n = Read::take(&mut *f, to - from).read_to_end(buf).map_err(|e| IngestError::open(path, e))?;
    if n as u64 != to - from {
        let short = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the file got shorter while it was read");
        return Err(IngestError::open(path, short));
    }
    Ok(())
}

/// Appends a piece, its lines `lines_before` on, and moves `lines_before` past it.
fn join(
    ctx: &ChunkContext,
    claims: &mut Claims,
    c: &Chunk,
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
fn parse_piece(
    ctx: &ChunkContext,
    layout: &Layout,
    buf: &[u8],
    room: Option<Claims>,
) -> Result<Option<Chunk>, IngestError> {
    if memchr::memchr(b'"', buf).is_some() {
        return Ok(None);
    }
    let Ok(text) = std::str::from_utf8(buf) else {
        return Ok(None);
    };
    let mut claims = room.unwrap_or_else(|| Claims::with_estimate(text.len() as u64));
    let mut errors = Vec::new();
    let (mut picked, mut picked_here): (Vec<&str>, Vec<&str>) = (Vec::with_capacity(16), Vec::with_capacity(16));
    let mut waiting: std::collections::VecDeque<Waiting> = std::collections::VecDeque::with_capacity(LOOKAHEAD + 1);
    let mut failed = Ok(());
    let breaks = each_record(text, |line, row, fields| {
        let pushed = match plain_claim(layout, fields) {
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
                pushed.and(push_row(ctx, line, fields, &mut picked_here, &mut claims, &mut errors))
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
    match ctx.persons.index.get_flagged(&p.person_id) {
        Some((person, enrolled)) => {
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

/// Calls `each` with every line of `text` that is not blank, its number (1
/// for the first) and its fields (cut at every comma), as [`each_line`]
/// gives the lines; the same, but that in a text without carriage returns
/// the commas and line breaks are found together, 64 bytes at a time.
fn each_record<'a>(text: &'a str, mut each: impl FnMut(u64, &'a str, &[&'a str])) -> Option<u64> {
    let mut fields: Vec<&'a str> = Vec::with_capacity(16);
    let b = text.as_bytes();
    if memchr::memchr(b'\r', b).is_some() {
        return each_line(text, |line, row| {
            fields.clear();
            fields.extend(row.split(','));
            each(line, row, &fields);
        });
    }
    let (mut line, mut line_start, mut field_start) = (1u64, 0usize, 0usize);
    let mut block = [0u8; 64];
    for at in (0..b.len()).step_by(64) {
        let (mut found, breaks) = match b.get(at..at + 64) {
            Some(whole) => delimiters(whole.try_into().expect("64 bytes")),
            None => {
                // The last, short block, padded with bytes that are no delimiter.
                block.fill(0);
                block[..b.len() - at].copy_from_slice(&b[at..]);
                delimiters(&block)
            }
        };
        while found != 0 {
            let k = found.trailing_zeros();
            found &= found - 1;
            let pos = at + k as usize;
            fields.push(&text[field_start..pos]);
            field_start = pos + 1;
            if breaks >> k & 1 == 1 {
                if pos > line_start {
                    each(line, &text[line_start..pos], &fields);
                }
                fields.clear();
                line += 1;
                line_start = pos + 1;
            }
        }
    }
    if line_start < b.len() {
        fields.push(&text[field_start..]);
        each(line, &text[line_start..], &fields);
    }
    Some(line - 1)
}

/// The commas and line breaks (`\n`) of 64 bytes, and the line breaks alone,
/// as bits (bit `i` for byte `i`).
#[inline]
fn delimiters(block: &[u8; 64]) -> (u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
        let (mut commas, mut breaks) = (0u64, 0u64);
        for k in 0..4 {
            // SAFETY: SSE2 is part of every x86_64 processor; the load reads
            // the 16 bytes `16 * k..16 * k + 16` of the block (unaligned).
            unsafe {
                let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
                let c = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b',' as i8)));
                let n = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)));
                commas |= u64::from(c as u16) << (16 * k);
                breaks |= u64::from(n as u16) << (16 * k);
            }
        }
        (commas | breaks, breaks)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let (mut commas, mut breaks) = (0u64, 0u64);
        for (i, &c) in block.iter().enumerate() {
            commas |= u64::from(c == b',') << i;
            breaks |= u64::from(c == b'\n') << i;
        }
        (commas | breaks, breaks)
    }
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
/// its pieces parsed on up to `threads` threads and added to the table (and
/// its index) in file order on this one; `false` (with `table` and `errors`
/// to be reset) when the file holds a quote, a lone carriage return or a
/// byte that is not UTF-8.
pub(super) fn read_persons(
    path: &std::path::Path,
    table: &mut PersonsTable,
    errors: &mut Vec<RowError>,
    split: Split,
) -> Result<bool, IngestError> {
    let len = std::fs::metadata(path).map(|m| m.len()).map_err(|e| IngestError::open(path, e))?;
    let Some(start) = data_start(path, len)? else {
        return Ok(false);
    };
    // Sized once for the file (a person's line is some 27 bytes), so that the
    // index is not moved as it grows.
    table.persons.index = super::PersonIndex::with_capacity((len / 24) as usize);
    let pieces = if start.offset < len { cut(path, start.offset, len, split.piece_bytes)? } else { vec![] };
    let (columns, file) = (table.columns(), table.file.clone());
    let mut lines_before = start.breaks;
    in_order(
        path,
        &pieces,
        split.threads,
        |buf| Ok(parse_persons_piece(columns, &file, buf)),
        |piece| {
            add_persons_piece(table, piece, &mut lines_before, errors);
            Ok(())
        },
        &mut |_| {},
    )
}

/// The records of one piece of the persons file, parsed but not yet added:
/// the valid ones and the errors of the others, their lines counted from the
/// piece's first line (1).
struct PersonsPiece {
    ids: Vec<ResidentId>,
    statuses: Vec<PovertyStatus>,
    enrolled: Vec<bool>,
    lines: Vec<u64>,
    errors: Vec<RowError>,
    line_breaks: u64,
}

/// Parses one piece of the persons file; `None` when it holds a quote, a
/// lone carriage return or a byte that is not UTF-8.
fn parse_persons_piece(columns: PersonColumns, file: &str, buf: &[u8]) -> Option<PersonsPiece> {
    if memchr::memchr(b'"', buf).is_some() {
        return None;
    }
    let text = std::str::from_utf8(buf).ok()?;
    let estimate = buf.len() / 26;
    let mut piece = PersonsPiece {
        ids: Vec::with_capacity(estimate),
        statuses: Vec::with_capacity(estimate),
        enrolled: Vec::with_capacity(estimate),
        lines: Vec::with_capacity(estimate),
        errors: Vec::new(),
        line_breaks: 0,
    };
    piece.line_breaks =
        each_record(text, |line, _, fields| match columns.parse(|i| fields.get(i).copied().unwrap_or("")) {
            Ok((id, status, enrolled)) => {
                piece.ids.push(id);
                piece.statuses.push(status);
                piece.enrolled.push(enrolled);
                piece.lines.push(line);
            }
            Err((column, reason)) => {
                piece.errors.push(RowError { file: file.to_string(), line, column: column.to_string(), reason })
            }
        })?;
    Some(piece)
}

/// Adds a parsed piece's persons to `table`, its lines `lines_before` on, and
/// its errors and those of the persons listed twice to `errors` in line
/// order; moves `lines_before` past it.
fn add_persons_piece(
    table: &mut PersonsTable,
    piece: PersonsPiece,
    lines_before: &mut u64,
    errors: &mut Vec<RowError>,
) {
    /// How many persons ahead the index's slot is asked for.
    const AHEAD: usize = 8;
    let base = *lines_before;
    let mut bad = piece.errors.into_iter().peekable();
    let shifted = |e: RowError| RowError { line: e.line + base, ..e };
    for (i, &id) in piece.ids.iter().enumerate() {
        if let Some(ahead) = piece.ids.get(i + AHEAD) {
            table.persons.index.prefetch(ahead);
        }
        let line = piece.lines[i];
        while let Some(e) = bad.next_if(|e| e.line < line) {
            errors.push(shifted(e));
        }
        table.add(base + line, id, piece.statuses[i], piece.enrolled[i], errors);
    }
    errors.extend(bad.map(shifted));
    *lines_before += piece.line_breaks;
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
    let person_id = ResidentId::parse_plain(get(PERSON_ID).as_bytes())?;
    let level: FacilityLevel = get(LEVEL).parse().ok()?;
    let kind: ClaimKind = get(KIND).parse().ok()?;
    let admitted = plain_day(get(ADMITTED))?;
    let discharged = plain_day(get(DISCHARGED))?;
    if discharged < admitted {
        return None;
    }
    let discharged = date_of_day(discharged)?;
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
#[cfg(test)]
fn plain_date(s: &str) -> Option<NaiveDate> {
    date_of_day(plain_day(s)?)
}

/// A day of the calendar written `YYYY-MM-DD` (the year 1880 to 2200) as
/// the number `YYYYMMDD` (so that later days are larger), checked without
/// building the date: `parse_date` reads the same day.
#[inline]
fn plain_day(s: &str) -> Option<u32> {
    let b: &[u8; 10] = s.as_bytes().try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    // The eight digits checked together, not one branch each.
    let v = [0, 1, 2, 3, 5, 6, 8, 9].map(|i| u32::from(b[i].wrapping_sub(b'0')));
    if v.iter().fold(0, |any, &x| any | u32::from(x > 9)) != 0 {
        return None;
    }
    let y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    let m = v[4] * 10 + v[5];
    let d = v[6] * 10 + v[7];
    let days = match m {
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    ((1880..=2200).contains(&y) && (1..=days).contains(&d)).then_some(y * 10_000 + m * 100 + d)
}

/// The date of a day of [`plain_day`].
fn date_of_day(day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt((day / 10_000) as i32, day / 100 % 100, day % 100)
}

/// An amount in yuan of 1 to 13 digits with none, one or two decimals, as
/// `Fen::parse_yuan` reads it (which allows up to 10^13 yuan).
#[inline]
fn plain_yuan(s: &str) -> Option<Fen> {
    let b = s.as_bytes();
    // A short field: a plain loop finds the point sooner than a vector search.
    let (int, frac): (&[u8], &[u8]) = match b.iter().position(|&c| c == b'.') {
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
    use proptest::prelude::*;

    /// A record's line number, text and fields.
    type Record = (u64, String, Vec<String>);

    /// Every record by [`each_line`] and a split at each comma, the reference.
    fn by_lines(text: &str) -> (Vec<Record>, Option<u64>) {
        let mut got = Vec::new();
        let breaks = each_line(text, |line, row| {
            got.push((line, row.to_string(), row.split(',').map(String::from).collect()));
        });
        (got, breaks)
    }

    proptest! {
        /// The records found 64 bytes at a time are the lines and fields that
        /// the line reader and a split give, wherever the delimiters fall
        /// (blank lines, empty fields, a last line without its break, lines
        /// across blocks, characters of several bytes, carriage returns).
        #[test]
        fn records_are_the_lines_cut_at_their_commas(
            parts in prop::collection::vec(prop_oneof![
                6 => Just("a"), 3 => Just(","), 2 => Just("\n"), 1 => Just("\r\n"), 1 => Just("é"),
                1 => Just("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"),
            ], 0..200),
            cr in prop_oneof![6 => Just(false), 1 => Just(true)],
        ) {
            let text: String = parts.iter().filter(|p| cr || !p.contains('\r')).copied().collect();
            let mut got = Vec::new();
            let breaks = each_record(&text, |line, row, fields| {
                got.push((line, row.to_string(), fields.iter().map(|f| f.to_string()).collect::<Vec<_>>()));
            });
            prop_assert_eq!((got, breaks), by_lines(&text));
        }
    }

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
        // Every day of four centuries' calendar, and the days that are not.
        for y in [1880, 1900, 1999, 2000, 2023, 2024, 2100, 2200] {
            for m in 0..=13 {
                for d in 0..=32 {
                    let s = format!("{y:04}-{m:02}-{d:02}");
                    assert_eq!(plain_date(&s), domain::parse_date(&s).ok(), "{s}");
                }
            }
        }
        assert!(plain_day("2024-02-29") < plain_day("2024-03-01") && plain_day("2023-12-31") < plain_day("2024-01-01"));
        for s in ["I10", "C91.0", "I10.X05", "A1.", "Z99ZZZZZZZZZZZZZ"] {
            assert!(plain_icd10(s) && domain::parse_icd10(s).is_ok(), "{s}");
        }
        for s in ["i10", "I1", "10A", "I10 ", "I10-1", "II0"] {
            assert!(!plain_icd10(s), "{s}");
        }
    }
}
