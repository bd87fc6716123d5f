//! Operations driven by Python's event loop: a [`PendingOp`] is one manager operation
//! (from `tenure::__private::ops`) running over a [`Stepper`]. Python performs each storage request it
//! yields with its own (asynchronous) store and feeds the answer back, so no lock and no
//! borrow of the manager is held while the store works, and any number of operations may
//! be in flight on one event loop.
//!
//! Protocol, as `tenure.aio` drives it:
//!
//! ```text
//! op = manager.begin_open(id)
//! request = op.step()              # ("get", id), ("insert", id, data), ("replace", id, data,
//! while request is not None:       #  expected), ("delete", id, expected | None) or ("ids",)
//!     try: reply = await perform(request)
//!     except Exception as e: request = op.throw(e); continue
//!     request = op.step(reply)
//! result = op.finish()             # raises the operation's error, folds its events in
//! ```
//!
//! On a manager configured for Redis (`Manager(redis_prefix=...)`) the same operations run
//! over a `RedisStepper`: each request is a batch of commands (`list[list[str]]`) to send
//! as one pipeline, answered with the list of replies (None, int, str or bytes, lists, and
//! the exception instance of a command Redis refused); `throw` reports a transport failure.
//! `tenure.SessionManager` drives it with a blocking client, `tenure.aio` with redis.asyncio.

use crate::errors::core_err;
use crate::errors::to_py_err;
use crate::host::{bool_reply, bytes_reply, count_reply, due_reply, ids_reply, maybe_ids_reply};
use crate::locks::with_lock;
use crate::manager::{infos, metrics_dict, Manager};
use crate::session::Session;
use pyo3::exceptions::PyBaseException;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyFloat, PyInt, PyList, PySet, PyString, PyTuple};
use pyo3::IntoPyObjectExt;
use std::sync::atomic::Ordering;
use tenure::__private::ops::{self, Cx, Effects};
use tenure::__private::stepper::{RedisStepper, Step, Stepper};
use tenure::redis::{Command, RedisConfig, RedisReply};
use tenure::{
    ByteReply, ByteRequest, DataMap, Error, Limits, OsEntropy, Record, SessionInfo, StoreError,
};

/// What an operation produced, before it becomes a Python value.
enum Out {
    /// `create`, `open`, `peek`.
    Session(Option<tenure::Session>),
    /// `commit`, `regenerate`: the snapshot as stored, and how many of the target session's
    /// changes it carried (later ones are re-applied on top by `adopt`).
    Adopt(tenure::Session, usize),
    Bool(bool),
    Count(usize),
    /// `metrics`: the number of stored sessions.
    Metrics(usize),
    Infos(Vec<SessionInfo>),
    Page(Vec<SessionInfo>, Option<String>),
    Deadline(Option<u64>),
    Blob(Vec<u8>),
}

type Done = (Result<Out, Error>, Effects);

/// One operation in flight (see the module documentation). Not thread-safe: it belongs to
/// the event loop that started it.
#[pyclass(unsendable, module = "tenure._native")]
pub struct PendingOp {
    stepper: Driver,
    manager: Py<Manager>,
    /// The session a commit or regenerate writes its result into.
    target: Option<Py<Session>>,
    /// The request Python is performing now (its method name).
    asked: Option<&'static str>,
    started: bool,
    done: Option<Done>,
}

/// The stepper an operation runs on: over the host's byte store (the store protocol), or
/// over Redis (each request a batch of commands, sent as one pipeline).
enum Driver {
    Bytes(Stepper<Done>),
    Redis(RedisStepper<Done>),
}

/// What an operation starts from: the manager's context, decoding limits and, when the
/// manager keeps its sessions in Redis, how.
fn context(manager: &Bound<'_, Manager>) -> (Cx<OsEntropy>, Limits, Option<RedisConfig>) {
    let py = manager.py();
    let (cx, limits) = with_lock(py, &manager.get().core, |m| {
        (m.context(OsEntropy), *m.policy().limits())
    });
    (cx, limits, manager.get().redis.clone())
}

