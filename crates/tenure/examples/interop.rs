//! The Rust side of the cross-language interop test (tests/interop):
//!
//!   interop read <dir> <id>                  prints the session's record, as Rust encodes it
//!   interop import <dir> <now_ms> <blob>     imports an export blob into a FileStore folder
use std::process::ExitCode;
use tenure::FileStore;
use tenure::{EncodedStore, Limits, ManualClock, OsEntropy, Policy, SessionManager};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let open = |dir: &str, now: u64| {
        let store = EncodedStore::new(
            FileStore::new(dir).expect("store folder"),
            Limits::default(),
        );
        SessionManager::new(store, ManualClock::new(now), OsEntropy, Policy::default())
    };
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["read", dir, id] => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            match open(dir, now).peek(id) {
                Ok(Some(s)) => {
                    println!("{}", String::from_utf8_lossy(&s.record().encode()));
                    ExitCode::SUCCESS
                }
                Ok(None) => {
                    eprintln!("no live session {id}");
                    ExitCode::from(2)
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(3)
                }
            }
        }
        ["import", dir, now, blob] => {
            let blob = std::fs::read(blob).expect("blob file");
            match open(dir, now.parse().expect("now in ms")).import(&blob) {
                Ok(n) => {
                    println!("{n}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(3)
                }
            }
        }
        _ => {
            eprintln!("usage: interop read <dir> <id> | interop import <dir> <now_ms> <blob>");
            ExitCode::from(64)
        }
    }
}
