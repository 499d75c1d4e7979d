//! No byte is replaced silently: a byte that is not text in the encoding a file is
//! read in (UTF-8, UTF-8 with a byte-order mark, GB18030, UTF-16) refuses its row,
//! and the error names the file, the line, the column in the line and the field.
//! Names with control or bidirectional formatting characters are refused too.

use domain::*;
use ingest::{read_file, read_file_streaming, Feed, IngestError, RowError};
use std::path::{Path, PathBuf};

fn pid(n: u16) -> ResidentId {
    let birth = parse_date("1960-05-17").unwrap() + chrono::Duration::days((n / 500) as i64);
    ResidentId::from_parts(341122, birth, n % 500 + 1).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn refused<R: Record + std::fmt::Debug>(path: &Path) -> Vec<RowError> {
    match read_file::<R>(path, &mut |_, _| {}) {
        Err(IngestError::Rows { errors, .. }) => errors,
        other => panic!("{} should be refused row by row: {other:?}", path.display()),
    }
}

const HEAD: &str = "person_id,household_id,name,status,status_since\n";

fn row(n: u16, name: &str) -> String {
    format!("{},H1,{name},general,2020-01-01\n", pid(n))
}

/// The persons file with `bad` spliced into the name of its second row.
fn persons_with(bad: &[u8], encode: impl Fn(&str) -> Vec<u8>) -> Vec<u8> {
    let mut out = encode(HEAD);
    out.extend(encode(&row(1, "张三")));
    let second = row(2, "李四@");
    let (before, after) = second.split_once('@').unwrap();
    out.extend(encode(before));
    out.extend_from_slice(bad);
    out.extend(encode(after));
    out.extend(encode(&row(3, "王五")));
    out
}

fn gb(s: &str) -> Vec<u8> {
    let (b, _, unmappable) = encoding_rs::GB18030.encode(s);
    assert!(!unmappable);
    b.into_owned()
}

/// The column of the bad byte in the second row: after the ID, the household, and
/// the two characters of the name.
fn name_column() -> u64 {
    pid(2).to_string().len() as u64 + ",H1,李四".chars().count() as u64 + 1
}

#[test]
fn a_byte_that_is_not_utf8_is_refused_with_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "persons.csv", &persons_with(b"\xFF", |s| s.as_bytes().to_vec()));
    let errors = refused::<Person>(&p);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!((e.line, e.column.as_str()), (3, "name"));
    assert_eq!(
        e.to_string(),
        format!(
            "{}:3: name: the byte 0xFF at column {} is not UTF-8 text (the file is read as UTF-8, as its start is); correct the cell, or save the whole file in one encoding",
            p.display(),
            name_column()
        )
    );
}

#[test]
fn utf8_with_a_byte_order_mark_is_checked_alike() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(persons_with(b"\xE5\xAE", |s| s.as_bytes().to_vec()));
    let errors = refused::<Person>(&write(dir.path(), "bom.csv", &bytes));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].column.as_str()), (3, "name"));
    assert!(
        errors[0]
            .reason
            .starts_with(&format!("the bytes 0xE5 0xAE at column {} are not UTF-8 with BOM text", name_column())),
        "{}",
        errors[0]
    );
}

#[test]
fn gb18030_refuses_malformed_sequences_instead_of_replacing_them() {
    let dir = tempfile::tempdir().unwrap();
    // 0xFF is never a GB18030 byte (0x80 is the euro sign, as Windows has it).
    let p = write(dir.path(), "gb.csv", &persons_with(b"\xFF", gb));
    let errors = refused::<Person>(&p);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!((e.line, e.column.as_str()), (3, "name"));
    assert!(
        e.reason.starts_with(&format!(
            "the byte 0xFF at column {} is not GB18030 text (the file is read as GB18030, as it is not UTF-8)",
            name_column()
        )),
        "{e}"
    );
    // Several rows, each reported once, with a lead byte cut off by a comma.
    let mut bytes = gb(HEAD);
    bytes.extend(gb(&row(1, "张三")));
    bytes.extend(gb(&format!("{},H1,", pid(2))));
    bytes.extend(b"\xFF\xFF");
    bytes.extend(gb(",general,2020-01-01\n"));
    bytes.extend(gb(&format!("{},H1,王\u{3000}", pid(3))));
    bytes.push(0x81);
    bytes.extend(gb(",general,2020-01-01\n"));
    let errors = refused::<Person>(&write(dir.path(), "gb2.csv", &bytes));
    let at: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(at, [(3, "name"), (4, "name")], "{errors:?}");
    assert!(errors[1].reason.contains(&format!("at column {}", pid(3).to_string().len() + 7)), "{}", errors[1]);
}