impl PendingOp {
    fn new(manager: &Bound<'_, Manager>, target: Option<Py<Session>>, stepper: Driver) -> Self {
        PendingOp {
            stepper,
            manager: manager.clone().unbind(),
            target,
            asked: None,
            started: false,
            done: None,
        }
    }
}

/// `op!(manager, target, |cx, port| body)`: an operation whose `body` (an expression
/// using `.await`, giving `Result<Out, Error>`) runs with an owned context and port. The
/// body is written once and runs over whichever port the manager uses (the store
/// protocol's bytes, or Redis commands): both are `tenure::__private::port::Port`s.
macro_rules! op {
    ($m:expr, $target:expr, |$cx:ident, $port:ident| $body:expr) => {{
        let (cx, limits, redis) = context($m);
        let stepper = match redis {
            None => Driver::Bytes(Stepper::new(limits, move |mut $port| async move {
                let mut $cx = cx;
                let r: Result<Out, Error> = $body;
                (r, $cx.into_effects())
            })),
            Some(config) => {
                Driver::Redis(RedisStepper::redis(config, move |mut $port| async move {
                    let mut $cx = cx;
                    let r: Result<Out, Error> = $body;
                    (r, $cx.into_effects())
                }))
            }
        };
        PendingOp::new($m, $target, stepper)
    }};
}

pub fn create(
    m: &Bound<'_, Manager>,
    principal: Option<String>,
    data: Option<DataMap>,
) -> PendingOp {
    op!(m, None, |cx, port| ops::create(
        &mut cx,
        &mut port,
        principal.as_deref(),
        data
    )
    .await
    .map(|s| Out::Session(Some(s))))
}

pub fn open(m: &Bound<'_, Manager>, id: String) -> PendingOp {
    op!(m, None, |cx, port| ops::open(&mut cx, &mut port, &id)
        .await
        .map(Out::Session))
}

pub fn peek(m: &Bound<'_, Manager>, id: String) -> PendingOp {
    op!(m, None, |cx, port| ops::peek(&mut cx, &mut port, &id)
        .await
        .map(Out::Session))
}

/// A commit or regenerate runs on a snapshot of the session taken now, so the application
/// may keep using (and changing) the session meanwhile; `finish` adopts the result.
pub fn commit(
    m: &Bound<'_, Manager>,
    session: &Bound<'_, Session>,
    regenerate: Option<bool>,
) -> PendingOp {
    let py = m.py();
    let snapshot = with_lock(py, &session.get().inner, |s| s.clone());
    let n = snapshot.changes().ops().len();
    op!(m, Some(session.clone().unbind()), |cx, port| {
        let mut s = snapshot;
        let r = match regenerate {
            None => ops::commit(&mut cx, &mut port, &mut s).await,
            Some(clear) => ops::regenerate(&mut cx, &mut port, &mut s, clear).await,
        };
        r.map(|()| Out::Adopt(s, n))
    })
}

pub fn destroy(m: &Bound<'_, Manager>, id: String) -> PendingOp {
    op!(m, None, |cx, port| ops::destroy(&mut cx, &mut port, &id)
        .await
        .map(Out::Bool))
}

pub fn destroy_all_of(
    m: &Bound<'_, Manager>,
    principal: String,
    except: Option<String>,
) -> PendingOp {
    op!(m, None, |cx, port| ops::destroy_all_of(
        &mut cx,
        &mut port,
        &principal,
        except.as_deref()
    )
    .await
    .map(Out::Count))
}

pub fn destroy_all(m: &Bound<'_, Manager>) -> PendingOp {
    op!(m, None, |cx, port| ops::destroy_all(&mut cx, &mut port)
        .await
        .map(Out::Count))
}

pub fn sessions_of(m: &Bound<'_, Manager>, principal: String) -> PendingOp {
    op!(m, None, |cx, port| ops::sessions_of(
        &mut cx, &mut port, &principal
    )
    .await
    .map(Out::Infos))
}

pub fn count(m: &Bound<'_, Manager>) -> PendingOp {
    op!(m, None, |cx, port| ops::count(&mut cx, &mut port)
        .await
        .map(Out::Count))
}

