//! Validation of field values and item filters of `[html]` and `[json]`:
//! a field is a string, a `{ path|selector = …, replace/regex/capture/trim }`
//! table, or an array of those; regexes are compiled here, so a bad one is a
//! load error naming the file and the field.

use regex::{Regex, RegexBuilder};

use super::load::Checker;
use super::schema::{FieldSpec, FilterSpec};
use super::transform::{FieldRule, FieldSource, FilterTest, ItemFilter, Transform};
use crate::source::error::SourceError;

/// Compiled regexes are bounded so that a definition cannot make the
/// daemon allocate without limit.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Compiles one place (a JSON path, an HTML selector) of a field.
pub(super) type Place<'a, S> = dyn Fn(&[&str], &str) -> Result<S, SourceError> + 'a;

const TRANSFORM_KEYS: &[&str] = &["regex", "replace", "capture", "trim"];

impl Checker<'_, '_> {
    pub(super) fn regex(&self, field: &[&str], raw: &str) -> Result<Regex, SourceError> {
        RegexBuilder::new(raw)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| {
                self.err(field, format!("invalid regex `{raw}`: {e}"))
                    .with_hint("regexes use the Rust `regex` syntax (no look-around, no backreferences); escape `\\` as `\\\\` in a TOML basic string or use a 'literal string'")
            })
    }

    /// A field value: a string, a table or an array of those. `key` is the
    /// name of the place key in a table (`path` or `selector`); `place`
    /// compiles one place.
    pub(super) fn field_rule<S>(
        &self,
        field: &[&str],
        value: &FieldSpec,
        key: &str,
        place: &Place<'_, S>,
    ) -> Result<FieldRule<S>, SourceError> {
        let raw = match value {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let sources = match value {
            toml::Value::Array(list) => {
                if list.is_empty() {
                    return Err(self
                        .err(field, "empty list: nowhere to read the field from")
                        .with_hint("give at least one path or selector, or remove the key"));
                }
                list.iter()
                    .map(|v| match v {
                        toml::Value::Array(_) => Err(self.err(
                            field,
                            "a list inside a list: expected strings or tables in the list",
                        )),
                        v => self.field_source(field, v, key, place),
                    })
                    .collect::<Result<Vec<_>, _>>()?
            }
            v => vec![self.field_source(field, v, key, place)?],
        };
        Ok(FieldRule { sources, raw })
    }

    fn field_source<S>(
        &self,
        field: &[&str],
        value: &toml::Value,
        key: &str,
        place: &Place<'_, S>,
    ) -> Result<FieldSource<S>, SourceError> {
        let table = match value {
            toml::Value::String(s) => {
                return Ok(FieldSource {
                    at: place(field, s)?,
                    transform: Transform::default(),
                });
            }
            toml::Value::Table(t) => t,
            other => {
                return Err(self
                    .err(
                        field,
                        format!(
                            "expected a string, a table or a list, got {}",
                            other.type_str()
                        ),
                    )
                    .with_hint(format!(
                        "e.g. \"…\" or {{ {key} = \"…\", capture = \"(\\\\d+)\" }}"
                    )));
            }
        };
        let text = |name: &str| -> Result<Option<&str>, SourceError> {
            match table.get(name) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
                Some(other) => Err(self.err(
                    field,
                    format!("`{name}` must be a string, got {}", other.type_str()),
                )),
            }
        };
        for k in table.keys() {
            if k != key && !TRANSFORM_KEYS.contains(&k.as_str()) {
                return Err(self
                    .err(field, format!("unknown key `{k}`"))
                    .with_hint(format!(
                        "expected `{key}` and optionally `regex` with `replace`, `capture`, `trim`"
                    )));
            }
        }
        let at = text(key)?.ok_or_else(|| {
            self.err(field, format!("missing `{key}` in the table"))
                .with_hint(format!("e.g. {{ {key} = \"…\", capture = \"…\" }}"))
        })?;
        let replace = match (text("regex")?, text("replace")?) {
            (Some(re), Some(with)) => Some((self.regex(field, re)?, with.to_string())),
            (None, None) => None,
            (Some(_), None) => {
                return Err(self
                    .err(field, "`regex` without `replace`")
                    .with_hint("add replace = \"…\" (what each match becomes), or use capture = \"…\" to keep a part of the value"));
            }
            (None, Some(_)) => {
                return Err(self
                    .err(field, "`replace` without `regex`")
                    .with_hint("add regex = \"…\" (what to replace)"));
            }
        };
        let capture = text("capture")?
            .map(|re| self.regex(field, re))
            .transpose()?;
        let trim = text("trim")?.map(str::to_string);
        Ok(FieldSource {
            at: place(field, at)?,
            transform: Transform {
                replace,
                capture,
                trim,
            },
        })
    }

    /// `[[<kind>.filters]]`: `key` is `path` (json) or `selector` (html).
    pub(super) fn item_filters<S>(
        &self,
        kind: &str,
        specs: &[FilterSpec],
        key: &str,
        place: &Place<'_, S>,
    ) -> Result<Vec<ItemFilter<S>>, SourceError> {
        let mut out = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let n = (i + 1).to_string();
            let here = [kind, "filters", n.as_str()];
            let (at, other) = if key == "path" {
                (&spec.path, &spec.selector)
            } else {
                (&spec.selector, &spec.path)
            };
            if other.is_some() {
                let other_key = if key == "path" { "selector" } else { "path" };
                return Err(self
                    .err(
                        &here,
                        format!("`{other_key}` is not used by {kind} filters"),
                    )
                    .with_hint(format!("write {key} = \"…\"")));
            }
            let Some(at) = at else {
                return Err(self
                    .err(
                        &here,
                        format!("missing `{key}`: the filter must say where the value is"),
                    )
                    .with_hint(format!("add {key} = \"…\"")));
            };
            let mut field = here.to_vec();
            field.push(key);
            let compiled = place(&field, at)?;
            let test = match (&spec.equals, &spec.one_of, &spec.matches) {
                (Some(v), None, None) => {
                    let mut f = here.to_vec();
                    f.push("equals");
                    FilterTest::Equals(self.filter_value(&f, v)?)
                }
                (None, Some(list), None) => {
                    let mut f = here.to_vec();
                    f.push("one_of");
                    if list.is_empty() {
                        return Err(self.err(&f, "empty list: no item could pass"));
                    }
                    FilterTest::OneOf(
                        list.iter()
                            .map(|v| self.filter_value(&f, v))
                            .collect::<Result<_, _>>()?,
                    )
                }
                (None, None, Some(re)) => {
                    let mut f = here.to_vec();
                    f.push("matches");
                    FilterTest::Matches(self.regex(&f, re)?)
                }
                _ => {
                    return Err(self
                        .err(&here, "a filter needs exactly one test of `equals`, `one_of` and `matches`")
                        .with_hint("e.g. equals = true, one_of = [\"31094501\", \"31094502\"] or matches = \"(?i)^ouvert\""));
                }
            };
            out.push(ItemFilter {
                at: compiled,
                test,
                exclude: spec.exclude,
                label: format!("{kind}.filters[{n}] ({key} `{}`)", at.trim()),
            });
        }
        Ok(out)
    }

    /// A value compared with an item's text: strings, integers and
    /// booleans, as the item's text would show them.
    fn filter_value(&self, field: &[&str], v: &toml::Value) -> Result<String, SourceError> {
        match v {
            toml::Value::String(s) => Ok(crate::text::collapse(s)),
            toml::Value::Integer(i) => Ok(i.to_string()),
            toml::Value::Boolean(b) => Ok(b.to_string()),
            other => Err(self
                .err(
                    field,
                    format!(
                        "expected a string, an integer or a boolean, got {}",
                        other.type_str()
                    ),
                )
                .with_hint("compare with a string, or use matches = \"…\"")),
        }
    }
}
