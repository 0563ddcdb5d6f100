//! Opaque cursors for the API's pagination: the keyset of a page's last
//! call, the order it belongs to, and a digest of the search, so that a
//! cursor cannot be replayed on another search or order. URL-safe base64
//! of a small JSON document; anything that does not decode is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::Keyset;

/// Longest cursor accepted (a real one is under 150 characters).
const MAX_LEN: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Wire {
    /// Digest of the normalized search the cursor was made for.
    s: String,
    k: Keyset,
}

fn digest(search: &str) -> String {
    hex::encode(&Sha256::digest(search.as_bytes())[..8])
}

/// The cursor after `key` for the normalized `search`.
pub fn encode(search: &str, key: &Keyset) -> String {
    let wire = Wire {
        s: digest(search),
        k: key.clone(),
    };
    // Serializing these plain types cannot fail.
    let json = serde_json::to_vec(&wire).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Why a cursor is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum CursorError {
    Malformed,
    OtherSearch,
}

/// The keyset of `cursor`, if it was made for `search`.
pub fn decode(search: &str, cursor: &str) -> Result<Keyset, CursorError> {
    if cursor.len() > MAX_LEN {
        return Err(CursorError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| CursorError::Malformed)?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)?;
    if wire.s != digest(search) {
        return Err(CursorError::OtherSearch);
    }
    Ok(wire.k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keyset() -> impl Strategy<Value = Keyset> {
        prop_oneof![
            (proptest::option::of(any::<i64>()), any::<i64>())
                .prop_map(|(t, i)| Keyset::Deadline(t, i)),
            ("\\PC{0,30}", any::<i64>()).prop_map(|(s, i)| Keyset::Newest(s, i)),
            ("\\PC{0,30}", any::<i64>()).prop_map(|(s, i)| Keyset::Updated(s, i)),
        ]
    }

    proptest! {
        #[test]
        fn a_cursor_decodes_to_its_key_for_its_own_search_only(key in keyset(), search in "\\PC{0,40}") {
            let c = encode(&search, &key);
            prop_assert!(c.len() <= MAX_LEN);
            prop_assert_eq!(decode(&search, &c), Ok(key));
            prop_assert_eq!(decode(&format!("{search}x"), &c), Err(CursorError::OtherSearch));
        }

        #[test]
        fn any_string_is_a_key_or_an_error_never_a_panic(s in "\\PC{0,600}") {
            let _ = decode("", &s);
        }
    }

    #[test]
    fn tampered_cursors_are_malformed() {
        let c = encode("q=x", &Keyset::Deadline(Some(10), 3));
        let mut bytes = c.into_bytes();
        bytes[5] ^= 0x01;
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(decode("q=x", &tampered).is_err());
        assert_eq!(decode("q=x", "!!!"), Err(CursorError::Malformed));
        assert_eq!(decode("q=x", &"A".repeat(600)), Err(CursorError::Malformed));
    }
}
