//! Operations over an asynchronous JS store: `Manager.begin*()` starts one of the core's
//! operations (`tenure::__private::ops`) in a [`Stepper`] and hands it to JS as a [`PendingOp`]. The
//! JS driver performs each request with its store (awaiting Promises), feeds the answer
//! back with `step` (or the store's exception with `fail`) and ends with `finish`, which
//! folds the operation's events and counters into the manager. Nothing is borrowed between
//! steps, so any number of operations may be in flight on one manager.
//!
//! Two kinds of store: a byte-level store (the default; each request is one protocol call,
//! `[method, id, bytes?, expected?]`), or Redis, once `Manager.setRedis` was called (each
//! request is a batch of commands, `[[name, ...args], ...]`, to send as one pipeline, and
//! its answer the replies, one per command; see [`crate::redis`]). Each operation's body is
//! written once (`begin!`); over a byte store it runs on [`AnyPort`], the port type of the
//! synchronous operations too, so the core's code is compiled once for both. The browser
//! module is built without the `redis` feature: no Redis port, and `setRedis` refuses by
//! name.
//!
//! Only translation happens here: requests to JS arrays, answers validated into
//! `ByteReply`s (or, in Redis mode, `RedisReply`s), outcomes to JS values. Every rule is
//! the core's.

use crate::errors::{core_error, js_error, store_error};
use crate::host::{count_from_js, due_from_js, ids_of_from_js, JsEntropy};
use crate::manager::{info, metrics_js, Manager};
use crate::port::AnyPort;
use crate::session::Session;
use crate::values::type_name;
use js_sys::{Array, Reflect, Uint8Array};
use tenure::__private::ops::{self, Effects};
#[cfg(feature = "redis")]
use tenure::__private::stepper::RedisStepper;
use tenure::__private::stepper::{Step, Stepper};
use tenure::{ByteReply, ByteRequest};
use tenure::{Error, SessionInfo, StoreError};
use wasm_bindgen::prelude::*;

/// What an operation gives back, before it becomes a JS value.
enum Outcome {
    /// create, open, peek.
    Session(Option<tenure::Session>),
    /// commit, regenerate, insertDraft: the committed copy and how many of the session's
    /// changes it carries (for `Session::adopt`).
    Adopt(tenure::Session, usize),
    Bool(bool),
    Count(usize),
    Infos(Vec<SessionInfo>),
    Page(Vec<SessionInfo>, Option<String>),
    Deadline(Option<u64>),
    /// metrics: the number of stored sessions.
    Stored(usize),
    Bytes(Vec<u8>),
}

type Out = (Result<Outcome, Error>, Effects);

/// The stepped operation, over a byte store or over Redis.
enum Machine {
    Bytes(Stepper<Out>),
    #[cfg(feature = "redis")]
    Redis(RedisStepper<Out>),
}

/// What `asked` holds while a Redis batch waits for its replies.
const REDIS: &str = "redis";

/// One operation in flight over an asynchronous store.
#[wasm_bindgen]
pub struct PendingOp {
    machine: Machine,
    /// What the request waiting for its answer is: a protocol method, or [`REDIS`].
    asked: Option<&'static str>,
    out: Option<Out>,
}

/// A JS value's message, without calling anything that could throw.
fn describe(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    if e.is_object() {
        if let Some(m) = Reflect::get(e, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
        {
            return m;
        }
    }
    format!("{e:?}")
}

/// `[method, id, bytes?, expected?]`; the index methods: `['count']`,
/// `['due', through, limit]`, `['ids_of', principal]`, `['unindex', id, deadline]`.
fn request_js(r: &ByteRequest) -> JsValue {
    let a = Array::new();
    a.push(&JsValue::from_str(r.name()));
    match r {
        ByteRequest::Get { id } => {
            a.push(&JsValue::from_str(id));
        }
        ByteRequest::Insert { id, bytes } => {
            a.push(&JsValue::from_str(id));
            a.push(&Uint8Array::from(&bytes[..]));
        }
        ByteRequest::Replace {
            id,
            bytes,
            expected,
        } => {
            a.push(&JsValue::from_str(id));
            a.push(&Uint8Array::from(&bytes[..]));
            a.push(&JsValue::from_f64(*expected as f64));
        }
        ByteRequest::Delete { id, expected } => {
            a.push(&JsValue::from_str(id));
            a.push(&JsValue::UNDEFINED);
            a.push(&expected.map_or(JsValue::UNDEFINED, |v| JsValue::from_f64(v as f64)));
        }
        ByteRequest::Ids | ByteRequest::Count => {}
        ByteRequest::Due { through, limit } => {
            a.push(&through.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64)));
            a.push(&JsValue::from_f64(*limit as f64));
        }
        ByteRequest::IdsOf { principal } => {
            a.push(&JsValue::from_str(principal));
        }
        ByteRequest::Unindex { id, deadline } => {
            a.push(&JsValue::from_str(id));
            a.push(&JsValue::from_f64(*deadline as f64));
        }
    }
    a.into()
}

