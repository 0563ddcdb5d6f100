//! The numeric fields of a source definition, each within a range (see
//! `crate::limits`): `priority`, the `[politeness]` overrides (the ranges of
//! the `[fetch]` section they replace) and the `[json.pagination]` numbers.
//! `max_pages` is checked with its table in `load_kind`.

use super::load::Checker;
use super::schema::SourceFile;
use crate::fetch::FetchConfig;
use crate::limits::Limit;
use crate::source::error::SourceError;

/// Higher wins among sources describing one call; only the order matters.
pub const PRIORITY: Limit<i32> = Limit::new(-1000, 1000, "");
/// Items in a full page of an API.
pub const PAGE_SIZE: Limit<u32> = Limit::new(1, 10_000, "items");
/// First page number or first offset.
pub const PAGINATION_START: Limit<u64> = Limit::new(0, 1_000_000_000, "");

impl Checker<'_, '_> {
    fn in_range<T>(&self, field: &[&str], limit: Limit<T>, value: T) -> Result<(), SourceError>
    where
        T: PartialOrd + std::fmt::Display + Copy,
    {
        let key = field.last().copied().unwrap_or_default();
        limit
            .check(key, value)
            .map(|_| ())
            .map_err(|message| self.err(field, message))
    }

    pub(super) fn check_numbers(&self, file: &SourceFile) -> Result<(), SourceError> {
        self.in_range(&["priority"], PRIORITY, file.priority)?;
        let p = &file.politeness;
        if let Some(ms) = p.min_spacing_ms {
            let field = ["politeness", "min_spacing_ms"];
            self.in_range(&field, FetchConfig::MIN_SPACING_MS, ms)?;
        }
        if let Some(secs) = p.timeout_secs {
            let field = ["politeness", "timeout_secs"];
            self.in_range(&field, FetchConfig::TIMEOUT_SECS, secs)?;
        }
        if let Some(bytes) = p.max_body_bytes {
            let field = ["politeness", "max_body_bytes"];
            self.in_range(&field, FetchConfig::MAX_BODY_BYTES, bytes)?;
        }
        if let Some(pagination) = file.json.as_ref().and_then(|j| j.pagination.as_ref()) {
            if let Some(size) = pagination.page_size {
                let field = ["json", "pagination", "page_size"];
                self.in_range(&field, PAGE_SIZE, size)?;
            }
            if let Some(start) = pagination.start {
                let field = ["json", "pagination", "start"];
                self.in_range(&field, PAGINATION_START, start)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "load_numbers_tests.rs"]
mod tests;
