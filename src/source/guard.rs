//! Bounds on what an export can make the reader hold (SPEC §10): a CSV row or an NDJSON line
//! longer than `max_row_bytes`, a JSON record whose kept values are, or a CSV quote still open
//! at the end of the file, stops the reading with [`Broken`] before the reader above buffers it.

use std::cell::Cell;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;

use super::size::ByteSize;
use super::{Kind, SourceError};

/// Why the reading stopped, carried inside the `io::Error` of a read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("a row longer than {limit} begins at line {line}")]
    TooLong { line: u64, limit: ByteSize },
    #[error("the quoted field opened at line {line} is never closed")]
    OpenQuote { line: u64 },
}

impl Broken {
    /// The one found inside an I/O error, if that is what it is.
    pub fn inside(error: &io::Error) -> Option<&Broken> {
        error.get_ref()?.downcast_ref::<Broken>()
    }

    fn error(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }

    /// The source problem, naming the line and what to do.
    pub fn problem(&self, path: &Path, kind: Kind) -> SourceError {
        let (line, detail) = match *self {
            Broken::TooLong { line, limit } => (
                line,
                format!(
                    "longer than {}.max_row_bytes ({limit}): raise {}.max_row_bytes if the \
                     export really holds records this long",
                    kind.section(),
                    kind.section()
                ),
            ),
            Broken::OpenQuote { .. } => (
                self.line(),
                "a quoted field opened here is never closed (a stray `\"`): fix or re-export the \
                 file"
                    .to_owned(),
            ),
        };
        SourceError::Malformed {
            path: path.to_owned(),
            at: format!("line {line}"),
            detail,
        }
    }

    fn line(&self) -> u64 {
        match *self {
            Broken::TooLong { line, .. } | Broken::OpenQuote { line } => line,
        }
    }
}

/// Where a CSV reader is, as the `csv` crate reads (RFC 4180 quotes, doubled to escape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StartField,
    InField,
    Quoted,
    /// A `"` inside quotes: the end of the quotes, or the first of a doubled one.
    QuoteInQuoted,
}

/// A CSV file's text, watched row by row: a row longer than the limit, or quotes open at the
/// end of the file, is an error of the read that finds it.
pub struct CsvGuard<R> {
    inner: R,
    delimiter: u8,
    limit: ByteSize,
    state: State,
    /// The line the next byte is on (1 for the first).
    line: u64,
    /// Bytes of the current row so far, and the line it began on.
    row_bytes: u64,
    row_line: u64,
    /// The line the open quotes began on.
    quote_line: u64,
}

impl<R: Read> CsvGuard<R> {
    pub fn new(inner: R, delimiter: u8, limit: ByteSize) -> Self {
        Self {
            inner,
            delimiter,
            limit,
            state: State::StartField,
            line: 1,
            row_bytes: 0,
            row_line: 1,
            quote_line: 0,
        }
    }

    fn watch(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut rest = bytes;
        while let Some((&byte, after)) = rest.split_first() {
            // Inside a field, jump to the next byte that can change anything: most of a file.
            let plain = match self.state {
                State::Quoted => memchr::memchr2(b'"', b'\n', rest),
                State::InField => memchr::memchr3(self.delimiter, b'\n', b'\r', rest),
                State::StartField | State::QuoteInQuoted => Some(0),
            }
            .unwrap_or(rest.len());
            if plain > 0 {
                self.row_bytes += plain as u64;
                self.check_row()?;
                rest = &rest[plain..];
                continue;
            }
            self.step(byte)?;
            rest = after;
        }
        Ok(())
    }

    /// One byte that may end a field, a row or quotes.
    fn step(&mut self, byte: u8) -> io::Result<()> {
        let terminator = byte == b'\n' || byte == b'\r';
        self.state = match (self.state, byte) {
            (State::StartField, b'"') => {
                self.quote_line = self.line;
                State::Quoted
            }
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (State::StartField | State::InField | State::QuoteInQuoted, _)
                if byte == self.delimiter || terminator =>
            {
                State::StartField
            }
            (State::StartField | State::InField | State::QuoteInQuoted, _) => State::InField,
        };
        if byte == b'\n' {
            self.line += 1;
        }
        if terminator && self.state == State::StartField {
            self.row_bytes = 0;
            self.row_line = self.line;
            return Ok(());
        }
        self.row_bytes += 1;
        self.check_row()
    }

    fn check_row(&self) -> io::Result<()> {
        if self.row_bytes > self.limit.0 {
            return Err(Broken::TooLong {
                line: self.row_line,
                limit: self.limit,
            }
            .error());
        }
        Ok(())
    }
}

impl<R: Read> Read for CsvGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.state == State::Quoted {
            return Err(Broken::OpenQuote {
                line: self.quote_line,
            }
            .error());
        }
        self.watch(&buf[..n])?;
        Ok(n)
    }
}

