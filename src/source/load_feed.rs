//! Validation of `[feed]`: its keywords, and the `[feed.fields]` that read
//! a call's deadline, themes, audiences... from parts of each entry, with
//! the same fallback lists and transforms as `[json.fields]`.

use super::load::Checker;
use super::schema::{FeedSpec, FieldSpec};
use super::{CompiledFeed, FeedField, FeedFieldRules, FeedPart};
use crate::source::error::SourceError;

impl Checker<'_, '_> {
    pub(super) fn check_feed(&self, feed: Option<&FeedSpec>) -> Result<CompiledFeed, SourceError> {
        let Some(feed) = feed else {
            return Ok(CompiledFeed::default());
        };
        let place = |field: &[&str], raw: &str| -> Result<FeedPart, SourceError> {
            FeedPart::parse(raw.trim()).ok_or_else(|| {
                self.err(
                    field,
                    format!(
                        "unknown part `{raw}` of a feed entry: expected one of {}",
                        FeedPart::NAMES.join(", ")
                    ),
                )
                .with_hint("e.g. deadline = \"description\" or themes = \"categories\"")
            })
        };
        let rule =
            |name: &str, spec: &Option<FieldSpec>| -> Result<Option<FeedField>, SourceError> {
                spec.as_ref()
                    .map(|v| self.field_rule(&["feed", "fields", name], v, "from", &place))
                    .transpose()
            };
        let fields = match &feed.fields {
            None => FeedFieldRules::default(),
            Some(f) => FeedFieldRules {
                deadline: rule("deadline", &f.deadline)?,
                opens: rule("opens", &f.opens)?,
                funder: rule("funder", &f.funder)?,
                kind: rule("kind", &f.kind)?,
                audiences: rule("audiences", &f.audiences)?,
                perimeter: rule("perimeter", &f.perimeter)?,
                themes: rule("themes", &f.themes)?,
            },
        };
        Ok(CompiledFeed {
            include: feed.include.clone(),
            exclude: feed.exclude.clone(),
            fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::source::load::tests::{assert_err, line_of, load};
    use crate::source::{FeedPart, KindSpec};

    const FEED: &str = r#"id = "anct-actualites"
name = "ANCT"
kind = "feed"
url = "https://agence-cohesion-territoires.gouv.fr/rss.xml"
schedule = "0 6 * * *"

[feed]
include = ["appel"]

[feed.fields]
deadline = { from = "description", capture = "(?i)date limite\\s*:\\s*([^.]+)" }
themes = "categories"
audiences = ["categories", { from = "title", capture = "(?i)(communes)" }]
"#;

    #[test]
    fn feed_fields_compile_to_parts_with_their_transforms() {
        let def = load(FEED).unwrap();
        let KindSpec::Feed(feed) = def.spec else {
            panic!("feed")
        };
        assert_eq!(feed.include, vec!["appel"]);
        let deadline = feed.fields.deadline.unwrap();
        assert_eq!(deadline.sources[0].at, FeedPart::Description);
        assert_eq!(
            deadline.sources[0]
                .transform
                .apply("Date limite : 15 mars 2027. Suite"),
            Some("15 mars 2027".to_string())
        );
        assert_eq!(
            feed.fields.themes.unwrap().sources[0].at,
            FeedPart::Categories
        );
        let audiences = feed.fields.audiences.unwrap();
        assert_eq!(
            audiences.sources.iter().map(|s| s.at).collect::<Vec<_>>(),
            [FeedPart::Categories, FeedPart::Title]
        );
        assert!(feed.fields.opens.is_none());
    }

    #[test]
    fn an_unknown_part_is_an_error_at_its_field() {
        let text = FEED.replace("themes = \"categories\"", "themes = \"category\"");
        let msg = assert_err(
            &text,
            line_of(&text, "themes = "),
            "feed.fields.themes",
            "unknown part `category` of a feed entry: expected one of title, description, content, categories",
        );
        assert!(msg.contains("hint"), "{msg}");
    }

    #[test]
    fn a_bad_regex_or_an_unknown_key_is_an_error_at_its_field() {
        let text = FEED.replace("capture = \"(?i)date", "capture = \"(date");
        assert_err(
            &text,
            line_of(&text, "deadline = "),
            "feed.fields.deadline",
            "invalid regex",
        );
        let text = FEED.replace("{ from = \"description\",", "{ path = \"description\",");
        assert_err(
            &text,
            line_of(&text, "deadline = "),
            "feed.fields.deadline",
            "unknown key `path`",
        );
        let text = FEED.replace("themes = \"categories\"", "theme = \"categories\"");
        assert_err(
            &text,
            line_of(&text, "theme = "),
            "feed.fields.theme",
            "unknown field",
        );
    }
}
