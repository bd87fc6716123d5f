//! Operations driven by Python's event loop: a [`PendingOp`] is one manager operation
//! (from `tenure::ops`) running over a [`Stepper`]. Python performs each storage request it
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

use crate::errors::to_py_err;
use crate::host::{bool_reply, bytes_reply, ids_reply};
use crate::{core_err, info, metrics_dict, with_lock, Manager, Session};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use pyo3::IntoPyObjectExt;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tenure::ops::{self, Cx, Effects};
use tenure::stepper::{ChannelPort, Step, Stepper};
use tenure::{ByteReply, ByteRequest, DataMap, Encoded, Error, OsEntropy, Record, StoreError};

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
    Records(Vec<Arc<Record>>),
    Page(Vec<Arc<Record>>, Option<String>),
    Deadline(Option<u64>),
    Blob(Vec<u8>),
}

type Done = (Result<Out, Error>, Effects);

/// One operation in flight (see the module documentation). Not thread-safe: it belongs to
/// the event loop that started it.
#[pyclass(unsendable, module = "tenure._native")]
pub struct PendingOp {
    stepper: Stepper<Done>,
    manager: Py<Manager>,
    /// The session a commit or regenerate writes its result into.
    target: Option<Py<Session>>,
    /// The request Python is performing now (its method name).
    asked: Option<&'static str>,
    started: bool,
    done: Option<Done>,
    /// The exception the store raised, for the `__cause__` of the `StoreError`.
    cause: Option<PyErr>,
}

fn begin<F, Fut>(manager: &Bound<'_, Manager>, target: Option<Py<Session>>, op: F) -> PendingOp
where
    F: FnOnce(Cx<OsEntropy>, Encoded<ChannelPort>) -> Fut,
    Fut: Future<Output = Done> + 'static,
{
    let py = manager.py();
    let (cx, limits) = with_lock(py, &manager.get().core, |m| {
        (m.context(OsEntropy), *m.policy().limits())
    });
    PendingOp {
        stepper: Stepper::new(limits, |port| op(cx, port)),
        manager: manager.clone().unbind(),
        target,
        asked: None,
        started: false,
        done: None,
        cause: None,
    }
}

/// `op!(manager, target, |cx, port| body)`: an operation whose `body` (an expression
/// using `.await`, giving `Result<Out, Error>`) runs with an owned context and port.
macro_rules! op {
    ($m:expr, $target:expr, |$cx:ident, $port:ident| $body:expr) => {
        begin($m, $target, move |mut $cx, mut $port| async move {
            let r: Result<Out, Error> = $body;
            (r, $cx.into_effects())
        })
    };
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
    .map(Out::Records))
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

fn request_tuple<'py>(py: Python<'py>, r: &ByteRequest) -> PyResult<Bound<'py, PyTuple>> {
    match r {
        ByteRequest::Get { id } => ("get", id.as_str()).into_pyobject(py),
        ByteRequest::Insert { id, bytes } => {
            ("insert", id.as_str(), PyBytes::new(py, bytes)).into_pyobject(py)
        }
        ByteRequest::Replace {
            id,
            bytes,
            expected,
        } => ("replace", id.as_str(), PyBytes::new(py, bytes), *expected).into_pyobject(py),
        ByteRequest::Delete { id, expected } => {
            ("delete", id.as_str(), *expected).into_pyobject(py)
        }
        ByteRequest::Ids => ("ids",).into_pyobject(py),
    }
}

fn records<'py>(py: Python<'py>, rs: &[Arc<Record>]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for r in rs {
        list.append(info(py, r)?)?;
    }
    Ok(list)
}

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
            _ => bool_reply(name, reply).map(|r| r.map(ByteReply::Done)),
        };
        match parsed {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(msg)) => Err(StoreError::new(msg)),
            Err(e) => Err(self.store_raised(py, name, e)),
        }
    }

    fn store_raised(&mut self, py: Python<'_>, name: &str, e: PyErr) -> StoreError {
        let msg = format!("store.{name} raised {}", e.value(py));
        self.cause = Some(e);
        StoreError::new(msg)
    }

    fn advance<'py>(
        &mut self,
        py: Python<'py>,
        answer: Option<Result<ByteReply, StoreError>>,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.started = true;
        match self.stepper.resume(answer) {
            Step::Io(request) => {
                self.asked = Some(request.name());
                request_tuple(py, &request).map(Some)
            }
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

#[pymethods]
impl PendingOp {
    /// Advances the operation: with the answer to the request it last asked for (the
    /// first call's argument is ignored). Returns the next request as a tuple, or None
    /// when the operation is over (then call `finish`).
    #[pyo3(signature = (reply=None))]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        reply: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let answer = match self.asked.take() {
            Some(name) => {
                let reply = reply.unwrap_or_else(|| py.None().into_bound(py));
                Some(self.answer(py, name, &reply))
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
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(name) = self.asked.take() else {
            return Err(PyRuntimeError::new_err(
                "throw(): no store request is outstanding",
            ));
        };
        let e = PyErr::from_value(error);
        let err = self.store_raised(py, name, e);
        self.advance(py, Some(Err(err)))
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
        let out = r.map_err(|e| to_py_err(py, &e, self.cause.take()))?;
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
            Out::Records(rs) => records(py, &rs)?.into_py_any(py),
            Out::Page(rs, next) => (records(py, &rs)?, next).into_py_any(py),
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
    tenure::record::stored_version(data)
}

/// A session that is not stored (yet): an id minted like any other, the policy's timeouts,
/// no data. A web request that first writes to its session gets one, synchronously; the
/// async middleware stores it with `create` + [`rebase`] when the response starts.
pub fn draft(m: &Bound<'_, Manager>) -> PyResult<Session> {
    let py = m.py();
    let (policy, now) = with_lock(py, &m.get().core, |c| (*c.policy(), c.now()));
    let id =
        tenure::id::generate(&mut OsEntropy, policy.id_bytes()).map_err(|e| core_err(py, e))?;
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
