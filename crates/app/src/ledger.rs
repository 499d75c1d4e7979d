//! The work ledger (台账) of a scope (docs/work.md, "The work ledger"): the three
//! batches of the patient ledger with what each patient is still owed, the
//! cases with their measures, the visits, and a summary by village, township or
//! county. The command line writes it as a workbook; the web application
//! serves it as a workbook, CSV or JSON.

use crate::access::{Masking, Scope};
use crate::model::{AppError, AppResult};
use crate::service::App;
use chrono::{Datelike, NaiveDate};
use domain::ledger::{Batch, TreatmentStatus};
use domain::{Fen, RegionCode, RegionLevel, ResidentId};
use ingest::tables::{Cell, Table};
use std::collections::{BTreeMap, HashMap};
use store::{CaseQuery, LedgerQuery, Page};

/// What a patient of the ledger is still owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owed {
    /// A serious or severe patient not treated yet.
    NotTreated,
    /// A chronic patient without a family-doctor contract.
    NoContract,
    /// A contracted chronic patient without a follow-up this quarter.
    NoFollowUp,
}

impl Owed {
    pub fn zh(self) -> &'static str {
        match self {
            Owed::NotTreated => "尚未救治",
            Owed::NoContract => "未签约",
            Owed::NoFollowUp => "本季度未随访",
        }
    }
}

