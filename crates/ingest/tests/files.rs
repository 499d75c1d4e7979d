//! Reading and writing registry files end to end: encodings, workbooks, every bad
//! row reported where it is, and export -> import giving back the same records.

use chrono::NaiveDate;
use domain::*;
use ingest::{read_file, write_file, IngestError, Row};
use std::path::{Path, PathBuf};

fn day(s: &str) -> NaiveDate {
    parse_date(s).unwrap()
}

fn pid(n: u16) -> ResidentId {
    let birth = day("1960-05-17") + chrono::Duration::days((n / 500) as i64);
    ResidentId::from_parts(341122, birth, n % 500 + 1).unwrap()
}

fn read<R: Record>(path: &Path) -> Result<Vec<Row<R>>, IngestError> {
    read_file::<R>(path, &mut |_, _| {})
}

fn records<R: Record>(rows: Vec<Row<R>>) -> Vec<R> {
    rows.into_iter().map(|r| r.record).collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn persons_csv() -> String {
    format!(
        "person_id,household_id,name,status,status_since,diagnoses\n\
         {},H1,张三,lifted,2020-01-01,C16;I10\n\
         {},H1,李四,低保,2021-06-30,\n\
         {},H2,\"王, 五\",general,2019-12-31,E11\n",
        pid(1),
        pid(2),
        pid(3)
    )
}

#[test]
fn utf8_with_and_without_bom_and_gb18030_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let text = persons_csv();
    let plain = read::<Person>(&write(dir.path(), "plain.csv", text.as_bytes())).unwrap();
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(text.as_bytes());
    let with_bom = read::<Person>(&write(dir.path(), "bom.csv", &bom)).unwrap();
    let (gb, _, unmappable) = encoding_rs::GB18030.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gb).is_err(), "the GB18030 bytes must not be UTF-8 too");
    let gbk = read::<Person>(&write(dir.path(), "gb.csv", &gb)).unwrap();

    assert_eq!(plain.len(), 3);
    assert_eq!(plain[0].record.name, "张三");
    assert_eq!(plain[1].record.status, PovertyStatus::LowIncome);
    assert_eq!(plain[2].record.name, "王, 五");
    assert_eq!(plain[0].record.diagnoses, ["C16", "I10"]);
    assert_eq!(plain.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(plain, with_bom);
    assert_eq!(plain, gbk);
}

#[test]
fn gb18030_found_after_a_long_ascii_start() {
    // The first 64 KiB are ASCII, so detection guesses UTF-8; the Chinese name far
    // down must make the reader start again as GB18030, not fail.
    let mut lines: Vec<String> = (1..=4000u16).map(|s| format!("{},H1,Zhang{s},general,2020-01-01", pid(s))).collect();
    lines.push(format!("{},H1,欧阳娜娜,general,2020-01-01", pid(4001)));
    let text = format!("person_id,household_id,name,status,status_since\n{}\n", lines.join("\n"));
    assert!(text.len() > 64 * 1024);
    let (gb, _, _) = encoding_rs::GB18030.encode(&text);
    let dir = tempfile::tempdir().unwrap();
    let rows = read::<Person>(&write(dir.path(), "late.csv", &gb)).unwrap();
    assert_eq!(rows.len(), 4001);
    assert_eq!(rows[4000].record.name, "欧阳娜娜");
    assert_eq!(rows[4000].line, 4002);
}

#[test]
fn a_missing_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "c.csv", b"claim_id,person_id,kind,admitted\nC1,x,inpatient,2024-01-01\n");
    let e = read::<Claim>(&p).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, IngestError::Header { .. }), "{msg}");
    for c in ["facility_level", "discharged", "total_cost", "eligible_cost"] {
        assert!(msg.contains(c), "{msg} lacks {c}");
    }
    assert!(msg.contains(":1:"), "{msg}");
}

