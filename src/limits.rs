//! Accepted ranges of numeric settings, written once and checked when the
//! configuration or a source definition is loaded, so that a value that
//! would overflow time arithmetic, panic or stall a run (a spacing of a
//! year, a lease of 10^19 seconds) is an error naming the key and the
//! range instead. Each setting's owner declares its [`Limit`]s next to its
//! defaults; `config/vigie.toml` documents them.

use std::fmt::Display;

/// The accepted values of one numeric setting, bounds included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit<T> {
    pub min: T,
    pub max: T,
    /// What the number counts, for messages ("milliseconds"; "" for a plain count).
    pub unit: &'static str,
}

impl<T: PartialOrd + Display + Copy> Limit<T> {
    pub const fn new(min: T, max: T, unit: &'static str) -> Limit<T> {
        Limit { min, max, unit }
    }

    pub fn contains(&self, value: T) -> bool {
        self.min <= value && value <= self.max
    }

    /// "from 0 to 60000 milliseconds".
    pub fn describe(&self) -> String {
        let unit = if self.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", self.unit)
        };
        format!("from {} to {}{unit}", self.min, self.max)
    }

    /// `Ok` when `value` is accepted, else a message naming `key`, the
    /// value and the range.
    pub fn check(&self, key: &str, value: T) -> Result<T, String> {
        if self.contains(value) {
            Ok(value)
        } else {
            Err(format!(
                "{key} is {value}: expected a number {}",
                self.describe()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_included_and_the_message_names_key_value_and_range() {
        let limit = Limit::new(1u64, 600, "seconds");
        assert_eq!(limit.check("fetch.timeout_secs", 1), Ok(1));
        assert_eq!(limit.check("fetch.timeout_secs", 600), Ok(600));
        assert_eq!(
            limit.check("fetch.timeout_secs", 601).unwrap_err(),
            "fetch.timeout_secs is 601: expected a number from 1 to 600 seconds"
        );
        assert!(limit.check("x", 0).is_err());
        assert_eq!(Limit::new(0u32, 9, "").describe(), "from 0 to 9");
    }
}
