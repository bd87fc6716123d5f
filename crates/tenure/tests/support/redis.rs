#![allow(dead_code)] // each test binary uses part of it
//! A redis-server of the test's own (on a free port, in a temporary folder, stopped when
//! dropped) and a minimal blocking RESP2 client that carries the core's commands to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};
use tenure::redis::{Command, RedisReply};
use tenure::StoreError;

/// A running redis-server, killed on drop.
pub struct RedisServer {
    child: Child,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl RedisServer {
    /// Starts redis-server (installed by `make test`) on a free port.
    pub fn start() -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        RedisServer::start_on(port)
    }

    /// Starts redis-server on `port` (a restart on the port of one that was stopped).
    pub fn start_on(port: u16) -> RedisServer {
        let dir = std::env::temp_dir().join(format!("tenure-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Process::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (make test installs it)");
        let server = RedisServer { child, port, dir };
        let start = Instant::now();
        while Resp::connect(port).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn client(&self) -> Resp {
        Resp::connect(self.port).unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A blocking RESP2 connection.
pub struct Resp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Resp {
    pub fn connect(port: u16) -> std::io::Result<Resp> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut r = Resp {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        };
        match r.call(vec![Command(vec!["PING".into()])]) {
            Ok(_) => Ok(r),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
    }

    /// Sends a batch as one pipeline and reads one reply per command.
    pub fn call(&mut self, batch: Vec<Command>) -> Result<Vec<RedisReply>, StoreError> {
        let io = |e: std::io::Error| StoreError::new(format!("redis: {e}"));
        let mut out = Vec::new();
        for c in &batch {
            out.extend_from_slice(format!("*{}\r\n", c.0.len()).as_bytes());
            for a in &c.0 {
                out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                out.extend_from_slice(a.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
        self.writer.write_all(&out).map_err(io)?;
        (0..batch.len()).map(|_| self.read().map_err(io)).collect()
    }

    /// One command, for test set-up and inspection.
    pub fn cmd(&mut self, args: &[&str]) -> RedisReply {
        let c = Command(args.iter().map(|s| s.to_string()).collect());
        self.call(vec![c]).unwrap().pop().unwrap()
    }

    fn read(&mut self) -> std::io::Result<RedisReply> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line.split_at(1.min(line.len()));
        let bad = || std::io::Error::other(format!("bad RESP line {line:?}"));
        Ok(match kind {
            "+" => RedisReply::Text(rest.into()),
            "-" => RedisReply::Error(rest.into()),
            ":" => RedisReply::Int(rest.parse().map_err(|_| bad())?),
            "$" => {
                let n: i64 = rest.parse().map_err(|_| bad())?;
                if n < 0 {
                    RedisReply::Nil
                } else {
                    let mut buf = vec![0; n as usize + 2];
                    self.reader.read_exact(&mut buf)?;
                    buf.truncate(n as usize);
                    RedisReply::Text(String::from_utf8(buf).map_err(|_| bad())?)
                }
            }
            "*" => {
                let n: i64 = rest.parse().map_err(|_| bad())?;
                if n < 0 {
                    RedisReply::Nil
                } else {
                    RedisReply::List((0..n).map(|_| self.read()).collect::<Result<_, _>>()?)
                }
            }
            _ => return Err(bad()),
        })
    }
}
