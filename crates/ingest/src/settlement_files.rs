//! The files of `safetynet settle` in file mode (docs/settlement.md): the policy
//! (TOML), the persons and the claims (UTF-8 CSV, with or without BOM) in, the
//! settlements (CSV) out.
//!
//! Every bad row is collected as a [`RowError`] (file, line, column, reason) into a
//! list the caller hands in, so that the persons and the claims files are reported
//! together; nothing is settled or written unless the list stays empty. The
//! settlement file is written atomically ([`crate::atomic`]).
//!
//! Memory: claims are kept compact ([`settle::BatchClaim`], 32 bytes, with the claim
//! ids in one string arena and each claim's line), so five million claims stay
//! near 100 bytes each including the person table.

use crate::atomic::write_atomically;
use crate::error::{IngestError, RowError};
use crate::read::Progress;
use chrono::Datelike;
use domain::cache::prefetch;
use domain::{Claim, ColumnMap, Fen, PovertyStatus, Record, ResidentId};
use settle::{BatchClaim, ClaimInput, Policy};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

mod fast;
mod person_index;

pub use person_index::PersonIndex;

/// Reads and validates a policy file (a leading byte-order mark is dropped).
pub fn read_policy(path: &Path) -> Result<Policy, IngestError> {
    let text = crate::encoding::read_utf8_text(path)
        .map_err(|source| IngestError::PolicyFile { path: path.into(), error: source })?;
    Policy::parse(text.trim_start_matches('\u{feff}'))
        .map_err(|source| IngestError::Policy { file: path.display().to_string(), error: source })
}

/// Persons by index: their resident IDs and statuses, and the index of each ID.
#[derive(Debug, Default)]
pub struct Persons {
    pub ids: Vec<ResidentId>,
    pub statuses: Vec<PovertyStatus>,
    /// Whether each person is enrolled in basic medical insurance (the optional
    /// `enrolled` column, for every year of the file; enrolled when absent).
    pub enrolled: Vec<bool>,
    /// The person number of each ID ([`PersonIndex`]: one cache miss a look-up),
    /// flagged where the person is enrolled (as `enrolled` says), so that the
    /// claims reader learns both at one miss.
    pub index: PersonIndex,
}

/// Claims in compact form: the engine's rows, the claim ids and their
/// facilities in two arenas, and each claim's line in the file (for error
/// messages). A claim is keyed by its facility and its ID (docs/settlement.md,
/// "Claim keys"); a file without the `facility_id` column has the empty
/// facility throughout.
#[derive(Debug, Default)]
pub struct Claims {
    pub rows: Vec<BatchClaim>,
    /// End of each claim's id in `arena`.
    pub id_ends: Vec<u32>,
    pub arena: String,
    /// End of each claim's facility in `facility_arena`.
    pub facility_ends: Vec<u32>,
    pub facility_arena: String,
    pub lines: Vec<u32>,
    /// True when a claim ID is used at more than one facility (found by
    /// [`check_and_order`]): the settlement file then names each claim's facility.
    pub shared_ids: bool,
}

impl Claims {
    /// The id of claim `i`.
    pub fn id(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.id_ends[i - 1] as usize };
        &self.arena[start..self.id_ends[i] as usize]
    }

    /// The facility of claim `i` (empty where the file names none).
    pub fn facility(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.facility_ends[i - 1] as usize };
        &self.facility_arena[start..self.facility_ends[i] as usize]
    }

    /// The indices of the claims with this id, at every facility, in file order.
    pub fn find_all(&self, id: &str) -> Vec<usize> {
        (0..self.rows.len()).filter(|&i| self.id(i) == id).collect()
    }

    /// The index of the claim with this id, if any, at the given facility, or,
    /// with none given, if the id is used at one facility only.
    pub fn find(&self, id: &str, facility: Option<&str>) -> Option<usize> {
        let all = self.find_all(id);
        match facility {
            Some(f) => all.into_iter().find(|&i| self.facility(i) == f),
            None if all.len() == 1 => Some(all[0]),
            None => None,
        }
    }

    /// The settlement order of the claims: `(discharged, claim_id, facility_id)`.
    pub fn order(&self) -> Vec<u32> {
        settle::settlement_order_at(&self.rows, |i| self.id(i), |i| self.facility(i))
    }
}

fn open_csv(path: &Path) -> Result<csv::Reader<Watch<std::fs::File>>, IngestError> {
    let f = std::fs::File::open(path).map_err(|e| IngestError::open(path, e))?;
    Ok(csv::ReaderBuilder::new().flexible(true).buffer_capacity(1 << 20).from_reader(Watch::new(f)))
}

