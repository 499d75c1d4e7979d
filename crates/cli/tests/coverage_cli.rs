//! `safetynet coverage` and `safetynet plan` run as a user runs them, on small
//! files: the outputs, and bad inputs refused with nothing written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REGIONS: &str = "code,name,level,urban_rural,population,lon,lat
340000000000,安徽省,province,,,,
341100000000,滁州市,city,,,,
341122000000,来安县,county,,,,
341122100000,新安镇,township,220,,,
341122100201,东村,village,220,800,118.40,32.40
341122100202,西村,village,220,900,118.40,32.45
341122100203,南村,village,220,2000,118.40,32.35
341122100204,北村,village,220,600,118.40,32.50
";

const FACILITIES: &str = "facility_id,name,kind,grade,region_code,lon,lat
H1,来安县人民医院,county_hospital,2,341122000000,118.40,32.30
T1,新安镇卫生院,township_center,,341122100000,118.40,32.42
V2,西村卫生室,village_clinic,,341122100202,,
V4,北村卫生室,village_clinic,,341122100204,118.40,32.50
";

const PRACTITIONERS: &str = "practitioner_id,facility_id,qualification,gp,birth_date,active,name
p1,H1,physician,false,1980-03-01,true,王医生
p2,T1,physician,true,1985-07-01,true,李医生
p3,T1,assistant_physician,false,1990-01-01,true,赵医生
r2,V2,rural_doctor,false,1961-01-01,true,张三
r4,V4,rural_doctor,false,1975-01-01,true,钱四
";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_safetynet"))
}

struct Dir(PathBuf);
impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("safetynet-coverage-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Output {
    bin().args(args).arg("--quiet").output().unwrap()
}

fn registry(d: &Dir, regions: &str, facilities: &str, practitioners: &str) -> Vec<String> {
    let r = d.write("regions.csv", regions);
    let f = d.write("facilities.csv", facilities);
    let p = d.write("practitioners.csv", practitioners);
    vec![
        "--regions".into(),
        r.display().to_string(),
        "--facilities".into(),
        f.display().to_string(),
        "--practitioners".into(),
        p.display().to_string(),
    ]
}

fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn coverage_writes_blank_spots_reach_and_circle() {
    let d = Dir::new("ok");
    let mut args: Vec<String> = vec!["coverage".into(), "--as-of".into(), "2025-06-01".into()];
    args.extend(registry(&d, REGIONS, FACILITIES, PRACTITIONERS));
    let out = d.path("blank.csv");
    let reach = d.path("reach.csv");
    args.extend(["--out".into(), out.display().to_string(), "--reach-out".into(), reach.display().to_string()]);
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let o = run(&a);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}\n{}", stdout, String::from_utf8_lossy(&o.stderr));
    // 东村 and 南村 have no clinic; 西村's only doctor turns 65 on 2026-01-01.
    let want = "kind,region_code,name,in_years,detail
village_no_clinic,341122100201,东村,0,no village clinic and no township centre in the village; 800 people
village_no_clinic,341122100203,南村,0,no village clinic and no township centre in the village; 2000 people
village_no_clinic,341122100201,东村,1,no village clinic and no township centre in the village; 800 people
village_no_clinic,341122100203,南村,1,no village clinic and no township centre in the village; 2000 people
village_no_doctor,341122100202,西村,1,clinic V2: last qualified doctor 张三 (r2) turns 65 on 2026-01-01
";
    let got = text(&out);
    assert!(got.starts_with(want), "got:\n{got}");
    assert_eq!(got.lines().filter(|l| l.contains(",3,")).count(), 3);
    assert!(stdout.contains("village_no_clinic 2"), "{stdout}");
    // Reach: 东村 is 0.05° (14.5 min) from 北村's clinic? No: 0.10°; the clinic of
    // 西村 serves at 0.05°, 14.46 minutes: inside the circle.
    let reach_text = text(&reach);
    let row = reach_text.lines().find(|l| l.starts_with("341122100201")).unwrap();
    assert!(row.contains(",14.5,V2,"), "{row}");
    // Within 15 minutes, but with no qualified doctor of its own.
    assert!(reach_text.lines().next().unwrap().ends_with(",within_15_minutes,has_qualified_doctor"), "{reach_text}");
    assert!(row.ends_with(",true,false"), "{row}");
    let west = reach_text.lines().find(|l| l.starts_with("341122100202")).unwrap();
    assert!(west.ends_with(",true"), "{west}");
    let circle = text(&d.path("reach_circle.csv"));
    assert!(circle.lines().any(|l| l.starts_with("county,341122,来安县,4,4300,")), "{circle}");
    assert!(stdout.contains("province 34 安徽省"), "{stdout}");
}

