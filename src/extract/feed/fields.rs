//! `[feed.fields]`: a call's deadline, themes, audiences... read from parts
//! of a feed entry — its title, description, content (each as plain text)
//! or categories (one value per category, its term) — through the same
//! fallback lists and transforms as `[json.fields]`. A field the rules
//! give nothing for keeps what the entry gave (none, for these fields):
//! normalize then looks for a deadline in the entry's whole text.

use feed_rs::model::Entry;

use super::plain_text;
use crate::extract::RawItem;
use crate::extract::json::DEADLINE_JOIN;
use crate::source::{FeedField, FeedFieldRules, FeedPart};

impl FeedFieldRules {
    pub(super) fn read(&self, entry: &Entry, item: &mut RawItem) {
        let read = |part: &FeedPart| values(entry, *part);
        let first = |rule: &Option<FeedField>| rule.as_ref().and_then(|r| r.first(read));
        let all = |rule: &Option<FeedField>| rule.as_ref().map(|r| r.all(read)).unwrap_or_default();
        let deadlines = all(&self.deadline);
        if !deadlines.is_empty() {
            item.deadline = Some(deadlines.join(DEADLINE_JOIN));
        }
        item.opens = first(&self.opens).or(item.opens.take());
        item.funder = first(&self.funder).or(item.funder.take());
        item.kind = first(&self.kind).or(item.kind.take());
        item.perimeter = first(&self.perimeter).or(item.perimeter.take());
        item.audiences.extend(all(&self.audiences));
        item.themes.extend(all(&self.themes));
    }
}

/// The values of one part of the entry, as plain text.
fn values(entry: &Entry, part: FeedPart) -> Vec<String> {
    let text = |s: &str| Some(plain_text(s).trim().to_string()).filter(|t| !t.is_empty());
    match part {
        FeedPart::Title => entry
            .title
            .iter()
            .filter_map(|t| text(&t.content))
            .collect(),
        FeedPart::Description => entry
            .summary
            .iter()
            .filter_map(|t| text(&t.content))
            .collect(),
        FeedPart::Content => entry
            .content
            .iter()
            .filter_map(|c| c.body.as_deref())
            .filter_map(text)
            .collect(),
        FeedPart::Categories => entry
            .categories
            .iter()
            .filter_map(|c| text(&c.term))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::testutil::{page, source};
    use crate::extract::{extract_page, first_request};

    const SRC: &str = r#"kind = "feed"
url = "https://www.ex.gouv.fr/rss.xml"

[maps.themes]
"Numérique" = "numerique"

[feed.fields]
deadline = [
  { from = "description", capture = "(?i)date limite\\s*:\\s*([^.]+)" },
  { from = "content", capture = "(?i)jusqu'au\\s+([^.]+)" },
]
themes = "categories"
audiences = { from = "categories", capture = "(?i)^(communes|intercommunalités)$" }
kind = { from = "categories", capture = "(?i)^(appel à projets|appel à manifestation d'intérêt)$" }
"#;

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Ex</title><link>https://www.ex.gouv.fr/</link>
<item>
  <title>Territoires connectés</title>
  <link>https://www.ex.gouv.fr/territoires-connectes</link>
  <description>&lt;p&gt;Date limite&amp;nbsp;: &lt;b&gt;15 mars 2027&lt;/b&gt;. Dossier en ligne.&lt;/p&gt;</description>
  <category>Numérique</category>
  <category>Communes</category>
  <category>Appel à projets</category>
</item>
<item>
  <title>Données locales</title>
  <link>https://www.ex.gouv.fr/donnees-locales</link>
  <description>Un appel pour les données.</description>
  <content:encoded>&lt;p&gt;Candidatures jusqu'au 2 avril 2027. Webinaire le 3 février 2027.&lt;/p&gt;</content:encoded>
  <category>Intercommunalités</category>
</item>
<item>
  <title>Nomination</title>
  <link>https://www.ex.gouv.fr/nomination</link>
  <description>Communiqué.</description>
</item>
</channel></rss>"#;

    #[test]
    fn fields_are_read_from_the_description_content_and_categories() {
        let src = source(SRC);
        let p = page("https://www.ex.gouv.fr/rss.xml", "application/rss+xml", RSS);
        let out = extract_page(&src, &first_request(&src), &p, 0).unwrap();
        let [first, second, third] = &out.items[..] else {
            panic!("{:#?}", out.items)
        };
        assert_eq!(first.deadline.as_deref(), Some("15 mars 2027"));
        assert_eq!(first.themes, ["Numérique", "Communes", "Appel à projets"]);
        assert_eq!(first.audiences, ["Communes"], "captured labels only");
        assert_eq!(first.kind.as_deref(), Some("Appel à projets"));
        // No "date limite" in the description: the content's date.
        assert_eq!(second.deadline.as_deref(), Some("2 avril 2027"));
        assert_eq!(second.audiences, ["Intercommunalités"]);
        assert_eq!(second.kind, None);
        // Nothing found: the fields stay empty.
        assert_eq!(third.deadline, None);
        assert!(third.themes.is_empty() && third.audiences.is_empty());
    }
}
