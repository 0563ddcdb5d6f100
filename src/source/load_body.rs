//! Validation of the body of a `[json]` POST request: `body` (a JSON
//! document written as TOML), `[json.form]` (multipart/form-data) or
//! `[json.urlencoded]` (application/x-www-form-urlencoded). At most one of
//! them, only with `method = "POST"`, and never with a `Content-Type`
//! header (the fetcher sets it, with the multipart boundary).

use std::collections::BTreeMap;

use super::load::Checker;
use super::schema::{HttpMethod, JsonSpec};
use crate::fetch::body::{FormPart, RequestBody};
use crate::source::error::SourceError;

impl Checker<'_, '_> {
    pub(super) fn check_body(
        &self,
        json: &JsonSpec,
        headers: &BTreeMap<String, String>,
    ) -> Result<Option<RequestBody>, SourceError> {
        let declared: Vec<&str> = [
            ("body", json.body.is_some()),
            ("form", json.form.is_some()),
            ("urlencoded", json.urlencoded.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect();
        let Some(&first) = declared.first() else {
            return Ok(None);
        };
        if let Some(&second) = declared.get(1) {
            return Err(self
                .err(
                    &["json", second],
                    format!("json.{first} and json.{second} are both set: a request has one body"),
                )
                .with_hint(format!("keep one of json.{first} and json.{second}")));
        }
        if json.method != HttpMethod::Post {
            return Err(self
                .err(
                    &["json", first],
                    "a body is only sent with method = \"POST\"",
                )
                .with_hint(format!(
                    "add method = \"POST\" under [json], or remove json.{first}"
                )));
        }
        if first != "body"
            && let Some(name) = headers
                .keys()
                .find(|k| k.trim().eq_ignore_ascii_case("content-type"))
        {
            return Err(self
                .err(
                    &["headers", name],
                    format!("a Content-Type header cannot be set with json.{first}"),
                )
                .with_hint("the fetcher sets the form's Content-Type (with its multipart boundary): remove this header"));
        }
        if let Some(body) = &json.body {
            // Serializing a `Value` cannot fail: its map keys are strings.
            return Ok(Some(RequestBody::Json(
                serde_json::to_vec(&toml_to_json(body)).unwrap_or_default(),
            )));
        }
        if let Some(form) = &json.form {
            let parts = self.form_fields(form, "form", true)?;
            return Ok(Some(RequestBody::Multipart(parts)));
        }
        let table = json.urlencoded.clone().unwrap_or_default();
        let pairs = self.form_fields(&table, "urlencoded", false)?;
        Ok(Some(RequestBody::UrlEncoded(
            pairs.into_iter().map(|p| (p.name, p.value)).collect(),
        )))
    }

    /// The fields of `[json.<table>]`: a string, number, boolean or date is
    /// text; an array or table is a JSON part when `json_parts` allows it.
    fn form_fields(
        &self,
        table: &toml::Table,
        key: &str,
        json_parts: bool,
    ) -> Result<Vec<FormPart>, SourceError> {
        if table.is_empty() {
            return Err(self
                .err(&["json", key], format!("json.{key} has no field"))
                .with_hint("write each field as `name = \"value\"`, or remove the table"));
        }
        let mut parts = Vec::with_capacity(table.len());
        for (name, value) in table {
            if name.trim().is_empty() {
                return Err(self.err(
                    &["json", key, name],
                    format!("a field of json.{key} has an empty name"),
                ));
            }
            let text = |value: String| FormPart {
                name: name.clone(),
                value,
                json: false,
            };
            let part = match value {
                toml::Value::String(s) => text(s.clone()),
                toml::Value::Integer(i) => text(i.to_string()),
                toml::Value::Float(f) => text(f.to_string()),
                toml::Value::Boolean(b) => text(b.to_string()),
                toml::Value::Datetime(d) => text(d.to_string()),
                toml::Value::Array(_) | toml::Value::Table(_) if json_parts => FormPart {
                    name: name.clone(),
                    value: serde_json::to_string(&toml_to_json(value)).unwrap_or_default(),
                    json: true,
                },
                toml::Value::Array(_) | toml::Value::Table(_) => {
                    return Err(self
                        .err(
                            &["json", key, name],
                            format!(
                                "json.{key}.{name} is {}: expected a string, a number or a boolean",
                                value.type_str()
                            ),
                        )
                        .with_hint(
                            "a URL-encoded form holds text; send structured fields with [json.form] (a JSON part) or json.body",
                        ));
                }
            };
            parts.push(part);
        }
        Ok(parts)
    }
}

/// A request body written as TOML, as JSON. Dates become their TOML text.
pub(super) fn toml_to_json(v: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
#[path = "load_body_tests.rs"]
mod tests;