#[test]
fn every_bad_row_is_reported_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "person_id,household_id,name,status,status_since,extra\n\
         {ok1},H1,张三,lifted,2020-01-01,x\n\
         110105194912310021,H1,李四,lifted,2020-01-01,x\n\
         {ok2},H1,周九,poorish,2020-01-01,\"an extra value\nover two lines\"\n\
         {ok3},H2,王五,general,2020-02-30,x\n\
         \n\
         {ok4},H2,赵六,general,2020-01-01\n\
         1.10105E+17,H2,钱七,general,2020-01-01,x\n\
         {ok5},H3,孙八,general,2020-01-01,x\n",
        ok1 = pid(1),
        ok2 = pid(2),
        ok3 = pid(3),
        ok4 = pid(4),
        ok5 = pid(5),
    );
    let p = write(dir.path(), "bad.csv", text.as_bytes());
    let e = read::<Person>(&p).unwrap_err();
    let errs = e.row_errors();
    let got: Vec<(u64, &str)> = errs.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        got,
        [(3, "person_id"), (4, "status"), (6, "status_since"), (8, "(row)"), (9, "person_id")],
        "{errs:#?}"
    );
    assert!(errs[0].reason.contains("check digit"), "{}", errs[0]);
    assert!(errs[3].reason.contains("5 fields") && errs[3].reason.contains("6"), "{}", errs[3]);
    assert!(errs[4].reason.contains("scientific notation"), "{}", errs[4]);
    assert!(errs[0].to_string().starts_with(&format!("{}:3: person_id: ", p.display())), "{}", errs[0]);
    assert!(e.to_string().contains("5 bad rows"), "{e}");
}

#[test]
fn repeated_keys_point_at_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "h.csv",
        b"household_id,village_code,size,income\nH1,341122100201,3,1000\nH2,341122100201,3,1000\nH1,341122100202,2,50\nH1,341122100202,2,50\n",
    );
    let e = read::<Household>(&p).unwrap_err();
    let errs = e.row_errors();
    assert_eq!(errs.len(), 2);
    assert_eq!((errs[0].line, errs[0].column.as_str()), (4, "household_id"));
    assert!(errs[0].reason.contains("H1") && errs[0].reason.contains("line 2"), "{}", errs[0]);
    assert_eq!(errs[1].line, 5);
}

#[test]
fn blank_rows_are_skipped_and_progress_reaches_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "t.csv",
        b"region,year,rural_income,monitoring_line\n34,2024,19575,7000\n,,,\n\n341122,2024,16800.5,7000\n",
    );
    let mut last = (0, 0);
    let rows = read_file::<Threshold>(&p, &mut |a, b| last = (a, b)).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].line, 5);
    assert_eq!(rows[1].record.rural_income, Fen(1_680_050));
    let size = std::fs::metadata(&p).unwrap().len();
    assert_eq!(last, (size, size));
}

#[test]
fn unknown_extensions_and_empty_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let e = read::<Region>(&write(dir.path(), "r.json", b"{}")).unwrap_err();
    assert!(e.to_string().contains(".csv or .xlsx"), "{e}");
    let e = read::<Region>(&write(dir.path(), "r.csv", b"")).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
}

// ---------------------------------------------------------------- workbooks

fn xlsx_persons(path: &Path, id_as_number: bool) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (c, h) in ["name", "person_id", "household_id", "status", "status_since"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for i in 0..3u32 {
        let r = i + 1;
        sheet.write_string(r, 0, format!("张{i}")).unwrap();
        if id_as_number && i == 1 {
            sheet.write_number(r, 1, pid(i as u16 + 1).to_string().parse::<f64>().unwrap()).unwrap();
        } else {
            sheet.write_string(r, 1, pid(i as u16 + 1).to_string()).unwrap();
        }
        // Household ids typed as numbers: 1001 must come back as "1001".
        sheet.write_number(r, 2, 1001.0 + i as f64).unwrap();
        sheet.write_string(r, 3, "lifted").unwrap();
        sheet.write_datetime_with_format(r, 4, ExcelDateTime::from_ymd(2020, 3, 1 + i as u8).unwrap(), &date).unwrap();
    }
    book.save(path).unwrap();
}

