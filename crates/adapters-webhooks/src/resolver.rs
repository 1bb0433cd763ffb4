//! A DNS resolver that never hands the connector an address the SSRF guard refuses.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::Name;
use taskflow_domain::webhook::address::is_public;

/// Resolves host names with the system resolver (through tokio) and keeps only the addresses a webhook may be sent
/// to: public ones, or every one when private addresses are allowed.
///
/// The connector calls it for every new connection to a named host, so the check is made against the addresses
/// actually connected to, not those seen when the webhook was created. It is not called for IP-literal hosts, which
/// the sender checks itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicOnlyResolver {
    allow_private: bool,
}

/// Every address the name resolved to was refused.
#[derive(Debug, thiserror::Error)]
#[error("the host resolves only to private or reserved addresses")]
pub(crate) struct AddressNotAllowed;

/// The name did not resolve.
#[derive(Debug, thiserror::Error)]
#[error("the host name does not resolve")]
pub(crate) struct ResolveFailed(#[source] io::Error);

impl PublicOnlyResolver {
    /// A resolver that keeps public addresses only, or every address when `allow_private`.
    #[must_use]
    pub const fn new(allow_private: bool) -> Self {
        Self { allow_private }
    }

    /// Whether a webhook may be sent to `ip`.
    #[must_use]
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip)
    }

    /// Every address `host` resolves to, unfiltered.
    pub(crate) async fn resolve_all(host: &str) -> Result<Vec<IpAddr>, ResolveFailed> {
        let addrs: Vec<IpAddr> =
            tokio::net::lookup_host((host, 0)).await.map_err(ResolveFailed)?.map(|a| a.ip()).collect();
        if addrs.is_empty() {
            return Err(ResolveFailed(io::Error::new(io::ErrorKind::NotFound, "no addresses")));
        }
        Ok(addrs)
    }

    async fn allowed_addrs(self, host: String) -> Result<Vec<SocketAddr>, BoxError> {
        let all = Self::resolve_all(&host).await?;
        let allowed: Vec<SocketAddr> =
            all.into_iter().filter(|ip| self.allows(*ip)).map(|ip| SocketAddr::new(ip, 0)).collect();
        if allowed.is_empty() {
            return Err(Box::new(AddressNotAllowed));
        }
        Ok(allowed)
    }
}

type BoxError = Box<dyn StdError + Send + Sync>;

/// hyper-util's connector resolves names through a `tower::Service<Name>`.
impl tower_service::Service<Name> for PublicOnlyResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let this = *self;
        let host = name.as_str().to_owned();
        Box::pin(async move { this.allowed_addrs(host).await.map(Vec::into_iter) })
    }
}
