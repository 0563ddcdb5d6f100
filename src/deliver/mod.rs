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
//! The SMTP server's `250` reply to the end of DATA is the commit point: once
//! it is given, the message is delivered whatever we do. A row goes
//! `pending` → `sending` (committed *before* the first byte is sent) →
//! `sent` (committed right after the `250`). So:
//!
//! - A crash before the `250` leaves the row `sending`: the next drain
//!   (after `mail.claim_lease_secs`) puts it back to `pending` and sends it;
//!   the server never accepted the first copy. No loss, no duplicate.
//! - A crash after the `sent` commit: nothing to do. No duplicate.
//! - A crash **between the server sending `250` and the `sent` commit** is
//!   the at-least-once window: the row is still `sending`, so it is sent
//!   again, byte for byte, with the same `Message-ID`, which lets receiving
//!   systems and mail clients drop the copy. The window spans the `250`
//!   crossing the network, lettre parsing it and returning (the pool keeps
//!   the connection, so no `QUIT` round trip sits in between), the store
//!   lock, and one UPDATE by primary key in WAL mode without fsync. The
//!   worker measures the local part of it in [`DrainReport::commit_window`];
//!   the crash test (`tests/it/deliver.rs`) kills a draining process at
//!   random instants and counts duplicates at the server.
//! - At most one duplicate per message and per crash, and at most
//!   `pool_size` per crash, since that is how many rows can be in flight.
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