#[test]
fn a_workbook_reads_with_typed_cells_turned_to_text() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("persons.xlsx");
    xlsx_persons(&p, false);
    let rows = read::<Person>(&p).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[2].record.household_id, "1003");
    assert_eq!(rows[2].record.status_since, day("2020-03-03"));
    assert_eq!(rows[1].record.person_id, pid(2));

    // Money typed as a float with noise, a village code as a number.
    use rust_xlsxwriter::Workbook;
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    for (c, h) in ["household_id", "village_code", "size", "income", "consumption"].iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    s.write_string(1, 0, "H1").unwrap();
    s.write_number(1, 1, 341122100201.0).unwrap();
    s.write_number(1, 2, 4).unwrap();
    s.write_number(1, 3, 0.1 + 0.2 + 1234.0).unwrap();
    s.write_number(1, 4, 1234.5).unwrap();
    let hp = dir.path().join("h.xlsx");
    book.save(&hp).unwrap();
    let h = read::<Household>(&hp).unwrap();
    assert_eq!(h[0].record.village_code.to_string(), "341122100201");
    assert_eq!(h[0].record.income, Fen(123_430));
    assert_eq!(h[0].record.consumption, Some(Fen(123_450)));
    assert_eq!(h[0].record.size, 4);
}

#[test]
fn a_resident_id_stored_as_a_number_is_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("persons.xlsx");
    xlsx_persons(&p, true);
    let e = read::<Person>(&p).unwrap_err();
    let errs = e.row_errors();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!((errs[0].line, errs[0].column.as_str()), (3, "person_id"));
    assert!(errs[0].reason.contains("stored as a number") && errs[0].reason.contains("B3"), "{}", errs[0]);
}

#[test]
fn broken_workbooks_get_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = write(dir.path(), "garbage.xlsx", b"this is not a zip file at all, just some text\n");
    let e = read::<Person>(&garbage).unwrap_err();
    assert!(matches!(e, IngestError::Format { .. }), "{e}");
    assert!(e.to_string().contains("not a readable Excel workbook"), "{e}");

    let good = dir.path().join("good.xlsx");
    xlsx_persons(&good, false);
    let bytes = std::fs::read(&good).unwrap();
    let cut = write(dir.path(), "cut.xlsx", &bytes[..bytes.len() / 2]);
    let e = read::<Person>(&cut).unwrap_err();
    assert!(e.to_string().contains("not a readable Excel workbook"), "{e}");
    assert!(e.to_string().contains("cut.xlsx"), "{e}");
}

// ---------------------------------------------------------------- round trips

