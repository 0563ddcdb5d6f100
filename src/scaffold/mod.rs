//! `vigie sources new`: writes a commented skeleton definition
//! `sources/<id>.toml` for a curator to finish. For an `html` source the
//! page is fetched (through the guarded fetcher: `allow_hosts`, robots.txt,
//! size and time limits apply) and, when it is built with the State design
//! system's cards or tiles, working selectors are guessed (see [`dsfr`]).
//! Without network (`--offline`, or the fetch failed) the skeleton is
//! written all the same, with a note saying why nothing was guessed. The
//! file written always passes `vigie sources check`.

pub mod dsfr;
pub mod template;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use url::Url;

use crate::config::Common;
use crate::domain::SourceId;
use crate::fetch::{FetchOutcome, FetchRequest, Fetcher};
use crate::source::schema::SourceKindName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewKind {
    Html,
    Feed,
    Json,
}

impl From<NewKind> for SourceKindName {
    fn from(k: NewKind) -> Self {
        match k {
            NewKind::Html => SourceKindName::Html,
            NewKind::Feed => SourceKindName::Feed,
            NewKind::Json => SourceKindName::Json,
        }
    }
}

#[derive(Debug, Args)]
pub struct NewArgs {
    #[command(flatten)]
    pub common: Common,
    /// The source's first URL: the listing page, the feed or the API endpoint.
    pub url: String,
    /// What the URL gives.
    #[arg(long, value_enum)]
    pub kind: NewKind,
    /// The source's id (default: derived from the URL's host and path).
    #[arg(long)]
    pub id: Option<String>,
    /// Replace `sources/<id>.toml` if it exists.
    #[arg(long)]
    pub force: bool,
    /// Do not fetch the page: write the commented skeleton only.
    #[arg(long)]
    pub offline: bool,
}

/// Letters and digits of `s` in ASCII lowercase, every other run as one `-`.
fn slug(s: &str) -> String {
    let ascii = deunicode::deunicode(s).to_ascii_lowercase();
    let words: Vec<&str> = ascii
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    words.join("-")
}

/// `%XX` escapes of a URL path segment decoded (invalid UTF-8 replaced).
fn percent_decoded(seg: &str) -> String {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An id from the URL: the host without `www.` and its top-level domain,
/// then the path's segments (file extensions dropped), at most 64
/// characters cut at a `-`, starting with a letter.
/// `https://www.modernisation.gouv.fr/appels-a-projets` gives
/// `modernisation-gouv-appels-a-projets`.
pub fn id_from_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("source");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let host = match url.host() {
        Some(url::Host::Domain(_)) => host.rsplit_once('.').map_or(host, |(h, _)| h),
        _ => host,
    };
    let mut parts = vec![slug(host)];
    for seg in url.path_segments().into_iter().flatten() {
        let seg = seg.rsplit_once('.').map_or(seg, |(stem, ext)| {
            if ext.chars().all(|c| c.is_ascii_alphabetic()) && ext.len() <= 5 {
                stem
            } else {
                seg
            }
        });
        parts.push(slug(&percent_decoded(seg)));
    }
    let mut id = parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id = format!("source-{id}");
    }
    while id.len() > 64 {
        match id.rfind('-') {
            Some(i) => id.truncate(i),
            None => id.truncate(64),
        }
    }
    id.trim_end_matches('-').to_string()
}

/// Fetches the page and guesses selectors: the guess (if any), notes for
/// the file's header, and the page's title.
fn look_at_page(
    config: &crate::config::Config,
    url: &Url,
) -> (Option<dsfr::HtmlGuess>, Vec<String>) {
    let fetched = Fetcher::new(config.fetch.clone()).and_then(|f| {
        let rt = crate::crawl::runtime()?;
        Ok(rt.block_on(f.fetch(&FetchRequest::get(url.clone())))?)
    });
    let page = match fetched {
        Ok(FetchOutcome::Fetched(page)) => page,
        Ok(FetchOutcome::NotModified) => {
            return (
                None,
                vec!["The page answered 304 Not Modified: nothing was guessed.".into()],
            );
        }
        Err(e) => {
            let why = crate::redact::text(&format!("{e:#}"));
            return (
                None,
                vec![format!(
                    "The page could not be fetched ({why}):\nthe selectors below are placeholders."
                )],
            );
        }
    };
    match dsfr::guess(&page.text) {
        Some(g) => {
            let note = format!(
                "Selectors guessed from the page's DSFR {} ({} found on {}).",
                g.component,
                g.items_found,
                crate::redact::url(&page.url)
            );
            (Some(g), vec![note])
        }
        None => (
            None,
            vec![
                "The page has no DSFR cards (.fr-card) or tiles (.fr-tile) with a title:\n\
                 the selectors below are placeholders."
                    .into(),
            ],
        ),
    }
}

