//! HTTP dates (IMF-fixdate) computed from epoch milliseconds without `std`.

use alloc::string::String;

/// Day names from 1970-01-01 (a Thursday) on, and month names, as IMF-fixdate spells them.
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats `ms` since the Unix epoch as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
///
/// ```
/// assert_eq!(tenure::web::cookie::imf_fixdate(784_111_777_000), "Sun, 06 Nov 1994 08:49:37 GMT");
/// assert_eq!(tenure::web::cookie::imf_fixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
/// ```
pub fn imf_fixdate(ms: u64) -> String {
    let mut out = String::with_capacity(29);
    push_imf_fixdate(&mut out, ms);
    out
}

/// Appends [`imf_fixdate`]'s text: every `Set-Cookie` with a lifetime carries one, so it
/// is written digit by digit rather than through `format!`.
pub(crate) fn push_imf_fixdate(out: &mut String, ms: u64) {
    let secs = ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    out.push_str(DAYS[(days % 7) as usize]);
    out.push_str(", ");
    push_digits(out, u64::from(d), 2);
    out.push(' ');
    out.push_str(MONTHS[(m - 1) as usize]);
    out.push(' ');
    // Epoch milliseconds in a u64 reach year 584,556,019: more than four digits are
    // written whole, as `format!("{:04}")` did.
    push_digits(out, y as u64, 4);
    out.push(' ');
    push_digits(out, rem / 3600, 2);
    out.push(':');
    push_digits(out, rem % 3600 / 60, 2);
    out.push(':');
    push_digits(out, rem % 60, 2);
    out.push_str(" GMT");
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
pub(crate) fn push_digits(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while n > 0 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let start = i.min(buf.len() - width.clamp(1, buf.len()));
    for &b in &buf[start..] {
        out.push(char::from(b));
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(
            imf_fixdate(951_782_400_000),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(
            imf_fixdate(4_102_444_799_000),
            "Thu, 31 Dec 2099 23:59:59 GMT"
        );
        assert_eq!(
            imf_fixdate(1_700_000_000_999),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
    }

    #[test]
    fn digits_are_padded_and_never_cut() {
        let text = |n, w| {
            let mut s = String::new();
            push_digits(&mut s, n, w);
            s
        };
        assert_eq!(text(0, 2), "00");
        assert_eq!(text(7, 4), "0007");
        assert_eq!(text(12_345, 4), "12345");
        assert_eq!(text(u64::MAX, 2), "18446744073709551615");
    }

    proptest::proptest! {
        #[test]
        fn matches_the_formatted_spelling(ms in proptest::prelude::any::<u64>()) {
            // The digit-by-digit writer against the `format!` it replaced.
            let secs = ms / 1000;
            let days = secs / 86_400;
            let rem = secs % 86_400;
            let (y, m, d) = civil_from_days(days as i64);
            let formatted = alloc::format!(
                "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
                DAYS[(days % 7) as usize],
                d,
                MONTHS[(m - 1) as usize],
                y,
                rem / 3600,
                rem % 3600 / 60,
                rem % 60
            );
            proptest::prop_assert_eq!(imf_fixdate(ms), formatted);
        }
    }
}