fn village(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

type Samples = (Vec<Region>, Vec<Household>, Vec<Person>, Vec<Facility>, Vec<Practitioner>, Vec<Claim>, Vec<Threshold>);

fn samples() -> Samples {
    let regions = vec![
        Region {
            code: village("34"),
            name: "安徽省".into(),
            level: RegionLevel::Province,
            urban_rural: None,
            population: None,
            lon: None,
            lat: None,
        },
        Region {
            code: village("341122100201"),
            name: "大王村".into(),
            level: RegionLevel::Village,
            urban_rural: Some(220),
            population: Some(1234),
            lon: Some(118.433_456_7),
            lat: Some(32.45),
        },
    ];
    let households = vec![
        Household {
            household_id: "H1".into(),
            village_code: village("341122100201"),
            size: 4,
            income: Fen(1_234_567),
            consumption: Some(Fen(1_000_000)),
            food: Some(Fen(400_001)),
        },
        Household {
            household_id: "0007".into(),
            village_code: village("341122100201"),
            size: 1,
            income: Fen(0),
            consumption: None,
            food: None,
        },
    ];
    let persons = vec![
        Person {
            person_id: pid(1),
            household_id: "H1".into(),
            name: "张三".into(),
            status: PovertyStatus::Lifted,
            status_since: day("2020-01-01"),
            diagnoses: vec!["C16".into(), "I10.X05".into()],
        },
        Person {
            person_id: ResidentId::parse("11010519491231002X").unwrap(),
            household_id: "0007".into(),
            name: "Li, \"Si\"".into(),
            status: PovertyStatus::General,
            status_since: day("2019-12-31"),
            diagnoses: vec![],
        },
    ];
    let facilities = vec![
        Facility {
            opened: None,
            closed: None,
            facility_id: "F1".into(),
            name: "大王村卫生室".into(),
            kind: FacilityKind::VillageClinic,
            grade: None,
            region_code: village("341122100201"),
            lon: Some(118.4),
            lat: Some(32.4),
        },
        Facility {
            opened: None,
            closed: None,
            facility_id: "F2".into(),
            name: "来安县人民医院".into(),
            kind: FacilityKind::CountyHospital,
            grade: Some(Grade(2)),
            region_code: village("341122"),
            lon: None,
            lat: None,
        },
    ];
    let practitioners = vec![
        Practitioner {
            practitioner_id: "D1".into(),
            facility_id: "F1".into(),
            name: "赵医生".into(),
            qualification: Qualification::RuralDoctor,
            gp: false,
            birth_date: day("1958-02-28"),
            active: true,
        },
        Practitioner {
            practitioner_id: "D2".into(),
            facility_id: "F2".into(),
            name: String::new(),
            qualification: Qualification::Physician,
            gp: true,
            birth_date: day("1980-10-01"),
            active: false,
        },
    ];
    let claims = vec![
        Claim {
            claim_id: "C1".into(),
            person_id: pid(1),
            facility_level: FacilityLevel::County,
            kind: ClaimKind::Inpatient,
            admitted: day("2024-03-01"),
            discharged: day("2024-03-10"),
            total_cost: Fen(6_000_050),
            eligible_cost: Fen(5_000_001),
            diagnosis: "C16.9".into(),
            facility_id: "F2".into(),
            referred: false,
        },
        Claim {
            claim_id: "C2".into(),
            person_id: pid(1),
            facility_level: FacilityLevel::Village,
            kind: ClaimKind::ChronicOutpatient,
            admitted: day("2024-05-01"),
            discharged: day("2024-05-01"),
            total_cost: Fen(12_345),
            eligible_cost: Fen(0),
            diagnosis: String::new(),
            facility_id: String::new(),
            referred: false,
        },
    ];
    let thresholds = vec![
        Threshold { region: "34".into(), year: 2024, rural_income: Fen(1_957_500), monitoring_line: Fen(700_000) },
        Threshold { region: "341122".into(), year: 2024, rural_income: Fen(1_680_099), monitoring_line: Fen(700_000) },
    ];
    (regions, households, persons, facilities, practitioners, claims, thresholds)
}

fn round_trip<R: Record + PartialEq + std::fmt::Debug>(dir: &Path, given: &[R]) {
    for ext in ["csv", "xlsx"] {
        let p = dir.join(format!("{}.{ext}", R::KIND));
        assert_eq!(write_file(&p, given).unwrap(), given.len() as u64);
        let back = records::<R>(read::<R>(&p).unwrap_or_else(|e| panic!("{}: {e}: {:?}", p.display(), e.row_errors())));
        assert_eq!(back, given, "{} via {ext}", R::KIND);
        // And a second export of what was read is byte-identical (CSV) or equal again.
        let p2 = dir.join(format!("{}-2.{ext}", R::KIND));
        write_file(&p2, &back).unwrap();
        if ext == "csv" {
            assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(&p2).unwrap());
        }
    }
}

#[test]
fn export_then_import_gives_the_same_records_for_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (r, h, p, f, d, c, t) = samples();
    round_trip(dir.path(), &r);
    round_trip(dir.path(), &h);
    round_trip(dir.path(), &p);
    round_trip(dir.path(), &f);
    round_trip(dir.path(), &d);
    round_trip(dir.path(), &c);
    round_trip(dir.path(), &t);
}

#[test]
fn exported_csv_has_the_record_columns_as_header() {
    let dir = tempfile::tempdir().unwrap();
    let (_, h, ..) = samples();
    let p = dir.path().join("h.csv");
    write_file(&p, &h).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(
        text.starts_with(
            "household_id,village_code,size,income,consumption,food\nH1,341122100201,4,12345.67,10000.00,4000.01\n"
        ),
        "{text}"
    );
}

#[test]
fn exported_workbooks_keep_ids_as_text() {
    use calamine::{Data, Reader};
    let dir = tempfile::tempdir().unwrap();
    let (_, _, p, ..) = samples();
    let path = dir.path().join("p.xlsx");
    write_file(&path, &p).unwrap();
    let mut book = calamine::open_workbook_auto(&path).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(range.get_value((0, 0)), Some(&Data::String("person_id".into())));
    assert_eq!(range.get_value((2, 0)), Some(&Data::String("11010519491231002X".into())));
    assert_eq!(range.get_value((1, 1)), Some(&Data::String("H1".into())));
}

