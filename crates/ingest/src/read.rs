//! Reading a file of one record kind: CSV (any of the encodings of
//! [`crate::encoding`]) or a workbook, chosen by the file's extension; the header
//! mapped once with [`ColumnMap`]; every row validated by the domain; every bad row
//! and every repeated key collected, so that one run tells the officer everything to
//! fix. The result is all records or all errors, never a part.

use crate::cells::{self, CellKind};
use crate::encoding::{self, Counting, DecodeReader, Encoding, Malformed, MalformedLog};
use crate::error::{IngestError, RowError, WHOLE_ROW};
use domain::{ColumnMap, Record};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::rc::Rc;

/// A record with the line of the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<R> {
    pub line: u64,
    pub record: R,
}

/// The forms of file we read and write, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// The format of a path by its extension (`.csv`, `.txt`; `.xlsx`, `.xlsm`, `.xls`).
    pub fn of(path: &Path) -> Result<Format, IngestError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("csv") | Some("txt") => Ok(Format::Csv),
            Some("xlsx") | Some("xlsm") | Some("xls") => Ok(Format::Xlsx),
            _ => Err(IngestError::Format {
                file: path.display().to_string(),
                reason: "unknown file type; name the file .csv or .xlsx".into(),
            }),
        }
    }
}

/// Progress in bytes of the file: `(read, total)`.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// After how many rows the final row count is estimated from the bytes read.
const SIZE_SAMPLE: u64 = 2048;

/// How often (in rows) progress is reported.
const PROGRESS_EVERY: u64 = 16 * 1024;

/// What a streaming read hands on (see [`read_file_streaming`]).
#[derive(Debug)]
pub enum Feed<R> {
    /// Valid rows, in file order, none of them handed on before.
    Rows(Vec<Row<R>>),
    /// Forget every row handed on so far: the file is being read again from its
    /// start (the text turned out not to be UTF-8 and is read as GB18030).
    Restart,
}

/// Where a streaming read hands its rows: the chunk size in rows, and the receiver.
pub(crate) type Sink<'s, R> = Option<(usize, &'s mut dyn FnMut(Feed<R>))>;

/// Reads a file of `R` records, CSV or XLSX by its extension.
pub fn read_file<R: Record>(path: &Path, progress: Progress) -> Result<Vec<Row<R>>, IngestError> {
    read_file_into(path, progress, None)
}

/// Reads a file of `R` records as [`read_file`] does, keeping the records only.
pub fn read_all<R: Record>(path: &Path) -> Result<Vec<R>, IngestError> {
    Ok(read_file::<R>(path, &mut |_, _| {})?.into_iter().map(|r| r.record).collect())
}

/// Reads a file as [`read_file`] does, but hands valid rows to `sink` in chunks of
/// `chunk` rows while it reads, so that a caller can write them as they come. Rows
/// stop flowing at the first bad row; the file is still read to its end, so that
/// the error lists every bad row. On `Ok(n)` all `n` rows have been handed on; on
/// an error the rows handed on must be discarded.
pub fn read_file_streaming<R: Record>(
    path: &Path,
    progress: Progress,
    chunk: usize,
    sink: &mut dyn FnMut(Feed<R>),
) -> Result<u64, IngestError> {
    let mut n = 0u64;
    let mut counting = |feed: Feed<R>| {
        match &feed {
            Feed::Rows(rows) => n += rows.len() as u64,
            Feed::Restart => n = 0,
        }
        sink(feed)
    };
    read_file_into::<R>(path, progress, Some((chunk.max(1), &mut counting)))?;
    Ok(n)
}

fn read_file_into<R: Record>(path: &Path, progress: Progress, sink: Sink<R>) -> Result<Vec<Row<R>>, IngestError> {
    match Format::of(path)? {
        Format::Csv => read_csv_path_into(path, progress, sink),
        Format::Xlsx => crate::xlsx::read_xlsx_into(path, progress, sink),
    }
}

/// The sink again, for a second read.
fn reborrow<'a, R>(sink: &'a mut Sink<'_, R>) -> Sink<'a, R> {
    match sink {
        Some((n, f)) => Some((*n, &mut **f)),
        None => None,
    }
}

/// Reads a CSV file, detecting its encoding (see [`crate::encoding`]).
pub fn read_csv_path<R: Record>(path: &Path, progress: Progress) -> Result<Vec<Row<R>>, IngestError> {
    read_csv_path_into(path, progress, None)
}