/// The header's names, trimmed; a header that is not UTF-8 is refused where its
/// bad byte lies (never read with replacement characters).
fn header<R: std::io::Read>(rdr: &mut csv::Reader<R>, path: &Path, file: &str) -> Result<Vec<String>, IngestError> {
    match rdr.headers() {
        Ok(h) => Ok(h.iter().map(|f| f.trim().trim_start_matches('\u{feff}').trim().to_string()).collect()),
        Err(e) => Err(crate::records::not_utf8_header(path, file, e)),
    }
}

/// Where the first byte that is not UTF-8 lies in a record, read again from the
/// file (the error path only): the error's line, its column label, its reason.
fn not_utf8_row(
    reread: &mut Option<std::fs::File>,
    path: &Path,
    base: u64,
    line: u64,
    rec: &csv::ByteRecord,
    label: impl Fn(usize) -> String,
) -> (u64, String, String) {
    let field = rec.iter().position(|f| std::str::from_utf8(f).is_err()).unwrap_or(0);
    let found = rec.position().and_then(|p| {
        let mut f = reread.take().or_else(|| std::fs::File::open(path).ok())?;
        let b = crate::encoding::locate_bad_utf8(&mut f, base + p.byte(), p.line());
        *reread = Some(f);
        b
    });
    match found {
        Some(b) => (b.line, label(field), crate::records::not_utf8(&b)),
        None => (line, label(field), "is not valid UTF-8 (save the file as UTF-8)".into()),
    }
}

/// Reads the persons file. Only `person_id` and `status` are needed, so any file
/// with those columns will do (the registry's full persons file among them); an
/// optional `enrolled` column (`true`/`false`, `yes`/`no`, `1`/`0`, 是/否; empty is
/// enrolled) says who is not enrolled in basic insurance (docs/settlement.md,
/// "Enrolment"). Bad rows and persons listed twice go to `errors`.
///
/// The file is read in pieces parsed in place on every core, as the claims
/// are ([`read_claims_split`]), the persons then added to the index in file
/// order on this thread as the pieces come; a file with a quote, a lone
/// carriage return or a byte that is not UTF-8 is read by the CSV reader.
pub fn read_persons(path: &Path, errors: &mut Vec<RowError>) -> Result<Persons, IngestError> {
    read_persons_split(path, errors, Split::by_cores())
}

/// [`read_persons`], with the file cut at line boundaries into pieces of
/// about `split.piece_bytes` that up to `split.threads` threads parse at
/// once; the persons are added to the index in file order, so the result
/// equals the CSV reader's ([`read_persons_csv`]) however the file is cut.
pub fn read_persons_split(path: &Path, errors: &mut Vec<RowError>, split: Split) -> Result<Persons, IngestError> {
    let (_, mut table) = persons_table(path)?;
    let errors_before = errors.len();
    if fast::read_persons(path, &mut table, errors, split)? {
        return Ok(table.persons);
    }
    errors.truncate(errors_before);
    read_persons_csv(path, errors)
}

/// [`read_persons`] by the CSV reader alone: the reference that the fast
/// reader must equal, and its fall-back.
pub fn read_persons_csv(path: &Path, errors: &mut Vec<RowError>) -> Result<Persons, IngestError> {
    let (mut rdr, mut table) = persons_table(path)?;
    let (file, h) = (table.file.clone(), table.header.clone());
    let (id_col, status_col) = (table.id_col, table.status_col);
    let mut rec = csv::ByteRecord::new();
    let mut reread = None;
    while rdr.read_byte_record(&mut rec).map_err(|source| IngestError::Csv { file: file.clone(), error: source })? {
        let line = rec.position().map_or(0, |p| p.line() + rdr.get_mut().breaks_at(p.byte()));
        if [Some(id_col), Some(status_col), table.enrolled_col]
            .iter()
            .flatten()
            .any(|&i| std::str::from_utf8(rec.get(i).unwrap_or(b"")).is_err())
        {
            let label = |i: usize| h.get(i).cloned().unwrap_or_else(|| format!("column {}", i + 1));
            let (line, column, reason) = not_utf8_row(&mut reread, path, 0, line, &rec, label);
            errors.push(RowError { file: file.clone(), line, column, reason });
            continue;
        }
        table.push(line, |i| std::str::from_utf8(rec.get(i).unwrap_or(b"")).expect("checked"), errors);
    }
    Ok(table.persons)
}

/// The persons file's reader past its header, and an empty table.
fn persons_table(path: &Path) -> Result<(csv::Reader<Watch<std::fs::File>>, PersonsTable), IngestError> {
    let file = path.display().to_string();
    let mut rdr = open_csv(path)?;
    let h = header(&mut rdr, path, &file)?;
    let find = |name: &str| h.iter().position(|c| c.eq_ignore_ascii_case(name));
    let (Some(id_col), Some(status_col)) = (find("person_id"), find("status")) else {
        return Err(IngestError::Format {
            file,
            reason: format!("the persons file needs the columns person_id and status; its header is: {}", h.join(", ")),
        });
    };
    let enrolled_col = find("enrolled");
    let table = PersonsTable {
        file,
        header: h,
        id_col,
        status_col,
        enrolled_col,
        persons: Persons::default(),
        first_lines: vec![],
    };
    Ok((rdr, table))
}

