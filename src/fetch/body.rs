//! The body of a POST request, as a source declares it: a JSON document
//! (`[json] body`), URL-encoded fields (`[json.urlencoded]`) or a
//! multipart/form-data form (`[json.form]`, what the EU Funding & Tenders
//! portal sends to its search API).
//!
//! A body is part of a listing request's identity (see
//! `store::pages::PageKey`), so it has a stable byte form: a JSON body is
//! its bytes as sent (the form older databases hold); a form is a NUL
//! byte, a tag and its fields as JSON — no JSON text starts with NUL, so
//! the two never meet. The multipart boundary is chosen by reqwest for each
//! request and is no part of that identity.

use serde::{Deserialize, Serialize};

/// One field of a multipart form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FormPart {
    pub name: String,
    pub value: String,
    /// The part is typed `application/json` (its value is a JSON text);
    /// otherwise it is a plain text field.
    pub json: bool,
}

/// What a POST request carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestBody {
    /// `application/json`: these bytes.
    Json(Vec<u8>),
    /// `application/x-www-form-urlencoded`: these fields, in order.
    UrlEncoded(Vec<(String, String)>),
    /// `multipart/form-data`: these parts, in order.
    Multipart(Vec<FormPart>),
}

const URLENCODED_TAG: &[u8] = b"\0urlencoded\n";
const MULTIPART_TAG: &[u8] = b"\0multipart\n";

impl RequestBody {
    /// The stable byte form (see the module documentation).
    pub fn to_stored(&self) -> Vec<u8> {
        // Serializing strings and booleans cannot fail.
        let tagged = |tag: &[u8], json: Vec<u8>| [tag, &json].concat();
        match self {
            RequestBody::Json(bytes) => bytes.clone(),
            RequestBody::UrlEncoded(pairs) => tagged(
                URLENCODED_TAG,
                serde_json::to_vec(pairs).unwrap_or_default(),
            ),
            RequestBody::Multipart(parts) => {
                tagged(MULTIPART_TAG, serde_json::to_vec(parts).unwrap_or_default())
            }
        }
    }

    /// Reads back [`RequestBody::to_stored`]; `None` for a tagged form that
    /// does not parse (an empty byte string is no body at all).
    pub fn from_stored(bytes: &[u8]) -> Option<RequestBody> {
        if bytes.is_empty() {
            return None;
        }
        if let Some(json) = bytes.strip_prefix(URLENCODED_TAG) {
            return serde_json::from_slice(json)
                .ok()
                .map(RequestBody::UrlEncoded);
        }
        if let Some(json) = bytes.strip_prefix(MULTIPART_TAG) {
            return serde_json::from_slice(json)
                .ok()
                .map(RequestBody::Multipart);
        }
        Some(RequestBody::Json(bytes.to_vec()))
    }

    /// The `Content-Type` the fetcher sets, or `None` when reqwest sets it
    /// itself (multipart: the header carries the boundary).
    pub fn content_type(&self) -> Option<&'static str> {
        match self {
            RequestBody::Json(_) => Some("application/json"),
            RequestBody::UrlEncoded(_) => Some("application/x-www-form-urlencoded"),
            RequestBody::Multipart(_) => None,
        }
    }

    /// The form as reqwest sends it; a fresh one for every request, since a
    /// form is consumed by sending it.
    pub(crate) fn multipart(parts: &[FormPart]) -> reqwest::multipart::Form {
        parts
            .iter()
            .fold(reqwest::multipart::Form::new(), |form, p| {
                let part = reqwest::multipart::Part::text(p.value.clone());
                let part = if p.json {
                    // A constant, valid media type: this cannot fail.
                    part.mime_str("application/json")
                        .unwrap_or_else(|_| reqwest::multipart::Part::text(p.value.clone()))
                } else {
                    part
                };
                form.part(p.name.clone(), part)
            })
    }

    /// URL-encoded fields as the bytes sent.
    pub(crate) fn urlencoded(pairs: &[(String, String)]) -> Vec<u8> {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
            .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_body_reads_back_from_its_stored_form() {
        let bodies = [
            RequestBody::Json(br#"{"bool":{}}"#.to_vec()),
            RequestBody::UrlEncoded(vec![("q".into(), "appel à projets".into())]),
            RequestBody::Multipart(vec![
                FormPart {
                    name: "query".into(),
                    value: r#"{"bool":{}}"#.into(),
                    json: true,
                },
                FormPart {
                    name: "text".into(),
                    value: "***".into(),
                    json: false,
                },
            ]),
        ];
        for body in bodies {
            assert_eq!(RequestBody::from_stored(&body.to_stored()), Some(body));
        }
        assert_eq!(RequestBody::from_stored(b""), None);
        assert_eq!(RequestBody::from_stored(b"\0multipart\nnot json"), None);
    }

    #[test]
    fn a_json_body_is_stored_as_sent_as_older_databases_hold_it() {
        let body = RequestBody::Json(br#"{"page":1}"#.to_vec());
        assert_eq!(body.to_stored(), br#"{"page":1}"#);
    }

    #[test]
    fn urlencoded_fields_are_percent_encoded_in_order() {
        let pairs = vec![
            ("text".to_string(), "smart communities & 5G".to_string()),
            ("lang".to_string(), "fr".to_string()),
        ];
        assert_eq!(
            RequestBody::urlencoded(&pairs),
            b"text=smart+communities+%26+5G&lang=fr"
        );
    }
}
