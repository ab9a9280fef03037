//! `DateTime` against what Python does (oslo.versionedobjects 3.12.0, iso8601 2.1.0,
//! measured with `DateTimeField().from_primitive` / `to_primitive`).

use super::*;

/// Input -> what Python's `to_primitive(from_primitive(input))` gives, or None when
/// Python refuses the input.
const PYTHON: &[(&str, Option<&str>)] = &[
    ("2026-12-06T15:00:00Z", Some("2026-12-06T15:00:00Z")),
    ("2026-12-06T15:00:00", Some("2026-12-06T15:00:00Z")),
    ("2026-12-06T15:00:00.123456Z", Some("2026-12-06T15:00:00Z")),
    (
        "2026-12-06T15:00:00+05:30",
        Some("2026-12-06T15:00:00+05:30"),
    ),
    ("2026-12-06 15:00:00", Some("2026-12-06T15:00:00Z")),
    ("20261206T150000Z", Some("2026-12-06T15:00:00Z")),
    ("2026-12-06", Some("2026-12-06T00:00:00Z")),
    ("2026-12-06T15:00Z", Some("2026-12-06T15:00:00Z")),
    ("2026-12-06T15Z", Some("2026-12-06T15:00:00Z")),
    ("2026-12-06T15:00:00,5Z", Some("2026-12-06T15:00:00Z")),
    (
        "2026-12-06T15:00:00+0530",
        Some("2026-12-06T15:00:00+05:30"),
    ),
    ("2026-12-06T15:00:00+05", Some("2026-12-06T15:00:00+05:00")),
    ("2026-12-06T15:00:00.1234567Z", Some("2026-12-06T15:00:00Z")),
    (
        "2026-12-06T15:00:00-03:00",
        Some("2026-12-06T15:00:00-03:00"),
    ),
    ("2026-12-06T15:00:00UTC", None),
    ("2026-W49", None),
    ("2026-12-06t15:00:00z", None),
    ("2026-12-06T24:00:00Z", None),
    ("2026-12-06T15:00:60Z", None),
    ("202612", None),
    ("2026-02-30", None),
    ("", None),
];

#[test]
fn reads_and_writes_as_python_does() {
    for (input, python) in PYTHON {
        match (DateTime::parse(input), python) {
            (Ok(time), Some(expected)) => assert_eq!(&time.to_string(), expected, "{input}"),
            (Err(_), None) => {}
            (result, _) => panic!("{input}: got {result:?}, Python gives {python:?}"),
        }
    }
}

#[test]
fn reads_pythons_unparseable_unnamed_offsets() {
    // `isotime(datetime(..., tzinfo=timezone(timedelta(hours=5, minutes=30))))`.
    let time = DateTime::parse("2026-12-06T15:00:00UTC+05:30").unwrap();
    assert_eq!(time.to_string(), "2026-12-06T15:00:00+05:30");
    assert_eq!(time, DateTime::parse("2026-12-06T09:30:00Z").unwrap());
    assert_eq!(time.offset_minutes(), 330);
}

#[test]
fn instants_compare_across_offsets() {
    let utc = DateTime::from_utc(2026, 12, 6, 15, 0, 0, 0).unwrap();
    let india = utc.with_offset_minutes(330).unwrap();
    assert_eq!(india.to_string(), "2026-12-06T20:30:00+05:30");
    assert_eq!(utc, india);
    assert_eq!(utc.unix_timestamp(), 1_796_569_200);
    let west = utc.with_offset_minutes(-180).unwrap();
    assert_eq!(west.to_string(), "2026-12-06T12:00:00-03:00");
    assert!(utc.with_offset_minutes(24 * 60).is_none());
    assert!(DateTime::parse("2026-12-06T15:00:00+24:00").is_err());
}

#[test]
fn fractions_are_kept_in_rust_and_dropped_on_the_wire() {
    let time = DateTime::parse("2026-12-06T15:00:00.1234567Z").unwrap();
    assert_eq!(time.subsec_micros(), 123_456);
    assert_eq!(time.to_string(), "2026-12-06T15:00:00Z");
    assert_ne!(time, time.truncated_to_seconds());
}

#[test]
fn civil_dates_round_trip() {
    for (year, month, day) in [
        (1, 1, 1),
        (1969, 12, 31),
        (1970, 1, 1),
        (2000, 2, 29),
        (9999, 12, 31),
    ] {
        let time = DateTime::from_utc(year, month, day, 23, 59, 59, 0).unwrap();
        let text = time.to_string();
        assert_eq!(DateTime::parse(&text).unwrap(), time, "{text}");
        assert_eq!(text, format!("{year:04}-{month:02}-{day:02}T23:59:59Z"));
    }
    let before_epoch = DateTime::from(UNIX_EPOCH - Duration::from_micros(1_500_000));
    assert_eq!(before_epoch.unix_timestamp(), -2);
    assert_eq!(before_epoch.subsec_micros(), 500_000);
    assert_eq!(
        SystemTime::from(before_epoch),
        UNIX_EPOCH - Duration::from_micros(1_500_000)
    );
}

#[cfg(feature = "chrono")]
#[test]
fn chrono_values_convert() {
    use chrono::TimeZone;
    let offset = chrono::FixedOffset::east_opt(330 * 60).unwrap();
    let india = offset.with_ymd_and_hms(2026, 12, 6, 20, 30, 0).unwrap();
    let time = DateTime::from(india);
    assert_eq!(time.to_string(), "2026-12-06T20:30:00+05:30");
    let back: chrono::DateTime<chrono::FixedOffset> = time.try_into().unwrap();
    assert_eq!(back, india);
    let utc: chrono::DateTime<chrono::Utc> = time.try_into().unwrap();
    assert_eq!(utc.timestamp(), 1_796_569_200);
}

#[cfg(feature = "time")]
#[test]
fn time_values_convert() {
    let value = time::OffsetDateTime::from_unix_timestamp(1_796_569_200)
        .unwrap()
        .to_offset(time::UtcOffset::from_hms(-3, 0, 0).unwrap());
    let converted = DateTime::from(value);
    assert_eq!(converted.to_string(), "2026-12-06T12:00:00-03:00");
    assert_eq!(time::OffsetDateTime::try_from(converted).unwrap(), value);
}