/// The persons read so far, and where their columns are.
struct PersonsTable {
    file: String,
    header: Vec<String>,
    id_col: usize,
    status_col: usize,
    enrolled_col: Option<usize>,
    persons: Persons,
    /// The line of each person, for the error of a person listed twice.
    first_lines: Vec<u64>,
}

impl PersonsTable {
    /// Where the columns are, for the readers of pieces.
    fn columns(&self) -> PersonColumns {
        PersonColumns { id: self.id_col, status: self.status_col, enrolled: self.enrolled_col }
    }

    /// One record (its field `i` by `field(i)`, `""` past its end) on `line`:
    /// its person added, or its error pushed.
    fn push<'a>(&mut self, line: u64, field: impl Fn(usize) -> &'a str, errors: &mut Vec<RowError>) {
        match self.columns().parse(field) {
            Ok((id, status, enrolled)) => self.add(line, id, status, enrolled, errors),
            Err((column, reason)) => {
                errors.push(RowError { file: self.file.clone(), line, column: column.to_string(), reason })
            }
        }
    }

    /// A valid record's person on `line` added, or, where the ID is listed
    /// already, its error pushed.
    fn add(&mut self, line: u64, id: ResidentId, status: PovertyStatus, enrolled: bool, errors: &mut Vec<RowError>) {
        if let Err(first) = self.persons.index.insert_flagged(id, self.persons.ids.len() as u32, enrolled) {
            let prev = self.first_lines[first as usize];
            let reason = format!("the person {id} is listed twice (first on line {prev})");
            errors.push(RowError { file: self.file.clone(), line, column: "person_id".into(), reason });
            return;
        }
        self.first_lines.push(line);
        self.persons.ids.push(id);
        self.persons.statuses.push(status);
        self.persons.enrolled.push(enrolled);
    }
}

/// Where the persons file's columns are.
#[derive(Debug, Clone, Copy)]
struct PersonColumns {
    id: usize,
    status: usize,
    enrolled: Option<usize>,
}

impl PersonColumns {
    /// One record's ID, status and enrolment (its field `i` by `field(i)`,
    /// `""` past its end), or the column and reason of its first fault.
    fn parse<'a>(
        self,
        field: impl Fn(usize) -> &'a str,
    ) -> Result<(ResidentId, PovertyStatus, bool), (&'static str, String)> {
        let id = ResidentId::parse(field(self.id)).map_err(|e| ("person_id", e.0))?;
        let status: PovertyStatus = match field(self.status) {
            // The usual spellings without the general path's trimming and comparisons.
            "general" => PovertyStatus::General,
            "lifted" => PovertyStatus::Lifted,
            s => s.parse().map_err(|e: domain::DomainError| ("status", e.0))?,
        };
        let enrolled = match self.enrolled.map(&field) {
            None => true,
            // The usual spellings without the lower-casing's allocation.
            Some("" | "true" | "yes" | "1" | "是") => true,
            Some("false" | "no" | "0" | "否") => false,
            Some(v) => domain::enrolment::parse_enrolled(v).map_err(|r| ("enrolled", r))?,
        };
        Ok((id, status, enrolled))
    }
}

/// How often (in rows) the claims reader reports progress.
const PROGRESS_EVERY: u64 = 65_536;

/// How [`read_claims_split`] cuts a claims file: into pieces of about
/// `piece_bytes`, read by up to `threads` threads at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub threads: usize,
    pub piece_bytes: u64,
}

impl Split {
    /// One thread per core (at most 8; `SAFETYNET_READ_THREADS` sets another
    /// number, for benchmarks), pieces of 1 MiB: small enough that a piece
    /// stays in the processor's cache from its read through its parse (the
    /// checks for quotes, UTF-8 and line ends, then the fields), and that
    /// the persons parsed on other threads are added to the index while the
    /// last ones are parsed; the threads read piece after piece, so a
    /// piece costs them no start-up.
    pub fn by_cores() -> Split {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        let set = std::env::var("SAFETYNET_READ_THREADS").ok().and_then(|v| v.parse::<usize>().ok());
        let threads = set.filter(|&n| n >= 1).unwrap_or(cores);
        Split { threads, piece_bytes: 1 << 20 }
    }
}

