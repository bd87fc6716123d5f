//! The store contract over Redis: each [`Request`] becomes a batch of commands (one round
//! trip in the common case) and the replies become its [`Reply`].

use super::command::{Command, CommandPort, RedisReply};
use super::layout::{self, data_field, due_score, optional_meta, value_text, Layout};
use super::{RedisConfig, SCRIPT, SCRIPT_SHA1};
use crate::clock::Millis;
use crate::error::StoreError;
use crate::format::record::Record;
use crate::store::port::Port;
use crate::store::{Cas, Changes, Page, Reply, Request};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::borrow::Borrow;

/// How many sessions one sweep round looks at.
const REAP_BATCH: usize = 100;

/// The [`Port`] of a Redis store: builds the commands, sends them through `C`, reads the
/// replies. Built per operation; cheap. `K` is the [`RedisConfig`], owned or borrowed.
#[derive(Debug)]
pub struct RedisPort<C, K> {
    commands: C,
    config: K,
}

fn cmd<const N: usize>(args: [&str; N]) -> Command {
    Command(args.iter().map(|a| String::from(*a)).collect())
}

fn unexpected(what: &str, reply: &RedisReply) -> StoreError {
    StoreError::new(format!("Redis answered {what} with {reply:?}"))
}

/// Field/value pairs from an `HGETALL` reply.
fn pairs(what: &str, reply: RedisReply) -> Result<Vec<(String, String)>, StoreError> {
    match reply {
        RedisReply::List(items) => {
            let mut out = Vec::with_capacity(items.len() / 2);
            let mut it = items.into_iter();
            while let Some(f) = it.next() {
                match (f, it.next()) {
                    (RedisReply::Text(f), Some(RedisReply::Text(v))) => out.push((f, v)),
                    (f, _) => return Err(unexpected(what, &f)),
                }
            }
            Ok(out)
        }
        RedisReply::Nil => Ok(Vec::new()),
        other => Err(unexpected(what, &other)),
    }
}

fn int(what: &str, reply: &RedisReply) -> Result<i64, StoreError> {
    match reply {
        RedisReply::Int(i) => Ok(*i),
        RedisReply::Text(t) => t.parse().map_err(|_| unexpected(what, reply)),
        other => Err(unexpected(what, other)),
    }
}

/// The strings of a list reply.
fn texts(what: &str, reply: RedisReply) -> Result<Vec<String>, StoreError> {
    match reply {
        RedisReply::List(items) => items
            .into_iter()
            .map(|r| match r {
                RedisReply::Text(t) => Ok(t),
                other => Err(unexpected(what, &other)),
            })
            .collect(),
        RedisReply::Nil => Ok(Vec::new()),
        other => Err(unexpected(what, &other)),
    }
}

/// A script reply `{code, payload?}`.
fn script_reply(what: &str, reply: RedisReply) -> Result<(i64, Option<RedisReply>), StoreError> {
    match reply {
        RedisReply::List(items) => {
            let mut it = items.into_iter();
            let code = it
                .next()
                .ok_or_else(|| unexpected(what, &RedisReply::Nil))?;
            Ok((int(what, &code)?, it.next()))
        }
        other => Err(unexpected(what, &other)),
    }
}

impl<C: CommandPort, K: Borrow<RedisConfig>> RedisPort<C, K> {
    /// The contract over `commands`, as `config` lays it out.
    pub fn new(commands: C, config: K) -> Self {
        RedisPort { commands, config }
    }

    fn config(&self) -> &RedisConfig {
        self.config.borrow()
    }

    fn layout(&self) -> &Layout {
        &self.config().layout
    }

    /// `EVALSHA` of the script on session `id`'s hash with `args` after the mode.
    fn script(&self, id: &str, mut args: Vec<String>) -> Command {
        let mut all = Vec::with_capacity(args.len() + 4);
        all.push("EVALSHA".into());
        all.push(SCRIPT_SHA1.into());
        all.push("1".into());
        all.push(self.layout().session(id));
        all.append(&mut args);
        Command(all)
    }