pub fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let url = Url::parse(args.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .with_context(|| {
            format!(
                "`{}` is not an absolute http(s) URL",
                crate::redact::text(&args.url)
            )
        })?;
    let id = match &args.id {
        Some(id) => SourceId::parse(id)?,
        None => SourceId::parse(&id_from_url(&url))
            .context("no id can be derived from this URL: give one with --id")?,
    };
    let dir = &config.crawl.sources_dir;
    anyhow::ensure!(
        dir.is_dir(),
        "the sources folder {} does not exist: run from the Vigie folder or pass --sources DIR",
        dir.display()
    );
    let path: PathBuf = dir.join(format!("{id}.toml"));
    anyhow::ensure!(
        args.force || !path.exists(),
        "{} already exists: pass --force to replace it",
        path.display()
    );
    let kind = SourceKindName::from(args.kind);
    let (guess, mut notes) = match (kind, args.offline) {
        (SourceKindName::Html, false) => look_at_page(&config, &url),
        (SourceKindName::Html, true) => (
            None,
            vec!["Written offline (--offline): the selectors below are placeholders.".into()],
        ),
        _ => (None, Vec::new()),
    };
    let host = url.host_str().unwrap_or_default().to_string();
    let name = guess
        .as_ref()
        .and_then(|g| g.page_title.clone())
        .map(|t| {
            template::comment_text(&t)
                .chars()
                .take(120)
                .collect::<String>()
        })
        .unwrap_or(host);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%d")
        .to_string();
    // The URL as given, secrets included, belongs in the file (as in any
    // definition); only what is printed is masked.
    let text = template::render(&template::Skeleton {
        id: id.as_str(),
        name: &name,
        kind,
        url: url.as_str(),
        guess: guess.as_ref(),
        notes: &notes,
        today: &today,
    });
    // A skeleton that does not load is a bug here, never the curator's.
    crate::source::load::load_str(&path, &text)
        .map_err(|e| anyhow::anyhow!("the skeleton written for {id} does not load: {e}"))?;
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    crate::outln!(
        "wrote {} ({} source, id {id})",
        path.display(),
        kind.as_str()
    )?;
    if guess.is_none() && kind == SourceKindName::Html && !args.offline {
        notes.insert(0, "nothing guessed".into());
    }
    for note in &notes {
        crate::outln!("note: {}", note.replace('\n', " "))?;
    }
    crate::outln!(
        "next: edit the file, then `vigie sources check {id}` and `vigie sources check {id} --fetch`"
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(u: &str) -> String {
        id_from_url(&Url::parse(u).unwrap())
    }

    #[test]
    fn ids_come_from_the_host_and_path() {
        assert_eq!(
            id("https://www.modernisation.gouv.fr/appels-a-projets"),
            "modernisation-gouv-appels-a-projets"
        );
        assert_eq!(
            id("https://www.iledefrance.fr/aides-et-appels-a-projets/liste.html?page=2"),
            "iledefrance-aides-et-appels-a-projets-liste"
        );
        assert_eq!(
            id("http://127.0.0.1:8080/appels/"),
            "source-127-0-0-1-appels"
        );
        assert_eq!(
            id("https://exemple.fr/Aides%20%C3%A9t%C3%A9"),
            "exemple-aides-ete"
        );
        let long = id(&format!("https://exemple.fr/{}", "segment-".repeat(20)));
        assert!(long.len() <= 64 && !long.ends_with('-'), "{long}");
        for u in [
            "https://www.modernisation.gouv.fr/appels-a-projets",
            "http://127.0.0.1/",
            "https://xn--rgion-bva.fr/",
        ] {
            assert!(SourceId::parse(&id(u)).is_ok(), "{u}: {}", id(u));
        }
    }
}
