//! CSV that spreadsheets open as data. Excel and LibreOffice run a cell
//! that starts with `=`, `+`, `-` or `@` as a formula (and strip a leading
//! tab or carriage return before looking), so a call title or a
//! subscriber's name scraped or typed as `=HYPERLINK(...)` would run on the
//! operator's machine ("CSV injection", OWASP). Every CSV Vigie writes goes
//! through [`Writer`], which prefixes such cells with `'`, the spreadsheet
//! convention for "this is text"; [`restore`] removes it again when Vigie
//! reads its own export back.

use std::borrow::Cow;
use std::io::Write;

/// The first characters that make a spreadsheet read a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell`, with `'` in front when a spreadsheet would run it.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The inverse of [`neutralize`]: a `'` followed by a trigger is dropped;
/// any other text is returned unchanged.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(TRIGGERS) => rest,
        _ => cell,
    }
}

/// A CSV writer whose every cell is [`neutralize`]d.
pub struct Writer<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Writer<W> {
        Writer {
            inner: csv::Writer::from_writer(out),
        }
    }

    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.inner.write_record(
            record
                .into_iter()
                .map(|c| neutralize(c.as_ref()).into_owned()),
        )
    }

    /// Flushes the CSV buffer and the writer under it.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn written(cells: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        w.write_record(cells).unwrap();
        w.flush().unwrap();
        drop(w);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(out.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        record.iter().map(str::to_string).collect()
    }

    #[test]
    fn formulas_become_text_and_other_cells_are_untouched() {
        let cells: Vec<String> = [
            "=HYPERLINK(\"http://x\";\"clic\")",
            "+33 1 23",
            "-2",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "Appel à projets",
            "a=b",
            "",
        ]
        .map(String::from)
        .to_vec();
        let got = written(&cells);
        assert_eq!(got[0], "'=HYPERLINK(\"http://x\";\"clic\")");
        assert_eq!(got[1], "'+33 1 23");
        assert_eq!(got[2], "'-2");
        assert_eq!(got[3], "'@SUM(A1)");
        assert_eq!(got[4], "'\t=1");
        assert_eq!(got[5], "'\r=1");
        assert_eq!(&got[6..], &cells[6..]);
    }

    proptest! {
        #[test]
        fn no_written_cell_starts_a_formula_and_restore_gives_the_cell_back(
            cells in proptest::collection::vec("\\PC{0,8}|[=+@\\t\\r'-]\\PC{0,8}", 1..6)
        ) {
            let got = written(&cells);
            prop_assert_eq!(got.len(), cells.len());
            for (cell, out) in cells.iter().zip(&got) {
                prop_assert!(!out.starts_with(TRIGGERS), "{:?} written as {:?}", cell, out);
                // A cell that itself starts with `'` + trigger is the one
                // ambiguity of the convention; it reads back without the `'`.
                if !(cell.starts_with('\'') && cell[1..].starts_with(TRIGGERS)) {
                    prop_assert_eq!(restore(out), cell.as_str());
                }
            }
        }
    }
}
