//! The zone in which a source's hours are read: `timezone` when the file
//! names one, else the zone of its default perimeter (an overseas
//! territory writes its own hours), else Europe/Paris.

use super::ValidDefaults;
use super::load::Checker;
use crate::domain::PerimeterSet;
use crate::source::error::SourceError;

impl Checker<'_, '_> {
    pub(super) fn check_time_zone(
        &self,
        written: Option<&toml::Spanned<String>>,
        defaults: &ValidDefaults,
    ) -> Result<chrono_tz::Tz, SourceError> {
        let Some(written) = written else {
            return Ok(defaults
                .perimeter
                .as_ref()
                .map_or(chrono_tz::Europe::Paris, PerimeterSet::time_zone));
        };
        written.get_ref().trim().parse().map_err(|_| {
            self.err(
                &["timezone"],
                format!("unknown time zone `{}`", written.get_ref()),
            )
            .with_hint("an IANA zone name, e.g. \"America/Cayenne\" or \"Indian/Reunion\"")
        })
    }
}

#[cfg(test)]
#[path = "load_zone_tests.rs"]
mod tests;
