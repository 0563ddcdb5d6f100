//! The EU Funding & Tenders search API (SEDIA): the form the portal posts,
//! its pagination, the status codes and the topics with several cut-offs.
//! The calls themselves are pinned by each source's expected.toml; these
//! tests check what the requests carry, field by field.

use serde_json::{Value, json};

use super::{by_title, crawl, site, titles};
use crate::support::RecordedRequest;

const PATH: &str = "/search-api/prod/rest/search";

/// One part of a multipart/form-data body.
#[derive(Debug)]
struct Part {
    name: String,
    content_type: Option<String>,
    value: String,
}

/// The parts of `request`'s multipart/form-data body, read by RFC 7578's
/// rules: the boundary comes from the Content-Type header, each part has
/// a Content-Disposition naming it, then a blank line and its value.
fn form_parts(request: &RecordedRequest) -> Vec<Part> {
    let content_type = request.header("content-type").expect("a Content-Type");
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("not a multipart form: {content_type}"));
    let body = String::from_utf8(request.body.clone()).expect("a UTF-8 form");
    let delimiter = format!("--{boundary}");
    let (before, rest) = body.split_once(&delimiter).expect("a first boundary");
    assert!(before.is_empty(), "nothing before the first boundary");
    let closing = format!("\r\n{delimiter}--\r\n");
    let inner = rest.strip_suffix(&closing).expect("a closing boundary");
    inner
        .split(&format!("\r\n{delimiter}"))
        .map(|chunk| {
            let chunk = chunk.strip_prefix("\r\n").expect("CRLF after a boundary");
            let (head, value) = chunk.split_once("\r\n\r\n").expect("a blank line");
            let mut name = None;
            let mut content_type = None;
            for line in head.split("\r\n") {
                let (key, val) = line.split_once(": ").expect("a header line");
                match key.to_ascii_lowercase().as_str() {
                    "content-disposition" => {
                        let rest = val.strip_prefix("form-data; name=\"").expect(val);
                        name = Some(rest.split('"').next().unwrap().to_string());
                    }
                    "content-type" => content_type = Some(val.to_string()),
                    other => panic!("unexpected part header {other}"),
                }
            }
            Part {
                name: name.expect("a part name"),
                content_type,
                value: value.to_string(),
            }
        })
        .collect()
}