/// A store's answer to `method`, checked.
fn reply_from_js(method: &str, v: &JsValue) -> Result<ByteReply, StoreError> {
    match method {
        // The optional index methods (a store without one is answered null by api.cjs).
        "count" => count_from_js(v).map(ByteReply::Count),
        "due" => due_from_js(v).map(ByteReply::Due),
        "ids_of" => ids_of_from_js(v).map(ByteReply::IdsOf),
        "unindex" => Ok(ByteReply::Done(v.is_truthy())),
        "get" => {
            if v.is_null() || v.is_undefined() {
                Ok(ByteReply::Bytes(None))
            } else if let Some(b) = crate::values::bytes_of(v) {
                b.map(|b| ByteReply::Bytes(Some(b))).map_err(|e| {
                    StoreError::new(format!(
                        "reading what store.get returned threw: {}",
                        describe(&e)
                    ))
                })
            } else if let Some(s) = v.as_string() {
                Ok(ByteReply::Bytes(Some(s.into_bytes())))
            } else {
                Err(StoreError::new(format!(
                    "store.get must return (or resolve to) a Uint8Array, a string or null, not a {}",
                    type_name(v)
                )))
            }
        }
        "ids" => {
            let read = |e: JsValue| {
                StoreError::new(format!(
                    "reading what store.ids returned threw: {}",
                    describe(&e)
                ))
            };
            if !crate::values::try_is_array(v).map_err(read)? {
                return Err(StoreError::new(format!(
                    "store.ids must return (or resolve to) an array of strings, not a {}",
                    type_name(v)
                )));
            }
            crate::values::try_array_from(v)
                .map_err(read)?
                .iter()
                .map(|x| {
                    x.as_string().ok_or_else(|| {
                        StoreError::new(format!(
                            "store.ids must return (or resolve to) an array of strings; it held a {}",
                            type_name(&x)
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(ByteReply::Ids)
        }
        _ => v.as_bool().map(ByteReply::Done).ok_or_else(|| {
            StoreError::new(format!(
                "store.{method} must return (or resolve to) a boolean, not {}",
                if v.is_undefined() {
                    "undefined".to_owned()
                } else {
                    format!("a {}", type_name(v))
                }
            ))
        }),
    }
}

/// A stepper's next step with its request as JS (and what it is).
fn io_js<Q>(
    step: Step<Out, Q>,
    js: impl FnOnce(&Q) -> (JsValue, &'static str),
) -> Step<Out, (JsValue, &'static str)> {
    match step {
        Step::Io(q) => Step::Io(js(&q)),
        Step::Done(out) => Step::Done(out),
        Step::Spent => Step::Spent,
    }
}

impl PendingOp {
    fn new(machine: Machine) -> Self {
        PendingOp {
            machine,
            asked: None,
            out: None,
        }
    }

    /// Resumes with `answer` to the request asked (`None` on the first call).
    fn advance(&mut self, answer: Option<Result<&JsValue, StoreError>>) -> JsValue {
        if self.out.is_some() {
            return JsValue::NULL;
        }
        let asked = self.asked.take();
        let step = match &mut self.machine {
            Machine::Bytes(stepper) => {
                let answer = match (asked, answer) {
                    (Some(method), Some(a)) => Some(a.and_then(|v| reply_from_js(method, v))),
                    _ => None,
                };
                io_js(stepper.resume(answer), |r| (request_js(r), r.name()))
            }
            #[cfg(feature = "redis")]
            Machine::Redis(stepper) => {
                let answer = match (asked, answer) {
                    (Some(_), Some(a)) => Some(a.and_then(crate::redis::redis_replies_from_js)),
                    _ => None,
                };
                io_js(stepper.resume(answer), |batch| {
                    (crate::redis::batch_js(batch), REDIS)
                })
            }
        };
        match step {
            Step::Io((request, what)) => {
                self.asked = Some(what);
                request
            }
            Step::Done(out) => {
                self.out = Some(out);
                JsValue::NULL
            }
            Step::Spent => {
                let e = StoreError::new("the operation stalled without a request");
                self.out = Some((Err(e.into()), Effects::default()));
                JsValue::NULL
            }
        }
    }

    /// The outcome, with the effects folded into `manager`.
    fn take(&mut self, manager: &mut Manager) -> Result<Outcome, JsValue> {
        let Some((result, effects)) = self.out.take() else {
            return Err(js_error(
                "STORE_ERROR",
                "finish() was called before the operation was done (or twice)",
            ));
        };
        manager.core.absorb(effects);
        manager.settle_events();
        result.map_err(|e| core_error(&e))
    }
}

#[wasm_bindgen]
impl PendingOp {
    /// Resumes with the store's answer to the last request (nothing on the first call) and
    /// returns the next request, or null when done. Over a byte store a request is
    /// `[method, id, bytes?, expected?]`; over Redis it is a batch of commands,
    /// `[[name, ...args], ...]`, to send as one pipeline, answered with an array of one
    /// reply per command (null, an integer, a string, an array, or an `Error` /
    /// `{error: message}` for an error reply). An answer of the wrong shape fails the
    /// operation with `TENURE_STORE_ERROR`.
    pub fn step(&mut self, reply: JsValue) -> JsValue {
        self.advance(Some(Ok(&reply)))
    }

    /// Resumes with the exception (or rejection reason) of the last store call (over
    /// Redis: a transport failure, not an error reply): the operation ends (after any
    /// rollback it needs) with `TENURE_STORE_ERROR` whose `cause` is `error`. Returns the
    /// next request or null, like `step`.
    pub fn fail(&mut self, error: JsValue) -> JsValue {
        let Some(what) = self.asked else {
            return self.advance(None);
        };
        let message = if what == REDIS {
            format!("the Redis client failed: {}", describe(&error))
        } else {
            format!("store.{what} failed: {}", describe(&error))
        };
        self.advance(Some(Err(store_error(message, error))))
    }

    /// Whether the operation is over (finish may be called).
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.out.is_some()
    }

    /// Ends the operation: its events and counters go to `manager`, its result comes back
    /// (a Session or null, a boolean, a count, `[infos, cursor]`, …) or its error is thrown.
    pub fn finish(&mut self, manager: &mut Manager) -> Result<JsValue, JsValue> {
        Ok(match self.take(manager)? {
            Outcome::Session(s) => s.map_or(JsValue::NULL, |inner| Session { inner }.into()),
            Outcome::Adopt(..) => {
                return Err(js_error(
                    "INVALID_VALUE",
                    "this operation ends with finishSession(manager, session)",
                ))
            }
            Outcome::Bool(b) => JsValue::from_bool(b),
            Outcome::Count(n) => JsValue::from_f64(n as f64),
            Outcome::Infos(rs) => rs.iter().map(info).collect::<Array>().into(),
            Outcome::Page(rs, next) => {
                let infos: Array = rs.iter().map(info).collect();
                [
                    infos.into(),
                    next.map_or(JsValue::NULL, |c| JsValue::from_str(&c)),
                ]
                .iter()
                .collect::<Array>()
                .into()
            }
            Outcome::Deadline(d) => d.map_or(JsValue::NULL, |d| JsValue::from_f64(d as f64)),
            Outcome::Stored(n) => metrics_js(&manager.core.metrics_with(n)),
            Outcome::Bytes(b) => Uint8Array::from(&b[..]).into(),
        })
    }

    /// Ends a commit, regenerate or insertDraft: the session takes the stored state and
    /// keeps the changes made to it since the operation began. On error it is unchanged.
    #[wasm_bindgen(js_name = finishSession)]
    pub fn finish_session(
        &mut self,
        manager: &mut Manager,
        session: &mut Session,
    ) -> Result<(), JsValue> {
        match self.take(manager)? {
            Outcome::Adopt(committed, ops) => session
                .inner
                .adopt(committed, ops)
                .map_err(|e| core_error(&e)),
            _ => Err(js_error(
                "INVALID_VALUE",
                "finishSession is for commit, regenerate and insertDraft; use finish",
            )),
        }
    }
}

/// Starts an operation with `manager`'s context (policy, time now, entropy) over its store:
/// `$body`, an async body using `$cx` (the `ops::Cx`) and `$port`, is written once and
/// compiled for both ports (a byte store's and Redis's); only one of them runs.
#[cfg(feature = "redis")]
macro_rules! begin {
    ($manager:expr, |$cx:ident, $port:ident| $body:expr) => {{
        let manager: &Manager = $manager;
        let cx = manager.core.context(JsEntropy);
        PendingOp::new(match &manager.redis {
            Some(config) => Machine::Redis(RedisStepper::redis(
                config.clone(),
                #[allow(unused_mut)]
                move |mut $port| {
                    #[allow(unused_mut)]
                    let mut $cx = cx;
                    async move { $body }
                },
            )),
            None => begin_bytes!(manager, cx, |$cx, $port| $body),
        })
    }};
}

/// Without Redis (the browser module) every operation runs over the byte store.
#[cfg(not(feature = "redis"))]
macro_rules! begin {
    ($manager:expr, |$cx:ident, $port:ident| $body:expr) => {{
        let manager: &Manager = $manager;
        let cx = manager.core.context(JsEntropy);
        PendingOp::new(begin_bytes!(manager, cx, |$cx, $port| $body))
    }};
}

/// The byte-store machine of `begin!`: the operation runs over the same port type as the
/// synchronous ones ([`AnyPort`]), so it is the same compiled code.
macro_rules! begin_bytes {
    ($manager:expr, $context:expr, |$cx:ident, $port:ident| $body:expr) => {{
        let cx = $context;
        let limits = *$manager.core.policy().limits();
        Machine::Bytes(Stepper::over(move |channel| {
            #[allow(unused_mut)]
            let mut $port = AnyPort::stepped(channel, limits);
            #[allow(unused_mut)]
            let mut $cx = cx;
            async move { $body }
        }))
    }};
}

/// Starts an operation on a copy of `$session` (`$s`), to be adopted back by
/// `finishSession`; `$body` gives the stored copy (`Result<tenure::Session, Error>`).
macro_rules! begin_adopt {
    ($manager:expr, $session:expr, |$cx:ident, $port:ident, $s:ident| $body:expr) => {{
        let snapshot = $session.inner.clone();
        let n_ops = snapshot.changes().ops().len();
        begin!($manager, |$cx, $port| {
            let mut $s = snapshot;
            let r: Result<tenure::Session, Error> = $body;
            (r.map(|s| Outcome::Adopt(s, n_ops)), $cx.into_effects())
        })
    }};
}

/// `(result mapped to an Outcome, effects)` of an op run in `cx`.
macro_rules! run {
    ($cx:ident, $body:expr, $map:expr) => {{
        let r = $body.await.map($map);
        (r, $cx.into_effects())
    }};
}

/// The browser module has no Redis layout: a Redis store is refused by name, never run
/// as something else.
#[cfg(not(feature = "redis"))]
#[wasm_bindgen]
impl Manager {
    /// Refuses: this module was built without Redis (use the Node module).
    #[wasm_bindgen(js_name = setRedis)]
    pub fn set_redis(&mut self, _prefix: JsValue, _grace_ms: JsValue) -> Result<(), JsValue> {
        Err(js_error(
            "INVALID_POLICY",
            "Redis stores need the Node build of tenure; this is the browser build, which has no Redis support",
        ))
    }

    /// Always null: this module has no Redis mode.
    #[wasm_bindgen(getter, js_name = redisPrefix)]
    pub fn redis_prefix(&self) -> Option<String> {
        None
    }
}

#[wasm_bindgen]
impl Manager {
    #[wasm_bindgen(js_name = beginCreate)]
    pub fn begin_create(&self, principal: JsValue, data: JsValue) -> Result<PendingOp, JsValue> {
        let principal = crate::values::opt_str_arg(&principal, "principal")?;
        let data = self.data_arg(&data)?;
        Ok(begin!(self, |cx, port| run!(
            cx,
            ops::create(&mut cx, &mut port, principal.as_deref(), data),
            |s| Outcome::Session(Some(s))
        )))
    }

    #[wasm_bindgen(js_name = beginOpen)]
    pub fn begin_open(&self, id: String) -> PendingOp {
        begin!(self, |cx, port| run!(
            cx,
            ops::open(&mut cx, &mut port, &id),
            Outcome::Session
        ))
    }

    #[wasm_bindgen(js_name = beginPeek)]
    pub fn begin_peek(&self, id: String) -> PendingOp {
        begin!(self, |cx, port| run!(
            cx,
            ops::peek(&mut cx, &mut port, &id),
            Outcome::Session
        ))
    }

    #[wasm_bindgen(js_name = beginCommit)]
    pub fn begin_commit(&self, session: &Session) -> PendingOp {
        begin_adopt!(self, session, |cx, port, s| ops::commit(
            &mut cx, &mut port, &mut s
        )
        .await
        .map(|()| s))
    }

    #[wasm_bindgen(js_name = beginRegenerate)]
    pub fn begin_regenerate(&self, session: &Session, clear: Option<bool>) -> PendingOp {
        let clear = clear.unwrap_or(false);
        begin_adopt!(self, session, |cx, port, s| ops::regenerate(
            &mut cx, &mut port, &mut s, clear
        )
        .await
        .map(|()| s))
    }

    #[wasm_bindgen(js_name = beginInsertDraft)]
    pub fn begin_insert_draft(&self, session: &Session) -> PendingOp {
        begin_adopt!(self, session, |cx, port, s| ops::insert_draft(
            &mut cx, &mut port, &mut s
        )
        .await
        .map(|()| s))
    }

    #[wasm_bindgen(js_name = beginDestroy)]
    pub fn begin_destroy(&self, id: String) -> PendingOp {
        begin!(self, |cx, port| run!(
            cx,
            ops::destroy(&mut cx, &mut port, &id),
            Outcome::Bool
        ))
    }

    #[wasm_bindgen(js_name = beginDestroyAllOf)]
    pub fn begin_destroy_all_of(
        &self,
        principal: JsValue,
        except: JsValue,
    ) -> Result<PendingOp, JsValue> {
        let principal = crate::values::str_arg(&principal, "principal")?;
        let except = crate::values::opt_str_arg(&except, "except")?;
        Ok(begin!(self, |cx, port| run!(
            cx,
            ops::destroy_all_of(&mut cx, &mut port, &principal, except.as_deref()),
            Outcome::Count
        )))
    }

    #[wasm_bindgen(js_name = beginSessionsOf)]
    pub fn begin_sessions_of(&self, principal: JsValue) -> Result<PendingOp, JsValue> {
        let principal = crate::values::str_arg(&principal, "principal")?;
        Ok(begin!(self, |cx, port| run!(
            cx,
            ops::sessions_of(&mut cx, &mut port, &principal),
            Outcome::Infos
        )))
    }

    #[wasm_bindgen(js_name = beginCount)]
    pub fn begin_count(&self) -> PendingOp {
        begin!(self, |cx, port| run!(
            cx,
            ops::count(&mut cx, &mut port),
            Outcome::Count
        ))
    }

    /// Finishes with `[infos, nextCursor]`.
    #[wasm_bindgen(js_name = beginList)]
    pub fn begin_list(&self, cursor: Option<String>, limit: Option<usize>) -> PendingOp {
        let limit = limit.unwrap_or(100);
        begin!(self, |cx, port| run!(
            cx,
            ops::list(&mut cx, &mut port, cursor.as_deref(), limit),
            |(page, next)| Outcome::Page(page, next)
        ))
    }

    #[wasm_bindgen(js_name = beginSweep)]
    pub fn begin_sweep(&self) -> PendingOp {
        begin!(self, |cx, port| run!(
            cx,
            ops::sweep(&mut cx, &mut port),
            Outcome::Count
        ))
    }

    #[wasm_bindgen(js_name = beginDestroyAll)]
    pub fn begin_destroy_all(&self) -> PendingOp {
        begin!(self, |cx, port| run!(
            cx,
            ops::destroy_all(&mut cx, &mut port),
            Outcome::Count
        ))
    }

    #[wasm_bindgen(js_name = beginNextDeadline)]
    pub fn begin_next_deadline(&self) -> PendingOp {
        begin!(self, |cx, port| run!(
            cx,
            ops::next_deadline(&mut port),
            Outcome::Deadline
        ))
    }

    /// Finishes with the metrics object (the manager's counters, the store's size).
    #[wasm_bindgen(js_name = beginMetrics)]
    pub fn begin_metrics(&self) -> PendingOp {
        begin!(self, |cx, port| run!(
            cx,
            ops::stored(&mut port),
            Outcome::Stored
        ))
    }

    #[wasm_bindgen(js_name = beginExport)]
    pub fn begin_export(&self) -> PendingOp {
        begin!(self, |cx, port| run!(
            cx,
            ops::export(&mut cx, &mut port),
            Outcome::Bytes
        ))
    }

    #[wasm_bindgen(js_name = beginImport)]
    pub fn begin_import(&self, data: Vec<u8>) -> PendingOp {
        begin!(self, |cx, port| run!(
            cx,
            ops::import(&mut cx, &mut port, &data),
            Outcome::Count
        ))
    }
}
