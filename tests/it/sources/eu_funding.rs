//! The EU Funding & Tenders search API.

use serde_json::{Value, json};

use super::{by_title, crawl, has_theme, site};

#[test]
fn wifi4eu_eu_search_api_is_posted_and_paged_by_page_number() {
    let path = "/search-api/prod/rest/search";
    let q = "apiKey=SEDIA&pageSize=10&text=WIFI4EU";
    let (server, sc) = site(
        "wifi4eu",
        &[
            (&format!("{path}?{q}&pageNumber=1"), "search-page-1.json"),
            (&format!("{path}?{q}&pageNumber=2"), "search-page-2.json"),
        ],
    );
    let calls = crawl(&sc, "wifi4eu", &[]);
    assert_eq!(calls.len(), 12, "a full page of 10, then a short page of 2");

    let requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with(path))
        .collect();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert!(requests.iter().all(|r| r.method == "POST"));
    assert_eq!(requests[1].path, format!("{path}?{q}&pageNumber=2"));
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(
        body["bool"]["must"][1]["terms"]["status"],
        json!(["31094501", "31094502"])
    );

    let first = by_title(&calls, "Call for municipalities 2035");
    assert_eq!(
        first["url"],
        "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/CEF-DIG-2035-WIFI4EU-01"
    );
    assert_eq!(
        first["deadline"], "2035-03-14T18:00:00+01:00",
        "17:00 UTC is 18:00 in Paris"
    );
    assert_eq!(first["perimeter"], "europe");
    assert_eq!(first["audiences"], json!(["commune"]));
    assert_eq!(first["kind"], "aap");
    assert!(has_theme(first, "connectivite"));
    let second = by_title(&calls, "Second call 2035");
    assert_eq!(second["deadline"], "2035-09-18T17:00:00+02:00");
    let outer = by_title(&calls, "outermost regions");
    assert_eq!(outer["deadline"], "2035-11-05T17:00:00+01:00");
    assert_eq!(by_title(&calls, "guidance document 3")["status"], "closed");
}
