//! The fast claims reader (pieces parsed in place, `read_claims_split`) equals
//! the CSV reader (`read_claims_csv`): the same claims in the same order, the
//! same lines, the same errors (line, column, reason), on random files whose
//! fields are valid, oddly written or wrong in every way each column allows,
//! in any column order, with or without the optional columns, with short and
//! long rows, either line end, blank lines, a byte-order mark, and now and
//! then a quote, a lone carriage return or a byte that is not UTF-8 (which
//! send the file to the CSV reader).

use ingest::settlement_files::{read_claims_csv, read_claims_split, read_persons, read_persons_split, Split};
use proptest::prelude::*;
use std::io::Write;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

fn check(body: &str) -> char {
    let s: u32 = body.bytes().zip(WEIGHTS).map(|(c, w)| (c - b'0') as u32 * w).sum();
    b"10X98765432"[(s % 11) as usize] as char
}

/// A valid resident ID, born in `year` (1900 + `year`).
fn resident_id(year: u32, seq: u32) -> String {
    let body = format!("340102{}01{:02}{:03}", 1900 + year, seq % 28 + 1, seq / 28 % 900 + 100);
    format!("{body}{}", check(&body))
}

/// The persons of the persons file, one of them with an ID ending in X.
fn persons() -> Vec<String> {
    let mut p: Vec<String> = (0..12).map(|i| resident_id(80, i)).collect();
    let x = (0..5000).map(|i| resident_id(81, i)).find(|id| id.ends_with('X')).unwrap();
    p.push(x);
    p
}

const COLUMNS: [&str; 11] = [
    "claim_id",
    "person_id",
    "facility_level",
    "kind",
    "admitted",
    "discharged",
    "total_cost",
    "eligible_cost",
    "diagnosis",
    "facility_id",
    "referred",
];

/// Candidate values of each column: plain and valid first, then valid but
/// written otherwise, then wrong.
fn values(column: &str, persons: &[String]) -> Vec<String> {
    let v = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match column {
        "claim_id" => v(&[
            "C1",
            "C2",
            "C000123",
            "k-9/x",
            " C3",
            "C4 ",
            "编号5",
            "",
            "   ",
            "C\t6",
            "C\u{200F}7",
            &"Z".repeat(64),
            &"Z".repeat(65),
            "\u{feff}C8",
        ]),
        "person_id" => {
            let mut p = persons.to_vec();
            p.extend(persons.iter().take(2).map(|s| format!(" {s}")));
            let x = persons.last().unwrap();
            p.push(x.to_lowercase());
            p.push(resident_id(70, 3)); // valid, not in the persons file
            let good = &persons[0];
            p.push(format!("{}{}", &good[..17], if good.ends_with('0') { '1' } else { '0' })); // fails its check digit
            p.push(good[..17].to_string());
            p.push(format!("{}A{}", &good[..5], &good[6..]));
            p.push("110101189901010013".into());
            p.push("990101199001011236".into());
            p.push(String::new());
            p
        }
        "facility_level" => v(&["county", "village", "out_of_province", "村级", " county", "County", "hospital", ""]),
        "kind" => v(&["inpatient", "outpatient", "chronic_outpatient", "住院", "inpatient ", "bad", ""]),
        "admitted" | "discharged" => v(&[
            "2024-03-01",
            "2024-03-05",
            "2024-02-29",
            "2024-03-10",
            "2024/03/02",
            " 2024-03-03",
            "2024-02-30",
            "2024-3-1",
            "1879-12-31",
            "2201-01-01",
            "2200-12-31",
            "",
            "x024-01-01",
            "2023-02-29",
        ]),
        "total_cost" | "eligible_cost" => v(&[
            "10",
            "10.5",
            "10.50",
            "0",
            "5.00",
            "007.25",
            "9999999999999.99",
            "10000000000000",
            "99999999999999",
            "12.345",
            "-1",
            "1e3",
            "",
            " 7",
            "1.",
            ".5",
            "1,5",
            "١٢",
        ]),
        "diagnosis" => v(&["", "I10", "C91.0", "I10.X05", "i10", " I10", "X", "I10 x", "   "]),
        "facility_id" => v(&["", "F1", "F2", " F3", "医院", "F\u{7}", "F 1", "\u{202E}F"]),
        "referred" => v(&["", "true", "false", "1", "0", "是", "否", "TRUE", " yes", "maybe", "n"]),
        _ => v(&["x", ""]),
    }
}

#[derive(Debug, Clone)]
enum Line {
    /// A row: for each column of the header, the index of its value (taken
    /// modulo the column's candidates; 0 to 3 are valid and plain, mostly);
    /// then how many fields to drop (or, negative, add).
    Row(Vec<usize>, i8),
    Blank,
    Quoted,
    BadBytes,
    LoneCr,
}

fn line() -> impl Strategy<Value = Line> {
    let pick = prop_oneof![20 => 0usize..3, 1 => 0usize..40];
    prop_oneof![
        40 => (prop::collection::vec(pick, 12), prop_oneof![8 => Just(0i8), 1 => -2i8..0, 1 => 1i8..4]).prop_map(|(v, d)| Line::Row(v, d)),
        3 => Just(Line::Blank),
        1 => Just(Line::Quoted),
        1 => Just(Line::BadBytes),
        1 => Just(Line::LoneCr),
    ]
}

