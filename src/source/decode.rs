//! An export's bytes as UTF-8 text (SPEC §3, encodings): UTF-8 with or without BOM is read as
//! it is; a UTF-16 file is recognised by its BOM whatever the setting; any other encoding is
//! `source.encoding`'s (a WHATWG label). Bytes that are not valid in the file's encoding stop
//! the reading with [`Undecodable`] once every valid byte before them has been handed out, so
//! that the reader above names the row they are in.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use encoding_rs::{Encoding, UTF_8};
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

/// Bytes not valid in the file's encoding, carried inside the `io::Error` of a read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not {} at line {line}", encoding.name())]
pub struct Undecodable {
    pub encoding: &'static Encoding,
    /// The line of the text (1 for the first) holding the first bad bytes.
    pub line: u64,
}

impl Undecodable {
    /// The one found inside an I/O error, if that is what it is.
    pub fn inside(error: &io::Error) -> Option<&Undecodable> {
        error.get_ref()?.downcast_ref::<Undecodable>()
    }

    /// What the operator should try, for the message.
    pub fn advice(&self) -> String {
        if self.encoding == UTF_8 {
            "set source.encoding = \"windows-1252\"? (or save the export as UTF-8)".into()
        } else if self.encoding.name().starts_with("UTF-16") {
            format!(
                "the file is damaged, or not {}: check how it was saved",
                self.encoding.name()
            )
        } else {
            format!(
                "check source.encoding (now \"{}\")",
                self.encoding.name().to_lowercase()
            )
        }
    }
}

/// Opens `file` as text: the encoding its BOM names, else `configured`.
pub fn open(mut file: File, configured: &'static Encoding) -> io::Result<Text<File>> {
    let mut head = [0u8; 3];
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..])? {
            0 => break,
            n => read += n,
        }
    }
    file.seek(SeekFrom::Start(0))?;
    let encoding = Encoding::for_bom(&head[..read]).map_or(configured, |(e, _)| e);
    Ok(Text::new(file, encoding))
}

/// The encoding a file's BOM names, if it has one.
pub fn bom_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    Encoding::for_bom(bytes).map(|(e, _)| e)
}

/// A file's text as checked UTF-8.
pub struct Text<R: Read> {
    inner: DecodeReaderBytes<R, Vec<u8>>,
    encoding: &'static Encoding,
    /// Filled from `inner`; `buf[start..ready]` is checked and not yet handed out, and
    /// `buf[ready..end]` an incomplete sequence waiting for its next bytes.
    buf: Box<[u8]>,
    start: usize,
    ready: usize,
    end: usize,
    /// The line the next byte handed out is on.
    line: u64,
    /// Bad bytes were found after `buf[..ready]`: reported once that is handed out.
    failed: bool,
}

const CHUNK: usize = 64 * 1024;

impl<R: Read> Text<R> {
    fn new(inner: R, encoding: &'static Encoding) -> Self {
        let inner = DecodeReaderBytesBuilder::new()
            .encoding((encoding != UTF_8).then_some(encoding))
            .bom_override(true)
            .utf8_passthru(true)
            .strip_bom(true)
            .build(inner);
        Self {
            inner,
            encoding,
            buf: vec![0; CHUNK].into_boxed_slice(),
            start: 0,
            ready: 0,
            end: 0,
            line: 1,
            failed: false,
        }
    }

    /// The encoding the text is read in.
    pub fn encoding(&self) -> &'static Encoding {
        self.encoding
    }

    fn error(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            Undecodable {
                encoding: self.encoding,
                line: self.line,
            },
        )
    }

    /// Reads more bytes and checks them; `false` at the end of the file.
    fn fill(&mut self) -> io::Result<bool> {
        // Keep the incomplete sequence (at most 3 bytes) at the front.
        self.buf.copy_within(self.ready..self.end, 0);
        self.end -= self.ready;
        self.start = 0;
        self.ready = 0;
        let n = loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => break result?,
            }
        };
        if n == 0 {
            // The file ends in the middle of a character.
            self.failed = self.end > 0;
            return Ok(false);
        }
        self.end += n;
        let chunk = &self.buf[..self.end];
        let (mut good, mut bad) = match std::str::from_utf8(chunk) {
            Ok(_) => (chunk.len(), false),
            Err(e) => (e.valid_up_to(), e.error_len().is_some()),
        };
        // Transcoding replaces what it cannot decode with U+FFFD: that is a bad byte too.
        if self.encoding != UTF_8
            && let Some(at) = find_replacement(&chunk[..good])
        {
            (good, bad) = (at, true);
        }
        self.ready = good;
        self.failed = bad;
        Ok(true)
    }
}