/// How much of the current JSON record has been read, not counting the values that are
/// skipped; shared between [`Metered`] and the code that decides what is skipped.
#[derive(Debug)]
pub struct Budget {
    limit: ByteSize,
    used: Cell<u64>,
    counting: Cell<bool>,
    /// The line the next byte is on, and the line the current record began on.
    line: Cell<u64>,
    start_line: Cell<u64>,
}

impl Budget {
    pub fn new(limit: ByteSize) -> Rc<Self> {
        Rc::new(Self {
            limit,
            used: Cell::new(0),
            counting: Cell::new(true),
            line: Cell::new(1),
            start_line: Cell::new(1),
        })
    }

    /// A new record (or a key of the document around the records) begins.
    pub fn start(&self) {
        self.used.set(0);
        self.counting.set(true);
    }

    /// Runs `skip` without counting what it reads: a value nobody maps.
    pub fn uncounted<T>(&self, skip: impl FnOnce() -> T) -> T {
        let before = self.counting.replace(false);
        let result = skip();
        self.counting.set(before);
        result
    }
}

/// A JSON export's text, buffered and counted against its [`Budget`]. It is its own buffer:
/// the JSON parser reads one byte at a time, so each layer between it and the file costs a
/// call per byte.
pub struct Metered<R> {
    inner: R,
    budget: Rc<Budget>,
    buffer: Box<[u8]>,
    at: usize,
    filled: usize,
}

impl<R: Read> Metered<R> {
    pub fn new(inner: R, budget: Rc<Budget>) -> Self {
        Self {
            inner,
            budget,
            buffer: vec![0; 256 * 1024].into_boxed_slice(),
            at: 0,
            filled: 0,
        }
    }
}

impl<R: Read> Metered<R> {
    /// Reads the next chunk of the file; false at its end.
    #[cold]
    #[inline(never)]
    fn refill(&mut self) -> io::Result<bool> {
        self.filled = self.inner.read(&mut self.buffer)?;
        self.at = 0;
        Ok(self.filled > 0)
    }

    /// Counts one byte read against the budget.
    #[inline]
    fn count(&self, byte: u8) -> io::Result<()> {
        let budget = &*self.budget;
        if byte == b'\n' {
            budget.line.set(budget.line.get() + 1);
        }
        // A record begins at its first byte that is not white space: its line is named.
        if !budget.counting.get() || (budget.used.get() == 0 && byte.is_ascii_whitespace()) {
            return Ok(());
        }
        if budget.used.get() == 0 {
            let line = budget.line.get() - u64::from(byte == b'\n');
            budget.start_line.set(line);
        }
        let used = budget.used.get() + 1;
        budget.used.set(used);
        if used > budget.limit.0 {
            return Err(Broken::TooLong {
                line: budget.start_line.get(),
                limit: budget.limit,
            }
            .error());
        }
        Ok(())
    }
}

impl<R: Read> Read for Metered<R> {
    /// One byte at a time, as the JSON parser asks for them.
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let Some(slot) = out.first_mut() else {
            return Ok(0);
        };
        if self.at == self.filled && !self.refill()? {
            return Ok(0);
        }
        let byte = self.buffer[self.at];
        self.at += 1;
        self.count(byte)?;
        *slot = byte;
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_csv(text: &str, limit: u64) -> Result<String, Broken> {
        let mut guard = CsvGuard::new(text.as_bytes(), b',', ByteSize(limit));
        let mut out = String::new();
        guard
            .read_to_string(&mut out)
            .map_err(|e| Broken::inside(&e).cloned().expect("a broken export"))?;
        Ok(out)
    }

    #[test]
    fn quotes_open_at_the_end_name_the_line_they_opened_on() {
        let ok = "id,name\n1,\"Smith, \"\"Jr\"\"\"\n2,\"two\nlines\"\n3,a\"b\n";
        assert_eq!(read_csv(ok, 100).as_deref(), Ok(ok));
        let broken = "id,name\n1,a\n2,\"stray\n3,b\n4,c\n";
        assert_eq!(read_csv(broken, 100), Err(Broken::OpenQuote { line: 3 }));
        // Closed at the very end, without a final newline: fine.
        assert!(read_csv("id\n\"x\"", 100).is_ok());
    }

    #[test]
    fn a_row_longer_than_the_limit_names_the_line_it_began_on() {
        let text = "id,name\r\n1,short\r\n2,\"long\nlong long long\"\n";
        assert_eq!(
            read_csv(text, 12),
            Err(Broken::TooLong {
                line: 3,
                limit: ByteSize(12)
            })
        );
        assert!(read_csv(text, 30).is_ok());
        // The header is a row like any other.
        assert!(matches!(
            read_csv(&format!("{}\n1\n", "h,".repeat(100)), 50),
            Err(Broken::TooLong { line: 1, .. })
        ));
    }
}
