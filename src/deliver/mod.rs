//! Deliver stage: the outbox and the worker that empties it. Pipeline:
//! store → match → digest → **deliver**.
//!
//! - [`outbox`]: the `outbox` table. [`enqueue`] runs inside the caller's
//!   transaction and is idempotent on a caller-given key
//!   (`digest:<subscriber_id>:<yyyy-mm-dd>`).
//! - [`message`]: composes the complete RFC 5322 message once, at enqueue
//!   (headers, multipart/alternative, optional DKIM).
//! - [`transport`]: lettre's pooled async SMTP, or `.eml` files in
//!   `mail.outbox_dir` when no SMTP host is set; each send is an [`Outcome`].
//! - [`worker`]: [`drain_outbox`], the one function the daemon, `vigie
//!   deliver` and the tests call.
//! - [`config`]: the `[mail]` section.
//!
//! # Exactly once, and where it is only at least once
//!
//! The SMTP server's acceptance is the commit point: it takes the message
//! on reading the end-of-data marker and says so with `250`; from then on
//! the message is delivered whatever we do. A row goes `pending` →
//! `sending` (committed *before* the first byte is sent) → `sent`
//! (committed right after the `250`). So:
//!
//! - A crash before the end-of-data marker is written leaves the row
//!   `sending`: the next drain (after `mail.claim_lease_secs`) puts it back
//!   to `pending` and sends it; the server dropped the incomplete
//!   transaction. No loss, no duplicate.
//! - A crash after the `sent` commit: nothing to do. No duplicate.
//! - A crash **after the end-of-data marker (`CRLF.CRLF`) is written to the
//!   socket and before the `sent` commit** is the at-least-once window: the
//!   row is still `sending`, so it is sent again, byte for byte, with the
//!   same `Message-ID`, which lets receiving systems and mail clients drop
//!   the copy. The window opens at the *write*, not at the `250`: bytes
//!   handed to the kernel are delivered even after the process is killed
//!   (the kernel flushes the socket, then closes it), and the server accepts
//!   the message on reading them. It therefore spans the marker crossing the
//!   network, the server's own processing before it answers (queue fsync,
//!   content filters: milliseconds to seconds on a real MTA), the `250`
//!   coming back, lettre returning (the pool keeps the connection, so no
//!   `QUIT` round trip sits in between), the store lock and one UPDATE by
//!   primary key in WAL mode without fsync.
//! - Measured (`tests/it/deliver.rs`, the crash test, against aiosmtpd on
//!   loopback, debug build): the local part, from the `250` to the commit,
//!   is 0.3–2.5 ms ([`DrainReport::commit_window`]). The whole window is much
//!   longer with lettre 0.11: it writes the 5-byte marker in its own
//!   `write` on a socket without `TCP_NODELAY`, so Nagle's algorithm holds
//!   it until the server ACKs the body, and Linux delays that ACK up to
//!   40 ms. Over 20 SIGKILLs at random instants, each interrupting 2
//!   sends, 16 to 22 of the 40 interrupted messages arrived twice (at most
//!   2 per kill), none went missing (three runs). The fix
//!   belongs in lettre (set `TCP_NODELAY`, or send the body and marker in
//!   one write); it shortens the window but cannot close it.
//! - At most one duplicate per interrupted message, so at most `pool_size`
//!   per crash, since that is how many rows can be in flight.
//! - A process crash loses no committed state (WAL with
//!   `synchronous=NORMAL`); an OS crash or power loss may lose the last
//!   commits, and so may resend the last messages sent.
//! - The file transport writes `<outbox id>.eml` by rename: a resend
//!   rewrites the same file, so it is exactly once.
//! - A drain dropped mid-send (its future cancelled) is a crash for these
//!   purposes: the daemon lets a drain finish before it shuts down.
//!
//! True exactly-once would need the server to deduplicate on our key, which
//! SMTP does not offer.

pub mod cli;
pub mod config;
pub mod message;
pub mod outbox;
pub mod transport;
pub mod worker;

pub use config::{MailConfig, Secret, SmtpSecurity};
pub use message::{BuiltMessage, NewMessage, build_message};
pub use outbox::{OutboxRow, OutboxStatus, enqueue};
pub use transport::{Outcome, Transport};
pub use worker::{CommitWindow, DrainReport, Failure, drain_outbox};

#[cfg(test)]
mod tests;