fn json_part<'a>(parts: &'a [Part], name: &str) -> (&'a Part, Value) {
    let part = parts
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no part {name} in {parts:#?}"));
    let value = serde_json::from_str(&part.value)
        .unwrap_or_else(|e| panic!("part {name} is not JSON ({e}): {}", part.value));
    (part, value)
}

#[test]
fn wifi4eu_posts_the_portals_form_on_every_page_and_keeps_open_and_forthcoming_topics() {
    let page = |n: u32| format!("{PATH}?apiKey=SEDIA&pageSize=5&text=WIFI4EU&pageNumber={n}");
    let (server, sc) = site(
        "wifi4eu",
        &[
            (&page(1), "search-page-1.json"),
            (&page(2), "search-page-2.json"),
        ],
    );
    let calls = crawl(&sc, "wifi4eu", &[]);

    let requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with(PATH))
        .collect();
    assert_eq!(
        requests.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        [page(1), page(2)],
        "a full page of 5, then a short page ends the crawl"
    );
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.header("content-length"),
            Some(request.body.len().to_string().as_str()),
            "a form of text parts has a known length"
        );
        let parts = form_parts(request);
        let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        for name in ["query", "languages", "sort"] {
            let (part, _) = json_part(&parts, name);
            assert_eq!(
                part.content_type.as_deref(),
                Some("application/json"),
                "part {name} is typed as JSON, as the portal sends it"
            );
        }
        let (_, query) = json_part(&parts, "query");
        assert_eq!(
            query,
            json!({"bool": {"must": [
                {"terms": {"type": ["1", "2"]}},
                {"terms": {"status": ["31094501", "31094502"]}},
            ]}})
        );
        assert_eq!(json_part(&parts, "languages").1, json!(["en"]));
        assert_eq!(
            json_part(&parts, "sort").1,
            json!({"field": "sortStatus", "order": "ASC"})
        );
    }
    assert_eq!(
        requests[0].body.len(),
        requests[1].body.len(),
        "the second page posts the same form (only the boundary differs)"
    );

    // A second crawl (the pages' state now stored) posts the same forms.
    let again = crawl(&sc, "wifi4eu", &[]);
    assert_eq!(again.len(), calls.len());
    let later: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with(PATH))
        .skip(2)
        .collect();
    assert_eq!(
        later.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        [page(1), page(2)]
    );
    for (before, after) in requests.iter().zip(&later) {
        let values = |r: &RecordedRequest| {
            form_parts(r)
                .into_iter()
                .map(|p| (p.name, p.content_type, p.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(values(before), values(after));
    }

    // Status codes: open topics are open, a forthcoming one (31094501,
    // startDate ahead) is upcoming, the closed one (31094503) is dropped,
    // and so is a topic that only mentions WIFI4EU in its description.
    let found = titles(&calls);
    assert_eq!(found.len(), 5, "{found:#?}");
    assert!(!found.iter().any(|t| t.contains("Call 4")), "{found:#?}");
    assert!(
        !found.iter().any(|t| t.contains("Innovation Hubs")),
        "{found:#?}"
    );
    assert_eq!(by_title(&calls, "2026-2027")["status"], "open");
    let second = by_title(&calls, "second round");
    assert_eq!(second["status"], "upcoming");
    assert_eq!(second["opens_on"], "2027-03-02T00:00:00+01:00");
    // Several cut-offs: every deadlineDate is one, the next one is the
    // call's deadline.
    assert_eq!(
        second["deadlines"],
        json!(["2027-05-12T17:00:00+02:00", "2027-09-15T17:00:00+02:00"])
    );
    assert_eq!(second["deadline"], "2027-05-12T17:00:00+02:00");
    // A UTC offset is read as such: 15:00 UTC is 17:00 in Paris in summer.
    assert_eq!(
        by_title(&calls, "outermost regions")["deadline"],
        "2027-03-31T17:00:00+02:00"
    );
}

#[test]
fn digital_programmes_are_asked_by_programme_code_and_filtered_to_collectivities() {
    let first = format!("{PATH}?apiKey=SEDIA&pageSize=50&text=***&pageNumber=1");
    let id = "eu-funding-tenders-digital";
    let (server, sc) = site(id, &[(&first, "search-page-1.json")]);
    let calls = crawl(&sc, id, &[]);

    let requests = server.requests_to(&first);
    assert_eq!(requests.len(), 1, "a short first page ends the crawl");
    let parts = form_parts(&requests[0]);
    let (_, query) = json_part(&parts, "query");
    assert_eq!(
        query["bool"]["must"][2],
        json!({"terms": {"frameworkProgramme": ["43152860", "43251567"]}}),
        "Digital Europe and CEF, by the portal's programme codes"
    );
    assert_eq!(
        query["bool"]["must"][1],
        json!({"terms": {"status": ["31094501", "31094502"]}})
    );

    let found = titles(&calls);
    assert_eq!(found.len(), 5, "{found:#?}");
    for left_out in ["Specialised education", "Backbone networks"] {
        assert!(
            !found.iter().any(|t| t.contains(left_out)),
            "{left_out}: not for collectivities: {found:#?}"
        );
    }
    // A topic whose first cut-off is past is still open until its second.
    let interop = by_title(&calls, "Interoperable Europe");
    assert_eq!(interop["status"], "open");
    assert_eq!(interop["deadline"], "2027-02-25T17:00:00+01:00");
    assert_eq!(interop["deadlines"].as_array().unwrap().len(), 2);
    // Themes from the programme code.
    let themes = |needle: &str| by_title(&calls, needle)["themes"].clone();
    assert!(
        themes("5G for smart communities")
            .as_array()
            .unwrap()
            .contains(&json!("connectivite"))
    );
    assert!(
        !themes("Local digital twins")
            .as_array()
            .unwrap()
            .contains(&json!("connectivite")),
        "a DIGITAL topic is not about connectivity"
    );
    assert_eq!(
        by_title(&calls, "Data space for smart")["status"],
        "upcoming"
    );
}