    /// Sends a batch; a script Redis has forgotten (a restart, `SCRIPT FLUSH`) is sent
    /// again in full. Every other command of a batch is idempotent, so resending is safe.
    async fn send(&mut self, batch: Vec<Command>) -> Result<Vec<RedisReply>, StoreError> {
        let n = batch.len();
        let retry = batch.clone();
        let mut replies = self.commands.call(batch).await?;
        let forgotten = replies
            .iter()
            .any(|r| matches!(r, RedisReply::Error(e) if e.starts_with("NOSCRIPT")));
        if forgotten {
            let batch = retry
                .into_iter()
                .map(|mut c| {
                    if c.name() == "EVALSHA" {
                        c.0[0] = "EVAL".into();
                        c.0[1] = SCRIPT.into();
                    }
                    c
                })
                .collect();
            replies = self.commands.call(batch).await?;
        }
        if replies.len() != n {
            return Err(StoreError::new(format!(
                "the Redis client answered {} of {n} commands",
                replies.len()
            )));
        }
        if let Some(RedisReply::Error(e)) =
            replies.iter().find(|r| matches!(r, RedisReply::Error(_)))
        {
            return Err(StoreError::new(format!("Redis refused a command: {e}")));
        }
        Ok(replies)
    }

    async fn one(&mut self, command: Command) -> Result<RedisReply, StoreError> {
        let mut r = self.send(vec![command]).await?;
        Ok(r.pop().unwrap_or(RedisReply::Nil))
    }

    fn decode(&self, id: &str, reply: RedisReply) -> Result<Option<Arc<Record>>, StoreError> {
        let pairs = pairs("a session read", reply)?;
        if pairs.is_empty() {
            return Ok(None);
        }
        layout::decode(id, &pairs, &self.config().limits).map(|r| Some(Arc::new(r)))
    }

    /// The time to live Redis keeps a record for: until its deadline (reckoned from its
    /// access time, so never short of it), plus the configured grace.
    fn ttl(&self, accessed: Millis, deadline: Option<Millis>) -> String {
        match deadline {
            Some(d) => d
                .saturating_sub(accessed)
                .saturating_add(self.config().grace)
                .max(1)
                .to_string(),
            None => String::new(),
        }
    }

    async fn get(&mut self, id: &str) -> Result<Option<Arc<Record>>, StoreError> {
        let reply = self
            .one(cmd(["HGETALL", &self.layout().session(id)]))
            .await?;
        self.decode(id, reply)
    }

    async fn insert(&mut self, record: Arc<Record>) -> Result<bool, StoreError> {
        let id = record.id.as_str();
        let l = self.layout();
        // The indexes first: they may then name a session that is not there (readers
        // check), but never miss one that is.
        let mut batch = vec![
            cmd(["ZADD", &l.ids(), "0", id]),
            cmd(["ZADD", &l.due(), &due_score(record.deadline()), id]),
        ];
        if let Some(p) = record.principal() {
            batch.push(cmd(["SADD", &l.principal(p), id]));
        }
        let mut args = vec![
            "insert".into(),
            self.ttl(record.accessed, record.deadline()),
        ];
        for (f, v) in layout::fields(&record) {
            args.push(f);
            args.push(v);
        }
        batch.push(self.script(id, args));
        let reply = self.send(batch).await?.pop().unwrap_or(RedisReply::Nil);
        Ok(script_reply("insert", reply)?.0 == 1)
    }

    async fn replace(
        &mut self,
        record: Arc<Record>,
        expected: u64,
        changes: Option<Changes>,
    ) -> Result<Cas, StoreError> {
        let id = record.id.as_str();
        let (mut del, mut set): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        let mut put = |f: String, v: Option<String>| match v {
            Some(v) => {
                set.push(f);
                set.push(v);
            }
            None => del.push(f),
        };
        let whole = changes.is_none();
        let changes = changes.unwrap_or(Changes {
            keys: Vec::new(),
            cleared: true,
            meta: true,
            touched: true,
        });
        if whole {
            put("created".into(), Some(record.created.to_string()));
        }
        if changes.touched {
            put("accessed".into(), Some(record.accessed.to_string()));
        }
        // The deadline moves with the access time and the timeouts, and only with them.
        let moved = changes.touched || changes.meta;
        if changes.meta {
            for (f, v) in optional_meta(&record) {
                put(f.into(), v);
            }
        } else if changes.touched {
            put("deadline".into(), record.deadline().map(|d| d.to_string()));
        }
        if changes.cleared {
            for (k, v) in record.data.iter() {
                put(data_field(k), Some(value_text(v)));
            }
        } else {
            for k in &changes.keys {
                put(data_field(k), record.data.get(k).map(value_text));
            }
        }
        let mut args = Vec::with_capacity(5 + del.len() + set.len());
        args.push("replace".into());
        args.push(expected.to_string());
        args.push(record.version.to_string());
        args.push(if moved {
            self.ttl(record.accessed, record.deadline())
        } else {
            "-".into()
        });
        let n = del.len().to_string();
        args.push(if changes.cleared { format!("c{n}") } else { n });
        args.append(&mut del);
        args.append(&mut set);
        let mut batch = Vec::with_capacity(2);
        if let (true, Some(p)) = (changes.meta, record.principal()) {
            // Possibly a new principal: indexed before the write (see insert).
            batch.push(cmd(["SADD", &self.layout().principal(p), id]));
        }
        batch.push(self.script(id, args));
        let at = batch.len() - 1;
        if moved {
            batch.push(self.rescore(id, record.deadline()));
        }
        let reply = self.send(batch).await?.swap_remove(at);
        match script_reply("replace", reply)? {
            (1, _) => Ok(Cas::Stored(record)),
            (_, current) => Ok(Cas::Conflict(
                self.decode(id, current.unwrap_or(RedisReply::Nil))?,
            )),
        }
    }