pub fn list(m: &Bound<'_, Manager>, cursor: Option<String>, limit: usize) -> PendingOp {
    op!(m, None, |cx, port| ops::list(
        &mut cx,
        &mut port,
        cursor.as_deref(),
        limit
    )
    .await
    .map(|(page, next)| Out::Page(page, next)))
}

pub fn sweep(m: &Bound<'_, Manager>) -> PendingOp {
    op!(m, None, |cx, port| ops::sweep(&mut cx, &mut port)
        .await
        .map(Out::Count))
}

pub fn next_deadline(m: &Bound<'_, Manager>) -> PendingOp {
    op!(m, None, |cx, port| {
        let _ = &mut cx; // needs no context
        ops::next_deadline(&mut port).await.map(Out::Deadline)
    })
}

pub fn metrics(m: &Bound<'_, Manager>) -> PendingOp {
    op!(m, None, |cx, port| {
        let _ = &mut cx; // the counters are the manager's, added by finish
        ops::stored(&mut port).await.map(Out::Metrics)
    })
}

pub fn export(m: &Bound<'_, Manager>) -> PendingOp {
    op!(m, None, |cx, port| ops::export(&mut cx, &mut port)
        .await
        .map(Out::Blob))
}

pub fn import(m: &Bound<'_, Manager>, blob: Vec<u8>) -> PendingOp {
    op!(m, None, |cx, port| ops::import(&mut cx, &mut port, &blob)
        .await
        .map(Out::Count))
}

fn request_tuple<'py>(py: Python<'py>, r: &ByteRequest) -> PyResult<Bound<'py, PyAny>> {
    let t = match r {
        ByteRequest::Get { id } => ("get", id.as_str()).into_pyobject(py)?,
        ByteRequest::Insert { id, bytes } => {
            ("insert", id.as_str(), PyBytes::new(py, bytes)).into_pyobject(py)?
        }
        ByteRequest::Replace {
            id,
            bytes,
            expected,
        } => ("replace", id.as_str(), PyBytes::new(py, bytes), *expected).into_pyobject(py)?,
        ByteRequest::Delete { id, expected } => {
            ("delete", id.as_str(), *expected).into_pyobject(py)?
        }
        ByteRequest::Ids => ("ids",).into_pyobject(py)?,
        ByteRequest::Count => ("count",).into_pyobject(py)?,
        ByteRequest::Due { through, limit } => ("due", *through, *limit).into_pyobject(py)?,
        ByteRequest::IdsOf { principal } => ("ids_of", principal.as_str()).into_pyobject(py)?,
        ByteRequest::Unindex { id, deadline } => {
            ("unindex", id.as_str(), *deadline).into_pyobject(py)?
        }
    };
    Ok(t.into_any())
}

/// A batch of Redis commands as `list[list[str]]`, for one pipeline.
fn batch_list<'py>(py: Python<'py>, batch: &[Command]) -> PyResult<Bound<'py, PyAny>> {
    let list = PyList::empty(py);
    for c in batch {
        list.append(PyList::new(py, c.args())?)?;
    }
    Ok(list.into_any())
}

/// The request name `asked` holds while Redis performs a batch.
const REDIS: &str = "redis";

