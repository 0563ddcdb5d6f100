//! Subscribers: the collectivities that receive digests, their profile
//! (type, territory, themes, keywords, frequency) and their double opt-in
//! life cycle. Feeds the match stage: store → **match** (with these
//! profiles) → deliver.
//!
//! - [`model`]: domain types (`EmailAddress`, `Profile`, `Subscriber`,
//!   `SubscriberStatus`, `Frequency`) and the validation of each field.
//! - [`store`]: the `subscribers` table and the state transitions
//!   (`create_pending`, `confirm_subscriber`, `unsubscribe`, `mark_bounce`,
//!   `reactivate_subscriber`) as `impl Store` methods.
//! - [`csv`]: import/export format.
//! - `vigie subscribers add|list|show|remove|import|export` lives with
//!   the command line (`cli::subscribers`).

pub mod csv;
pub mod model;
mod signup;
pub mod store;

pub use model::{EmailAddress, FieldError, Frequency, Profile, Subscriber, SubscriberStatus};
pub use store::{ImportSummary, SubscriberError};