/// A header: the required columns and some optional ones, in some order, and
/// maybe a column the reader does not know.
fn header() -> impl Strategy<Value = Vec<&'static str>> {
    (prop::collection::vec(any::<bool>(), 4), any::<bool>(), any::<u64>()).prop_map(|(opt, extra, seed)| {
        let mut cols: Vec<&'static str> = COLUMNS[..8].to_vec();
        for (i, keep) in opt.iter().enumerate().take(3) {
            if *keep || i == 0 {
                cols.push(COLUMNS[8 + i]);
            }
        }
        if extra {
            cols.push("note");
        }
        if opt[3] {
            let mut s = seed;
            for i in (1..cols.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                cols.swap(i, (s >> 33) as usize % (i + 1));
            }
        }
        cols
    })
}

fn render(lines: &[Line], cols: &[&str], persons: &[String], end: &[u8]) -> Vec<u8> {
    let pools: Vec<Vec<String>> = cols.iter().map(|c| values(c, persons)).collect();
    let mut text = Vec::new();
    for l in lines {
        match l {
            Line::Row(picks, drop) => {
                let mut fields: Vec<String> =
                    pools.iter().zip(picks.iter().cycle()).map(|(p, &i)| p[i % p.len()].clone()).collect();
                if *drop > 0 {
                    fields.truncate(fields.len().saturating_sub(*drop as usize));
                } else {
                    fields.extend((0..-*drop).map(|i| format!("extra{i}")));
                }
                text.extend_from_slice(fields.join(",").as_bytes());
            }
            Line::Blank => {}
            Line::Quoted => text.extend_from_slice(
                format!("\"C9\",{},county,inpatient,2024-03-01,2024-03-05,1.00,1.00,I10,F1", persons[0]).as_bytes(),
            ),
            Line::BadBytes => text.extend_from_slice(b"C10,\xff\xfe,county"),
            Line::LoneCr => text.extend_from_slice(b"C11,x\rC12,y"),
        }
        text.extend_from_slice(end);
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    #[test]
    fn the_fast_reader_equals_the_csv_reader(
        lines in prop::collection::vec(line(), 0..120),
        cols in header(),
        piece in 30u64..2000,
        threads in 1usize..4,
        crlf in any::<bool>(),
        bom in any::<bool>(),
        blank_before in 0usize..3,
        final_break in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let people = persons();
        let pp = dir.path().join("persons.csv");
        let mut f = std::fs::File::create(&pp).unwrap();
        writeln!(f, "person_id,status,enrolled").unwrap();
        for (i, p) in people.iter().enumerate() {
            writeln!(f, "{p},low_income,{}", i % 3 != 0).unwrap();
        }
        drop(f);
        let end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut text: Vec<u8> = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        for _ in 0..blank_before {
            text.extend_from_slice(end);
        }
        text.extend_from_slice(cols.join(",").as_bytes());
        text.extend_from_slice(end);
        text.extend_from_slice(&render(&lines, &cols, &people, end));
        if !final_break && text.ends_with(end) {
            text.truncate(text.len() - end.len());
        }
        let cp = dir.path().join("claims.csv");
        std::fs::write(&cp, &text).unwrap();

        let mut errors = Vec::new();
        let persons = read_persons(&pp, &mut errors).unwrap();
        prop_assert!(errors.is_empty(), "{errors:?}");
        let (mut e0, mut e1) = (Vec::new(), Vec::new());
        let c0 = read_claims_csv(&cp, &persons, &mut e0, &mut |_, _| {}).unwrap();
        let mut last = 0;
        let c1 = read_claims_split(&cp, &persons, &mut e1, &mut |done, len| {
            assert!(done <= len && done >= last, "progress {done} of {len} after {last}");
            last = done;
        }, Split { threads, piece_bytes: piece }).unwrap();
        prop_assert_eq!(format!("{c0:?}"), format!("{c1:?}"));
        prop_assert_eq!(format!("{e0:?}"), format!("{e1:?}"));
        prop_assert_eq!(last, text.len() as u64);
    }
}

/// The errors of a file of the benchmark's shape read fast name the lines and
/// columns the CSV reader names (and most lines are read on the fast path).
#[test]
fn every_kind_of_error_names_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let people = persons();
    let pp = dir.path().join("persons.csv");
    let rows: Vec<String> =
        std::iter::once("person_id,status".to_string()).chain(people.iter().map(|p| format!("{p},general"))).collect();
    std::fs::write(&pp, rows.join("\n")).unwrap();
    let p = &people[0];
    let good = |id: &str| format!("{id},{p},county,inpatient,2024-03-01,2024-03-05,100.00,80.00,I10,F1");
    let text = [
        "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis,facility_id"
            .to_string(),
        good("C1"),
        format!("C2,{p},county,inpatient,2024-03-01,2024-02-05,100.00,80.00,I10,F1"),
        format!("C3,{p},county,inpatient,2024-03-01,2024-03-05,100.00,180.00,I10,F1"),
        format!("C4,{p},county,inpatient,2024-03-01,2024-03-05,100.001,80.00,I10,F1"),
        format!("C5,{},county,inpatient,2024-03-01,2024-03-05,100.00,80.00,I10,F1", resident_id(70, 1)),
        format!("C6,{p},county,inpatient,2024-03-01,2024-03-05,100.00,80.00,1I0,F1"),
        String::new(),
        good("C7"),
    ]
    .join("\r\n");
    let cp = dir.path().join("claims.csv");
    std::fs::write(&cp, &text).unwrap();
    let mut errors = Vec::new();
    let persons = read_persons(&pp, &mut errors).unwrap();
    let split = Split { threads: 2, piece_bytes: 64 };
    let c = read_claims_split(&cp, &persons, &mut errors, &mut |_, _| {}, split).unwrap();
    assert_eq!(c.lines, [2, 9]);
    let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        got,
        [
            (3, "6 (discharged)"),
            (4, "8 (eligible_cost)"),
            (5, "7 (total_cost)"),
            (6, "2 (person_id)"),
            (7, "9 (diagnosis)")
        ]
    );
    assert!(errors[0].reason.contains("before the admission date"), "{}", errors[0].reason);
    assert!(errors[3].reason.contains("not in the persons file"), "{}", errors[3].reason);
    let mut e0 = Vec::new();
    let c0 = read_claims_csv(&cp, &persons, &mut e0, &mut |_, _| {}).unwrap();
    assert_eq!(format!("{c0:?}"), format!("{c:?}"));
    assert_eq!(e0, errors);
}