impl PendingOp {
    /// Checks the answer to the request `name` (in Rust: a wrong type is a `StoreError`).
    fn answer(
        &mut self,
        py: Python<'_>,
        name: &'static str,
        reply: &Bound<'_, PyAny>,
    ) -> Result<ByteReply, StoreError> {
        let parsed: PyResult<Result<ByteReply, String>> = match name {
            "get" => bytes_reply(name, reply).map(|r| r.map(ByteReply::Bytes)),
            "ids" => ids_reply(reply).map(|ids| Ok(ByteReply::Ids(ids))),
            // The optional index methods: a store without one is answered None by the driver.
            "count" => count_reply(reply).map(|n| Ok(ByteReply::Count(n))),
            "due" => due_reply(reply).map(|d| Ok(ByteReply::Due(d))),
            "ids_of" => maybe_ids_reply(reply).map(|ids| Ok(ByteReply::IdsOf(ids))),
            "unindex" if reply.is_none() => Ok(Ok(ByteReply::Done(false))),
            _ => bool_reply(name, reply).map(|r| r.map(ByteReply::Done)),
        };
        match parsed {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(msg)) => Err(StoreError::new(msg)),
            Err(e) => Err(self.store_raised(py, name, e)),
        }
    }

    fn store_raised(&mut self, py: Python<'_>, name: &str, e: PyErr) -> StoreError {
        let msg = if name == REDIS {
            format!(
                "the Redis client raised {}",
                e.value(py)
                    .repr()
                    .map_or_else(|_| e.to_string(), |r| r.to_string())
            )
        } else {
            format!("store.{name} raised {}", e.value(py))
        };
        StoreError::with_cause(msg, e)
    }

    /// Resumes the stepper with the answer to the request `name` (the host's reply, or
    /// what its store raised); returns the next request for Python, or None when done.
    fn advance<'py>(
        &mut self,
        py: Python<'py>,
        answer: Option<(&'static str, Result<Bound<'py, PyAny>, StoreError>)>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.started = true;
        let step = if matches!(self.stepper, Driver::Redis(_)) {
            let answer = answer
                .map(|(_, r)| r.and_then(|reply| redis_replies(&reply).map_err(StoreError::new)));
            self.resume(py, Answer::Redis(answer))?
        } else {
            let answer = answer.map(|(name, r)| r.and_then(|reply| self.answer(py, name, &reply)));
            self.resume(py, Answer::Bytes(answer))?
        };
        match step {
            Step::Io(request) => Ok(Some(request)),
            Step::Done(out) => {
                self.done = Some(out);
                Ok(None)
            }
            Step::Spent => Err(PyRuntimeError::new_err(
                "this operation is over: call finish()",
            )),
        }
    }
}

/// An answer for the stepper, parsed for its kind.
enum Answer {
    Bytes(Option<Result<ByteReply, StoreError>>),
    Redis(Option<Result<Vec<RedisReply>, StoreError>>),
}

impl PendingOp {
    /// Resumes the stepper; the next request as a Python value.
    fn resume<'py>(
        &mut self,
        py: Python<'py>,
        answer: Answer,
    ) -> PyResult<Step<Done, Bound<'py, PyAny>>> {
        Ok(match (&mut self.stepper, answer) {
            (Driver::Bytes(stepper), Answer::Bytes(answer)) => match stepper.resume(answer) {
                Step::Io(request) => {
                    self.asked = Some(request.name());
                    Step::Io(request_tuple(py, &request)?)
                }
                Step::Done(out) => Step::Done(out),
                Step::Spent => Step::Spent,
            },
            (Driver::Redis(stepper), Answer::Redis(answer)) => match stepper.resume(answer) {
                Step::Io(batch) => {
                    self.asked = Some(REDIS);
                    Step::Io(batch_list(py, &batch)?)
                }
                Step::Done(out) => Step::Done(out),
                Step::Spent => Step::Spent,
            },
            _ => {
                return Err(PyRuntimeError::new_err(
                    "an answer for the wrong kind of store",
                ))
            }
        })
    }
}

/// Bounds the nesting of a Redis reply (the core's replies nest two deep).
const MAX_REPLY_DEPTH: usize = 8;

/// The replies of a pipeline, one per command, from redis-py's shapes: None, int (and
/// bool), str or UTF-8 bytes, lists (also tuples), and the exception instance a failed
/// command left in its place. A RESP3 connection (redis-py 8's default) also gives maps
/// (read as RESP2's flat key, value, ... lists), sets (lists) and doubles (their text).
fn redis_replies(reply: &Bound<'_, PyAny>) -> Result<Vec<RedisReply>, String> {
    if !(reply.is_instance_of::<PyList>() || reply.is_instance_of::<PyTuple>()) {
        return Err(format!(
            "the Redis client answered a batch with {}, not a list of replies",
            type_name(reply)
        ));
    }
    let items = reply.try_iter().map_err(|e| e.to_string())?;
    items
        .map(|r| {
            let r = r.map_err(|e| e.to_string())?;
            redis_reply(&r, 0)
        })
        .collect()
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".into(), |n| n.to_string())
}