fn find_replacement(text: &[u8]) -> Option<usize> {
    text.windows(3).position(|w| w == "\u{fffd}".as_bytes())
}

impl<R: Read> Read for Text<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.start == self.ready {
            if self.failed {
                return Err(self.error());
            }
            if !self.fill()? {
                return if self.failed {
                    Err(self.error())
                } else {
                    Ok(0)
                };
            }
        }
        let n = out.len().min(self.ready - self.start);
        let given = &self.buf[self.start..self.start + n];
        self.line += given.iter().filter(|&&b| b == b'\n').count() as u64;
        out[..n].copy_from_slice(given);
        self.start += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8], configured: &'static Encoding) -> (Result<String, Undecodable>, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("export");
        std::fs::write(&path, bytes).expect("write");
        let mut reader = open(File::open(&path).expect("open"), configured).expect("text");
        let name = reader.encoding().name().to_owned();
        let mut out = Vec::new();
        // Small reads, so that characters and bad bytes fall across the boundaries.
        let mut piece = [0u8; 5];
        loop {
            match reader.read(&mut piece) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&piece[..n]),
                Err(e) => {
                    let bad = Undecodable::inside(&e).cloned().expect("undecodable");
                    return (Err(bad), name);
                }
            }
        }
        (Ok(String::from_utf8(out).expect("utf-8")), name)
    }

    fn utf16(text: &str, little: bool) -> Vec<u8> {
        let mut bytes = if little {
            vec![0xff, 0xfe]
        } else {
            vec![0xfe, 0xff]
        };
        for unit in text.encode_utf16() {
            let pair = if little {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            };
            bytes.extend_from_slice(&pair);
        }
        bytes
    }

    #[test]
    fn utf8_with_and_without_bom_is_read_as_it_is() {
        let plain = "id\tname\nC1\tRenée Müller\n";
        assert_eq!(
            text(plain.as_bytes(), UTF_8),
            (Ok(plain.into()), "UTF-8".into())
        );
        let with_bom = format!("\u{feff}{plain}");
        assert_eq!(text(with_bom.as_bytes(), UTF_8).0, Ok(plain.into()));
    }

    #[test]
    fn utf16_is_known_by_its_bom_whatever_the_setting() {
        let plain = "id\tname\r\nC1\tRenée Müller\r\n";
        let windows = encoding_rs::WINDOWS_1252;
        assert_eq!(
            text(&utf16(plain, true), windows),
            (Ok(plain.into()), "UTF-16LE".into())
        );
        assert_eq!(
            text(&utf16(plain, false), UTF_8),
            (Ok(plain.into()), "UTF-16BE".into())
        );
    }

    #[test]
    fn windows_1252_is_read_when_configured() {
        let bytes = b"id,name\nC1,Ren\xe9e M\xfcller \x80\n";
        assert_eq!(
            text(bytes, encoding_rs::WINDOWS_1252).0,
            Ok("id,name\nC1,Renée Müller €\n".into())
        );
    }

    #[test]
    fn bad_bytes_name_their_line_after_the_good_ones_are_read() {
        let bytes = b"id,name\nC1,Ann\nC2,Ren\xe9e\nC3,Bo\n";
        let (result, _) = text(bytes, UTF_8);
        let bad = result.expect_err("not UTF-8");
        assert_eq!(bad.line, 3);
        assert_eq!(
            format!("{bad}: {}", bad.advice()),
            "not UTF-8 at line 3: set source.encoding = \"windows-1252\"? \
             (or save the export as UTF-8)"
        );
        // Cut in the middle of a character at the very end.
        let (result, _) = text("a\né".as_bytes().split_last().expect("bytes").1, UTF_8);
        assert_eq!(result.expect_err("cut").line, 2);
        // An unpaired surrogate in UTF-16.
        let mut bytes = utf16("id\nC1\n", true);
        bytes.extend_from_slice(&[0x00, 0xd8, b'x', 0x00]);
        let (result, name) = text(&bytes, UTF_8);
        assert_eq!(name, "UTF-16LE");
        assert_eq!(result.expect_err("surrogate").line, 3);
    }

    #[test]
    fn characters_across_chunk_boundaries_stay_whole() {
        // Multi-byte characters straddling the 64 KiB chunks of the checker.
        let line = "Ünïcødé €✓ ".repeat(20);
        let plain: String = (0..2000).map(|i| format!("{i},{line}\n")).collect();
        assert!(plain.len() > 3 * CHUNK);
        assert_eq!(text(plain.as_bytes(), UTF_8).0, Ok(plain));
    }
}