fn read_csv_path_into<R: Record>(
    path: &Path,
    progress: Progress,
    mut sink: Sink<R>,
) -> Result<Vec<Row<R>>, IngestError> {
    let name = path.display().to_string();
    let open = || File::open(path).map_err(|e| IngestError::io(path, e));
    let total = open()?.metadata().map_err(|e| IngestError::io(path, e))?.len();
    let mut head = Vec::with_capacity(encoding::SNIFF_LEN);
    open()?.take(encoding::SNIFF_LEN as u64).read_to_end(&mut head).map_err(|e| IngestError::io(path, e))?;
    let enc = encoding::detect(&head);
    // UTF-8 is a guess only while the text seen is plain ASCII: a file whose start
    // holds UTF-8 characters is UTF-8, and a byte further on that is not is an error
    // in it, not a sign of another encoding.
    let guess = enc == Encoding::Utf8 && head.is_ascii();
    match read_csv_inner(&name, open()?, enc, total, progress, guess, Some(path), reborrow(&mut sink)) {
        // UTF-8 was a guess from the file's start; bytes further on say otherwise.
        Err(CsvFailure::NotUtf8) => {
            if let Some((_, f)) = sink.as_mut() {
                f(Feed::Restart);
            }
            match read_csv_inner(
                &name,
                open()?,
                Encoding::Gb18030,
                total,
                progress,
                false,
                Some(path),
                reborrow(&mut sink),
            ) {
                Err(CsvFailure::NotUtf8) => unreachable!("decoded text is UTF-8"),
                Err(CsvFailure::Ingest(e)) => Err(e),
                Ok(rows) => Ok(rows),
            }
        }
        Err(CsvFailure::Ingest(e)) => Err(e),
        Ok(rows) => Ok(rows),
    }
}

/// Reads CSV from any reader in a known encoding (`total` is its length in bytes, for
/// progress; 0 if unknown). Bytes that are not text in the encoding are a row error
/// (with their column in the line when the encoding is decoded; a UTF-8 stream,
/// which cannot be read back, names the character of the value instead).
pub fn read_csv<R: Record>(
    name: &str,
    input: impl Read,
    enc: Encoding,
    total: u64,
    progress: Progress,
) -> Result<Vec<Row<R>>, IngestError> {
    match read_csv_inner(name, input, enc, total, progress, false, None, None) {
        Ok(rows) => Ok(rows),
        Err(CsvFailure::Ingest(e)) => Err(e),
        Err(CsvFailure::NotUtf8) => unreachable!("only raised when a retry is possible"),
    }
}

enum CsvFailure {
    /// The stream was taken for UTF-8 but is not: read it again as GB18030.
    NotUtf8,
    Ingest(IngestError),
}

impl From<IngestError> for CsvFailure {
    fn from(e: IngestError) -> Self {
        CsvFailure::Ingest(e)
    }
}

/// Why bytes are refused: `the byte 0xFF at column 12 is not UTF-8 text (...)`.
fn not_text(bytes: &[u8], column: u64, enc: Encoding) -> String {
    not_text_at(bytes, &format!("column {column}"), enc)
}

fn not_text_at(bytes: &[u8], at: &str, enc: Encoding) -> String {
    let verb = if bytes.len() == 1 { "is" } else { "are" };
    let why = match enc {
        Encoding::Utf8 => "as its start is",
        Encoding::Utf8Bom => "as its byte-order mark says",
        Encoding::Gb18030 => "as it is not UTF-8",
        Encoding::Utf16Le | Encoding::Utf16Be => "as its byte-order mark says",
    };
    format!(
        "{} at {at} {verb} not {name} text (the file is read as {name}, {why}); correct the cell, or save the whole file in one encoding",
        domain::text::describe_bytes(bytes),
        name = enc.name()
    )
}

/// The first malformed sequence logged before `end` in the decoded stream, the
/// others before it dropped (one error a record).
fn take_malformed(log: &MalformedLog, end: u64) -> Option<Malformed> {
    let mut log = log.borrow_mut();
    if log.front().is_none_or(|m| m.at >= end) {
        return None;
    }
    let first = log.pop_front();
    while log.front().is_some_and(|m| m.at < end) {
        log.pop_front();
    }
    first
}