    async fn touch(
        &mut self,
        id: &str,
        accessed: Millis,
        expected: u64,
        deadline: Option<Millis>,
    ) -> Result<Cas, StoreError> {
        let args = vec![
            "touch".into(),
            expected.to_string(),
            self.ttl(accessed, deadline),
            accessed.to_string(),
            deadline.map(|d| d.to_string()).unwrap_or_default(),
        ];
        let batch = vec![self.script(id, args), self.rescore(id, deadline)];
        let reply = self.send(batch).await?.swap_remove(0);
        let (code, hash) = script_reply("touch", reply)?;
        let current = self.decode(id, hash.unwrap_or(RedisReply::Nil))?;
        Ok(match (code, current) {
            (1, Some(r)) => Cas::Stored(r),
            (_, current) => Cas::Conflict(current),
        })
    }

    /// Moves a session's `due` score up to its new deadline, in the batch of the write that
    /// moved it: `XX`, so a session destroyed meanwhile is not put back; `GT`, so a write
    /// that lost its race never lowers it.
    fn rescore(&self, id: &str, deadline: Option<Millis>) -> Command {
        cmd([
            "ZADD",
            &self.layout().due(),
            "XX",
            "GT",
            &due_score(deadline),
            id,
        ])
    }

    /// Drops `ids` from the indexes (they are gone for good: ids are never reused).
    fn unindex(&self, ids: &[&str], principals: &[(&str, &str)]) -> Vec<Command> {
        let l = self.layout();
        let mut batch = Vec::new();
        if !ids.is_empty() {
            for key in [l.ids(), l.due()] {
                let mut c = vec!["ZREM".to_string(), key];
                c.extend(ids.iter().map(|s| s.to_string()));
                batch.push(Command(c));
            }
        }
        for (id, p) in principals {
            batch.push(cmd(["SREM", &l.principal(p), id]));
        }
        batch
    }

    async fn remove(
        &mut self,
        id: &str,
        expected: Option<u64>,
    ) -> Result<Option<Arc<Record>>, StoreError> {
        let args = vec![
            "remove".into(),
            expected.map(|v| v.to_string()).unwrap_or_default(),
        ];
        let mut batch = vec![self.script(id, args)];
        if expected.is_none() {
            // Unconditional: the id leaves the indexes in the same round trip.
            batch.extend(self.unindex(&[id], &[]));
        }
        let reply = self.send(batch).await?.swap_remove(0);
        let (code, hash) = script_reply("remove", reply)?;
        if code != 1 {
            return Ok(None);
        }
        let pairs = pairs("remove", hash.unwrap_or(RedisReply::Nil))?;
        // A corrupt record is removed all the same; it reports as an unknown (epoch) record.
        let record = layout::decode(id, &pairs, &self.config().limits)
            .unwrap_or_else(|_| Record::new(id, 0, None, None));
        let principal = record.principal().map(|p| (id, p));
        let rest = if expected.is_none() {
            self.unindex(&[], principal.as_slice())
        } else {
            self.unindex(&[id], principal.as_slice())
        };
        if !rest.is_empty() {
            self.send(rest).await?;
        }
        Ok(Some(Arc::new(record)))
    }

    async fn page(&mut self, cursor: Option<&str>, limit: usize) -> Result<Page, StoreError> {
        let from = cursor.map_or_else(|| "-".to_string(), |c| format!("({c}"));
        let list = self
            .one(cmd([
                "ZRANGEBYLEX",
                &self.layout().ids(),
                &from,
                "+",
                "LIMIT",
                "0",
                &limit.to_string(),
            ]))
            .await?;
        let ids = texts("a listing", list)?;
        let next = (ids.len() == limit).then(|| ids.last().cloned()).flatten();
        let records = self.read_all(&ids).await?;
        Ok((records.into_iter().flatten().collect(), next))
    }

