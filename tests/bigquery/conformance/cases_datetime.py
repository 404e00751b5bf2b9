"""Date, datetime, time, timestamp and interval examples from the BigQuery function reference.

The emulator's clock starts at 2024-03-04 05:06:07 UTC (conftest.START) for the CURRENT_* cases.
"""

from __future__ import annotations

import datetime as dt

from ._case import case

UTC = dt.UTC
D = "Date functions"
DT = "Datetime functions"
T = "Time functions"
TS = "Timestamp functions"
CUR = "CURRENT_* functions (virtual clock)"


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


CASES = [
    # ---------------------------------------------------------------- clock
    case(CUR, "Timestamp functions: CURRENT_TIMESTAMP", "SELECT CURRENT_TIMESTAMP()", [(ts(2024, 3, 4, 5, 6, 7),)],
         types=["TIMESTAMP"]),
    case(CUR, "Timestamp functions: CURRENT_TIMESTAMP (no parentheses)", "SELECT CURRENT_TIMESTAMP",
         [(ts(2024, 3, 4, 5, 6, 7),)]),
    case(CUR, "Date functions: CURRENT_DATE", "SELECT CURRENT_DATE(), CURRENT_DATE", [(dt.date(2024, 3, 4),) * 2],
         types=["DATE", "DATE"]),
    case(CUR, "Date functions: CURRENT_DATE with time zone", "SELECT CURRENT_DATE('America/Los_Angeles')",
         [(dt.date(2024, 3, 3),)]),
    case(CUR, "Datetime functions: CURRENT_DATETIME", "SELECT CURRENT_DATETIME()",
         [(dt.datetime(2024, 3, 4, 5, 6, 7),)], types=["DATETIME"]),
    case(CUR, "Datetime functions: CURRENT_DATETIME with time zone", "SELECT CURRENT_DATETIME('Asia/Kolkata')",
         [(dt.datetime(2024, 3, 4, 10, 36, 7),)]),
    case(CUR, "Time functions: CURRENT_TIME", "SELECT CURRENT_TIME()", [(dt.time(5, 6, 7),)], types=["TIME"]),
    case(CUR, "Time functions: CURRENT_TIME with time zone", "SELECT CURRENT_TIME('America/New_York')",
         [(dt.time(0, 6, 7),)]),
    case(CUR, "Timestamp functions: CURRENT_TIMESTAMP arithmetic",
         "SELECT TIMESTAMP_DIFF(CURRENT_TIMESTAMP(), TIMESTAMP '2024-03-04 00:00:00+00', SECOND)",
         [(18367,)]),
    # ---------------------------------------------------------------- DATE
    case(D, "Date functions: DATE", "SELECT DATE(2016, 12, 25)", [(dt.date(2016, 12, 25),)], types=["DATE"]),
    case(D, "Date functions: DATE from DATETIME", "SELECT DATE(DATETIME '2016-12-25 23:59:59')",
         [(dt.date(2016, 12, 25),)]),
    case(D, "Date functions: DATE from TIMESTAMP with time zone",
         "SELECT DATE(TIMESTAMP '2016-12-25 05:30:00+07', 'America/Los_Angeles')", [(dt.date(2016, 12, 24),)]),
    case(D, "Date functions: DATE_ADD", "SELECT DATE_ADD(DATE '2008-12-25', INTERVAL 5 DAY)",
         [(dt.date(2008, 12, 30),)], types=["DATE"]),
    case(D, "Date functions: DATE_SUB", "SELECT DATE_SUB(DATE '2008-12-25', INTERVAL 5 DAY)",
         [(dt.date(2008, 12, 20),)], types=["DATE"]),
    case(D, "Date functions: DATE_ADD month end", "SELECT DATE_ADD(DATE '2024-01-31', INTERVAL 1 MONTH)",
         [(dt.date(2024, 2, 29),)]),
    case(D, "Date functions: DATE_ADD WEEK / YEAR", "SELECT DATE_ADD(DATE '2008-12-25', INTERVAL 2 WEEK), "
         "DATE_ADD(DATE '2008-12-25', INTERVAL 1 YEAR)", [(dt.date(2009, 1, 8), dt.date(2009, 12, 25))]),
    case(D, "Date functions: DATE_DIFF", "SELECT DATE_DIFF(DATE '2010-07-07', DATE '2008-12-25', DAY)", [(559,)],
         types=["INTEGER"]),
    case(D, "Date functions: DATE_DIFF negative", "SELECT DATE_DIFF(DATE '2008-12-25', DATE '2010-07-07', DAY)",
         [(-559,)]),
    case(D, "Date functions: DATE_DIFF WEEK counts Sunday boundaries",
         "SELECT DATE_DIFF(DATE '2017-10-15', DATE '2017-10-14', DAY), "
         "DATE_DIFF(DATE '2017-10-15', DATE '2017-10-14', WEEK)", [(1, 1)]),
    case(D, "Date functions: DATE_DIFF YEAR", "SELECT DATE_DIFF(DATE '2017-12-30', DATE '2014-12-30', YEAR), "
         "DATE_DIFF(DATE '2017-12-30', DATE '2014-12-30', ISOYEAR)", [(3, 2)]),
    case(D, "Date functions: DATE_DIFF ISOWEEK", "SELECT DATE_DIFF(DATE '2017-12-18', DATE '2017-12-17', WEEK), "
         "DATE_DIFF(DATE '2017-12-18', DATE '2017-12-17', WEEK(MONDAY)), "
         "DATE_DIFF(DATE '2017-12-18', DATE '2017-12-17', ISOWEEK)", [(0, 1, 1)]),
    case(D, "Date functions: DATE_DIFF MONTH", "SELECT DATE_DIFF(DATE '2024-03-01', DATE '2024-02-29', MONTH)",
         [(1,)]),
    case(D, "Date functions: DATE_TRUNC MONTH", "SELECT DATE_TRUNC(DATE '2008-12-25', MONTH)",
         [(dt.date(2008, 12, 1),)], types=["DATE"]),
    case(D, "Date functions: DATE_TRUNC WEEK(MONDAY)", "SELECT DATE_TRUNC(DATE '2017-11-05', WEEK(MONDAY))",
         [(dt.date(2017, 10, 30),)]),
    case(D, "Date functions: DATE_TRUNC ISOYEAR", "SELECT DATE_TRUNC(DATE '2015-06-15', ISOYEAR)",
         [(dt.date(2014, 12, 29),)]),
    case(D, "Date functions: DATE_TRUNC YEAR / QUARTER", "SELECT DATE_TRUNC(DATE '2015-06-15', YEAR), "
         "DATE_TRUNC(DATE '2015-06-15', QUARTER)", [(dt.date(2015, 1, 1), dt.date(2015, 4, 1))]),
    case(D, "Date functions: DATE_TRUNC WEEK (Sunday)", "SELECT DATE_TRUNC(DATE '2017-11-08', WEEK)",
         [(dt.date(2017, 11, 5),)]),
    case(D, "Date functions: EXTRACT", "SELECT EXTRACT(DAY FROM DATE '2013-12-25'), "
         "EXTRACT(MONTH FROM DATE '2013-12-25'), EXTRACT(YEAR FROM DATE '2013-12-25')", [(25, 12, 2013)],
         types=["INTEGER"] * 3),
    case(D, "Date functions: EXTRACT ISOYEAR/ISOWEEK/WEEK", "SELECT d, EXTRACT(ISOYEAR FROM d), "
         "EXTRACT(ISOWEEK FROM d), EXTRACT(YEAR FROM d), EXTRACT(WEEK FROM d) FROM UNNEST([DATE '2005-01-03', "
         "DATE '2007-12-31', DATE '2009-01-01', DATE '2009-12-31', DATE '2017-01-02', DATE '2017-05-26']) AS d "
         "ORDER BY d", [(dt.date(2005, 1, 3), 2005, 1, 2005, 1), (dt.date(2007, 12, 31), 2008, 1, 2007, 52),
                        (dt.date(2009, 1, 1), 2009, 1, 2009, 0), (dt.date(2009, 12, 31), 2009, 53, 2009, 52),
                        (dt.date(2017, 1, 2), 2017, 1, 2017, 1), (dt.date(2017, 5, 26), 2017, 21, 2017, 21)]),
    case(D, "Date functions: EXTRACT DAYOFWEEK (Sunday = 1)", "SELECT EXTRACT(DAYOFWEEK FROM DATE '2024-01-07'), "
         "EXTRACT(DAYOFWEEK FROM DATE '2024-01-13')", [(1, 7)]),
    case(D, "Date functions: EXTRACT DAYOFYEAR / QUARTER", "SELECT EXTRACT(DAYOFYEAR FROM DATE '2024-03-01'), "
         "EXTRACT(QUARTER FROM DATE '2024-05-01')", [(61, 2)]),
    case(D, "Date functions: FORMAT_DATE", "SELECT FORMAT_DATE('%x', DATE '2008-12-25')", [("12/25/08",)]),
    case(D, "Date functions: FORMAT_DATE", "SELECT FORMAT_DATE('%b-%d-%Y', DATE '2008-12-25'), "
         "FORMAT_DATE('%b %Y', DATE '2008-12-25')", [("Dec-25-2008", "Dec 2008")]),
    case(D, "Date functions: FORMAT_DATE %Y%m%d", "SELECT FORMAT_DATE('%Y%m%d', DATE '2008-12-25')", [("20081225",)]),
    case(D, "Date functions: PARSE_DATE", "SELECT PARSE_DATE('%A %b %e %Y', 'Thursday Dec 25 2008')",
         [(dt.date(2008, 12, 25),)], types=["DATE"]),
    case(D, "Date functions: PARSE_DATE", "SELECT PARSE_DATE('%Y%m%d', '20081225'), PARSE_DATE('%F', '2000-12-30')",
         [(dt.date(2008, 12, 25), dt.date(2000, 12, 30))]),
    case(D, "Date functions: PARSE_DATE %x", "SELECT PARSE_DATE('%x', '12/25/08')", [(dt.date(2008, 12, 25),)]),
    case(D, "Date functions: LAST_DAY", "SELECT LAST_DAY(DATE '2008-11-25', MONTH), LAST_DAY(DATE '2008-11-25')",
         [(dt.date(2008, 11, 30), dt.date(2008, 11, 30))]),
    case(D, "Date functions: LAST_DAY YEAR", "SELECT LAST_DAY(DATE '2008-11-25', YEAR)", [(dt.date(2008, 12, 31),)]),
    case(D, "Date functions: LAST_DAY WEEK(SUNDAY)", "SELECT LAST_DAY(DATE '2008-11-10', WEEK(SUNDAY))",
         [(dt.date(2008, 11, 15),)]),
    case(D, "Date functions: DATE_FROM_UNIX_DATE", "SELECT DATE_FROM_UNIX_DATE(14238)", [(dt.date(2008, 12, 25),)]),
    case(D, "Date functions: UNIX_DATE", "SELECT UNIX_DATE(DATE '2008-12-25')", [(14238,)], types=["INTEGER"]),
    case(D, "Array functions: GENERATE_DATE_ARRAY", "SELECT GENERATE_DATE_ARRAY('2016-10-05', '2016-10-08')",
         [([dt.date(2016, 10, d) for d in (5, 6, 7, 8)],)]),
    case(D, "Array functions: GENERATE_DATE_ARRAY step",
         "SELECT GENERATE_DATE_ARRAY('2016-10-05', '2016-10-09', INTERVAL 2 DAY)",
         [([dt.date(2016, 10, 5), dt.date(2016, 10, 7), dt.date(2016, 10, 9)],)]),
    case(D, "Array functions: GENERATE_DATE_ARRAY months",
         "SELECT GENERATE_DATE_ARRAY('2016-01-01', '2016-12-31', INTERVAL 2 MONTH)",
         [([dt.date(2016, m, 1) for m in (1, 3, 5, 7, 9, 11)],)]),
    case(TS, "Array functions: GENERATE_TIMESTAMP_ARRAY", "SELECT GENERATE_TIMESTAMP_ARRAY('2016-10-05 00:00:00', "
         "'2016-10-07 00:00:00', INTERVAL 1 DAY)", [([ts(2016, 10, 5), ts(2016, 10, 6), ts(2016, 10, 7)],)],
         types=["TIMESTAMP"]),
    case(D, "Date functions: date comparison", "SELECT DATE '2024-01-02' > DATE '2024-01-01'", [(True,)]),
    case(D, "Date functions: DATE - DATE is an INTERVAL", "SELECT DATE_DIFF(DATE '2024-03-01', DATE '2024-01-01', DAY)",
         [(60,)]),
    # ---------------------------------------------------------------- DATETIME
    case(DT, "Datetime functions: DATETIME", "SELECT DATETIME(2008, 12, 25, 05, 30, 00)",
         [(dt.datetime(2008, 12, 25, 5, 30),)], types=["DATETIME"]),
    case(DT, "Datetime functions: DATETIME from TIMESTAMP with time zone",
         "SELECT DATETIME(TIMESTAMP '2008-12-25 05:30:00+00', 'America/Los_Angeles')",
         [(dt.datetime(2008, 12, 24, 21, 30),)]),
    case(DT, "Datetime functions: DATETIME from DATE and TIME",
         "SELECT DATETIME(DATE '2008-12-25', TIME '05:30:00')", [(dt.datetime(2008, 12, 25, 5, 30),)]),
    case(DT, "Datetime functions: DATETIME_ADD", "SELECT DATETIME_ADD(DATETIME '2008-12-25 15:30:00', "
         "INTERVAL 10 MINUTE)", [(dt.datetime(2008, 12, 25, 15, 40),)], types=["DATETIME"]),
    case(DT, "Datetime functions: DATETIME_SUB", "SELECT DATETIME_SUB(DATETIME '2008-12-25 15:30:00', "
         "INTERVAL 10 MINUTE)", [(dt.datetime(2008, 12, 25, 15, 20),)]),
    case(DT, "Datetime functions: DATETIME_DIFF", "SELECT DATETIME_DIFF(DATETIME '2010-07-07 10:20:00', "
         "DATETIME '2008-12-25 15:30:00', DAY)", [(559,)]),
    case(DT, "Datetime functions: DATETIME_DIFF WEEK", "SELECT DATETIME_DIFF(DATETIME '2017-10-15 00:00:00', "
         "DATETIME '2017-10-14 00:00:00', DAY), DATETIME_DIFF(DATETIME '2017-10-15 00:00:00', "
         "DATETIME '2017-10-14 00:00:00', WEEK)", [(1, 1)]),
    case(DT, "Datetime functions: DATETIME_TRUNC", "SELECT DATETIME_TRUNC(DATETIME '2008-12-25 15:30:00', DAY)",
         [(dt.datetime(2008, 12, 25),)], types=["DATETIME"]),
    case(DT, "Datetime functions: DATETIME_TRUNC HOUR", "SELECT DATETIME_TRUNC(DATETIME '2008-12-25 15:30:00', HOUR)",
         [(dt.datetime(2008, 12, 25, 15),)]),
    case(DT, "Datetime functions: FORMAT_DATETIME", "SELECT FORMAT_DATETIME('%c', DATETIME '2008-12-25 15:30:00')",
         [("Thu Dec 25 15:30:00 2008",)]),
    case(DT, "Datetime functions: FORMAT_DATETIME", "SELECT FORMAT_DATETIME('%b-%d-%Y', "
         "DATETIME '2008-12-25 15:30:00'), FORMAT_DATETIME('%b %Y', DATETIME '2008-12-25 15:30:00')",
         [("Dec-25-2008", "Dec 2008")]),
    case(DT, "Datetime functions: PARSE_DATETIME", "SELECT PARSE_DATETIME('%Y-%m-%d %H:%M:%S', '1998-10-18 13:45:55')",
         [(dt.datetime(1998, 10, 18, 13, 45, 55),)], types=["DATETIME"]),
    case(DT, "Datetime functions: PARSE_DATETIME 12-hour clock",
         "SELECT PARSE_DATETIME('%m/%d/%Y %I:%M:%S %p', '8/30/2018 2:23:38 pm')",
         [(dt.datetime(2018, 8, 30, 14, 23, 38),)]),
    case(DT, "Datetime functions: PARSE_DATETIME names",
         "SELECT PARSE_DATETIME('%A, %B %e, %Y', 'Wednesday, December 19, 2018')",
         [(dt.datetime(2018, 12, 19),)]),
    case(DT, "Datetime functions: EXTRACT", "SELECT EXTRACT(HOUR FROM DATETIME(2008, 12, 25, 15, 30, 00))", [(15,)]),
    case(DT, "Datetime functions: EXTRACT DATE", "SELECT EXTRACT(DATE FROM DATETIME '2008-12-25 15:30:00')",
         [(dt.date(2008, 12, 25),)]),
    case(DT, "Datetime functions: LAST_DAY", "SELECT LAST_DAY(DATETIME '2008-11-25 15:30:00', MONTH)",
         [(dt.date(2008, 11, 30),)]),
    case(DT, "Datetime functions: CAST to STRING", "SELECT CAST(DATETIME '2008-12-25 15:30:00' AS STRING)",
         [("2008-12-25 15:30:00",)]),
    # ---------------------------------------------------------------- TIME
    case(T, "Time functions: TIME", "SELECT TIME(15, 30, 00)", [(dt.time(15, 30),)], types=["TIME"]),
    case(T, "Time functions: TIME from TIMESTAMP with time zone",
         "SELECT TIME(TIMESTAMP '2008-12-25 15:30:00+08', 'America/Los_Angeles')", [(dt.time(23, 30),)]),
    case(T, "Time functions: TIME from DATETIME", "SELECT TIME(DATETIME '2008-12-25 15:30:00')",
         [(dt.time(15, 30),)]),
    case(T, "Time functions: TIME_ADD", "SELECT TIME_ADD(TIME '15:30:00', INTERVAL 10 MINUTE)",
         [(dt.time(15, 40),)], types=["TIME"]),
    case(T, "Time functions: TIME_SUB", "SELECT TIME_SUB(TIME '15:30:00', INTERVAL 10 MINUTE)", [(dt.time(15, 20),)]),
    case(T, "Time functions: TIME_DIFF", "SELECT TIME_DIFF(TIME '15:30:00', TIME '14:35:00', MINUTE)", [(55,)],
         types=["INTEGER"]),
    case(T, "Time functions: TIME_TRUNC", "SELECT TIME_TRUNC(TIME '15:30:00', HOUR)", [(dt.time(15),)]),
    case(T, "Time functions: FORMAT_TIME", "SELECT FORMAT_TIME('%R', TIME '15:30:00')", [("15:30",)]),
    case(T, "Time functions: PARSE_TIME", "SELECT PARSE_TIME('%H', '15')", [(dt.time(15),)], types=["TIME"]),
    case(T, "Time functions: PARSE_TIME 12-hour clock", "SELECT PARSE_TIME('%I:%M:%S %p', '2:23:38 pm')",
         [(dt.time(14, 23, 38),)]),
    case(T, "Time functions: EXTRACT", "SELECT EXTRACT(MINUTE FROM TIME '15:30:00')", [(30,)]),
    case(T, "Time functions: TIME literal with fraction", "SELECT TIME '12:30:00.45'", [(dt.time(12, 30, 0, 450000),)]),
    # ---------------------------------------------------------------- TIMESTAMP
    case(TS, "Timestamp functions: TIMESTAMP from string", "SELECT TIMESTAMP('2008-12-25 15:30:00+00')",
         [(ts(2008, 12, 25, 15, 30),)], types=["TIMESTAMP"]),
    case(TS, "Timestamp functions: TIMESTAMP with time zone",
         "SELECT TIMESTAMP('2008-12-25 15:30:00', 'America/Los_Angeles')", [(ts(2008, 12, 25, 23, 30),)]),
    case(TS, "Timestamp functions: TIMESTAMP with UTC suffix", "SELECT TIMESTAMP('2008-12-25 15:30:00 UTC')",
         [(ts(2008, 12, 25, 15, 30),)]),
    case(TS, "Timestamp functions: TIMESTAMP from DATETIME", "SELECT TIMESTAMP(DATETIME '2008-12-25 15:30:00')",
         [(ts(2008, 12, 25, 15, 30),)]),
    case(TS, "Timestamp functions: TIMESTAMP from DATE", "SELECT TIMESTAMP(DATE '2008-12-25')",
         [(ts(2008, 12, 25),)]),
    case(TS, "Lexical structure: TIMESTAMP literal with offset", "SELECT TIMESTAMP '2008-12-25 15:30:00-08:00'",
         [(ts(2008, 12, 25, 23, 30),)]),
    case(TS, "Lexical structure: TIMESTAMP literal with time zone name",
         "SELECT TIMESTAMP '2008-12-25 15:30:00 America/Los_Angeles'", [(ts(2008, 12, 25, 23, 30),)]),
    case(TS, "Timestamp functions: TIMESTAMP_ADD", "SELECT TIMESTAMP_ADD(TIMESTAMP '2008-12-25 15:30:00+00', "
         "INTERVAL 10 MINUTE)", [(ts(2008, 12, 25, 15, 40),)], types=["TIMESTAMP"]),
    case(TS, "Timestamp functions: TIMESTAMP_SUB", "SELECT TIMESTAMP_SUB(TIMESTAMP '2008-12-25 15:30:00+00', "
         "INTERVAL 10 MINUTE)", [(ts(2008, 12, 25, 15, 20),)]),
    case(TS, "Timestamp functions: TIMESTAMP_DIFF", "SELECT TIMESTAMP_DIFF(TIMESTAMP '2010-07-07 10:20:00+00', "
         "TIMESTAMP '2008-12-25 15:30:00+00', HOUR)", [(13410,)], types=["INTEGER"]),
    case(TS, "Timestamp functions: TIMESTAMP_DIFF negative", "SELECT TIMESTAMP_DIFF(TIMESTAMP '2018-08-14', "
         "TIMESTAMP '2018-10-14', DAY)", [(-61,)]),
    case(TS, "Timestamp functions: TIMESTAMP_DIFF counts whole units",
         "SELECT TIMESTAMP_DIFF(TIMESTAMP '2001-02-01 01:00:00', TIMESTAMP '2001-02-01 00:00:01', HOUR)", [(0,)]),
    case(TS, "Timestamp functions: TIMESTAMP_DIFF SECOND / MILLISECOND",
         "SELECT TIMESTAMP_DIFF(TIMESTAMP '2024-01-01 00:00:01.5+00', TIMESTAMP '2024-01-01 00:00:00+00', SECOND), "
         "TIMESTAMP_DIFF(TIMESTAMP '2024-01-01 00:00:01.5+00', TIMESTAMP '2024-01-01 00:00:00+00', MILLISECOND)",
         [(1, 1500)]),
    case(TS, "Timestamp functions: TIMESTAMP_TRUNC", "SELECT TIMESTAMP_TRUNC(TIMESTAMP '2008-12-25 15:30:00+00', DAY)",
         [(ts(2008, 12, 25),)], types=["TIMESTAMP"]),
    case(TS, "Timestamp functions: TIMESTAMP_TRUNC with time zone",
         "SELECT TIMESTAMP_TRUNC(TIMESTAMP '2008-12-25 15:30:00+00', DAY, 'America/Los_Angeles')",
         [(ts(2008, 12, 25, 8),)]),
    case(TS, "Timestamp functions: TIMESTAMP_TRUNC MONTH / HOUR",
         "SELECT TIMESTAMP_TRUNC(TIMESTAMP '2008-12-25 15:30:00+00', MONTH), "
         "TIMESTAMP_TRUNC(TIMESTAMP '2008-12-25 15:30:00+00', HOUR)", [(ts(2008, 12, 1), ts(2008, 12, 25, 15))]),
    case(TS, "Timestamp functions: FORMAT_TIMESTAMP", "SELECT FORMAT_TIMESTAMP('%c', "
         "TIMESTAMP '2050-12-25 15:30:55+00', 'UTC')", [("Sun Dec 25 15:30:55 2050",)]),
    case(TS, "Timestamp functions: FORMAT_TIMESTAMP", "SELECT FORMAT_TIMESTAMP('%b-%d-%Y', "
         "TIMESTAMP '2050-12-25 15:30:55+00')", [("Dec-25-2050",)]),
    case(TS, "Timestamp functions: FORMAT_TIMESTAMP ISO 8601", "SELECT FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%SZ', "
         "TIMESTAMP '2050-12-25 15:30:55', 'UTC')", [("2050-12-25T15:30:55Z",)]),
    case(TS, "Timestamp functions: FORMAT_TIMESTAMP with time zone",
         "SELECT FORMAT_TIMESTAMP('%Y-%m-%d %H:%M', TIMESTAMP '2024-01-02 03:04:05 UTC', 'America/New_York')",
         [("2024-01-01 22:04",)]),
    case(TS, "Format elements: %E#S fractional seconds", "SELECT FORMAT_TIMESTAMP('%H:%M:%E3S', "
         "TIMESTAMP '2024-01-02 03:04:05.123456+00'), FORMAT_TIMESTAMP('%E6S', TIMESTAMP '2024-01-02 03:04:05.123456+00')",
         [("03:04:05.123", "05.123456")]),
    case(TS, "Format elements: %Ez offset with a time zone", "SELECT FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%S%Ez', "
         "TIMESTAMP '2024-01-02 03:04:05+00', 'Asia/Kolkata')", [("2024-01-02T08:34:05+05:30",)]),
    case(TS, "Format elements: %z and %Z", "SELECT FORMAT_TIMESTAMP('%z %Z', TIMESTAMP '2024-01-02 03:04:05+00')",
         [("+0000 UTC",)]),
    case(TS, "Format elements: %s epoch seconds", "SELECT FORMAT_TIMESTAMP('%s', TIMESTAMP '2008-12-25 15:30:00+00')",
         [("1230219000",)]),
    case(D, "Format elements: %Q quarter and %C century", "SELECT FORMAT_DATE('%Q %C', DATE '2024-05-02')",
         [("2 20",)]),
    case(D, "Format elements: week numbers", "SELECT FORMAT_DATE('%U %W %V %G %u %w %j', DATE '2024-01-07')",
         [("01 01 01 2024 7 0 007",)]),
    case(T, "Format elements: FORMAT_TIME with %E3S", "SELECT FORMAT_TIME('%H:%M:%E3S', TIME '10:11:12.345678')",
         [("10:11:12.345",)]),
    case(TS, "Format elements: PARSE_TIMESTAMP with %E*S and %Ez", "SELECT PARSE_TIMESTAMP("
         "'%Y-%m-%dT%H:%M:%E*S%Ez', '2024-01-02T03:04:05.123+01:00')", [(ts(2024, 1, 2, 2, 4, 5, 123000),)]),
    case(TS, "Format elements: PARSE_TIMESTAMP with %s", "SELECT PARSE_TIMESTAMP('%s', '1230219000')",
         [(ts(2008, 12, 25, 15, 30),)]),
    case(TS, "Format elements: SAFE.PARSE_TIMESTAMP of a bad string", "SELECT SAFE.PARSE_TIMESTAMP("
         "'%Y-%m-%dT%H:%M:%E*S', 'nope')", [(None,)]),
    case(TS, "Timestamp functions: PARSE_TIMESTAMP", "SELECT PARSE_TIMESTAMP('%c', 'Thu Dec 25 07:30:00 2008')",
         [(ts(2008, 12, 25, 7, 30),)], types=["TIMESTAMP"]),
    case(TS, "Timestamp functions: PARSE_TIMESTAMP with time zone",
         "SELECT PARSE_TIMESTAMP('%Y-%m-%d %H:%M:%S', '2008-12-25 07:30:00', 'America/Los_Angeles')",
         [(ts(2008, 12, 25, 15, 30),)]),
    case(TS, "Timestamp functions: UNIX_SECONDS / UNIX_MILLIS / UNIX_MICROS",
         "SELECT UNIX_SECONDS(TIMESTAMP '2008-12-25 15:30:00+00'), UNIX_MILLIS(TIMESTAMP '2008-12-25 15:30:00+00'), "
         "UNIX_MICROS(TIMESTAMP '2008-12-25 15:30:00+00')", [(1230219000, 1230219000000, 1230219000000000)],
         types=["INTEGER"] * 3),
    case(TS, "Timestamp functions: TIMESTAMP_SECONDS", "SELECT TIMESTAMP_SECONDS(1230219000)",
         [(ts(2008, 12, 25, 15, 30),)], types=["TIMESTAMP"]),
    case(TS, "Timestamp functions: TIMESTAMP_MILLIS", "SELECT TIMESTAMP_MILLIS(1230219000000)",
         [(ts(2008, 12, 25, 15, 30),)], types=["TIMESTAMP"]),
    case(TS, "Timestamp functions: TIMESTAMP_MICROS", "SELECT TIMESTAMP_MICROS(1230219000000000)",
         [(ts(2008, 12, 25, 15, 30),)], types=["TIMESTAMP"]),
    case(TS, "Timestamp functions: EXTRACT", "SELECT EXTRACT(HOUR FROM TIMESTAMP '2008-12-25 15:30:00+00')", [(15,)]),
    case(TS, "Timestamp functions: EXTRACT AT TIME ZONE",
         "SELECT EXTRACT(DAY FROM TIMESTAMP '2008-12-25 05:30:00+00' AT TIME ZONE 'America/Los_Angeles')", [(24,)]),
    case(TS, "Timestamp functions: STRING with time zone",
         "SELECT STRING(TIMESTAMP '2008-12-25 15:30:00+00', 'UTC')", [("2008-12-25 15:30:00+00",)]),
    case(TS, "Conversion rules: TIMESTAMP to STRING", "SELECT CAST(TIMESTAMP '2008-12-25 15:30:00+00' AS STRING)",
         [("2008-12-25 15:30:00+00",)]),
    case(TS, "Timestamp functions: microsecond precision",
         "SELECT TIMESTAMP '2024-01-02 03:04:05.123456+00'", [(ts(2024, 1, 2, 3, 4, 5, 123456),)]),
    # ---------------------------------------------------------------- INTERVAL
    case("Interval functions", "Interval functions: MAKE_INTERVAL / EXTRACT",
         "SELECT EXTRACT(HOUR FROM MAKE_INTERVAL(1, 2, 3, 4, 5, 6))", [(4,)]),
    case("Interval functions", "Interval functions: INTERVAL arithmetic",
         "SELECT DATETIME '2024-01-01 00:00:00' + INTERVAL 36 HOUR", [(dt.datetime(2024, 1, 2, 12),)]),
    case("Interval functions", "Interval functions: JUSTIFY_HOURS",
         "SELECT EXTRACT(DAY FROM JUSTIFY_HOURS(INTERVAL 29 HOUR))", [(1,)],
         xfail="JUSTIFY_HOURS / JUSTIFY_DAYS / JUSTIFY_INTERVAL are not translated"),
]