#[test]
fn xlsx_export_refuses_the_old_format() {
    let dir = tempfile::tempdir().unwrap();
    let (r, ..) = samples();
    let e = write_file(&dir.path().join("r.xls"), &r).unwrap_err();
    assert!(e.to_string().contains(".xlsx"), "{e}");
}

// ---------------------------------------------------------------- thresholds, divisions

#[test]
fn thresholds_read_from_the_spec_toml() {
    let text = r#"
# thresholds of Anhui
[[threshold]]
region = "34"            # the province
year = 2024
rural_income = 19575     # yuan per person, the previous year's figure
monitoring_line = 7000   # yuan per person per year

[[threshold]]
region = "341122"        # one county's own figure wins over the province's
year = 2024
rural_income = 16800.5
monitoring_line = 7000
"#;
    let rows = ingest::parse_thresholds_toml("t.toml", text).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].record.region, "34");
    assert_eq!(rows[1].record.rural_income, Fen(1_680_050));

    let bad = "[[threshold]]\nregion = \"34\"\nyear = 2024\nrural_income = 19575\nmonitoring_line = 7000\n\n[[threshold]]\nregion = \"3411x\"\nyear = 1800\nrural_income = 1\nmonitoring_line = 1\n\n[[threshold]]\nregion = \"34\"\nyear = 2024\nrural_income = 1\nmonitoring_line = 1\n";
    let e = ingest::parse_thresholds_toml("t.toml", bad).unwrap_err();
    let errs = e.row_errors();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(errs[0].column, "region");
    assert_eq!(errs[0].line, 8);
    assert!(errs[1].reason.contains("repeats"), "{}", errs[1]);
    assert_eq!(errs[1].line, 14);

    let e = ingest::parse_thresholds_toml("t.toml", "[[threshold]\n").unwrap_err();
    assert!(e.to_string().contains("line 1"), "{e}");
}

/// One parser for every command: a key other than the four is refused (it is
/// almost always a misspelt field, whose threshold would then be missing), in a
/// table or at the top, naming the key, its line and its table.
#[test]
fn thresholds_refuse_unknown_keys_naming_key_line_and_table() {
    let text = "[[threshold]]\nregion = \"34\"\nyear = 2024\nrural_income = 19575\nmonitoring_line = 7000\n\n\
                [[threshold]]\nregion = \"341122\"\nyear = 2024\nrural_incme = 16800\nmonitoring_line = 7000\n";
    let e = ingest::parse_thresholds_toml("t.toml", text).unwrap_err();
    let errs = e.row_errors();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!((errs[0].line, errs[0].column.as_str()), (10, "rural_incme"));
    assert!(errs[0].reason.starts_with("threshold #2: is not a threshold key"), "{}", errs[0]);
    assert!(errs[0].reason.contains("region, year, rural_income, monitoring_line"), "{}", errs[0]);
    assert_eq!(errs[0].labelled().to_string(), format!("t.toml:10: column rural_incme: {}", errs[0].reason),);

    let e = ingest::parse_thresholds_toml(
        "t.toml",
        "year = 2024\n[[threshold]]\nregion = \"34\"\nyear = 2024\nrural_income = 1\nmonitoring_line = 1\n",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.toml: line 1: unknown key \"year\"; a thresholds file holds only [[threshold]] tables"
    );
    let e = ingest::parse_thresholds_toml("t.toml", "[[treshold]]\nregion = \"34\"\n").unwrap_err();
    assert!(e.to_string().contains("unknown key \"treshold\""), "{e}");
}

#[test]
fn thresholds_in_toml_keep_to_the_fen_and_read_as_csv_does() {
    let e = ingest::parse_thresholds_toml(
        "t.toml",
        "[[threshold]]\nregion = \"34\"\nyear = 2024\nrural_income = 19575.555\nmonitoring_line = 7000\n",
    )
    .unwrap_err();
    let errs = e.row_errors();
    assert_eq!((errs[0].line, errs[0].column.as_str()), (4, "rural_income"), "{errs:?}");
    assert!(errs[0].reason.contains("two decimals"), "{}", errs[0]);

    let dir = tempfile::tempdir().unwrap();
    let toml = write(
        dir.path(),
        "t.toml",
        "\u{feff}[[threshold]]\nregion = 34\nyear = 2024\nrural_income = 19575.5\nmonitoring_line = 7000\n".as_bytes(),
    );
    let csv = write(dir.path(), "t.csv", b"region,year,rural_income,monitoring_line\n34,2024,19575.50,7000\n");
    let a = records(ingest::read_thresholds(&toml, &mut |_, _| {}).unwrap());
    let b = records(ingest::read_thresholds(&csv, &mut |_, _| {}).unwrap());
    assert_eq!(a, b);
    assert_eq!(a[0].rural_income, Fen(1_957_550));
}