    /// The records of `ids` in one round trip (`None` for the missing; corrupt ones are
    /// skipped, as listings skip them in every store).
    async fn read_all(&mut self, ids: &[String]) -> Result<Vec<Option<Arc<Record>>>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let batch = ids
            .iter()
            .map(|id| cmd(["HGETALL", &self.layout().session(id)]))
            .collect();
        let replies = self.send(batch).await?;
        Ok(ids
            .iter()
            .zip(replies)
            .map(|(id, r)| self.decode(id, r).ok().flatten())
            .collect())
    }

    async fn ids_of(&mut self, principal: &str) -> Result<Vec<String>, StoreError> {
        let key = self.layout().principal(principal);
        let members = texts("SMEMBERS", self.one(cmd(["SMEMBERS", &key])).await?)?;
        if members.is_empty() {
            return Ok(members);
        }
        let batch = members
            .iter()
            .map(|id| cmd(["HMGET", &self.layout().session(id), "principal", "version"]))
            .collect();
        let replies = self.send(batch).await?;
        let (mut mine, mut gone) = (Vec::new(), Vec::new());
        for (id, reply) in members.into_iter().zip(replies) {
            match reply {
                RedisReply::List(f) => match (f.first(), f.get(1)) {
                    (_, Some(RedisReply::Nil) | None) => gone.push(id),
                    (Some(RedisReply::Text(p)), _) if p == principal => mine.push(id),
                    // Another principal now: left in the set (it may come back before a
                    // removal here could be ordered with it); gone when the session is.
                    _ => {}
                },
                other => return Err(unexpected("HMGET", &other)),
            }
        }
        if !gone.is_empty() {
            let mut c = vec!["SREM".to_string(), key];
            c.extend(gone);
            self.send(vec![Command(c)]).await?;
        }
        mine.sort_unstable();
        Ok(mine)
    }

    async fn remove_expired(
        &mut self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Arc<Record>>, StoreError> {
        let mut out = Vec::new();
        let now_text = now.to_string();
        while out.len() < limit {
            let want = (limit - out.len()).min(REAP_BATCH);
            let due = self.layout().due();
            let list = self
                .one(cmd([
                    "ZRANGEBYSCORE",
                    &due,
                    "-inf",
                    &now_text,
                    "LIMIT",
                    "0",
                    &want.to_string(),
                ]))
                .await?;
            let candidates = texts("a sweep", list)?;
            if candidates.is_empty() {
                break;
            }
            let batch = candidates
                .iter()
                .map(|id| self.script(id, vec!["reap".into(), now_text.clone()]))
                .collect();
            let replies = self.send(batch).await?;
            let (mut gone, mut reaped, mut later) = (Vec::new(), Vec::new(), Vec::new());
            for (id, reply) in candidates.iter().zip(replies) {
                match script_reply("reap", reply)? {
                    (1, hash) => {
                        gone.push(id.as_str());
                        let pairs = pairs("reap", hash.unwrap_or(RedisReply::Nil))?;
                        if let Ok(r) = layout::decode(id, &pairs, &self.config().limits) {
                            reaped.push(r);
                        }
                    }
                    (0, deadline) => {
                        let score = match deadline {
                            Some(RedisReply::Text(d)) if !d.is_empty() => d,
                            _ => "+inf".into(),
                        };
                        later.push((id.as_str(), score));
                    }
                    // Redis expired it itself: no record is left to report.
                    _ => gone.push(id.as_str()),
                }
            }
            let principals: Vec<(&str, &str)> = reaped
                .iter()
                .filter_map(|r| r.principal().map(|p| (r.id.as_str(), p)))
                .collect();
            let mut batch = self.unindex(&gone, &principals);
            if !later.is_empty() {
                // XX: a session destroyed meanwhile is not put back.
                let mut c = vec!["ZADD".to_string(), due, "XX".into()];
                for (id, score) in later {
                    c.push(score);
                    c.push(id.into());
                }
                batch.push(Command(c));
            }
            if !batch.is_empty() {
                self.send(batch).await?;
            }
            out.extend(reaped.into_iter().map(Arc::new));
            if candidates.len() < want {
                break;
            }
        }
        Ok(out)
    }

    async fn first_due(&mut self) -> Result<Option<(String, Option<Millis>)>, StoreError> {
        let reply = self
            .one(cmd([
                "ZRANGE",
                &self.layout().due(),
                "0",
                "0",
                "WITHSCORES",
            ]))
            .await?;
        // RESP2 answers `[id, score]`; RESP3 (the default of node-redis 5+ and ioredis 6)
        // answers `[[id, score]]` with the score a double, which a host may hand over as
        // an integer or as text.
        let items = match reply {
            RedisReply::List(mut items) if matches!(items.first(), Some(RedisReply::List(_))) => {
                match items.swap_remove(0) {
                    RedisReply::List(pair) => pair,
                    _ => Vec::new(),
                }
            }
            RedisReply::List(items) => items,
            RedisReply::Nil => Vec::new(),
            other => return Err(unexpected("ZRANGE", &other)),
        };
        let mut items = items.into_iter();
        Ok(match (items.next(), items.next()) {
            (Some(RedisReply::Text(id)), Some(score)) => {
                let at = match score {
                    RedisReply::Text(s) => s.parse::<f64>().ok(),
                    RedisReply::Int(i) => Some(i as f64),
                    other => return Err(unexpected("ZRANGE", &other)),
                }
                .filter(|s| s.is_finite());
                // Scores are whole milliseconds, exact in a double.
                Some((id, at.map(|s| s.max(0.0) as Millis)))
            }
            (None, _) | (_, None) => None,
            (Some(other), _) => return Err(unexpected("ZRANGE", &other)),
        })
    }
}