#[allow(clippy::too_many_arguments)]
fn read_csv_inner<R: Record>(
    name: &str,
    input: impl Read,
    enc: Encoding,
    total: u64,
    progress: Progress,
    mut retry_on_bad_utf8: bool,
    origin: Option<&Path>,
    sink: Sink<R>,
) -> Result<Vec<Row<R>>, CsvFailure> {
    let (mut counted, count) = Counting::new(input);
    // Drop the byte-order mark before the CSV parser sees it.
    let mut bom = [0u8; 3];
    counted
        .read_exact(&mut bom[..enc.bom_len()])
        .map_err(|e| IngestError::Format { file: name.into(), reason: format!("cannot read: {e}") })?;
    let (source, malformed) = if enc.needs_decoding() {
        let d = DecodeReader::new(counted, enc).expect("a decoder for a non-UTF-8 encoding");
        let log = d.log();
        (Source::Decoded(d), Some(log))
    } else {
        (Source::Plain(counted), None)
    };
    // A record that is not UTF-8 is read again from the file to tell the line and
    // column of its first bad byte: the error path only.
    let mut reread: Option<File> = None;
    let bom_len = enc.bom_len() as u64;
    let mut locate = |pos: Option<&csv::Position>| {
        let (path, pos) = (origin?, pos?);
        if reread.is_none() {
            reread = File::open(path).ok();
        }
        encoding::locate_bad_utf8(reread.as_mut()?, bom_len + pos.byte(), pos.line())
    };
    let (source, mut lines) = LineIndex::new(source);
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).buffer_capacity(256 * 1024).from_reader(source);

    let mut rec = csv::ByteRecord::new();
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        IngestError::Format { file: name.into(), reason: format!("line {line}: not readable as CSV: {e}") }
    };
    // The header: the first record.
    if !rdr.read_byte_record(&mut rec).map_err(csv_err)? {
        return Err(IngestError::Header {
            file: name.into(),
            reason: "the file is empty; a header row is expected".into(),
        }
        .into());
    }
    if let Some(m) = malformed.as_ref().and_then(|log| take_malformed(log, rdr.position().byte())) {
        return Err(IngestError::Header {
            file: name.into(),
            reason: format!("the header on line {}: {}", m.line, not_text(&m.bytes, m.column, enc)),
        }
        .into());
    }
    let header = match std::str::from_utf8(rec.as_slice()) {
        Ok(_) => csv::StringRecord::from_byte_record(rec.clone()).expect("checked UTF-8"),
        Err(_) if retry_on_bad_utf8 => return Err(CsvFailure::NotUtf8),
        Err(_) => {
            let reason = match locate(rec.position()) {
                Some(b) => format!("the header on line {}: {}", b.line, not_text(&b.bytes, b.column, enc)),
                None => format!("the header is not {} text", enc.name()),
            };
            return Err(IngestError::Header { file: name.into(), reason }.into());
        }
    };
    let header_fields: Vec<&str> = header.iter().collect();
    let map =
        ColumnMap::new::<R>(&header_fields).map_err(|reason| IngestError::Header { file: name.into(), reason })?;
    let width = header.len();
    // The name of a file column, for a byte error: the record's, else the header's.
    let positions = map.positions.clone();
    let column_of = |i: usize| -> String {
        match positions.iter().position(|p| *p == Some(i)) {
            Some(k) => R::COLUMNS[k].name.to_string(),
            None => match header_fields.get(i).map(|h| h.trim()).filter(|h| !h.is_empty()) {
                Some(h) => h.to_string(),
                None => format!("column {}", i + 1),
            },
        }
    };

    let mut col = Collector::<R>::new(name, map).with_sink(sink);
    let mut n: u64 = 0;
    let mut next_report = PROGRESS_EVERY;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // The csv parser itself never fails on content (it is flexible and
                // byte-based); what is left is IO.
                return Err(csv_err(e).into());
            }
        }
        let end = rdr.position().byte();
        let line = lines.line_of(&rec, end);
        n += 1;
        if n == SIZE_SAMPLE && total > 0 {
            // Size the row and key tables once from the rows so far, instead of
            // growing (and rehashing) them a dozen times on a large file.
            let per_row = (count.get() as f64 / n as f64).max(1.0);
            col.reserve(((total as f64 / per_row) * 1.1) as usize);
        }
        if n == next_report {
            next_report += PROGRESS_EVERY;
            progress(count.get(), total);
        }
        // Bytes a decoder could not decode: the record is refused where they lie.
        if let Some(m) = malformed.as_ref().and_then(|log| take_malformed(log, end)) {
            let field = rec.iter().position(|f| f.windows(3).any(|w| w == "\u{FFFD}".as_bytes()));
            let column = field.map_or_else(|| WHOLE_ROW.to_string(), column_of);
            col.row_error(m.line, &column, not_text(&m.bytes, m.column, enc));
            continue;
        }
        // Reuse the record's buffer: ByteRecord -> StringRecord checks UTF-8 in place.
        let srec = match csv::StringRecord::from_byte_record(std::mem::take(&mut rec)) {
            Ok(s) => s,
            Err(e) => {
                if retry_on_bad_utf8 {
                    return Err(CsvFailure::NotUtf8);
                }
                let field = e.utf8_error().field();
                let br = e.into_byte_record();
                let column = column_of(field);
                match locate(br.position()) {
                    Some(b) => col.row_error(b.line, &column, not_text(&b.bytes, b.column, enc)),
                    None => {
                        // Not read back (a stream): the character of the value.
                        let b = domain::text::first_bad_utf8(br.get(field).unwrap_or_default(), true);
                        let (bytes, at) = b.map_or((vec![], 0), |b| (b.bytes, b.column));
                        col.row_error(line, &column, not_text_at(&bytes, &format!("character {at} of the value"), enc));
                    }
                }
                rec = br;
                continue;
            }
        };
        if retry_on_bad_utf8 && !srec.as_byte_record().as_slice().is_ascii() {
            // UTF-8 characters: the file is UTF-8, whatever follows.
            retry_on_bad_utf8 = false;
        }
        if srec.iter().all(|f| f.trim().is_empty()) {
            // A blank line or a row of empty cells (Excel leaves those at the end).
        } else if srec.len() != width {
            col.row_error(
                line,
                WHOLE_ROW,
                format!(
                    "has {} fields but the header has {width}; a value holding a comma must be in double quotes",
                    srec.len()
                ),
            );
        } else {
            col.push_fields(line, |i| srec.get(i).unwrap_or(""));
        }
        rec = srec.into_byte_record();
    }
    // Nothing is left in a decoder's log after the last record; if something were,
    // it is refused all the same.
    while let Some(m) = malformed.as_ref().and_then(|log| take_malformed(log, u64::MAX)) {
        col.row_error(m.line, WHOLE_ROW, not_text(&m.bytes, m.column, enc));
    }
    progress(count.get(), total);
    Ok(col.finish()?)
}