/// Reads the claims file (the claims columns of docs/files.md) into compact form.
/// Bad rows, and claims of persons not in `persons`, go to `errors`, the column
/// named by its position and name (`7 (total_cost)`). `progress` is told `(bytes
/// read, file size)` now and then. Repeated claim ids are found by
/// [`check_and_order`], after the read. Large files are read on every core
/// ([`read_claims_split`]).
pub fn read_claims(
    path: &Path,
    persons: &Persons,
    errors: &mut Vec<RowError>,
    progress: Progress,
) -> Result<Claims, IngestError> {
    read_claims_split(path, persons, errors, progress, Split::by_cores())
}

/// [`read_claims`], with the file cut at line boundaries into pieces that
/// threads read at once; the pieces' claims and errors are joined in file
/// order, their line numbers counted from the file's start, so the result
/// equals a read by one thread ([`read_claims_csv`]).
///
/// Each piece is read into memory and parsed in place ([`fast`]): lines found
/// with `memchr`, fields borrowed from the piece, the common values (plain
/// ids, `YYYY-MM-DD`, amounts of digits) parsed without an allocation, and
/// any line that is not plain read field by field as the CSV reader would.
/// A line boundary is a record boundary only when no field is quoted (a
/// quoted field may hold a line break), and the CSV reader ends a record at a
/// lone carriage return too: a file with a quote character, a lone carriage
/// return or a byte that is not UTF-8 anywhere is read again by one thread
/// with the CSV reader ([`read_claims_csv`]), whose errors say where.
pub fn read_claims_split(
    path: &Path,
    persons: &Persons,
    errors: &mut Vec<RowError>,
    progress: Progress,
    split: Split,
) -> Result<Claims, IngestError> {
    read_claims_with(path, persons, errors, progress, Some(split))
}

/// [`read_claims`] by the CSV reader alone, on one thread: the reference that
/// the fast reader of [`read_claims_split`] must equal (its tests compare the
/// two), and its fall-back for files with quotes, lone carriage returns or
/// bytes that are not UTF-8.
pub fn read_claims_csv(
    path: &Path,
    persons: &Persons,
    errors: &mut Vec<RowError>,
    progress: Progress,
) -> Result<Claims, IngestError> {
    read_claims_with(path, persons, errors, progress, None)
}

/// The claims file read in place on the pieces of `in_place` where it can be, else
/// (or with `None`) by the CSV reader on one thread.
fn read_claims_with(
    path: &Path,
    persons: &Persons,
    errors: &mut Vec<RowError>,
    progress: Progress,
    in_place: Option<Split>,
) -> Result<Claims, IngestError> {
    let file = path.display().to_string();
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut rdr = open_csv(path)?;
    let h = header(&mut rdr, path, &file)?;
    drop(rdr);
    let hrefs: Vec<&str> = h.iter().map(|s| s.as_str()).collect();
    let map = ColumnMap::new::<Claim>(&hrefs).map_err(|reason| IngestError::Format { file: file.clone(), reason })?;
    let ctx = ChunkContext { path, file: &file, header: &h, map: &map, persons };
    if let Some(split) = in_place {
        if let Some(claims) = fast::read_claims(&ctx, len, errors, progress, split)? {
            return Ok(claims);
        }
    }
    let chunk = read_chunk(&ctx, 0, len, &std::sync::atomic::AtomicU64::new(0), progress)?;
    errors.extend(chunk.errors);
    progress(len, len);
    Ok(chunk.claims)
}

/// Byte ranges of about `piece` bytes of `from..len` that each start a line
/// (the first starts at `from`).
fn cut(path: &Path, from: u64, len: u64, piece: u64) -> Result<Vec<(u64, u64)>, IngestError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| IngestError::open(path, e))?;
    let mut starts = vec![from];
    let mut buf = vec![0u8; 4096];
    let mut at = from.saturating_add(piece);
    while at < len {
        // The boundary is just after the first line break at or after `at`.
        f.seek(SeekFrom::Start(at)).map_err(|e| IngestError::open(path, e))?;
        let mut pos = at;
        let start = loop {
            let n = f.read(&mut buf).map_err(|e| IngestError::open(path, e))?;
            if n == 0 {
                break None;
            }
            if let Some(k) = memchr::memchr(b'\n', &buf[..n]) {
                break Some(pos + k as u64 + 1);
            }
            pos += n as u64;
        };
        match start {
            Some(s) if s < len => {
                starts.push(s);
                at = s + piece;
            }
            _ => break,
        }
    }
    let mut ends: Vec<u64> = starts[1..].to_vec();
    ends.push(len);
    Ok(starts.into_iter().zip(ends).collect())
}

/// What every piece's reader shares.
struct ChunkContext<'a> {
    path: &'a Path,
    file: &'a str,
    header: &'a [String],
    map: &'a ColumnMap,
    persons: &'a Persons,
}

/// One piece read: its claims and errors, their lines counted from the piece's
/// first line (1), and the line breaks it holds.
struct Chunk {
    claims: Claims,
    errors: Vec<RowError>,
    line_breaks: u64,
}

