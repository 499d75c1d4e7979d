//! The claims file read on several threads equals the claims file read on one:
//! the same claims in the same order, the same lines, the same errors naming the
//! same lines and columns, whatever the pieces, blank lines, line ends, byte-order
//! mark, bad bytes or quoted fields (which send the read back to one thread).

use ingest::settlement_files::{read_claims_split, read_persons, Split};
use proptest::prelude::*;
use std::io::Write;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// A valid resident ID; `seq` below 25,200 gives distinct ones, born in 1980
/// (`year` 80) or another year.
fn resident_id_of(year: u32, seq: u32) -> String {
    let body = format!("3401021{year:03}01{:02}{:03}", seq % 28 + 1, seq / 28 % 900 + 100);
    let s: u32 = body.bytes().zip(WEIGHTS).map(|(c, w)| (c - b'0') as u32 * w).sum();
    format!("{body}{}", b"10X98765432"[(s % 11) as usize] as char)
}

fn resident_id(seq: u32) -> String {
    resident_id_of(980, seq)
}

/// One line of the claims file: good, or broken in one of several ways.
#[derive(Debug, Clone)]
enum Row {
    Good { id: u32, person: u32, cost: u32 },
    BadCost(u32),
    UnknownPerson(u32),
    BadDate(u32),
    BadBytes(u32),
    Quoted(u32),
    Blank,
}

fn row() -> impl Strategy<Value = Row> {
    prop_oneof![
        12 => (0u32..5000, 0u32..20, 1u32..900_000).prop_map(|(id, person, cost)| Row::Good { id, person, cost }),
        1 => (0u32..5000).prop_map(Row::BadCost),
        1 => (0u32..5000).prop_map(Row::UnknownPerson),
        1 => (0u32..5000).prop_map(Row::BadDate),
        1 => (0u32..5000).prop_map(Row::BadBytes),
        1 => (0u32..5000).prop_map(Row::Quoted),
        1 => Just(Row::Blank),
    ]
}

