//! A size read from configuration (`512MB`, `1GiB`); `0` means "no limit".

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanBytes(pub u64);

/// Units as PostgreSQL's own settings spell them (`kB`, `MB`, `GB`: powers of 1024), and
/// the IEC names for the same.
const UNITS: [(&str, u64); 10] = [
    ("B", 1),
    ("kB", 1 << 10),
    ("KB", 1 << 10),
    ("KiB", 1 << 10),
    ("MB", 1 << 20),
    ("MiB", 1 << 20),
    ("GB", 1 << 30),
    ("GiB", 1 << 30),
    ("TB", 1 << 40),
    ("TiB", 1 << 40),
];

impl HumanBytes {
    pub const fn mib(n: u64) -> Self {
        HumanBytes(n << 20)
    }

    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

impl FromStr for HumanBytes {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let expected = || {
            format!(
                "invalid size `{text}`: expected a whole number with a unit: B, kB, MB, GB, TB (powers of 1024, as in postgresql.conf; KiB, MiB, GiB, TiB too), e.g. 64MB, 1GB, or 0 for none"
            )
        };
        if text == "0" {
            return Ok(HumanBytes(0));
        }
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(expected)?;
        let (number, unit) = text.split_at(split);
        let number: u64 = number.parse().map_err(|_| expected())?;
        let (_, scale) = UNITS
            .iter()
            .find(|(name, _)| *name == unit.trim())
            .ok_or_else(expected)?;
        number
            .checked_mul(*scale)
            .map(HumanBytes)
            .ok_or_else(expected)
    }
}

impl fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        match n {
            0 => f.write_str("0"),
            _ if n % (1 << 40) == 0 => write!(f, "{}TB", n >> 40),
            _ if n % (1 << 30) == 0 => write!(f, "{}GB", n >> 30),
            _ if n % (1 << 20) == 0 => write!(f, "{}MB", n >> 20),
            _ if n % (1 << 10) == 0 => write!(f, "{}kB", n >> 10),
            _ => write!(f, "{n}B"),
        }
    }
}

impl<'de> Deserialize<'de> for HumanBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl Visitor<'_> for BytesVisitor {
            type Value = HumanBytes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as 64MB or 1GB")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanBytes, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanBytes, E> {
                if v == 0 {
                    Ok(HumanBytes(0))
                } else {
                    Err(E::custom(format!(
                        "invalid size `{v}`: a number needs a unit: B, kB, MB, GB or TB (e.g. {v}MB)"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanBytes, E> {
                self.visit_u64(
                    u64::try_from(v).map_err(|_| E::custom("a size cannot be negative"))?,
                )
            }
        }
        deserializer.deserialize_any(BytesVisitor)
    }
}

impl Serialize for HumanBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_postgres_units_and_rejects_the_rest() {
        for (text, bytes) in [
            ("0", 0),
            ("512B", 512),
            ("64kB", 64 << 10),
            ("16MB", 16 << 20),
            ("1GB", 1 << 30),
            ("1GiB", 1 << 30),
            ("2TB", 2 << 40),
        ] {
            let parsed = text.parse::<HumanBytes>().unwrap();
            assert_eq!(parsed, HumanBytes(bytes), "{text}");
            assert_eq!(parsed.to_string().parse::<HumanBytes>().unwrap(), parsed);
        }
        for bad in ["5", "1.5GB", "-1MB", "1 gigabyte", "", "99999999999TB"] {
            let err = bad.parse::<HumanBytes>().unwrap_err();
            assert!(
                err.contains("expected a whole number with a unit"),
                "{bad}: {err}"
            );
        }
    }
}