/// A reader of one byte range that counts its line breaks as the bytes pass,
/// and keeps where the line-end bytes lie
/// until the CSV reader has passed them: the CSV reader's position of a record
/// is where it began to look for it, before the line ends that lead to it
/// (the `\n` of a `\r\n`, blank lines), so its line is corrected from them.
struct Watch<R> {
    inner: R,
    line_breaks: u64,
    read: u64,
    /// Offsets (from the range's start) and bytes of the `\r` and `\n` not yet passed.
    ends: std::collections::VecDeque<(u64, u8)>,
}

impl<R> Watch<R> {
    fn new(inner: R) -> Watch<R> {
        Watch { inner, line_breaks: 0, read: 0, ends: Default::default() }
    }

    /// The line breaks in the run of line-end bytes that starts at `at`; the
    /// line ends before the run's end are forgotten.
    fn breaks_at(&mut self, at: u64) -> u64 {
        while self.ends.front().is_some_and(|&(o, _)| o < at) {
            self.ends.pop_front();
        }
        let (mut pos, mut breaks) = (at, 0);
        while let Some(&(o, b)) = self.ends.front() {
            if o != pos {
                break;
            }
            breaks += u64::from(b == b'\n');
            self.ends.pop_front();
            pos += 1;
        }
        breaks
    }
}

impl<R: std::io::Read> std::io::Read for Watch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let b = &buf[..n];
        for i in memchr::memchr2_iter(b'\r', b'\n', b) {
            self.line_breaks += u64::from(b[i] == b'\n');
            self.ends.push_back((self.read + i as u64, b[i]));
        }
        self.read += n as u64;
        Ok(n)
    }
}

impl Claims {
    fn with_estimate(len: u64) -> Claims {
        let estimate = (len / 90) as usize;
        Claims {
            rows: Vec::with_capacity(estimate),
            id_ends: Vec::with_capacity(estimate),
            arena: String::with_capacity(estimate * 10),
            facility_ends: Vec::with_capacity(estimate),
            // Room that no facility column fills is never touched, so costs
            // no memory; a facility column's ids then grow it seldom.
            facility_arena: String::with_capacity(estimate * 6),
            lines: Vec::with_capacity(estimate),
            shared_ids: false,
        }
    }

    /// No claims, the room kept.
    fn clear(&mut self) {
        self.rows.clear();
        self.id_ends.clear();
        self.arena.clear();
        self.facility_ends.clear();
        self.facility_arena.clear();
        self.lines.clear();
        self.shared_ids = false;
    }

    /// Appends a piece read after the claims held, its lines `lines_before` on;
    /// its errors go to `errors`. Returns the line breaks of the piece.
    fn append(&mut self, c: &Chunk, lines_before: u64, errors: &mut Vec<RowError>) -> u64 {
        let (id_base, facility_base) = (self.arena.len() as u32, self.facility_arena.len() as u32);
        self.rows.extend_from_slice(&c.claims.rows);
        self.id_ends.extend(c.claims.id_ends.iter().map(|e| e + id_base));
        self.arena.push_str(&c.claims.arena);
        self.facility_ends.extend(c.claims.facility_ends.iter().map(|e| e + facility_base));
        self.facility_arena.push_str(&c.claims.facility_arena);
        let shift = lines_before.min(u32::MAX as u64) as u32;
        self.lines.extend(c.claims.lines.iter().map(|l| l.saturating_add(shift)));
        errors.extend(c.errors.iter().map(|e| RowError { line: e.line + lines_before, ..e.clone() }));
        c.line_breaks
    }
}

