//! Deliver stage: the outbox and the worker that empties it. Pipeline:
//! store → match → digest → **deliver**.
//!
//! - [`outbox`]: the `outbox` table. [`enqueue`] runs inside the caller's
//!   transaction and is idempotent on a caller-given key
//!   (`digest:<subscriber_id>:<yyyy-mm-dd>`).
//! - [`message`]: composes the complete RFC 5322 message once, at enqueue
//!   (headers, multipart/alternative, optional DKIM).
//! - [`transport`] and [`smtp`]: SMTP through lettre, one connection per
//!   worker slot, or `.eml` files in
//!   `mail.outbox_dir` when no SMTP host is set; each send is an [`Outcome`].
//! - [`worker`]: [`drain_outbox`], the one function the daemon, `vigie
//!   deliver` and the tests call.
//! - [`config`]: the `[mail]` section.
//! - [`holder`]: who holds a claim, and whether it is seen gone.
//! - [`carried`]: the calls a row carries, given back when it fails for
//!   good, recorded again when an operator retries it.
//! - `vigie deliver` and `vigie outbox list|retry` live with the command line (`cli::deliver`).
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
//!   `sending`: the next drain puts it back to `pending` and sends it — at
//!   once when the claim's holder (recorded with the claim, see [`holder`])
//!   is seen gone on this host, after `mail.claim_lease_secs` for a holder
//!   on another host; the server dropped the incomplete transaction. No
//!   loss, no duplicate.
//! - A row that ends `failed` (5xx, attempts exhausted) gives its calls
//!   back to the next digest in the same transaction ([`carried`]); `vigie
//!   outbox retry` sends it again instead, unless a later digest already
//!   carried one of its calls.
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
//!   coming back, lettre returning (the slot keeps its connection, so no
//!   `QUIT` round trip sits in between), the store lock and one UPDATE by
//!   primary key in WAL mode without fsync.
//! - lettre writes the body and the 5-byte marker in two writes. On a socket
//!   without `TCP_NODELAY`, Nagle's algorithm held the marker in our kernel
//!   buffer until the server acknowledged the body, which Linux delays up to
//!   40 ms: the window was ~40 ms long, and over 20 SIGKILLs at random
//!   instants (40 interrupted sends) 16 to 22 messages arrived twice.
//!   [`smtp`] now opens plain and STARTTLS connections itself with
//!   `TCP_NODELAY`: the marker leaves at once, and the window is the
//!   server's processing plus the local part, measured (crash test in
//!   `tests/it/deliver.rs`, aiosmtpd on loopback, debug build) at 0.3 ms at
//!   most from the `250` to the commit ([`DrainReport::commit_window`]).
//!   Three runs of 20 kills then gave 0, 2 and 3 duplicates, none missing.
//!   Implicit TLS connections (port 465) are opened by lettre, without
//!   `TCP_NODELAY`.
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
//! SMTP does not offer: RFC 1047 ("Duplicate messages and SMTP") describes
//! this very window and only asks servers to keep it short. Recording `sent`
//! *before* the marker would turn each duplicate into a possible loss
//! (a kill before the write, or a server that refuses the message at the
//! end of DATA); a missed call costs a commune more than a second copy.

pub mod carried;
pub mod config;
pub mod holder;
pub mod message;
pub mod outbox;
pub mod smtp;
pub mod transport;
pub mod worker;

pub use config::{MailConfig, Secret, SmtpSecurity};
pub use message::{BuiltMessage, NewMessage, build_message};
pub use outbox::{OutboxRow, OutboxStatus, enqueue};
pub use transport::{Outcome, Transport};
pub use worker::{CommitWindow, DrainReport, Failure, drain_outbox};

#[cfg(test)]
mod tests;