#[test]
fn plan_writes_visits_and_reports_its_figures() {
    let d = Dir::new("plan");
    let mut args: Vec<String> = vec!["plan".into(), "--as-of".into(), "2025-06-01".into()];
    args.extend(registry(&d, REGIONS, FACILITIES, PRACTITIONERS));
    let out = d.path("plan.csv");
    let tours = d.path("tours.csv");
    args.extend(["--out".into(), out.display().to_string()]);
    args.extend(["--tours-out".into(), tours.display().to_string()]);
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let o = run(&a);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}\n{}", stdout, String::from_utf8_lossy(&o.stderr));
    let plan = text(&out);
    let mut lines = plan.lines();
    assert_eq!(
        lines.next().unwrap(),
        "village_code,village_name,population,doctor_id,facility_id,halfdays,travel_minutes,action,reason"
    );
    // 东村 (800 people) is 0.02° from T1: 5.8 minutes, visited twice by one T1 doctor.
    let east: Vec<&str> = plan.lines().filter(|l| l.starts_with("341122100201")).collect();
    assert_eq!(east.len(), 1, "{plan}");
    assert!(east[0].contains(",T1,") && east[0].contains(",5.8,rove,"), "{}", east[0]);
    assert_eq!(east[0].split(',').nth(5).unwrap().split(';').count(), 2);
    // 南村 has 2000 people: a dispatched doctor.
    assert!(plan.lines().any(|l| l.starts_with("341122100203") && l.contains(",dispatch,")), "{plan}");
    assert!(stdout.contains("covered population 800 of 2800"), "{stdout}");
    assert!(stdout.contains("lower bound"), "{stdout}");
    // Tours: 东村 on a half-day from T1 (round trip 11.6 minutes and 45 in the
    // village), four times a month; the bound is reported with its gap.
    let tours = text(&tours);
    assert_eq!(
        tours.lines().next().unwrap(),
        "tour,doctor_id,facility_id,halfdays,village_codes,village_names,population,travel_minutes,duration_minutes"
    );
    let east = tours.lines().find(|l| l.contains("341122100201")).expect("东村 is toured");
    assert!(east.contains(",T1,") && east.contains(",11.6,56.6"), "{east}");
    assert!(stdout.contains("covered population 800, upper bound 800 (gap 0.00%)"), "{stdout}");
}

#[test]
fn bad_inputs_are_refused_and_nothing_is_written() {
    let d = Dir::new("bad");
    let cases: Vec<(String, String, String, &str)> = vec![
        (
            REGIONS.into(),
            format!("{FACILITIES}V9,某卫生室,village_clinic,,341122100299,,\n"),
            PRACTITIONERS.into(),
            "V9 (341122100299)",
        ),
        (
            REGIONS.into(),
            FACILITIES.into(),
            format!("{PRACTITIONERS}p9,X1,nurse,false,1990-01-01,true,某\n"),
            "p9 (X1)",
        ),
        (
            REGIONS.replace("118.40,32.45", "32.45,118.40"),
            FACILITIES.into(),
            PRACTITIONERS.into(),
            "regions.csv:7: column lon",
        ),
        (
            REGIONS.into(),
            FACILITIES.replace("township_center", "clinic"),
            PRACTITIONERS.into(),
            "facilities.csv:3: column kind",
        ),
    ];
    for (r, f, p, want) in cases {
        let mut args: Vec<String> = vec!["coverage".into(), "--as-of".into(), "2025-06-01".into()];
        args.extend(registry(&d, &r, &f, &p));
        let out = d.path("blank.csv");
        args.extend(["--out".into(), out.display().to_string()]);
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let o = run(&a);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(stderr.contains(want), "want {want:?} in {stderr}");
        assert!(!out.exists(), "output written despite {want}");
    }
    // An unreadable road file: refused before any output.
    let mut args: Vec<String> = vec!["coverage".into(), "--as-of".into(), "2025-06-01".into()];
    args.extend(registry(&d, REGIONS, FACILITIES, PRACTITIONERS));
    let garbage = d.write("roads.osm.pbf", "not a pbf");
    let (out, reach) = (d.path("blank.csv"), d.path("reach.csv"));
    args.extend([
        "--out".into(),
        out.display().to_string(),
        "--reach-out".into(),
        reach.display().to_string(),
        "--roads".into(),
        garbage.display().to_string(),
    ]);
    let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let o = run(&a);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(stderr.contains("roads.osm.pbf") && stderr.contains("not a readable OpenStreetMap PBF"), "{stderr}");
    assert!(!out.exists() && !reach.exists());
}
