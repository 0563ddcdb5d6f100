//! POST bodies other than JSON reach a real server as declared:
//! URL-encoded fields, and multipart/form-data parts (text fields and
//! parts typed application/json, as the EU Funding & Tenders portal posts).

use url::Url;
use vigie::fetch::{FetchRequest, FormPart, PageRequest, RequestBody};
use vigie::source::schema::HttpMethod;

use crate::fetch::{fetched, fetcher};
use crate::support::{FixtureServer, Response};

#[tokio::test]
async fn a_post_sends_urlencoded_fields_and_multipart_parts_with_their_content_types() {
    let server = FixtureServer::start();
    server.route("/api", Response::ok("application/json", "[]"));
    let post = |body: RequestBody| PageRequest {
        method: HttpMethod::Post,
        url: Url::parse(&server.url("/api")).unwrap(),
        body: Some(body),
    };
    let fetcher = fetcher();
    let form = RequestBody::UrlEncoded(vec![
        ("text".into(), "villes & villages".into()),
        ("page".into(), "2".into()),
    ]);
    fetched(fetcher.fetch(&FetchRequest::new(post(form))).await);
    let parts = RequestBody::Multipart(vec![
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
    ]);
    fetched(fetcher.fetch(&FetchRequest::new(post(parts))).await);

    let sent = server.requests_to("/api");
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(sent[0].body, b"text=villes+%26+villages&page=2");
    let content_type = sent[1].header("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    assert_eq!(
        sent[1]
            .headers
            .iter()
            .filter(|(n, _)| n == "content-type")
            .count(),
        1,
        "one Content-Type, the form's"
    );
    let body = String::from_utf8(sent[1].body.clone()).unwrap();
    assert_eq!(
        body,
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"query\"\r\nContent-Type: application/json\r\n\r\n{{\"bool\":{{}}}}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n***\r\n\
             --{boundary}--\r\n"
        )
    );
}