#[test]
fn a_file_whose_start_is_utf8_is_not_read_again_as_gb18030() {
    // More than 64 KiB of UTF-8 names, then one stray byte: the file is UTF-8 with
    // an error in it, not GB18030 (which would turn every name into other text).
    let mut text = HEAD.to_string();
    for n in 1..=2500u16 {
        text.push_str(&row(n, "欧阳娜娜"));
    }
    assert!(text.len() > 64 * 1024);
    let mut bytes = text.into_bytes();
    bytes.extend(format!("{},H1,李", pid(2501)).as_bytes());
    bytes.push(0xC0);
    bytes.extend(b",general,2020-01-01\n");
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "late.csv", &bytes);
    let errors = refused::<Person>(&p);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].column.as_str()), (2502, "name"));
    assert!(errors[0].reason.contains("is not UTF-8 text"), "{}", errors[0]);
    // Streaming: rows went out before the bad one; the read ends in an error.
    let mut handed = 0;
    let r = read_file_streaming::<Person>(&p, &mut |_, _| {}, 1000, &mut |f| {
        if let Feed::Rows(rows) = f {
            handed += rows.len()
        }
    });
    assert!(r.is_err());
    assert!(handed > 0);
}

#[test]
fn utf16_refuses_a_lone_surrogate() {
    let text = format!("{HEAD}{}", row(1, "张三"));
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        if u == '三' as u16 {
            // An unpaired high surrogate where the character was.
            bytes.extend(0xD800u16.to_le_bytes());
        } else {
            bytes.extend(u.to_le_bytes());
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let errors = refused::<Person>(&write(dir.path(), "u16.csv", &bytes));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].column.as_str()), (2, "name"));
    assert!(errors[0].reason.contains("not UTF-16LE text"), "{}", errors[0]);
}

#[test]
fn a_bad_byte_in_the_header_refuses_the_file_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = "person_id,household_id,na".as_bytes().to_vec();
    bytes.push(0xFF);
    bytes.extend(format!("me,status,status_since\n{}", row(1, "张三")).as_bytes());
    let p = write(dir.path(), "h.csv", &bytes);
    let e = read_file::<Person>(&p, &mut |_, _| {}).unwrap_err();
    assert!(matches!(e, IngestError::Header { .. }), "{e}");
    // The header is plain ASCII up to the byte, so the file is read as GB18030,
    // where 0xFF is no character either.
    assert!(
        e.to_string().starts_with(&format!("{}:1: the header on line 1: the byte 0xFF at column 26", p.display())),
        "{e}"
    );
    // With UTF-8 characters in the header the file is UTF-8.
    let mut bytes = "person_id,household_id,name,status,status_since,备注".as_bytes().to_vec();
    bytes.push(0xFF);
    bytes.extend(format!("\n{}{}", row(1, "欧阳娜娜"), row(2, "欧阳娜娜")).as_bytes());
    let e = read_file::<Person>(&write(dir.path(), "h2.csv", &bytes), &mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("the header on line 1: the byte 0xFF at column 51 is not UTF-8 text"), "{e}");
}

#[test]
fn a_bad_byte_in_an_ignored_column_still_refuses_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = HEAD.trim_end().as_bytes().to_vec();
    bytes.extend(",备注\n".as_bytes());
    bytes.extend(format!("{},H1,欧阳娜娜,general,2020-01-01,\n", pid(1)).as_bytes());
    bytes.extend(format!("{},H1,张三,general,2020-01-01,好", pid(2)).as_bytes());
    bytes.extend(b"\xFE\n");
    let errors = refused::<Person>(&write(dir.path(), "extra.csv", &bytes));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].column.as_str()), (3, "备注"));
}

