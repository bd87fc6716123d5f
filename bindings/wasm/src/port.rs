//! One [`Port`] type for every operation this module runs, synchronous (`Manager.open`, …)
//! or stepped (`Manager.beginOpen`, …, over a byte store): the core's operations are
//! generic over their port, so one port type means one compiled copy of each (the
//! browser module's largest saving after Redis; docs/benchmarks.md). Only the Redis mode
//! of the Node module has a port of its own.

use crate::host::{AnyStore, JsStore};
use tenure::__private::port::Port;
use tenure::__private::stepper::ChannelPort;
use tenure::__private::{BytePort, Encoded};
use tenure::{ByteReply, ByteRequest, ByteStore};
use tenure::{Limits, MemoryStore, Reply, Request, Store, StoreError};

/// Where a host store's byte requests go.
pub enum HostBytes<'a> {
    /// An asynchronous store: each request waits in a `PendingOp` for JS to answer it.
    Channel(ChannelPort),
    /// A synchronous store (`SessionManager({ store })`): answered at once.
    Js(&'a mut JsStore),
}

impl BytePort for HostBytes<'_> {
    async fn call(&mut self, request: ByteRequest) -> Result<ByteReply, StoreError> {
        match self {
            HostBytes::Channel(port) => port.call(request).await,
            HostBytes::Js(store) => store.execute(request),
        }
    }
}

/// The core's memory store, or a host store through the record encoding.
pub enum AnyPort<'a> {
    Memory(&'a mut MemoryStore),
    Host(Encoded<HostBytes<'a>>),
}

impl<'a> AnyPort<'a> {
    /// The port of a synchronous operation on the manager's own store.
    pub fn sync(store: &'a mut AnyStore, limits: Limits) -> Self {
        match store {
            tenure::__private::EitherStore::Left(memory) => AnyPort::Memory(memory),
            tenure::__private::EitherStore::Right(host) => {
                AnyPort::Host(Encoded::new(HostBytes::Js(host.inner_mut()), limits))
            }
        }
    }

    /// The port of a stepped operation.
    pub fn stepped(channel: ChannelPort, limits: Limits) -> AnyPort<'static> {
        AnyPort::Host(Encoded::new(HostBytes::Channel(channel), limits))
    }
}

impl Port for AnyPort<'_> {
    fn counts_cheaply(&self) -> bool {
        match self {
            AnyPort::Memory(memory) => memory.counts_cheaply(),
            AnyPort::Host(host) => host.counts_cheaply(),
        }
    }

    async fn call(&mut self, request: Request) -> Result<Reply, StoreError> {
        match self {
            AnyPort::Memory(memory) => memory.execute(request),
            AnyPort::Host(host) => host.call(request).await,
        }
    }
}
