//! Writing an output file whole or not at all: everything goes to a temporary file
//! beside the target (same directory, so the final rename is atomic), which is
//! renamed into place only once the writing succeeded. On any failure the
//! temporary file is removed, so a refused input or a failed write leaves neither a
//! half-written output nor a stray temporary file, and an earlier output at the
//! target stays as it was.
//!
//! The temporary name is `.NAME.PID.tmp` (hidden, and told apart from a
//! concurrent run's by the process id).

use crate::error::IngestError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The temporary path `write_atomically` and `replace_atomically` write first.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// Runs `body` on the temporary path of `path` (see [`temp_path`]), which it is to
/// create and write completely; then renames it to `path`. When `body` fails, or
/// the rename does, the temporary file is removed and the error returned. For
/// writers that need a path of their own (a workbook); [`write_atomically`] hands
/// a buffered writer instead.
pub fn replace_atomically<T, E: From<IngestError>>(
    path: &Path,
    body: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, E> {
    let tmp = temp_path(path);
    let result = body(&tmp).and_then(|value| {
        std::fs::rename(&tmp, path).map_err(|e| IngestError::output(path, e))?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `path` through `body`, given a buffered writer on the temporary file;
/// flushed and synced to disk before the rename. Nothing is left when `body` fails.
///
/// The disk is told to start writing each few megabytes as soon as they are
/// written ([`Writeback`]), so that the sync at the end waits for the last
/// few only: a large output (the settlement file of millions of claims) then
/// goes to disk while it is being computed, not after.
pub fn write_atomically<T, E: From<IngestError>>(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> Result<T, E> {
    replace_atomically(path, |tmp| {
        let f = File::create(tmp).map_err(|e| IngestError::output(tmp, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, Writeback::new(f));
        let value = body(&mut w)?;
        let f = w.into_inner().map_err(|e| IngestError::output(tmp, e.into_error()))?;
        f.file.sync_all().map_err(|e| IngestError::output(tmp, e))?;
        Ok(value)
    })
}

/// A file that asks the kernel to start writing its pages to disk each
/// [`Writeback::STEP`] bytes (Linux's `sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`: it starts the writes and returns at once). It
/// changes when the bytes reach the disk, never what is written; elsewhere it
/// is the file alone.
pub struct Writeback {
    pub file: File,
    /// Bytes written, and the offset up to which writing has been started.
    written: u64,
    started: u64,
}

impl Writeback {
    pub const STEP: u64 = 8 << 20;

    pub fn new(file: File) -> Self {
        Writeback { file, written: 0, started: 0 }
    }

    #[cfg(target_os = "linux")]
    fn start(&mut self) {
        use std::os::fd::AsRawFd;
        let len = self.written - self.started;
        // SAFETY: sync_file_range reads no memory of ours; it is given this
        // open file's descriptor and a range of it. A failure (say, on a file
        // system without it) only means the final sync does all the work.
        let _ = unsafe {
            libc::sync_file_range(
                self.file.as_raw_fd(),
                self.started as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            )
        };
        self.started = self.written;
    }

    #[cfg(not(target_os = "linux"))]
    fn start(&mut self) {
        self.started = self.written;
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= Self::STEP {
            self.start();
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn a_good_write_lands_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        write_atomically::<_, IngestError>(&out, |w| {
            w.write_all(b"a,b\n").map_err(|e| IngestError::output("x", e))?;
            Ok(())
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "a,b\n");
        assert_eq!(names(dir.path()), ["out.csv"]);
    }

    #[test]
    fn a_large_write_started_on_disk_in_steps_lands_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("big.csv");
        // Lines of changing text, well past two steps, in writes of odd sizes.
        let text: Vec<u8> =
            (0..1_200_000u32).flat_map(|i| format!("{i},{}\n", i.wrapping_mul(2654435761)).into_bytes()).collect();
        assert!(text.len() as u64 > 2 * Writeback::STEP);
        write_atomically::<_, IngestError>(&out, |w| {
            for piece in text.chunks(77_777) {
                w.write_all(piece).map_err(|e| IngestError::output("x", e))?;
            }
            Ok(())
        })
        .unwrap();
        assert!(std::fs::read(&out).unwrap() == text);
        assert_eq!(names(dir.path()), ["big.csv"]);
    }

    #[test]
    fn a_failed_write_leaves_nothing_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let r = write_atomically::<(), IngestError>(&out, |w| {
            w.write_all(b"half").unwrap();
            Err(IngestError::Format { file: "in.csv".into(), reason: "bad".into() })
        });
        assert!(r.is_err());
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
        std::fs::write(&out, "old").unwrap();
        let r = replace_atomically::<(), IngestError>(&out, |tmp| {
            std::fs::write(tmp, "new, half").unwrap();
            Err(IngestError::Format { file: "in.csv".into(), reason: "bad".into() })
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
        assert_eq!(names(dir.path()), ["out.csv"]);
    }

    #[test]
    fn an_unwritable_directory_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("no/such/dir/out.csv");
        let e = write_atomically::<(), IngestError>(&out, |_| Ok(())).unwrap_err();
        assert!(e.to_string().contains("no/such/dir"), "{e}");
    }

    #[test]
    fn a_bare_file_name_is_written_in_the_current_directory() {
        assert_eq!(
            temp_path(Path::new("out.csv")),
            Path::new(".").join(format!(".out.csv.{}.tmp", std::process::id()))
        );
    }
}