/// The bytes the CSV parser reads: the file's own, or decoded to UTF-8.
enum Source<R> {
    Plain(R),
    Decoded(DecodeReader<R>),
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Plain(r) => r.read(buf),
            Source::Decoded(r) => r.read(buf),
        }
    }
}

/// Tracks where the newlines of the stream are, to give each record the physical
/// line it starts on. The csv parser's own line count is not that: it reports where
/// it began reading, before any blank lines it skipped, and counts a CRLF's LF with
/// the next record.
pub(crate) struct LineIndex<R> {
    inner: R,
    pos: u64,
    /// Offsets of newlines read from the stream but not yet passed by a record.
    pending: Rc<RefCell<VecDeque<u64>>>,
}

pub(crate) struct Lines {
    pending: Rc<RefCell<VecDeque<u64>>>,
    /// Newlines already passed.
    before: u64,
}

impl<R: Read> LineIndex<R> {
    pub(crate) fn new(inner: R) -> (LineIndex<R>, Lines) {
        let pending = Rc::new(RefCell::new(VecDeque::new()));
        (LineIndex { inner, pos: 0, pending: pending.clone() }, Lines { pending, before: 0 })
    }
}

impl<R: Read> Read for LineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut q = self.pending.borrow_mut();
        let base = self.pos;
        q.extend(buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| base + i as u64));
        self.pos += n as u64;
        Ok(n)
    }
}

impl Lines {
    /// The first line of a record the parser has just read, given the stream offset
    /// it has consumed up to (which lies just past the record's terminator, or at
    /// its CR, or at the end of the stream).
    pub(crate) fn line_of(&mut self, rec: &csv::ByteRecord, end: u64) -> u64 {
        let last = end.saturating_sub(1);
        let mut q = self.pending.borrow_mut();
        while q.front().is_some_and(|&o| o < last) {
            q.pop_front();
            self.before += 1;
        }
        // Newlines inside quoted fields belong to the record: it starts that many
        // lines above its last one.
        let inside = rec.as_slice().iter().filter(|b| **b == b'\n').count() as u64;
        self.before + 1 - inside
    }
}