#[test]
fn the_national_division_table_loads_as_regions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/divisions");
    assert!(ingest::is_division_dir(&dir));
    let regions = ingest::read_divisions(&dir).unwrap();
    assert_eq!(regions.iter().filter(|r| r.level == RegionLevel::Province).count(), 31);
    assert!(regions.len() > 44_000);
    assert!(regions.iter().any(|r| r.code.to_string() == "341122100000"));
    let e = ingest::read_divisions(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap_err();
    assert!(e.to_string().contains("provinces.csv"), "{e}");
}

/// Reads `path` with [`ingest::read_file_streaming`] in chunks of `chunk`, keeping
/// what a writer would: the rows since the last restart, and how often it restarted.
fn stream<R: Record>(path: &Path, chunk: usize) -> (Result<u64, IngestError>, Vec<Row<R>>, usize, Vec<usize>) {
    let (mut rows, mut restarts, mut sizes) = (Vec::new(), 0, Vec::new());
    let out = ingest::read_file_streaming::<R>(path, &mut |_, _| {}, chunk, &mut |feed| match feed {
        ingest::Feed::Rows(mut r) => {
            sizes.push(r.len());
            rows.append(&mut r);
        }
        ingest::Feed::Restart => {
            restarts += 1;
            rows.clear();
        }
    });
    (out, rows, restarts, sizes)
}

#[test]
fn streaming_hands_on_every_row_once_in_order_in_chunks() {
    let lines: Vec<String> = (1..=1000u16).map(|s| format!("{},H1,Zhang{s},general,2020-01-01", pid(s))).collect();
    let text = format!("person_id,household_id,name,status,status_since\n{}\n", lines.join("\n"));
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.csv", text.as_bytes());
    let whole = read::<Person>(&p).unwrap();
    let (out, rows, restarts, sizes) = stream::<Person>(&p, 64);
    assert_eq!(out.unwrap(), 1000);
    assert_eq!(rows, whole);
    assert_eq!(restarts, 0);
    assert!(sizes[..sizes.len() - 1].iter().all(|&n| n == 64), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 1000);
}

#[test]
fn streaming_stops_handing_on_at_the_first_bad_row_and_still_reports_all() {
    let mut lines: Vec<String> = (1..=300u16).map(|s| format!("{},H1,Zhang{s},general,2020-01-01", pid(s))).collect();
    lines[149] = format!("{},H1,Bad,no_such_status,2020-01-01", pid(150)); // line 151
    lines[249] = format!("{},H1,Bad,general,2020-13-01", pid(250)); // line 251
    let text = format!("person_id,household_id,name,status,status_since\n{}\n", lines.join("\n"));
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "p.csv", text.as_bytes());
    let (out, rows, _, _) = stream::<Person>(&p, 10);
    let Err(IngestError::Rows { errors, .. }) = out else { panic!("should be refused") };
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [151, 251]);
    // Nothing after the bad row was handed on (what was is discarded by the writer).
    assert!(rows.iter().all(|r| r.line < 151), "{}", rows.len());
}

#[test]
fn streaming_restarts_when_gb18030_is_found_late() {
    let mut lines: Vec<String> = (1..=4000u16).map(|s| format!("{},H1,Zhang{s},general,2020-01-01", pid(s))).collect();
    lines.push(format!("{},H1,欧阳娜娜,general,2020-01-01", pid(4001)));
    let text = format!("person_id,household_id,name,status,status_since\n{}\n", lines.join("\n"));
    let (gb, _, _) = encoding_rs::GB18030.encode(&text);
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "late.csv", &gb);
    let (out, rows, restarts, _) = stream::<Person>(&p, 512);
    assert_eq!(out.unwrap(), 4001);
    assert_eq!(restarts, 1);
    assert_eq!(rows, read::<Person>(&p).unwrap());
    assert_eq!(rows[4000].record.name, "欧阳娜娜");
}
