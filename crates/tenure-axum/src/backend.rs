//! The manager behind a [`dyn Backend`](Backend): the layer and the extractor don't carry
//! the store, clock and entropy types, so handlers never name them.

use std::future::Future;
use std::pin::Pin;
use tenure::{AsyncSessionManager, AsyncStore};
use tenure::{Clock, Entropy, Error, Millis, Session};

pub(crate) type Fut<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// The operations a request needs, object-safe.
pub(crate) trait Backend: Send + Sync + 'static {
    fn open<'a>(&'a self, id: &'a str) -> Fut<'a, Option<Session>>;
    fn draft(&self) -> Result<Session, Error>;
    fn insert_draft<'a>(&'a self, session: &'a mut Session) -> Fut<'a, ()>;
    fn commit<'a>(&'a self, session: &'a mut Session) -> Fut<'a, ()>;
    fn regenerate<'a>(&'a self, session: &'a mut Session, clear: bool) -> Fut<'a, ()>;
    fn destroy<'a>(&'a self, id: &'a str) -> Fut<'a, bool>;
    fn set_idle_timeout(&self, session: &mut Session, ms: Option<Millis>) -> Result<(), Error>;
    fn now(&self) -> Millis;
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
    fn draft(&self) -> Result<Session, Error> {
        AsyncSessionManager::draft(self, None, None)
    }
    fn insert_draft<'a>(&'a self, session: &'a mut Session) -> Fut<'a, ()> {
        Box::pin(AsyncSessionManager::insert_draft(self, session))
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
}
