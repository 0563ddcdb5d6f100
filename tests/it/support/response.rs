//! Canned responses for the fixture server, and how each is written on the
//! wire, faults included: a delay before the headers, a body dribbled in
//! small chunks, a `Content-Length` that promises more than is sent, or none
//! at all.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A canned response, with optional faults.
#[derive(Debug, Clone)]
pub struct Response {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    delay: Duration,
    dribble: Option<(usize, Duration)>,
    length: Length,
}

#[derive(Debug, Clone, Copy)]
enum Length {
    /// `Content-Length` is the body's length.
    Exact,
    /// `Content-Length` says this, whatever is actually sent.
    Declared(u64),
    /// No `Content-Length`: the body ends when the connection closes.
    UntilClose,
}

impl Response {
    /// A response with this status and no body.
    pub fn status(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            dribble: None,
            length: Length::Exact,
        }
    }

    /// 200 with this `Content-Type` and body.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response::status(200)
            .header("Content-Type", content_type)
            .body(body)
    }

    /// 200 `text/html; charset=utf-8`.
    pub fn ok_html(body: impl Into<Vec<u8>>) -> Response {
        Response::ok("text/html; charset=utf-8", body)
    }

    /// 302 to `location` (a path or a URL); chain two for a loop.
    pub fn redirect(location: &str) -> Response {
        Response::status(302).header("Location", location)
    }

    /// `status` (429 or 503, usually) with `Retry-After: value`.
    pub fn retry_after(status: u16, value: &str) -> Response {
        Response::status(status).header("Retry-After", value)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Replaces the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }

    /// Waits this long before sending anything.
    pub fn delay(mut self, delay: Duration) -> Response {
        self.delay = delay;
        self
    }

    /// Sends the body `chunk` bytes at a time, pausing `pause` after each.
    pub fn dribble(mut self, chunk: usize, pause: Duration) -> Response {
        self.dribble = Some((chunk.max(1), pause));
        self
    }

    /// Announces `Content-Length: declared` but sends only the body, then
    /// closes: a body cut short.
    pub fn truncated(mut self, declared: u64) -> Response {
        self.length = Length::Declared(declared);
        self
    }

    /// Sends no `Content-Length`; the body ends when the connection closes.
    pub fn without_content_length(mut self) -> Response {
        self.length = Length::UntilClose;
        self
    }

    /// Writes this response on `stream`, faults included, then closes it.
    pub(super) async fn write_to(
        self,
        stream: &mut TcpStream,
        method: &str,
    ) -> std::io::Result<()> {
        tokio::time::sleep(self.delay).await;
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let has_body = !matches!(self.status, 204 | 304) && method != "HEAD";
        match self.length {
            Length::Exact if has_body => {
                head.push_str(&format!("Content-Length: {}\r\n", self.body.len()))
            }
            Length::Declared(length) => head.push_str(&format!("Content-Length: {length}\r\n")),
            _ => {}
        }
        head.push_str("Connection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).await?;
        if has_body {
            match self.dribble {
                Some((size, pause)) => {
                    for chunk in self.body.chunks(size) {
                        stream.write_all(chunk).await?;
                        stream.flush().await?;
                        tokio::time::sleep(pause).await;
                    }
                }
                None => stream.write_all(&self.body).await?,
            }
        }
        stream.flush().await?;
        stream.shutdown().await
    }
}

/// The reason phrase; clients ignore it, people reading traces do not.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
