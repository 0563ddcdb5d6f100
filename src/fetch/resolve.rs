//! The fetcher's DNS resolver: the system resolver (`getaddrinfo`, so
//! `/etc/hosts` is honoured), then the address guard of [`super::address`].
//! reqwest connects only to the addresses this resolver returns, so a name
//! that resolves to a forbidden address cannot be reached, and DNS
//! rebinding (a second answer differing from the first) cannot slip a
//! private address in between a check and the connection: the check *is*
//! the resolution the connection uses.
//!
//! A name whose every address is forbidden fails with
//! [`Forbidden`](super::address::Forbidden) as the error's source; a name
//! with some public and some forbidden addresses keeps only the public ones.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::address::AllowList;

/// A [`Resolve`] that filters what the system resolver answers.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    allow: Arc<AllowList>,
}

impl GuardedResolver {
    pub fn new(allow: Arc<AllowList>) -> GuardedResolver {
        GuardedResolver { allow }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = Arc::clone(&self.allow);
        Box::pin(async move {
            let host = name.as_str().to_string();
            // Port 0: reqwest puts the URL's port in afterwards.
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if allow.allows_name(&host) {
                return Ok(Box::new(resolved.into_iter()) as Addrs);
            }
            let mut refused = None;
            let kept: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| match allow.check(addr.ip()) {
                    Ok(()) => true,
                    Err(forbidden) => {
                        refused.get_or_insert(forbidden);
                        false
                    }
                })
                .collect();
            match refused {
                Some(forbidden) if kept.is_empty() => {
                    tracing::warn!(%host, %forbidden, "refused to connect: not a public address");
                    Err(Box::new(forbidden) as Box<dyn std::error::Error + Send + Sync>)
                }
                _ => Ok(Box::new(kept.into_iter()) as Addrs),
            }
        })
    }
}
