//! HTTP primitive benchmarks: median ns/op of sign, verify (1 and 3 secrets), parsing a
//! 20-cookie header, and building a Set-Cookie. Run: `cargo bench -p tenure --bench http`.

use std::hint::black_box;
use std::time::Instant;
use tenure::web::cookie::{self, CookieOptions};

fn median_ns(batches: usize, per: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per {
                f();
            }
            t.elapsed().as_nanos() as f64 / per as f64
        })
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let id = "3q2-7wAAAAAAAAAAAAAAAA";
    let secret = b"a-32-byte-secret-for-benchmarks!";
    let old1 = b"an-older-secret-still-accepted-1";
    let old2 = b"an-older-secret-still-accepted-2";
    let signed = cookie::sign(id, secret);
    let header: String = (0..19)
        .map(|i| format!("cookie{i}=value{i}; "))
        .chain([format!("sid={}", cookie::encode_uri_component(&signed))])
        .collect();
    let opts = CookieOptions::default();
    let (b, n) = (15, 20_000);

    let sign = median_ns(b, n, || {
        black_box(cookie::sign(black_box(id), secret));
    });
    let verify1 = median_ns(b, n, || {
        black_box(cookie::unsign(black_box(&signed), &[secret]));
    });
    let verify3 = median_ns(b, n, || {
        black_box(cookie::unsign(black_box(&signed), &[old1, old2, secret]));
    });
    let parse20 = median_ns(b, n, || {
        black_box(cookie::parse_cookie_header(black_box(&header)));
    });
    let find = median_ns(b, n, || {
        black_box(cookie::find_session_id(
            black_box(&header),
            "sid",
            &[secret],
        ));
    });
    let build = median_ns(b, n, || {
        black_box(
            opts.build(black_box("s%3Aabc.def"), Some(1_800_000), 1_700_000_000_000)
                .unwrap(),
        );
    });
    println!("tenure HTTP primitives (median of {b} batches; ns/op)");
    println!("  sign                                  {sign:>9.1} ns");
    println!("  verify, 1 secret                      {verify1:>9.1} ns");
    println!("  verify, 3 secrets (match last)        {verify3:>9.1} ns");
    println!("  parse a 20-cookie header              {parse20:>9.1} ns");
    println!("  find + verify the session cookie      {find:>9.1} ns");
    println!("  build a Set-Cookie                    {build:>9.1} ns");
}