impl<C: CommandPort, K: Borrow<RedisConfig>> Port for RedisPort<C, K> {
    const CHANGES: bool = true;

    /// A count is a ZCARD round trip: not paid on every create.
    fn counts_cheaply(&self) -> bool {
        false
    }

    async fn call(&mut self, request: Request) -> Result<Reply, StoreError> {
        Ok(match request {
            Request::Get { id } => Reply::Record(self.get(&id).await?),
            Request::Insert { record } => Reply::Inserted(self.insert(record).await?),
            Request::Replace {
                record,
                expected,
                changes,
            } => Reply::Cas(self.replace(record, expected, changes).await?),
            Request::Touch {
                id,
                accessed,
                expected,
                deadline,
            } => Reply::Cas(self.touch(&id, accessed, expected, deadline).await?),
            Request::Remove { id, expected } => Reply::Record(self.remove(&id, expected).await?),
            Request::Len => {
                let n = int(
                    "ZCARD",
                    &self.one(cmd(["ZCARD", &self.layout().ids()])).await?,
                )?;
                Reply::Len(usize::try_from(n).unwrap_or(0))
            }
            Request::Page { cursor, limit } => {
                Reply::Page(self.page(cursor.as_deref(), limit).await?)
            }
            Request::IdsOf { principal } => Reply::Ids(self.ids_of(&principal).await?),
            Request::RemoveExpired { now, limit, .. } => {
                Reply::Records(self.remove_expired(now, limit).await?)
            }
            // Scores are lower bounds of deadlines (activity moves deadlines later without
            // rewriting the index): a sweep at this time may find the session alive.
            Request::NextDeadline => Reply::Deadline(self.first_due().await?.and_then(|d| d.1)),
            // The session closest to its deadline: for sessions of one idle timeout, the
            // least recently active one.
            Request::LeastRecent => Reply::Id(self.first_due().await?.map(|d| d.0)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::port::run_ready;

    /// Answers every batch with one fixed reply per command.
    struct Fixed(RedisReply);
    impl CommandPort for Fixed {
        async fn call(&mut self, batch: Vec<Command>) -> Result<Vec<RedisReply>, StoreError> {
            Ok(vec![self.0.clone(); batch.len()])
        }
    }

    fn next_deadline(reply: RedisReply) -> Result<Option<Millis>, StoreError> {
        let config = RedisConfig::default();
        let mut port = RedisPort::new(Fixed(reply), &config);
        match run_ready(port.call(Request::NextDeadline)).unwrap()? {
            Reply::Deadline(d) => Ok(d),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_first_due_score_reads_in_resp2_and_resp3_shapes() {
        let t = |s: &str| RedisReply::Text(s.into());
        let l = RedisReply::List;
        // RESP2: a flat pair, the score as text.
        assert_eq!(next_deadline(l(vec![t("a"), t("1700")])), Ok(Some(1700)));
        // RESP3: nested pairs, the score a double (handed over as an integer or as text).
        assert_eq!(
            next_deadline(l(vec![l(vec![t("a"), RedisReply::Int(1700)])])),
            Ok(Some(1700))
        );
        assert_eq!(next_deadline(l(vec![l(vec![t("a"), t("inf")])])), Ok(None));
        assert_eq!(next_deadline(l(vec![])), Ok(None));
        assert!(next_deadline(l(vec![RedisReply::Int(1), t("2")])).is_err());
        assert!(next_deadline(RedisReply::Int(3)).is_err());
    }
}