/// The first day of the quarter of `day`.
pub fn quarter_start(day: NaiveDate) -> NaiveDate {
    let month = (day.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(day.year(), month, 1).expect("the first of a month")
}

/// What a line of the ledger still owes its patient, given whether the person
/// was followed up this quarter.
pub fn owed(batch: Batch, status: TreatmentStatus, contracted: bool, followed_up: bool) -> Vec<Owed> {
    match batch {
        Batch::Serious | Batch::Severe if status == TreatmentStatus::ToTreat => vec![Owed::NotTreated],
        Batch::Chronic if !contracted => vec![Owed::NoContract],
        Batch::Chronic if !followed_up => vec![Owed::NoFollowUp],
        _ => vec![],
    }
}

fn prefix_len(level: RegionLevel) -> AppResult<usize> {
    match level {
        RegionLevel::Village => Ok(12),
        RegionLevel::Township => Ok(9),
        RegionLevel::County => Ok(6),
        other => {
            Err(AppError::Invalid(format!("a ledger is by village, township or county, not by {}", other.as_str())))
        }
    }
}

/// Counts of one region of the summary.
#[derive(Default)]
struct Sums {
    batch: [i64; 3],
    treated_serious: i64,
    contracted: i64,
    followed_up: i64,
    open_cases: i64,
    overdue_cases: i64,
    closed_cases: i64,
    measures: Fen,
}

/// The ledger of `year` inside the scope as tables: `summary` (by `level`),
/// `serious`, `chronic`, `severe`, `cases`, `visits`, `network_cases` (the
/// network's gaps inside the scope, every year's, open and closed). Person IDs
/// are shown as `masking` allows.
pub async fn ledger_book(
    app: &App,
    scope: &Scope,
    year: i32,
    level: RegionLevel,
    today: NaiveDate,
    masking: Masking,
) -> AppResult<Vec<Table>> {
    let cut = prefix_len(level)?;
    let s = crate::service::scope(scope)?;
    let store = app.store();
    let all = Page::first(u32::MAX);
    let lines = store.ledger(&s, &LedgerQuery { year: Some(year), ..Default::default() }, all).await?;
    let visits = store.visits(&s, None, None, all).await?;
    let cases = store.cases(&s, &CaseQuery::default(), today, all).await?;
    let totals = store.case_measure_totals(&s).await?;
    let network = store.network_cases(&s, &store::NetworkCaseQuery::default(), today, all).await?;
    let names = store.region_names(&s).await?;
    let quarter = quarter_start(today);
    let followed: HashMap<ResidentId, (usize, NaiveDate)> = visits
        .iter()
        .filter(|v| v.visit.kind == domain::work::VisitKind::FollowUp)
        .filter_map(|v| v.visit.person_id.map(|p| (p, v.visit.date)))
        .fold(HashMap::new(), |mut m, (p, d)| {
            let e = m.entry(p).or_insert((0, d));
            if d >= quarter {
                e.0 += 1;
            }
            e.1 = e.1.max(d);
            m
        });
    let name = |code: RegionCode| names.get(&code).cloned().unwrap_or_default();
    let region_of = |village: RegionCode| -> RegionCode {
        let c = village.to_string();
        format!("{:0<12}", &c[..cut]).parse().unwrap_or(village)
    };
    let place = |v: RegionCode| -> [Cell; 3] {
        let c = v.to_string();
        let at = |n: usize| format!("{:0<12}", &c[..n]).parse::<RegionCode>().ok();
        [
            Cell::text(at(6).map(name).unwrap_or_default()),
            Cell::text(at(9).map(name).unwrap_or_default()),
            Cell::text(format!("{} {}", c, name(v))),
        ]
    };
    let mut sums: BTreeMap<RegionCode, Sums> = BTreeMap::new();

    let mut sheets: [Vec<Vec<Cell>>; 3] = Default::default();
    for l in &lines {
        let (count, last) = followed.get(&l.person).copied().unwrap_or((0, NaiveDate::MIN));
        let owes = owed(l.batch, l.status, l.contract.is_some(), count > 0);
        let i = match l.batch {
            Batch::Serious => 0,
            Batch::Chronic => 1,
            Batch::Severe => 2,
        };
        let sum = sums.entry(region_of(l.village)).or_default();
        sum.batch[i] += 1;
        if l.batch == Batch::Serious && l.status == TreatmentStatus::Treated {
            sum.treated_serious += 1;
        }
        if l.batch == Batch::Chronic && l.contract.is_some() {
            sum.contracted += 1;
            if count > 0 {
                sum.followed_up += 1;
            }
        }
        let mut row: Vec<Cell> = place(l.village).into();
        row.extend([
            Cell::text(&l.household_id),
            Cell::text(masking.id(l.person)),
            Cell::text(if l.disease.is_empty() {
                l.diagnosis.clone()
            } else {
                format!("{} ({})", l.disease, l.diagnosis)
            }),
            Cell::text(status_zh(l.status)),
            Cell::text(match l.treated_in_county {
                Some(true) => "是",
                Some(false) => "否",
                None => "",
            }),
            Cell::Money(l.year_cost),
        ]);
        if l.batch == Batch::Chronic {
            row.extend([
                Cell::from(l.contract.as_ref().map(|c| c.doctor.clone())),
                Cell::from(l.contract.as_ref().map(|c| c.signed.to_string())),
                Cell::Int(count as i64),
                Cell::from((count > 0 || last > NaiveDate::MIN).then(|| last.to_string())),
            ]);
        }
        row.push(Cell::text(owes.iter().map(|o| o.zh()).collect::<Vec<_>>().join("、")));
        sheets[i].push(row);
    }

    let mut case_rows = Vec::new();
    for c in &cases {
        let sum = sums.entry(region_of(c.village)).or_default();
        let (n, amount) = totals.get(&c.id).copied().unwrap_or((0, Fen(0)));
        sum.measures += amount;
        let overdue = c.state.awaits_verification() && c.due < today;
        match c.state {
            domain::work::CaseState::Closed => sum.closed_cases += 1,
            _ => sum.open_cases += 1,
        }
        if overdue {
            sum.overdue_cases += 1;
        }
        let closed_on = c.closed_on;
        let mut row: Vec<Cell> = vec![Cell::Int(c.id)];
        row.extend(place(c.village));
        row.extend([
            Cell::text(&c.household_id),
            Cell::text(c.state.zh()),
            Cell::text(domain::time::china_day(c.opened_at).to_string()),
            Cell::text(&c.assignee),
            Cell::text(c.due.to_string()),
            Cell::text(if overdue { "逾期" } else { "" }),
            Cell::from(c.verified_on.map(|d| d.to_string())),
            Cell::text(match c.monitored {
                Some(true) => "是",
                Some(false) => "否",
                None => "",
            }),
            Cell::Int(n),
            Cell::Money(amount),
            Cell::from(closed_on.map(|d| d.to_string())),
            Cell::text(c.close_reason.map(|r| r.zh()).unwrap_or("")),
            Cell::text(c.close_due.to_string()),
            Cell::text(match closed_on {
                Some(d) if d <= c.close_due => "按期",
                Some(_) => "逾期办结",
                None if c.close_due < today => "逾期未办结",
                None => "",
            }),
        ]);
        case_rows.push(row);
    }

    let mut visit_rows = Vec::new();
    for v in &visits {
        let mut row: Vec<Cell> = vec![Cell::text(v.visit.date.to_string())];
        row.extend(place(v.village));
        row.extend([
            Cell::text(&v.visit.household_id),
            Cell::text(v.visit.kind.zh()),
            Cell::from(v.visit.person_id.map(|p| masking.id(p))),
            Cell::text(&v.visit.visitors),
            Cell::text(&v.visit.findings),
            Cell::from(v.visit.next_date.map(|d| d.to_string())),
            Cell::from(v.case_id.map(|c| c.to_string())),
        ]);
        visit_rows.push(row);
    }

    let network_rows: Vec<Vec<Cell>> = network.iter().map(|c| network_case_row(c, today, &place)).collect();

    let summary_rows = sums
        .iter()
        .map(|(code, s)| {
            vec![
                Cell::text(code.to_string()[..cut].to_string()),
                Cell::text(name(*code)),
                Cell::Int(s.batch[0]),
                Cell::Int(s.treated_serious),
                Cell::Int(s.batch[1]),
                Cell::Int(s.contracted),
                Cell::Int(s.followed_up),
                Cell::Int(s.batch[2]),
                Cell::Int(s.open_cases),
                Cell::Int(s.overdue_cases),
                Cell::Int(s.closed_cases),
                Cell::Money(s.measures),
            ]
        })
        .collect();
    let h = |cols: &[&str]| cols.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let patient = ["县", "乡镇", "村", "户编号", "身份证号", "病种(诊断)", "救治状态", "县域内救治", "年度费用(元)"];
    let mut chronic = patient.to_vec();
    chronic.extend(["签约医生", "签约日期", "本季度随访次数", "最近随访日期"]);
    let with_owed = |mut v: Vec<&str>| {
        v.push("尚欠");
        h(&v)
    };
    Ok(vec![
        Table {
            name: "汇总".into(),
            header: h(&[
                level_zh(level),
                "名称",
                "大病患者",
                "大病已救治",
                "慢病患者",
                "慢病已签约",
                "本季度已随访",
                "重病患者",
                "在办个案",
                "逾期未核实",
                "已结案",
                "帮扶金额(元)",
            ]),
            rows: summary_rows,
        },
        Table {
            name: "大病集中救治".into(),
            header: with_owed(patient.to_vec()),
            rows: std::mem::take(&mut sheets[0]),
        },
        Table { name: "慢病签约服务".into(), header: with_owed(chronic), rows: std::mem::take(&mut sheets[1]) },
        Table {
            name: "重病兜底保障".into(),
            header: with_owed(patient.to_vec()),
            rows: std::mem::take(&mut sheets[2]),
        },
        Table {
            name: "个案与帮扶".into(),
            header: h(&[
                "个案号",
                "县",
                "乡镇",
                "村",
                "户编号",
                "状态",
                "开案日期",
                "责任人",
                "核实期限",
                "逾期",
                "核实日期",
                "纳入监测",
                "帮扶措施数",
                "帮扶金额(元)",
                "结案日期",
                "结案原因",
                "办结期限",
                "办结情况",
            ]),
            rows: case_rows,
        },
        Table {
            name: "走访记录".into(),
            header: h(&[
                "日期",
                "县",
                "乡镇",
                "村",
                "户编号",
                "类型",
                "患者身份证号",
                "走访人",
                "发现",
                "下次走访",
                "个案号",
            ]),
            rows: visit_rows,
        },
        Table {
            name: "网络个案".into(),
            header: h(&[
                "个案号",
                "县",
                "乡镇",
                "村或乡镇",
                "缺口",
                "名称",
                "空白起始日",
                "原因",
                "状态",
                "开案日期",
                "责任人",
                "核实期限",
                "逾期",
                "核实日期",
                "结案日期",
                "结案原因",
                "补充计划",
                "办结期限",
                "办结情况",
            ]),
            rows: network_rows,
        },
    ])
}

/// A network case as a row of the ledger's sheet 网络个案: its place, the gap
/// and what made it, its state and deadlines, how it was closed and the plan
/// (number and version) that fills it when closed as planned.
fn network_case_row(
    c: &store::StoredNetworkCase,
    today: NaiveDate,
    place: &dyn Fn(RegionCode) -> [Cell; 3],
) -> Vec<Cell> {
    let overdue = c.state.awaits_verification() && c.due < today;
    let mut row: Vec<Cell> = vec![Cell::Int(c.id)];
    row.extend(place(c.region));
    row.extend([
        Cell::text(gap_zh(&c.alert.found.kind)),
        Cell::text(&c.alert.found.name),
        Cell::text(c.alert.found.blank_from.to_string()),
        Cell::text(&c.alert.found.detail),
        Cell::text(c.state.zh()),
        Cell::text(domain::time::china_day(c.opened_at).to_string()),
        Cell::text(&c.assignee),
        Cell::text(c.due.to_string()),
        Cell::text(if overdue { "逾期" } else { "" }),
        Cell::from(c.verified_on.map(|d| d.to_string())),
        Cell::from(c.closed_on.map(|d| d.to_string())),
        Cell::text(c.close_reason.map(|r| r.zh()).unwrap_or("")),
        Cell::from(c.plan.map(|(p, v)| format!("计划 {p} 第 {v} 版"))),
        Cell::text(c.close_due.to_string()),
        Cell::text(match c.closed_on {
            Some(d) if d <= c.close_due => "按期",
            Some(_) => "逾期办结",
            None if c.close_due < today => "逾期未办结",
            None => "",
        }),
    ]);
    row
}

/// The kind of a network gap in words.
fn gap_zh(kind: &str) -> &str {
    match kind {
        "township_no_physician" => "乡镇卫生院无执业(助理)医师",
        "village_no_clinic" => "行政村无卫生室",
        "village_no_doctor" => "行政村卫生室无合格村医",
        other => other,
    }
}

fn level_zh(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::Village => "村代码",
        RegionLevel::Township => "乡镇代码",
        _ => "县代码",
    }
}

fn status_zh(s: TreatmentStatus) -> &'static str {
    match s {
        TreatmentStatus::ToTreat => "待救治",
        TreatmentStatus::InTreatment => "救治中",
        TreatmentStatus::Treated => "已救治",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_each_batch_still_owes() {
        use Batch::*;
        use TreatmentStatus::*;
        assert_eq!(owed(Serious, ToTreat, false, false), [Owed::NotTreated]);
        assert!(owed(Serious, Treated, false, false).is_empty());
        assert_eq!(owed(Chronic, InTreatment, false, true), [Owed::NoContract]);
        assert_eq!(owed(Chronic, InTreatment, true, false), [Owed::NoFollowUp]);
        assert!(owed(Chronic, InTreatment, true, true).is_empty());
        assert_eq!(owed(Severe, ToTreat, true, true), [Owed::NotTreated]);
    }

    #[test]
    fn quarters_start_on_the_first_of_january_april_july_october() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(quarter_start(d("2024-02-29")), d("2024-01-01"));
        assert_eq!(quarter_start(d("2024-06-30")), d("2024-04-01"));
        assert_eq!(quarter_start(d("2024-12-31")), d("2024-10-01"));
    }
}