fn line(r: &Row, persons: &[String]) -> Vec<u8> {
    let p = |i: u32| persons[i as usize % persons.len()].clone();
    let claim = |id: u32, person: &str, discharged: &str, cost: &str| {
        format!("C{id:06},{person},county,inpatient,2024-03-01,{discharged},{cost},{cost},I10,F{}", id % 7)
    };
    match r {
        Row::Good { id, person, cost } => {
            claim(*id, &p(*person), "2024-03-05", &format!("{}.{:02}", cost / 100, cost % 100)).into_bytes()
        }
        Row::BadCost(id) => claim(*id, &p(*id), "2024-03-05", "12.345.6").into_bytes(),
        Row::UnknownPerson(id) => claim(*id, &resident_id_of(970, *id), "2024-03-05", "10.00").into_bytes(),
        Row::BadDate(id) => claim(*id, &p(*id), "2024-13-05", "10.00").into_bytes(),
        Row::BadBytes(id) => {
            let mut b = claim(*id, &p(*id), "2024-03-05", "10.00").into_bytes();
            b.extend_from_slice(b"\xff\xfe");
            b
        }
        Row::Quoted(id) => {
            format!("\"C{id:06}\",{},county,inpatient,2024-03-01,2024-03-05,1.00,1.00,\"I10\",F1", p(*id)).into_bytes()
        }
        Row::Blank => Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn a_split_read_equals_a_read_on_one_thread(
        rows in prop::collection::vec(row(), 0..400),
        piece in 40u64..3000,
        threads in 2usize..5,
        crlf in any::<bool>(),
        bom in any::<bool>(),
        final_break in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let persons: Vec<String> = (0..20).map(resident_id).collect();
        let pp = dir.path().join("persons.csv");
        let mut f = std::fs::File::create(&pp).unwrap();
        writeln!(f, "person_id,status").unwrap();
        for p in &persons {
            writeln!(f, "{p},low_income").unwrap();
        }
        drop(f);
        let end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut text: Vec<u8> = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        text.extend_from_slice(b"claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis,facility_id");
        for r in &rows {
            text.extend_from_slice(end);
            text.extend_from_slice(&line(r, &persons));
        }
        if final_break {
            text.extend_from_slice(end);
        }
        let cp = dir.path().join("claims.csv");
        std::fs::write(&cp, &text).unwrap();

        let mut errors = Vec::new();
        let persons = read_persons(&pp, &mut errors).unwrap();
        prop_assert!(errors.is_empty(), "{errors:?}");
        let one = Split { threads: 1, piece_bytes: u64::MAX };
        let many = Split { threads, piece_bytes: piece };
        let (mut e1, mut e2) = (Vec::new(), Vec::new());
        let c1 = read_claims_split(&cp, &persons, &mut e1, &mut |_, _| {}, one).unwrap();
        let mut last = 0;
        let c2 = read_claims_split(&cp, &persons, &mut e2, &mut |done, len| {
            assert!(done <= len && done >= last, "progress {done} of {len} after {last}");
            last = done;
        }, many).unwrap();
        prop_assert_eq!(format!("{c1:?}"), format!("{c2:?}"));
        prop_assert_eq!(format!("{e1:?}"), format!("{e2:?}"));
        prop_assert_eq!(last, text.len() as u64);
        // Each line is where the test wrote it (the header is line 1), with
        // either line end and after blank lines.
        let good: Vec<usize> = rows.iter().enumerate().filter(|(_, r)| matches!(r, Row::Good { .. } | Row::Quoted(_))).map(|(i, _)| i + 2).collect();
        let bad_lines: Vec<u64> = rows.iter().enumerate().filter(|(_, r)| !matches!(r, Row::Good { .. } | Row::Quoted(_) | Row::Blank)).map(|(i, _)| i as u64 + 2).collect();
        prop_assert_eq!(e1.iter().map(|e| e.line).collect::<Vec<_>>(), bad_lines);
        let lines: Vec<usize> = c1.lines.iter().map(|&l| l as usize).collect();
        prop_assert_eq!(lines, good);
        let bad = rows.iter().filter(|r| !matches!(r, Row::Good { .. } | Row::Quoted(_) | Row::Blank)).count();
        prop_assert_eq!(e1.len(), bad);
    }
}

#[test]
fn errors_found_before_the_claims_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let pp = dir.path().join("persons.csv");
    std::fs::write(&pp, format!("person_id,status\n{},low_income\nnot-an-id,low_income\n", resident_id(1))).unwrap();
    let mut errors = Vec::new();
    let persons = read_persons(&pp, &mut errors).unwrap();
    assert_eq!(errors.len(), 1);
    let mut text = String::from(
        "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost,diagnosis,facility_id\n",
    );
    for i in 0..200 {
        text.push_str(&format!("C{i},{},county,inpatient,2024-03-01,2024-03-05,1.00,1.00,I10,F1\n", resident_id(1)));
    }
    text.push_str("\"C999\",x,county,inpatient,2024-03-01,2024-03-05,1.00,1.00,I10,F1\n");
    let cp = dir.path().join("claims.csv");
    std::fs::write(&cp, &text).unwrap();
    let c =
        read_claims_split(&cp, &persons, &mut errors, &mut |_, _| {}, Split { threads: 2, piece_bytes: 100 }).unwrap();
    assert_eq!(c.rows.len(), 200);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].line, 3);
    assert_eq!(errors[1].line, 202);
}

#[test]
fn persons_errors_name_their_lines_whatever_the_line_ends() {
    for end in ["\n", "\r\n"] {
        let dir = tempfile::tempdir().unwrap();
        let pp = dir.path().join("persons.csv");
        let (a, b) = (resident_id(1), resident_id(2));
        let text = [
            "\u{feff}person_id,status",
            &format!("{a},low_income"),
            "",
            &format!("{b},nobody"),
            &format!("{a},general"),
        ]
        .join(end);
        std::fs::write(&pp, text).unwrap();
        let mut errors = Vec::new();
        let persons = read_persons(&pp, &mut errors).unwrap();
        assert_eq!(persons.ids.len(), 1);
        let lines: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(lines, [(4, "status"), (5, "person_id")], "{end:?}: {errors:?}");
        assert!(errors[1].reason.contains("first on line 2"), "{}", errors[1].reason);
    }
}