/// Reads the claims of the bytes `from..to` of the file (`from` 0: with the
/// header, which is skipped) with the CSV reader. Lines are counted from the
/// range's first line.
fn read_chunk(
    ctx: &ChunkContext,
    from: u64,
    to: u64,
    read: &std::sync::atomic::AtomicU64,
    progress: Progress,
) -> Result<Chunk, IngestError> {
    use std::io::{Read, Seek, SeekFrom};
    use std::sync::atomic::Ordering;
    let (path, file, h) = (ctx.path, ctx.file, ctx.header);
    let mut f = std::fs::File::open(path).map_err(|e| IngestError::open(path, e))?;
    f.seek(SeekFrom::Start(from)).map_err(|e| IngestError::open(path, e))?;
    let watch = Watch::new(f.take(to - from));
    let mut rdr =
        csv::ReaderBuilder::new().flexible(true).has_headers(from == 0).buffer_capacity(1 << 20).from_reader(watch);
    if from == 0 {
        rdr.headers().map_err(|source| IngestError::Csv { file: file.to_string(), error: source })?;
    }
    let mut claims = Claims::with_estimate(to - from);
    let mut errors = Vec::new();
    let mut rec = csv::ByteRecord::new();
    // Field slices borrow the record; their buffers are recycled across rows.
    let mut strs_buf: Vec<&'static str> = Vec::with_capacity(16);
    let mut fields_buf: Vec<&'static str> = Vec::with_capacity(16);
    let mut n: u64 = 0;
    let mut reported = 0u64;
    let mut reread = None;
    while rdr.read_byte_record(&mut rec).map_err(|source| IngestError::Csv { file: file.to_string(), error: source })? {
        let line = rec.position().map_or(0, |p| p.line() + rdr.get_mut().breaks_at(p.byte()));
        n += 1;
        if n.is_multiple_of(PROGRESS_EVERY) {
            let at = rdr.get_ref().read;
            let total = read.fetch_add(at - reported, Ordering::Relaxed) + at - reported;
            reported = at;
            progress(from + total.min(to - from), to);
        }
        let mut strs: Vec<&str> = std::mem::take(&mut strs_buf);
        let mut fields: Vec<&str> = std::mem::take(&mut fields_buf);
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
        if utf8_bad.is_some() {
            let label = |i: usize| match h.get(i).filter(|n| !n.is_empty()) {
                Some(n) => format!("{} ({n})", i + 1),
                None => (i + 1).to_string(),
            };
            let (line, column, reason) = not_utf8_row(&mut reread, path, from, line, &rec, label);
            errors.push(RowError { file: file.to_string(), line, column, reason });
        } else {
            push_row(ctx, line, &strs, &mut fields, &mut claims, &mut errors)?;
        }
        strs_buf = reclaim(strs);
        fields_buf = reclaim(fields);
    }
    let w = rdr.into_inner();
    read.fetch_add(w.read - reported, Ordering::Relaxed);
    Ok(Chunk { claims, errors, line_breaks: w.line_breaks })
}

/// Where a claim column sits in the file, to name it in errors (1-based):
/// `7 (total_cost)`, or the bare name of a column the file lacks.
fn column_label(map: &ColumnMap, name: &str) -> String {
    let k = Claim::COLUMNS.iter().position(|c| c.name == name);
    match k.and_then(|k| map.positions[k]) {
        Some(p) => format!("{} ({name})", p + 1),
        None => name.to_string(),
    }
}

/// One record of the claims file (its fields as the file has them, UTF-8) on
/// line `line`: its claim appended to `claims`, or its error to `errors`.
/// `picked` is a buffer for the claim columns' fields.
fn push_row<'a>(
    ctx: &ChunkContext,
    line: u64,
    strs: &[&'a str],
    picked: &mut Vec<&'a str>,
    claims: &mut Claims,
    errors: &mut Vec<RowError>,
) -> Result<(), IngestError> {
    let (file, map, persons) = (ctx.file, ctx.map, ctx.persons);
    map.pick(strs, picked);
    let claim = match Claim::from_fields(picked) {
        Ok(c) => c,
        Err(e) => {
            errors.push(RowError {
                file: file.to_string(),
                line,
                column: column_label(map, e.column),
                reason: e.reason,
            });
            return Ok(());
        }
    };
    let Some(person) = persons.index.get(&claim.person_id) else {
        errors.push(RowError {
            file: file.to_string(),
            line,
            column: column_label(map, "person_id"),
            reason: format!("the person {} is not in the persons file", claim.person_id),
        });
        return Ok(());
    };
    let input = ClaimInput { enrolled: persons.enrolled[person as usize], ..ClaimInput::from(&claim) };
    claims.push(
        file,
        &claim.claim_id,
        &claim.facility_id,
        line,
        BatchClaim { person, discharged: claim.discharged, input },
    )
}

impl Claims {
    /// Appends one claim read on `line` of `file`.
    fn push(&mut self, file: &str, id: &str, facility: &str, line: u64, row: BatchClaim) -> Result<(), IngestError> {
        self.arena.push_str(id);
        let Ok(end) = u32::try_from(self.arena.len()) else {
            return Err(IngestError::Format { file: file.to_string(), reason: "the claim ids exceed 4 GiB".into() });
        };
        self.id_ends.push(end);
        self.facility_arena.push_str(facility);
        let Ok(end) = u32::try_from(self.facility_arena.len()) else {
            return Err(IngestError::Format { file: file.to_string(), reason: "the facility ids exceed 4 GiB".into() });
        };
        self.facility_ends.push(end);
        self.lines.push(line.min(u32::MAX as u64) as u32);
        self.rows.push(row);
        Ok(())
    }
}