#[test]
fn names_with_bidirectional_overrides_or_controls_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEAD}{}{}{}", row(1, "张三"), row(2, "李\u{202E}四"), row(3, "王\u{1B}五"));
    let errors = refused::<Person>(&write(dir.path(), "names.csv", text.as_bytes()));
    let at: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(at, [(3, "name"), (4, "name")]);
    assert!(errors[0].reason.contains("U+202E (right-to-left override) at character 2"), "{}", errors[0]);
    assert!(errors[1].reason.contains("U+001B"), "{}", errors[1]);
    // The same in GB18030 (the override has a four-byte GB18030 form).
    let errors = refused::<Person>(&write(dir.path(), "names_gb.csv", &gb(&text)));
    assert_eq!(errors.len(), 2, "{errors:?}");
    // Facilities, doctors and regions too.
    let f = "facility_id,name,kind,region_code\nF1,来安\u{2066}卫生院,township_center,341122100000\n";
    let errors = refused::<Facility>(&write(dir.path(), "f.csv", f.as_bytes()));
    assert_eq!((errors[0].line, errors[0].column.as_str()), (2, "name"));
    let d = "practitioner_id,facility_id,qualification,gp,birth_date,active,name\nD1,F1,rural_doctor,yes,1970-01-01,yes,赵\u{200F}六\n";
    let errors = refused::<Practitioner>(&write(dir.path(), "d.csv", d.as_bytes()));
    assert_eq!((errors[0].line, errors[0].column.as_str()), (2, "name"));
}

#[test]
fn the_file_commands_readers_refuse_bad_bytes_where_they_lie() {
    let dir = tempfile::tempdir().unwrap();
    // The fast reader of monitor, coverage and plan.
    let mut t = b"region,year,rural_income,monitoring_line\n34,2024,1,1\n34,2025,".to_vec();
    t.extend(b"1\xFF,1\n");
    let p = write(dir.path(), "t.csv", &t);
    let e = ingest::read_records::<Threshold>(&p, 20, &mut |_, _| {}).unwrap_err();
    let errs = e.row_errors();
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].labelled().to_string(),
        format!(
            "{}:3: column rural_income: the byte 0xFF at column 10 is not UTF-8 text; save the file as UTF-8",
            p.display()
        )
    );
    // settle's persons and claims files.
    let mut persons = format!("person_id,status\n{},general\n", pid(1)).into_bytes();
    persons.extend(format!("{}", pid(2)).as_bytes());
    persons.extend(b",gen\xE9ral\n");
    let pp = write(dir.path(), "p.csv", &persons);
    let mut claims =
        "claim_id,person_id,facility_level,kind,admitted,discharged,total_cost,eligible_cost\n".as_bytes().to_vec();
    claims.extend(b"C\xC3");
    claims.extend(format!(",{},county,inpatient,2024-01-01,2024-01-02,100,100\n", pid(1)).as_bytes());
    let cp = write(dir.path(), "c.csv", &claims);
    let e = ingest::settlement_files::read_settlement_inputs(&pp, &cp).unwrap_err();
    let errs = e.row_errors();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!((errs[0].file.as_str(), errs[0].line, errs[0].column.as_str()), (pp.to_str().unwrap(), 3, "status"));
    assert!(errs[0].reason.starts_with("the byte 0xE9 at column 23 is not UTF-8 text"), "{}", errs[0]);
    assert_eq!((errs[1].line, errs[1].column.as_str()), (2, "1 (claim_id)"));
    // A TOML file: thresholds.
    let p = write(dir.path(), "t.toml", b"[[threshold]]\nregion = \"34\xFF\"\n");
    let e = ingest::read_thresholds_toml(&p).unwrap_err();
    assert!(e.to_string().contains("the byte 0xFF at line 2, column 13 is not UTF-8 text"), "{e}");
}

#[test]
fn a_valid_file_in_every_encoding_still_reads() {
    // The checks refuse nothing that is text.
    let text = format!("{HEAD}{}{}", row(1, "张三"), row(2, "O'Neil\tJr"));
    let dir = tempfile::tempdir().unwrap();
    let e = refused::<Person>(&write(dir.path(), "tab.csv", text.as_bytes()));
    assert_eq!((e[0].line, e[0].column.as_str()), (3, "name"), "a tab is no part of a name");
    let text = format!("{HEAD}{}{}", row(1, "张三"), row(2, "𠀋李"));
    for (name, bytes) in [("u8.csv", text.as_bytes().to_vec()), ("gb.csv", gb(&text))] {
        let rows = read_file::<Person>(&write(dir.path(), name, &bytes), &mut |_, _| {}).unwrap();
        assert_eq!(rows[1].record.name, "𠀋李");
    }
}