/// Collects parsed rows, bad rows and repeated keys of one file.
pub(crate) struct Collector<'s, R> {
    file: String,
    /// Where valid rows go as they are read, if anywhere (see [`read_file_streaming`]).
    sink: Sink<'s, R>,
    map: ColumnMap,
    rows: Vec<Row<R>>,
    errors: Vec<RowError>,
    /// Key -> line of its first occurrence.
    seen: domain::FastMap<String, u64>,
    /// Reused field buffer, emptied between rows (see `push_fields`).
    buf: Vec<&'static str>,
    person_id_at: Option<usize>,
}

impl<'s, R: Record> Collector<'s, R> {
    pub(crate) fn new(file: &str, map: ColumnMap) -> Collector<'s, R> {
        let person_id_at = R::COLUMNS.iter().position(|c| cells::kind_of(c.name) == CellKind::ResidentId);
        Collector {
            file: file.to_string(),
            sink: None,
            map,
            rows: Vec::new(),
            errors: Vec::new(),
            seen: HashMap::default(),
            buf: Vec::with_capacity(R::COLUMNS.len()),
            person_id_at,
        }
    }

    /// Hands valid rows to `sink` in chunks instead of keeping them.
    pub(crate) fn with_sink(mut self, sink: Sink<'s, R>) -> Collector<'s, R> {
        self.sink = sink;
        self
    }

    /// Makes room for about `rows` more rows (capped, so a wrong guess costs little).
    pub(crate) fn reserve(&mut self, rows: usize) {
        let rows = rows.min(50_000_000);
        if let Some((chunk, _)) = &self.sink {
            self.seen.reserve(rows.saturating_sub(self.seen.len()));
            self.rows.reserve(*chunk);
            return;
        }
        self.rows.reserve(rows.saturating_sub(self.rows.len()));
        self.seen.reserve(rows.saturating_sub(self.seen.len()));
    }

    pub(crate) fn row_error(&mut self, line: u64, column: &str, reason: String) {
        self.errors.push(RowError { file: self.file.clone(), line, column: column.to_string(), reason });
    }

    /// Validates one row given as a lookup from the file's column position to its
    /// text.
    pub(crate) fn push_fields<'a>(&mut self, line: u64, field: impl Fn(usize) -> &'a str) {
        // The buffer outlives each row's borrow; it is emptied before the borrow ends
        // and its allocation moved back, so no row's fields escape.
        let mut buf: Vec<&'a str> = recycle(std::mem::take(&mut self.buf));
        buf.extend(self.map.positions.iter().map(|p| p.map(&field).map_or("", crate::cells::unguard)));
        self.parse(line, buf);
    }

    /// Validates one row given as its fields in the record's column order.
    pub(crate) fn push_ordered(&mut self, line: u64, fields: &[String]) {
        let mut buf = recycle(std::mem::take(&mut self.buf));
        buf.extend(fields.iter().map(String::as_str));
        self.parse(line, buf);
    }

    fn parse(&mut self, line: u64, buf: Vec<&str>) {
        let parsed = R::from_fields(&buf);
        if let Err(e) = &parsed {
            let mut reason = e.reason.clone();
            if let Some(i) = self.person_id_at {
                if R::COLUMNS[i].name == e.column {
                    if let Some(h) = cells::resident_id_hint(buf[i]) {
                        reason = format!("{reason}; {h}");
                    }
                }
            }
            self.row_error(line, e.column, reason);
        }
        self.buf = recycle(buf);
        if let Ok(record) = parsed {
            self.push(line, record);
        }
    }

    /// Adds a parsed record, checking its key against the rows before it.
    pub(crate) fn push(&mut self, line: u64, record: R) {
        use std::collections::hash_map::Entry;
        let key = record.key();
        if key.is_empty() {
            // A kind without a key (the lines of a bill): every row is its own.
            if self.sink.is_some() && !self.errors.is_empty() {
                return;
            }
            self.rows.push(Row { line, record });
            if let Some((chunk, f)) = &mut self.sink {
                if self.rows.len() >= *chunk {
                    f(Feed::Rows(std::mem::replace(&mut self.rows, Vec::with_capacity(*chunk))));
                }
            }
            return;
        }
        match self.seen.entry(key) {
            Entry::Occupied(first) => {
                let reason = format!("repeats the key {} of line {}", first.key(), first.get());
                self.row_error(line, R::COLUMNS[0].name, reason);
            }
            Entry::Vacant(v) => {
                v.insert(line);
                if self.sink.is_some() && !self.errors.is_empty() {
                    // The file is refused: keep checking rows, not keeping them.
                    return;
                }
                self.rows.push(Row { line, record });
                if let Some((chunk, f)) = &mut self.sink {
                    if self.rows.len() >= *chunk {
                        f(Feed::Rows(std::mem::replace(&mut self.rows, Vec::with_capacity(*chunk))));
                    }
                }
            }
        }
    }

    /// All the rows (none when a sink took them), or all the errors.
    pub(crate) fn finish(mut self) -> Result<Vec<Row<R>>, IngestError> {
        if self.errors.is_empty() {
            if let Some((_, f)) = &mut self.sink {
                if !self.rows.is_empty() {
                    f(Feed::Rows(std::mem::take(&mut self.rows)));
                }
            }
            return Ok(self.rows);
        }
        // Rows are checked in order, so errors are in file order already, except a
        // row error raised for a key after the row's own errors; keep it stable.
        self.errors.sort_by_key(|e| e.line);
        Err(IngestError::Rows { file: self.file, errors: self.errors })
    }
}

