//! The input folded to lowercase ASCII for matching, with a map back to
//! the original bytes (see the module documentation of `dates`).

use std::ops::Range;

/// The input folded to lowercase ASCII, with the original byte range of the
/// character every folded byte came from.
pub(super) struct Folded {
    pub(super) text: String,
    starts: Vec<usize>,
    ends: Vec<usize>,
}

impl Folded {
    pub(super) fn new(original: &str) -> Self {
        let mut folded = Folded {
            text: String::with_capacity(original.len()),
            starts: Vec::with_capacity(original.len()),
            ends: Vec::with_capacity(original.len()),
        };
        let mut buf = [0u8; 4];
        for (at, c) in original.char_indices() {
            let end = at + c.len_utf8();
            let piece: &str = match c {
                '\n' => "\n",
                c if c.is_whitespace() || c.is_control() => " ",
                c if c.is_ascii() => c.to_ascii_lowercase().encode_utf8(&mut buf),
                '°' | 'º' => "o",
                '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
                c => match deunicode::deunicode_char(c) {
                    // Digits made from symbols ("½" → "1/2") would forge dates.
                    Some(s) if s.len() <= 4 && !s.bytes().any(|b| b.is_ascii_digit()) => s,
                    _ => " ",
                },
            };
            for b in piece.bytes() {
                folded.text.push(char::from(b.to_ascii_lowercase()));
                folded.starts.push(at);
                folded.ends.push(end);
            }
        }
        folded
    }

    /// The original byte range behind a non-empty folded range.
    pub(super) fn original_span(&self, r: Range<usize>) -> Range<usize> {
        match (
            self.starts.get(r.start),
            r.end.checked_sub(1).and_then(|e| self.ends.get(e)),
        ) {
            (Some(&s), Some(&e)) if s <= e => s..e,
            _ => 0..0,
        }
    }
}
