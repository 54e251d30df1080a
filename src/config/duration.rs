//! Durations as people write them in YAML: `5s`, `50ms`, `10m`, `1h`, `0` (off).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A duration read from configuration; `0` means "no limit" where a setting allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub const fn millis(ms: u64) -> Self {
        HumanDuration(Duration::from_millis(ms))
    }

    pub const fn secs(s: u64) -> Self {
        HumanDuration(Duration::from_secs(s))
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }
}

impl FromStr for HumanDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let expected = || {
            format!(
                "invalid duration `{text}`: expected a whole number with a unit: ms, s, m (minutes) or h, e.g. 50ms, 5s, 10m, or 0 for none"
            )
        };
        if text == "0" {
            return Ok(HumanDuration::default());
        }
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(expected)?;
        let (number, unit) = text.split_at(split);
        let number: u64 = number.parse().map_err(|_| expected())?;
        let millis = match unit.trim() {
            "ms" => Some(number),
            "s" => number.checked_mul(1_000),
            "m" | "min" => number.checked_mul(60_000),
            "h" => number.checked_mul(3_600_000),
            _ => return Err(expected()),
        };
        millis.map(HumanDuration::millis).ok_or_else(expected)
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        match ms {
            0 => f.write_str("0"),
            _ if ms % 3_600_000 == 0 => write!(f, "{}h", ms / 3_600_000),
            _ if ms % 60_000 == 0 => write!(f, "{}m", ms / 60_000),
            _ if ms % 1_000 == 0 => write!(f, "{}s", ms / 1_000),
            _ => write!(f, "{ms}ms"),
        }
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as 50ms, 5s, 10m or 1h")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanDuration, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanDuration, E> {
                if v == 0 {
                    Ok(HumanDuration::default())
                } else {
                    Err(E::custom(format!(
                        "invalid duration `{v}`: a number needs a unit: ms, s, m or h (e.g. {v}s)"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanDuration, E> {
                self.visit_u64(
                    u64::try_from(v).map_err(|_| E::custom("a duration cannot be negative"))?,
                )
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_rejects_the_rest() {
        for (text, ms) in [
            ("50ms", 50),
            ("5s", 5_000),
            ("10m", 600_000),
            ("2min", 120_000),
            ("1h", 3_600_000),
            ("0", 0),
        ] {
            assert_eq!(
                text.parse::<HumanDuration>().unwrap(),
                HumanDuration::millis(ms),
                "{text}"
            );
        }
        for bad in [
            "5",
            "s",
            "1.5s",
            "-1s",
            "5 sec",
            "",
            "99999999999999999999h",
        ] {
            let err = bad.parse::<HumanDuration>().unwrap_err();
            assert!(
                err.contains("expected a whole number with a unit"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn displays_in_the_largest_whole_unit() {
        let shown: Vec<String> = [0, 50, 5_000, 600_000, 3_600_000, 1_500]
            .map(|ms| HumanDuration::millis(ms).to_string())
            .into();
        assert_eq!(shown, ["0", "50ms", "5s", "10m", "1h", "1500ms"]);
    }
}