/// Empties a vector and hands back its allocation for elements of another lifetime.
fn recycle<'a, 'b>(mut v: Vec<&'a str>) -> Vec<&'b str> {
    v.clear();
    // In-place collect: an empty Vec of same-layout elements keeps its allocation.
    v.into_iter().map(|_| -> &'b str { unreachable!() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Threshold;

    fn lines_of(text: &str) -> Vec<u64> {
        let rows = read_csv::<Threshold>("t.csv", text.as_bytes(), Encoding::Utf8, 0, &mut |_, _| {}).unwrap();
        rows.iter().map(|r| r.line).collect()
    }

    #[test]
    fn bytes_not_in_the_encoding_are_refused_where_they_lie_in_a_stream_too() {
        let head = "region,year,rural_income,monitoring_line\n34,2024,";
        let mut text = head.as_bytes().to_vec();
        text.extend(b"1\xFF,1\n");
        let e = read_csv::<Threshold>("t.csv", &text[..], Encoding::Utf8, 0, &mut |_, _| {}).unwrap_err();
        let r = &e.row_errors()[0];
        assert_eq!((r.line, r.column.as_str()), (2, "rural_income"));
        // Not read back from a file: the character of the value.
        assert!(r.reason.starts_with("the byte 0xFF at character 2 of the value is not UTF-8 text"), "{r}");
        // A decoder knows the column in the line.
        let mut text = head.as_bytes().to_vec();
        text.extend(b"\xFF,1\n");
        let e = read_csv::<Threshold>("t.csv", &text[..], Encoding::Gb18030, 0, &mut |_, _| {}).unwrap_err();
        let r = &e.row_errors()[0];
        assert_eq!((r.line, r.column.as_str()), (2, "rural_income"));
        assert!(r.reason.starts_with("the byte 0xFF at column 9 is not GB18030 text"), "{r}");
    }

    #[test]
    fn lines_are_physical_whatever_the_line_ends_and_blank_lines() {
        let h = "region,year,rural_income,monitoring_line,note";
        assert_eq!(lines_of(&format!("{h}\n34,2024,1,1,a\n,,,,\n\n35,2024,1,1,b\n\n\n36,2024,1,1,c\n")), [2, 5, 8]);
        assert_eq!(
            lines_of(&format!(
                "{h}\r\n34,2024,1,1,a\r\n\r\n35,2024,1,1,\"two\r\nlines\"\r\n36,2024,1,1,c\r\n\r\n37,2024,1,1,d"
            )),
            [2, 4, 6, 8]
        );
        assert_eq!(lines_of(&format!("{h}\n34,2024,1,1,\"x\ny\nz\"\n35,2024,1,1,\n")), [2, 5]);
        assert_eq!(lines_of(&format!("{h}\r34,2024,1,1,a\r35,2024,1,1,b\r")).len(), 2);
    }
}
