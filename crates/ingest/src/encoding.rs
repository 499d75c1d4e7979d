//! Text encodings of CSV files as offices produce them: UTF-8 with or without a
//! byte-order mark, and GB18030 (a superset of GBK and GB2312), which Excel on a
//! Chinese Windows writes when told to save "CSV (comma delimited)".
//!
//! Detection looks at the start of the file: a byte-order mark settles it; else text
//! that is valid UTF-8 is taken as UTF-8; else GB18030. A file whose first bytes are
//! plain ASCII but which holds GB18030 further on is caught by the reader, which
//! starts again as GB18030 (see `read::read_csv_path`). UTF-8 is read as it is, in
//! a stream; other encodings are decoded to UTF-8 in chunks, never whole.

use encoding_rs::{Decoder, Encoding as Enc, GB18030, UTF_16BE, UTF_16LE};
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// The encoding a CSV file is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 with a byte-order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// UTF-8 without a mark (or plain ASCII).
    Utf8,
    /// GB18030 / GBK / GB2312.
    Gb18030,
    /// UTF-16 with a byte-order mark, little or big endian.
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    /// Bytes of byte-order mark at the start of the file.
    pub fn bom_len(self) -> usize {
        match self {
            Encoding::Utf8Bom => 3,
            Encoding::Utf16Le | Encoding::Utf16Be => 2,
            _ => 0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf8 => "UTF-8",
            Encoding::Gb18030 => "GB18030",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
        }
    }

    /// Whether the text must be decoded to become UTF-8.
    pub fn needs_decoding(self) -> bool {
        self.decoder().is_some()
    }

    fn decoder(self) -> Option<&'static Enc> {
        match self {
            Encoding::Gb18030 => Some(GB18030),
            Encoding::Utf16Le => Some(UTF_16LE),
            Encoding::Utf16Be => Some(UTF_16BE),
            Encoding::Utf8 | Encoding::Utf8Bom => None,
        }
    }
}

/// How many leading bytes detection looks at.
pub const SNIFF_LEN: usize = 64 * 1024;

/// Detects the encoding from the first bytes of a file (up to [`SNIFF_LEN`]).
pub fn detect(head: &[u8]) -> Encoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Encoding::Utf8Bom;
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Encoding::Utf16Le;
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Encoding::Utf16Be;
    }
    match std::str::from_utf8(head) {
        Ok(_) => Encoding::Utf8,
        // The sniffed window may cut a character in two: that is still UTF-8.
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Gb18030,
    }
}

/// A reader that counts the bytes it passes on, so progress can be told in bytes of
/// the file whatever decoding happens above it.
pub struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Counting<R> {
    pub fn new(inner: R) -> (Counting<R>, Rc<Cell<u64>>) {
        let count = Rc::new(Cell::new(0));
        (Counting { inner, count: count.clone() }, count)
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// Decodes a byte stream to UTF-8 in chunks. Malformed sequences become U+FFFD, as
/// every text editor shows them; the row that holds one then fails validation with
/// the replacement character visible in its message.
pub struct DecodeReader<R> {
    inner: R,
    decoder: Decoder,
    src: Box<[u8]>,
    src_start: usize,
    src_end: usize,
    eof: bool,
    out: Box<[u8]>,
    out_start: usize,
    out_end: usize,
    done: bool,
}

const CHUNK: usize = 64 * 1024;

impl<R: Read> DecodeReader<R> {
    /// A decoding reader; `None` for the UTF-8 encodings, which need no decoding.
    pub fn new(inner: R, encoding: Encoding) -> Option<DecodeReader<R>> {
        let enc = encoding.decoder()?;
        Some(DecodeReader {
            inner,
            // The byte-order mark, if any, is consumed before the reader is built.
            decoder: enc.new_decoder_without_bom_handling(),
            src: vec![0; CHUNK].into_boxed_slice(),
            src_start: 0,
            src_end: 0,
            eof: false,
            // A GB18030 byte decodes to at most 3 UTF-8 bytes for 2 input bytes (or 4
            // for 4); three times the input is always room enough.
            out: vec![0; CHUNK * 3 + 16].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
            done: false,
        })
    }

    fn refill(&mut self) -> io::Result<()> {
        while self.out_start == self.out_end && !self.done {
            if self.src_start == self.src_end && !self.eof {
                self.src_start = 0;
                self.src_end = 0;
                loop {
                    match self.inner.read(&mut self.src) {
                        Ok(0) => {
                            self.eof = true;
                            break;
                        }
                        Ok(n) => {
                            self.src_end = n;
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                }
            }
            let (_, read, written, _) =
                self.decoder.decode_to_utf8(&self.src[self.src_start..self.src_end], &mut self.out, self.eof);
            self.src_start += read;
            self.out_start = 0;
            self.out_end = written;
            if self.eof && self.src_start == self.src_end {
                self.done = true;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.refill()?;
        let n = (self.out_end - self.out_start).min(buf.len());
        buf[..n].copy_from_slice(&self.out[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects() {
        assert_eq!(detect(b"\xEF\xBB\xBFcode,name\n"), Encoding::Utf8Bom);
        assert_eq!(detect("code,name\n34,安徽省\n".as_bytes()), Encoding::Utf8);
        let (gb, _, _) = GB18030.encode("code,name\n34,安徽省\n");
        assert_eq!(detect(&gb), Encoding::Gb18030);
        // A window that cuts a UTF-8 character in two is still UTF-8.
        let s = "安徽省".as_bytes();
        assert_eq!(detect(&s[..4]), Encoding::Utf8);
    }

    #[test]
    fn decodes_across_chunk_boundaries() {
        // Long enough that two-byte characters straddle the 64 KiB chunk edges.
        let text: String = (0..40_000).map(|i| format!("{i},张三丰{i}\n")).collect();
        let (gb, _, _) = GB18030.encode(&text);
        // Feed one odd-sized piece at a time, as a slow pipe would.
        struct Dribble<'a>(&'a [u8]);
        impl Read for Dribble<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(7777);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = DecodeReader::new(Dribble(&gb), Encoding::Gb18030).unwrap();
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, text);
    }
}