fn redis_reply(r: &Bound<'_, PyAny>, depth: usize) -> Result<RedisReply, String> {
    if depth > MAX_REPLY_DEPTH {
        return Err("a Redis reply nests too deep".into());
    }
    if r.is_none() {
        return Ok(RedisReply::Nil);
    }
    if r.is_instance_of::<PyBaseException>() {
        return Ok(RedisReply::Error(error_text(r)));
    }
    if r.is_instance_of::<PyInt>() {
        return r
            .extract::<i64>()
            .map(RedisReply::Int)
            .map_err(|_| "a Redis integer reply beyond i64".to_string());
    }
    if let Ok(f) = r.cast::<PyFloat>() {
        // A RESP3 double (a sorted set's score): the text RESP2 would have sent.
        return Ok(RedisReply::Text(f.value().to_string()));
    }
    if let Ok(s) = r.cast::<PyString>() {
        return s
            .to_cow()
            .map(|s| RedisReply::Text(s.into_owned()))
            .map_err(|e| e.to_string());
    }
    if let Ok(b) = r.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec())
            .map(RedisReply::Text)
            .map_err(|_| "a Redis reply is not UTF-8 text".to_string());
    }
    if let Ok(d) = r.cast::<PyDict>() {
        let mut out = Vec::with_capacity(d.len() * 2);
        for (k, v) in d.iter() {
            out.push(redis_reply(&k, depth + 1)?);
            out.push(redis_reply(&v, depth + 1)?);
        }
        return Ok(RedisReply::List(out));
    }
    if r.is_instance_of::<PyList>() || r.is_instance_of::<PyTuple>() || r.is_instance_of::<PySet>()
    {
        let items = r.try_iter().map_err(|e| e.to_string())?;
        return items
            .map(|x| redis_reply(&x.map_err(|e| e.to_string())?, depth + 1))
            .collect::<Result<_, _>>()
            .map(RedisReply::List);
    }
    Err(format!(
        "the Redis client answered with a {}, which is not a Redis reply \
         (a client that converts replies? tenure.redis sends raw commands)",
        type_name(r)
    ))
}

/// An error reply's text as Redis sent it: redis-py strips the code (`NOSCRIPT`, ...) into
/// the exception's `status_code` or class; it is put back, since the core reads it.
fn error_text(e: &Bound<'_, PyAny>) -> String {
    let msg = e.str().map_or_else(|_| String::new(), |s| s.to_string());
    let code: Option<String> = e
        .getattr("status_code")
        .ok()
        .and_then(|c| c.extract::<String>().ok())
        .or_else(|| match type_name(e).as_str() {
            "NoScriptError" => Some("NOSCRIPT".into()),
            _ => None,
        });
    match code {
        Some(c) if !msg.starts_with(&c) => format!("{c} {msg}"),
        _ => msg,
    }
}

