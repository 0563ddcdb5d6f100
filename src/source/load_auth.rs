//! Validation of `[auth]` (see `source::auth`): only for `json` sources; a
//! token endpoint that is an http(s) URL; header names that are tokens and
//! not the fetcher's own; a key that comes from the environment (`${NAME}`,
//! never written in the file); a token path; a lifetime and a renewal
//! margin in range. Errors name the file, the line and the key, and never
//! a value read from the environment.

use std::time::Duration;

use super::auth::{AuthDef, Secret};
use super::load::{Checker, expand_env};
use super::schema::{AuthSpec, SourceFile, SourceKindName};
use crate::limits::Limit;
use crate::source::error::SourceError;

/// A token's lifetime: a minute to a year.
pub const LIFETIME_SECS: Limit<u64> = Limit::new(60, 365 * 24 * 3600, "seconds");

/// Headers the fetcher sets itself.
const FETCHER_HEADERS: [&str; 2] = ["user-agent", "accept-encoding"];

/// RFC 9110 §5.1: a field name is a token.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Checker<'_, '_> {
    pub(super) fn check_auth(&self, file: &SourceFile) -> Result<Option<AuthDef>, SourceError> {
        let Some(auth) = &file.auth else {
            return Ok(None);
        };
        if file.kind != SourceKindName::Json {
            return Err(self
                .err(
                    &["auth"],
                    format!(
                        "[auth] is for json sources, and this source's kind is {}",
                        file.kind.as_str()
                    ),
                )
                .with_hint("remove [auth]: pages and feeds are fetched without a token"));
        }
        let token_url = self.check_url(&["auth", "token_url"], &auth.token_url)?;
        self.header_name("key_header", &auth.key_header)?;
        self.header_name("header", &auth.header)?;
        if let Some(clash) = file
            .headers
            .keys()
            .find(|h| h.eq_ignore_ascii_case(&auth.header))
        {
            return Err(self
                .err(
                    &["headers", clash],
                    format!("header `{clash}` is where [auth] puts the token (auth.header)"),
                )
                .with_hint(format!(
                    "remove `{clash}` from [headers]: [auth] writes it with each token"
                )));
        }
        if auth.prefix.chars().any(char::is_control) {
            return Err(self.err(
                &["auth", "prefix"],
                "invalid prefix: it contains a line break or control character",
            ));
        }
        let (key, key_vars) = self.auth_key(auth)?;
        let token_path = self.json_path(&["auth", "token_path"], &auth.token_path, false)?;
        let (lifetime, renew_before) = self.auth_times(auth)?;
        Ok(Some(AuthDef {
            token_url,
            method: auth.method,
            key_header: auth.key_header.clone(),
            key,
            key_vars,
            token_path,
            header: auth.header.clone(),
            prefix: auth.prefix.clone(),
            lifetime,
            renew_before,
        }))
    }

    fn header_name(&self, key: &str, name: &str) -> Result<(), SourceError> {
        if !is_header_name(name) {
            return Err(self.err(
                &["auth", key],
                format!(
                    "invalid header name `{name}`: expected letters, digits and `-`, e.g. `X-Auth-Token`"
                ),
            ));
        }
        if FETCHER_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(self.err(
                &["auth", key],
                format!("`{name}` belongs to the fetcher and may not carry a credential"),
            ));
        }
        Ok(())
    }

    /// The key, read from the environment variables `auth.key` names.
    fn auth_key(&self, auth: &AuthSpec) -> Result<(Secret, Vec<String>), SourceError> {
        let field = ["auth", "key"];
        let hint = "write `key = \"${NAME}\"` and set NAME in the environment of vigie";
        // Which variables the value names (each looked up as empty).
        let names = std::cell::RefCell::new(Vec::new());
        let syntax = expand_env(&auth.key, |var| {
            names.borrow_mut().push(var.to_string());
            Some(String::new())
        });
        if let Err(why) = syntax {
            return Err(self.err(&field, why).with_hint(hint));
        }
        let vars = names.into_inner();
        if vars.is_empty() {
            return Err(self
                .err(
                    &field,
                    "the key must be read from the environment, never written in the file",
                )
                .with_hint(hint));
        }
        let value = expand_env(&auth.key, |var| std::env::var(var).ok())
            .map_err(|why| self.err(&field, why).with_hint(hint))?;
        if value.trim().is_empty() {
            return Err(self
                .err(
                    &field,
                    format!("the key read from {} is empty", vars.join(", ")),
                )
                .with_hint(hint));
        }
        if value.chars().any(|c| c.is_control()) {
            return Err(self.err(
                &field,
                format!(
                    "the key read from {} contains a line break or control character",
                    vars.join(", ")
                ),
            ));
        }
        Ok((Secret::new(value), vars))
    }

    fn auth_times(&self, auth: &AuthSpec) -> Result<(Duration, Duration), SourceError> {
        let lifetime = LIFETIME_SECS
            .check("lifetime_secs", auth.lifetime_secs)
            .map_err(|m| self.err(&["auth", "lifetime_secs"], m))?;
        let renew_before = auth.renew_before_secs.unwrap_or(lifetime / 10);
        if renew_before >= lifetime {
            return Err(self
                .err(
                    &["auth", "renew_before_secs"],
                    format!(
                        "renew_before_secs is {renew_before}: expected less than lifetime_secs ({lifetime})"
                    ),
                )
                .with_hint("a token is renewed this long before its end: a few minutes to an hour"));
        }
        Ok((
            Duration::from_secs(lifetime),
            Duration::from_secs(renew_before),
        ))
    }
}

#[cfg(test)]
#[path = "load_auth_tests.rs"]
mod tests;
