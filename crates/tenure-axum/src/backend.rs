//! The manager behind a [`dyn Backend`](Backend): the layer and the extractor don't carry
//! the store, clock and entropy types, so handlers never name them.

use std::future::Future;
use std::pin::Pin;
use tenure::async_manager::{AsyncSessionManager, AsyncStore};
use tenure::{Clock, DataMap, Entropy, Error, Millis, Policy, Session};

pub(crate) type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// The operations a request needs, object-safe.
pub(crate) trait Backend: Send + Sync + 'static {
    fn open<'a>(&'a self, id: &'a str) -> Fut<'a, Option<Session>>;
    fn create<'a>(&'a self, principal: Option<&'a str>, data: DataMap) -> Fut<'a, Session>;
    fn commit<'a>(&'a self, session: &'a mut Session) -> Fut<'a, ()>;
    fn regenerate<'a>(&'a self, session: &'a mut Session, clear: bool) -> Fut<'a, ()>;
    fn destroy<'a>(&'a self, id: &'a str) -> Fut<'a, bool>;
    fn set_idle_timeout(&self, session: &mut Session, ms: Option<Millis>) -> Result<(), Error>;
    fn now(&self) -> Millis;
    fn policy(&self) -> &Policy;
}

impl<S, C, E> Backend for AsyncSessionManager<S, C, E>
where
    S: AsyncStore + 'static,
    C: Clock + Send + Sync + 'static,
    E: Entropy + Send + 'static,
{
    fn open<'a>(&'a self, id: &'a str) -> Fut<'a, Option<Session>> {
        Box::pin(AsyncSessionManager::open(self, id))
    }
    fn create<'a>(&'a self, principal: Option<&'a str>, data: DataMap) -> Fut<'a, Session> {
        Box::pin(AsyncSessionManager::create(self, principal, Some(data)))
    }
    fn commit<'a>(&'a self, session: &'a mut Session) -> Fut<'a, ()> {
        Box::pin(AsyncSessionManager::commit(self, session))
    }
    fn regenerate<'a>(&'a self, session: &'a mut Session, clear: bool) -> Fut<'a, ()> {
        Box::pin(AsyncSessionManager::regenerate(self, session, clear))
    }
    fn destroy<'a>(&'a self, id: &'a str) -> Fut<'a, bool> {
        Box::pin(AsyncSessionManager::destroy(self, id))
    }
    fn set_idle_timeout(&self, session: &mut Session, ms: Option<Millis>) -> Result<(), Error> {
        AsyncSessionManager::set_idle_timeout(self, session, ms)
    }
    fn now(&self) -> Millis {
        AsyncSessionManager::now(self)
    }
    fn policy(&self) -> &Policy {
        AsyncSessionManager::policy(self)
    }
}