#[pymethods]
impl PendingOp {
    /// Advances the operation: with the answer to the request it last asked for (the
    /// first call's argument is ignored). Returns the next request, or None when the
    /// operation is over (then call `finish`): a tuple for a store, or for Redis a batch
    /// of commands (`list[list[str]]`) to send as one pipeline, answered with the list of
    /// their replies.
    #[pyo3(signature = (reply=None))]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        reply: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let answer = match self.asked.take() {
            Some(name) => {
                let reply = reply.unwrap_or_else(|| py.None().into_bound(py));
                Some((name, Ok(reply)))
            }
            None if !self.started => None,
            None => {
                return Err(PyRuntimeError::new_err(
                    "this operation is over: call finish()",
                ))
            }
        };
        self.advance(py, answer)
    }

    /// Reports that the store raised `error` performing the last request; the operation
    /// rolls back (it may ask for more requests to do so) and `finish` raises
    /// `StoreError` with `error` as its `__cause__`.
    fn throw<'py>(
        &mut self,
        py: Python<'py>,
        error: Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(name) = self.asked.take() else {
            return Err(PyRuntimeError::new_err(
                "throw(): no store request is outstanding",
            ));
        };
        let e = PyErr::from_value(error);
        let err = self.store_raised(py, name, e);
        self.advance(py, Some((name, Err(err))))
    }

    /// Whether this operation runs over Redis (its requests are command batches).
    #[getter]
    fn redis(&self) -> bool {
        matches!(self.stepper, Driver::Redis(_))
    }

    /// Whether the operation is over (`finish` may be called).
    #[getter]
    fn done(&self) -> bool {
        self.done.is_some()
    }

    /// The operation's result, or its error raised. Folds its events and counters into
    /// the manager; a commit or regenerate writes the new state into its session, keeping
    /// changes made to it since the operation began.
    fn finish(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let Some((r, effects)) = self.done.take() else {
            return Err(PyRuntimeError::new_err(if self.started {
                "finish(): the operation is not over (or was already finished)"
            } else {
                "finish(): the operation has not started: call step()"
            }));
        };
        let manager = self.manager.get();
        let listening = manager.listening.load(Ordering::Relaxed);
        let active = match &r {
            Ok(Out::Metrics(n)) => Some(*n),
            _ => None,
        };
        let metrics = with_lock(py, &manager.core, |m| {
            m.absorb(effects);
            if !listening {
                m.drain_events();
            }
            active.map(|n| m.metrics_with(n))
        });
        let out = r.map_err(|e| to_py_err(py, &e))?;
        match out {
            Out::Session(s) => s.map(Session::wrap).into_py_any(py),
            Out::Adopt(stored, n) => {
                let target = self
                    .target
                    .as_ref()
                    .ok_or_else(|| PyRuntimeError::new_err("no session to adopt into"))?;
                let target = target.bind(py).get();
                with_lock(py, &target.inner, |s| s.adopt(stored, n))
                    .map_err(|e| core_err(py, e))?;
                Ok(py.None())
            }
            Out::Bool(b) => b.into_py_any(py),
            Out::Count(n) => n.into_py_any(py),
            Out::Metrics(_) => match metrics {
                Some(x) => metrics_dict(py, &x)?.into_py_any(py),
                None => Err(PyRuntimeError::new_err("metrics went missing")),
            },
            Out::Infos(rs) => infos(py, &rs)?.into_py_any(py),
            Out::Page(rs, next) => (infos(py, &rs)?, next).into_py_any(py),
            Out::Deadline(d) => d.into_py_any(py),
            Out::Blob(b) => PyBytes::new(py, &b).into_py_any(py),
        }
    }

    fn __repr__(&self) -> String {
        let state = if self.done.is_some() {
            "done"
        } else if let Some(name) = self.asked {
            name
        } else if self.started {
            "finished"
        } else {
            "not started"
        };
        format!("<tenure PendingOp ({state})>")
    }
}

/// The `version` of an encoded record (what `replace` and `delete` compare with
/// `expected`), or None if the bytes are not a v1 record.
#[pyfunction]
pub fn record_version(data: &[u8]) -> Option<u64> {
    tenure::stored_version(data)
}

/// A session that is not stored (yet): an id minted like any other, the policy's timeouts,
/// no data. A web request that first writes to its session gets one, synchronously; the
/// async middleware stores it with `create` + [`rebase`] when the response starts.
pub fn draft(m: &Bound<'_, Manager>) -> PyResult<Session> {
    let py = m.py();
    let (policy, now) = with_lock(py, &m.get().core, |c| (*c.policy(), c.now()));
    let id = tenure::__private::generate(&mut OsEntropy, policy.id_bytes())
        .map_err(|e| core_err(py, e))?;
    let record = Record::new(id, now, policy.idle_timeout(), policy.absolute_timeout());
    Ok(Session::wrap(tenure::Session::from_record(
        record,
        *policy.limits(),
    )))
}

/// Replays every change of `session` onto `onto` (a stored session) and makes `session`
/// that session, with those changes pending: how a draft becomes a stored session.
pub fn rebase(py: Python<'_>, session: &Session, onto: &Session) -> PyResult<()> {
    let stored = with_lock(py, &onto.inner, |s| s.clone());
    with_lock(py, &session.inner, |s| s.adopt(stored, 0)).map_err(|e| core_err(py, e))
}
