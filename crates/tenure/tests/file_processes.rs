//! `FileStore` across processes: several processes doing read-modify-write on one record
//! through the store protocol lose no update, and a holder killed with SIGKILL blocks nobody
//! for long. The children are this test binary run again (see `child`), so the test needs
//! nothing built beyond itself.
#![cfg(feature = "std")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tenure::FileStore;
use tenure::{ByteStore, Limits, Record};

const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";
const CREATED: u64 = 1_700_000_000_000;
/// Set in a child: what it does (`count <dir> <cycles>` or `hold <dir>`).
const ROLE: &str = "TENURE_FILE_PROCESSES_ROLE";

/// The canonical v1 record with a counter, as every worker (Rust or Node) writes it.
fn record(version: u64, n: u64) -> Vec<u8> {
    format!(
        r#"{{"v":1,"id":"{ID}","created":{CREATED},"accessed":{CREATED},"idle":null,"absolute":null,"principal":null,"version":{version},"data":{{"n":{n}}},"flash":[]}}"#
    )
    .into_bytes()
}

/// `cycles` read-modify-write cycles; returns how many races were lost and retried.
fn count(dir: &Path, cycles: u64) -> u64 {
    let mut store = FileStore::new(dir).unwrap();
    let mut conflicts = 0;
    for _ in 0..cycles {
        loop {
            let bytes = store.get(ID).unwrap().expect("the record exists");
            let r: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let version = r["version"].as_u64().unwrap();
            let n = r["data"]["n"].as_u64().unwrap();
            if store
                .replace(ID, &record(version + 1, n + 1), version)
                .unwrap()
            {
                break;
            }
            conflicts += 1;
        }
    }
    conflicts
}

/// Takes the lock the way the protocol does (O_EXCL, our identity line) and hangs.
fn hold(dir: &Path) -> ! {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let ns = std::fs::read_link("/proc/self/ns/pid")
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "-".into());
    let line = format!(
        "tenure-lock 1 {} 00000000deadbeef {} {ns}\n",
        std::process::id(),
        now_ms()
    );
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dir.join(format!("{ID}.lock")))
        .unwrap();
    f.write_all(line.as_bytes()).unwrap();
    println!("locked");
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The entry point of every child. Run directly (no role), it is a one-process check of the
/// same worker, so it still tests something.
#[test]
fn child() {
    match std::env::var(ROLE) {
        Ok(role) => {
            let args: Vec<&str> = role.split('\n').collect();
            match args.as_slice() {
                ["count", dir, cycles] => {
                    println!(
                        "conflicts={}",
                        count(Path::new(dir), cycles.parse().unwrap())
                    )
                }
                ["hold", dir] => hold(Path::new(dir)),
                _ => panic!("bad role {role:?}"),
            }
        }
        Err(_) => {
            let dir = tempdir("single");
            FileStore::new(&dir)
                .unwrap()
                .insert(ID, &record(1, 0))
                .unwrap();
            assert_eq!(count(&dir, 10), 0, "alone, no race is lost");
            assert_counter(&dir, 10);
        }
    }
}

fn spawn(role: &str, stdout: Stdio) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .stdout(stdout)
        .spawn()
        .unwrap()
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tenure-procs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The record decodes through the core, with the counter at `n` and the version at `n + 1`.
fn assert_counter(dir: &Path, n: u64) {
    let bytes = std::fs::read(dir.join(format!("{ID}.json"))).unwrap();
    let r = Record::decode(&bytes, &Limits::default()).expect("the record decodes");
    assert_eq!(r.version, n + 1);
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["data"]["n"].as_u64(), Some(n));
    // The index folder stays; no lock, temporary or broken file does.
    let names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != ".index")
        .collect();
    assert_eq!(
        names,
        [format!("{ID}.json")],
        "no lock or temporary file left"
    );
}

#[test]
fn four_processes_lose_no_update() {
    let dir = tempdir("count");
    FileStore::new(&dir)
        .unwrap()
        .insert(ID, &record(1, 0))
        .unwrap();
    let start = Instant::now();
    let role = format!("count\n{}\n100", dir.display());
    let children: Vec<_> = (0..4).map(|_| spawn(&role, Stdio::piped())).collect();
    let mut conflicts = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        // libtest prints "test child ... " before the child's own output, on the same line.
        let n = text
            .split("conflicts=")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next();
        conflicts += n.unwrap().parse::<u64>().unwrap();
    }
    eprintln!(
        "4 x 100 cycles in {:?}, {conflicts} lost races retried",
        start.elapsed()
    );
    assert_counter(&dir, 400);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_holder_killed_with_sigkill_does_not_block_the_others() {
    use std::io::BufRead;
    let dir = tempdir("kill");
    FileStore::new(&dir)
        .unwrap()
        .insert(ID, &record(1, 0))
        .unwrap();
    let mut holder = spawn(&format!("hold\n{}", dir.display()), Stdio::piped());
    let mut lines = std::io::BufReader::new(holder.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap().ends_with("locked")));
    let start = Instant::now();
    let role = format!("count\n{}\n100", dir.display());
    let workers: Vec<_> = (0..3).map(|_| spawn(&role, Stdio::null())).collect();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        std::fs::read(dir.join(format!("{ID}.json"))).unwrap(),
        record(1, 0),
        "nobody wrote while the holder lived"
    );
    holder.kill().unwrap(); // SIGKILL
    holder.wait().unwrap(); // reaped: its pid is gone, not a zombie
    for mut w in workers {
        assert!(w.wait().unwrap().success());
    }
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_counter(&dir, 300);
    std::fs::remove_dir_all(&dir).unwrap();
}