/// One line of a persons file: for each column, the index of its value.
fn persons_line() -> impl Strategy<Value = Option<Vec<usize>>> {
    prop_oneof![
        12 => prop::collection::vec(prop_oneof![12 => 0usize..3, 1 => 0usize..20], 4).prop_map(Some),
        1 => Just(None),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]
    /// The persons file read in place equals the persons file read by the CSV
    /// reader: the same persons, the same errors (bad IDs and statuses,
    /// persons listed twice naming the first line), whatever the line ends,
    /// however the file is cut into pieces and on however many threads.
    #[test]
    fn the_fast_persons_reader_equals_the_csv_reader(
        lines in prop::collection::vec(persons_line(), 0..80),
        enrolled in any::<bool>(),
        crlf in any::<bool>(),
        bom in any::<bool>(),
        short in any::<bool>(),
        odd in prop_oneof![8 => Just(""), 1 => Just("\""), 1 => Just("\r"), 1 => Just("\u{fffd}")],
        threads in 1usize..4,
        piece in prop_oneof![1 => Just(1u64 << 20), 3 => 16u64..400],
    ) {
        let people = persons();
        let mut ids: Vec<String> = people.clone();
        ids.extend([format!(" {}", people[0]), people[12].to_lowercase(), "123".into(), String::new()]);
        let statuses = ["low_income", "general", "低保", "poor", " lifted", ""];
        let flags = ["", "true", "否", "No", "maybe", " 1"];
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = String::from(if bom { "\u{feff}" } else { "" });
        text.push_str(if enrolled { "Person_ID,status,note,enrolled" } else { "person_id,note,status" });
        for l in &lines {
            text.push_str(end);
            let Some(v) = l else { continue };
            let (id, status, flag) = (&ids[v[0] % ids.len()], statuses[v[1] % statuses.len()], flags[v[2] % flags.len()]);
            let row = if enrolled { format!("{id},{status},n,{flag}") } else { format!("{id},n,{status}") };
            // Now and then a short row, or an odd byte in the note.
            let row = if short && v[3] % 7 == 0 { id.clone() } else { row.replacen(",n", &format!(",n{odd}"), usize::from(v[3] % 5 == 0)) };
            text.push_str(&row);
        }
        let dir = tempfile::tempdir().unwrap();
        let pp = dir.path().join("persons.csv");
        std::fs::write(&pp, &text).unwrap();
        let (mut e0, mut e1) = (Vec::new(), Vec::new());
        let p0 = ingest::settlement_files::read_persons_csv(&pp, &mut e0).unwrap();
        // Cut into pieces read on several threads, persons listed twice
        // across pieces among them.
        let p1 = read_persons_split(&pp, &mut e1, Split { threads, piece_bytes: piece }).unwrap();
        prop_assert_eq!(format!("{:?}", (&p0.ids, &p0.statuses, &p0.enrolled)), format!("{:?}", (&p1.ids, &p1.statuses, &p1.enrolled)));
        prop_assert_eq!(p0.index.len(), p1.index.len());
        prop_assert!(p0.index.iter().all(|(k, v)| p1.index.get(&k) == Some(v)));
        // Each person's flag in the index is its enrolment.
        prop_assert!(p1.ids.iter().enumerate().all(|(i, k)| p1.index.get_flagged(k) == Some((i as u32, p1.enrolled[i]))));
        prop_assert_eq!(e0, e1);
    }
}
