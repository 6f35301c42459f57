//! A size in bytes as an operator writes it: `1MiB`, `512KiB`, `2MB`, or a plain number.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// A size in bytes, read from `1MiB`, `512 KiB`, `2MB`, `1048576`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub const MIB: u64 = 1024 * 1024;

    /// Reads `text`; an error says what it should look like.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let unit = unit.trim();
        let scale: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1000,
            "kib" => 1024,
            "m" | "mb" => 1_000_000,
            "mib" => Self::MIB,
            "g" | "gb" => 1_000_000_000,
            "gib" => 1024 * Self::MIB,
            _ => return Err(Self::EXPECTED.into()),
        };
        number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(scale))
            .filter(|n| *n > 0)
            .map(Self)
            .ok_or_else(|| Self::EXPECTED.into())
    }

    const EXPECTED: &str = "expected a size such as `1MiB`, `512KiB` or `2MB`, above zero";
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n.is_multiple_of(Self::MIB) {
            write!(f, "{}MiB", n / Self::MIB)
        } else if n.is_multiple_of(1024) {
            write!(f, "{}KiB", n / 1024)
        } else {
            write!(f, "{n} bytes")
        }
    }
}

impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Size;
        impl Visitor<'_> for Size {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(ByteSize::EXPECTED)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<ByteSize, E> {
                ByteSize::parse(text).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ByteSize, E> {
                (n > 0)
                    .then_some(ByteSize(n))
                    .ok_or_else(|| E::custom(ByteSize::EXPECTED))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ByteSize, E> {
                u64::try_from(n)
                    .map_err(|_| E::custom(ByteSize::EXPECTED))
                    .and_then(|n| self.visit_u64(n))
            }
        }
        d.deserialize_any(Size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humane_sizes() {
        for (text, bytes) in [
            ("1MiB", 1 << 20),
            ("512KiB", 512 << 10),
            ("2 mib", 2 << 20),
            ("2MB", 2_000_000),
            ("4096", 4096),
        ] {
            assert_eq!(ByteSize::parse(text), Ok(ByteSize(bytes)), "{text}");
        }
        for bad in ["", "0", "MiB", "1.5MiB", "1 parsec", "-1"] {
            assert!(ByteSize::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ByteSize(1 << 20).to_string(), "1MiB");
        assert_eq!(ByteSize(512 << 10).to_string(), "512KiB");
    }
}