/// Checks the claim keys and gives the claims' settlement order
/// ([`Claims::order`]), the two at once on two threads. Every claim key
/// (facility and claim id) that appears more than once is reported (each
/// later occurrence, naming the first), then `errors` is sorted by line;
/// `claims.shared_ids` notes whether an id is used at several facilities
/// (which is no error: claim ids are the facility's). Hashes of the ids are
/// sorted as integers (8 bytes a claim); only ids whose hash occurs twice are
/// then compared as text.
pub fn check_and_order(claims: &mut Claims, path: &Path, errors: &mut Vec<RowError>) -> Vec<u32> {
    let (order, shared) = std::thread::scope(|scope| {
        let read: &Claims = claims;
        let order = scope.spawn(move || read.order());
        let shared = duplicates(read, path, errors);
        (order.join().expect("the settlement order does not panic"), shared)
    });
    claims.shared_ids = shared;
    order
}

/// The errors of [`check_and_order`]'s check, and whether an id is used at
/// several facilities.
fn duplicates(claims: &Claims, path: &Path, errors: &mut Vec<RowError>) -> bool {
    let n = claims.rows.len();
    let mut hashes: Vec<u64> = (0..n).map(|i| id_hash(claims.id(i))).collect();
    hashes.sort_unstable();
    let repeated: HashSet<u64> = hashes.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    drop(hashes);
    if repeated.is_empty() {
        return false;
    }
    let file = path.display().to_string();
    let mut shared = false;
    // Indices ascend in file order, so the first one seen is the first in the file.
    let mut first: HashMap<(&str, &str), u32> = HashMap::new();
    let mut ids: HashSet<&str> = HashSet::new();
    for i in 0..n {
        let id = claims.id(i);
        if !repeated.contains(&id_hash(id)) {
            continue;
        }
        let facility = claims.facility(i);
        match first.get(&(id, facility)) {
            Some(&f) => errors.push(RowError {
                file: file.clone(),
                line: claims.lines[i] as u64,
                column: "claim_id".into(),
                reason: if facility.is_empty() {
                    format!("the claim id {id:?} is used twice (first on line {})", claims.lines[f as usize])
                } else {
                    format!(
                        "the claim id {id:?} is used twice at the facility {facility:?} (first on line {})",
                        claims.lines[f as usize]
                    )
                },
            }),
            None => {
                first.insert((id, facility), i as u32);
                shared |= !ids.insert(id);
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    shared
}

/// A cheap 64-bit hash of a claim id, eight bytes a step: ids whose hashes
/// collide are only compared as text, so a collision costs time, never a
/// wrong answer. (`domain::fasthash` measured 12 times slower here: the
/// benchmark's 5 M ids collided there, so most went to the text comparison.)
fn id_hash(id: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let b = id.as_bytes();
    let mut h = (b.len() as u64).wrapping_mul(K);
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        h = (h ^ u64::from_le_bytes(w.try_into().expect("eight bytes"))).wrapping_mul(K).rotate_left(29);
    }
    let rest = words.remainder();
    let mut last = [0u8; 8];
    last[..rest.len()].copy_from_slice(rest);
    h = (h ^ u64::from_le_bytes(last)).wrapping_mul(K);
    h ^ (h >> 31)
}

/// Reads the persons and claims files as `safetynet settle` does, checks the
/// claim ids, and gives the claims' settlement order; every bad row of both files
/// in one [`IngestError::Rows`] (named after the claims file, the rows each naming
/// their own).
pub fn read_settlement_inputs(
    persons_path: &Path,
    claims_path: &Path,
) -> Result<(Persons, Claims, Vec<u32>), IngestError> {
    let mut errors = Vec::new();
    let persons = read_persons(persons_path, &mut errors)?;
    let mut claims = read_claims(claims_path, &persons, &mut errors, &mut |_, _| {})?;
    let order = check_and_order(&mut claims, claims_path, &mut errors);
    if !errors.is_empty() {
        return Err(IngestError::Rows { file: claims_path.display().to_string(), errors });
    }
    Ok((persons, claims, order))
}

/// The settlement file's header: `claim_id, person_id, year, total_cost,
/// eligible_cost`, one column per tier name of the policy, `out_of_pocket`.
/// With `facility`, a `facility_id` column after `claim_id` (written when a
/// claim id is used at several facilities, [`Claims::shared_ids`]).
pub fn settlements_header(policy: &Policy, facility: bool) -> String {
    let mut head = String::from(if facility {
        "claim_id,facility_id,person_id,year,total_cost,eligible_cost"
    } else {
        "claim_id,person_id,year,total_cost,eligible_cost"
    });
    for n in &policy.names {
        head.push(',');
        head.push_str(&csv_field(n));
    }
    head.push_str(",out_of_pocket\n");
    head
}

/// Settles the claims in `order` under `policy` and writes the settlement file
/// (see [`settlements_header`]; amounts in yuan with two decimals), atomically.
/// Two stages on two cores: a thread settles in order and hands over chunks of
/// records (the claim's index, person, year, total and eligible costs, its
/// payments and out-of-pocket: what the writer needs of the claim, taken while
/// it is in the cache); the calling thread formats and writes them. (Formatting
/// on the settling thread, the writer only writing, measured slower: 3.9 s
/// against 3.4 s on 5 million claims under load.) `progress` is told `(claims
/// written, claims)` after each chunk.
pub fn write_settlements(
    out: &Path,
    policy: &Policy,
    persons: &Persons,
    claims: &Claims,
    order: &[u32],
    progress: Progress,
) -> Result<(), IngestError> {
    write_atomically(out, |w| {
        let io = |e: std::io::Error| IngestError::output(out, e);
        w.write_all(settlements_header(policy, claims.shared_ids).as_bytes()).map_err(io)?;
        const CHUNK: usize = 1 << 15;
        // A record: index, person, year, total, eligible, payments, out-of-pocket.
        let width = policy.names.len() + 6;
        let total = order.len() as u64;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<i64>>(4);
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<i64>>();
        std::thread::scope(|scope| -> Result<(), IngestError> {
            scope.spawn(move || {
                let mut chunk: Vec<i64> = Vec::with_capacity(CHUNK * width);
                let mut open = true;
                settle::settle_in_order(policy, &claims.rows, order, &persons.statuses, |i, payments, oop| {
                    // What the writer needs of the claim, while it is in the cache.
                    let c = &claims.rows[i];
                    chunk.push(i as i64);
                    chunk.push(i64::from(c.person));
                    chunk.push(i64::from(c.discharged.year()));
                    chunk.push(c.input.total_cost.0);
                    chunk.push(c.input.eligible_cost.0);
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
                let records: Vec<&[i64]> = chunk.chunks_exact(width).collect();
                for (r, rec) in records.iter().enumerate() {
                    // The claim ids and resident IDs lie in claim order, far
                    // apart: each is asked for some records ahead.
                    if let Some(next) = records.get(r + 16) {
                        prefetch(&claims.id_ends[(next[0] as usize).saturating_sub(1)]);
                        prefetch(&ids[next[1] as usize]);
                    }
                    if let Some(next) = records.get(r + 8) {
                        let j = next[0] as usize;
                        let start = if j == 0 { 0 } else { claims.id_ends[j - 1] as usize };
                        if let Some(b) = claims.arena.as_bytes().get(start) {
                            prefetch(b);
                        }
                    }
                    let i = rec[0] as usize;
                    line.extend_from_slice(csv_field(claims.id(i)).as_bytes());
                    line.push(b',');
                    if claims.shared_ids {
                        line.extend_from_slice(csv_field(claims.facility(i)).as_bytes());
                        line.push(b',');
                    }
                    line.extend_from_slice(&ids[rec[1] as usize]);
                    line.push(b',');
                    push_year(&mut line, rec[2]);
                    for p in &rec[3..] {
                        push_fen(&mut line, Fen(*p));
                    }
                    line.push(b'\n');
                }
                drop(records);
                // A failed write drops the receiver, which stops the settling thread.
                w.write_all(&line).map_err(io)?;
                done += (chunk.len() / width) as u64;
                progress(done, total);
                // Handed back empty, to be filled again.
                chunk.clear();
                let _ = back_tx.send(chunk);
            }
            Ok(())
        })
    })
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

/// Appends a year (or any whole number) in decimal.
fn push_year(line: &mut Vec<u8>, y: i64) {
    if (1000..10000).contains(&y) {
        let y = y as u16;
        line.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
        ]);
    } else {
        let _ = write!(line, "{y}");
    }
}

/// Quotes a field if CSV needs it.
fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// An emptied buffer of field slices, given back for the next row (no allocation).
fn reclaim(mut v: Vec<&str>) -> Vec<&'static str> {
    v.clear();
    v.into_iter().map(|_| "").collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_in_yuan_with_two_decimals() {
        for (fen, text) in [(0, ",0.00"), (5, ",0.05"), (1234567, ",12345.67"), (-150, ",-1.50"), (-5, ",-0.05")] {
            let mut line = Vec::new();
            push_fen(&mut line, Fen(fen));
            assert_eq!(String::from_utf8(line).unwrap(), text);
        }
        assert_eq!(csv_field("a,b\"c"), "\"a,b\"\"c\"");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn years_and_fields_are_written_as_text() {
        for (y, text) in [(2024, "2024"), (1000, "1000"), (9999, "9999"), (999, "999"), (10000, "10000"), (-5, "-5")] {
            let mut line = Vec::new();
            push_year(&mut line, y);
            assert_eq!(String::from_utf8(line).unwrap(), text);
        }
        for (field, text) in
            [("C1", "C1"), ("a,b", "\"a,b\""), ("say \"x\"", "\"say \"\"x\"\"\""), ("a\nb", "\"a\nb\""), ("", "")]
        {
            assert_eq!(csv_field(field), text);
        }
    }
}
