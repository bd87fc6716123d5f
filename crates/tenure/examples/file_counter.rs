//! Read-modify-write on one session record through the `FileStore` protocol, as many
//! processes may do at once (tests/interop/test_file_lock.py runs several of these next to
//! Node's js/examples/file-counter.cjs and Python workers, on one folder):
//!
//!   file_counter <dir> <id> <cycles>
//!
//! Each cycle: get, bump `data.n` and the version, replace(expected = the version read), and
//! start over if another process won the race. Prints the number of lost races.
use std::process::ExitCode;
use tenure::ByteStore;
use tenure::FileStore;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, id, cycles] = args.as_slice() else {
        eprintln!("usage: file_counter <dir> <id> <cycles>");
        return ExitCode::FAILURE;
    };
    let mut store = FileStore::new(dir).expect("store folder");
    let mut conflicts = 0u64;
    for _ in 0..cycles.parse::<u64>().expect("cycles") {
        loop {
            let bytes = store.get(id).expect("get").expect("the record exists");
            let mut r: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
            let expected = r["version"].as_u64().expect("version");
            r["version"] = (expected + 1).into();
            r["data"]["n"] = (r["data"]["n"].as_u64().expect("data.n") + 1).into();
            // serde_json orders keys alphabetically; the core reads any order, and the next
            // commit through a manager writes the canonical one again.
            let out = serde_json::to_vec(&r).expect("encode");
            if store.replace(id, &out, expected).expect("replace") {
                break;
            }
            conflicts += 1;
        }
    }
    println!("{conflicts}");
    ExitCode::SUCCESS
}
