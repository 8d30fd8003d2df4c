//! Clock formatting shared by the examples, so they print times the way the tutorials' Python
//! programs do (`time.ctime()`, `time.strftime('%X')`, `datetime.now()`, `time.time()`).
//!
//! Times are UTC: the standard library has no time zone database, and the examples should
//! not pull in a date crate just to print a clock.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

pub mod net;

/// Seconds since the Unix epoch, as Python's `time.time()`.
pub fn unix_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

struct Civil {
    year: i64,
    month: usize,
    day: i64,
    weekday: usize,
    hour: u64,
    minute: u64,
    second: u64,
    micros: u32,
}

fn now() -> Civil {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let days = (secs / 86_400) as i64;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as usize;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        weekday: ((days + 4).rem_euclid(7)) as usize, // 1970-01-01 was a Thursday
        hour: secs % 86_400 / 3_600,
        minute: secs % 3_600 / 60,
        second: secs % 60,
        micros: d.subsec_micros(),
    }
}

/// `time.ctime()`: `Sun Jun 23 21:48:03 2019`.
pub fn ctime() -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = now();
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}",
        DAYS[c.weekday],
        MONTHS[c.month - 1],
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.year
    )
}

/// `time.strftime('%X')`: `21:56:59`.
pub fn clock() -> String {
    let c = now();
    format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second)
}

/// `str(datetime.datetime.now())`: `2018-11-22 09:24:14.451968`.
pub fn datetime_now() -> String {
    let c = now();
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros
    )
}

/// Python's `repr(float)`: the shortest text that reads back as the same number, with `.0`
/// on whole numbers.
pub fn py_float(x: f64) -> String {
    format!("{x:?}")
}

/// An HTTP date (RFC 9110's IMF-fixdate, what a web server puts in its `Date:` header):
/// `Mon, 30 Dec 2019 02:46:09 GMT`.
pub fn http_date() -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = now();
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[c.weekday],
        c.day,
        MONTHS[c.month - 1],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}
