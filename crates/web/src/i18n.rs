//! The pages' two languages, Simplified Chinese and English, chosen by the user
//! (a cookie set from the page header). One small message table; a key missing
//! from it is shown as itself, which a test would catch.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn from_cookie(v: Option<&str>) -> Lang {
        match v {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// (key, English, 中文)
const MESSAGES: &[(&str, &str, &str)] = &[
    ("app", "SafetyNet", "健康扶贫动态管理系统"),
    ("overview", "Overview", "总览"),
    ("persons", "Persons", "人员"),
    ("households", "Households", "家庭户"),
    ("alerts", "Alerts", "预警"),
    ("settle", "Settlement", "一站式结算"),
    ("desk", "Hospital desk", "住院结算窗口"),
    ("coverage", "Coverage", "服务覆盖"),
    ("practitioners", "Practitioners", "卫生人员"),
    ("plans", "Plans", "巡诊计划"),
    ("pairing", "Pairing", "对口帮扶"),
    ("policies", "Policies", "政策与阈值"),
    ("imports", "Imports", "导入记录"),
    ("reports", "Reports", "指标报表"),
    ("whatif", "Policy what-if", "政策测算"),
    ("users", "Users", "用户与角色"),
    ("audit", "Audit log", "审计日志"),
    ("logout", "Log out", "退出"),
    ("login", "Log in", "登录"),
    ("username", "User name", "用户名"),
    ("password", "Password", "密码"),
    ("search", "Search", "搜索"),
    ("search_hint", "ID, name or household", "身份证号、姓名或户编号"),
    ("person_id", "Resident ID", "身份证号"),
    ("name", "Name", "姓名"),
    ("status", "Status", "身份"),
    ("status_since", "Since", "起始日期"),
    ("household", "Household", "家庭户"),
    ("village", "Village", "行政村"),
    ("size", "Size", "人口"),
    ("income", "Income (yuan)", "年收入（元）"),
    ("members", "Members", "家庭成员"),
    ("claims", "Claims", "就诊结算"),
    ("claim", "Claim", "结算单"),
    ("discharged", "Discharged", "出院日期"),
    ("total_cost", "Total cost", "总费用"),
    ("oop", "Out of pocket", "个人自付"),
    ("oop_share", "OOP share", "自付比例"),
    ("settled_total", "Settled total", "结算总额"),
    ("status_history", "Status history", "身份变更"),
    ("batches", "Treatment batches", "分类救治"),
    ("diagnoses", "Diagnoses", "诊断"),
    ("rule", "Rule", "规则"),
    ("year", "Year", "年度"),
    ("value", "Value", "测算值"),
    ("threshold", "Threshold", "阈值"),
    ("state", "State", "状态"),
    ("move_to", "Move to", "转为"),
    ("note", "Note", "备注"),
    ("apply", "Apply", "提交"),
    ("measure", "Assistance measure", "帮扶措施"),
    ("measures", "Assistance measures", "帮扶措施"),
    ("kind", "Kind", "类别"),
    ("amount", "Amount (yuan)", "金额（元）"),
    ("record", "Record", "记录"),
    ("history", "History", "处理经过"),
    ("open_alerts", "Open alerts", "未结预警"),
    ("persons_count", "Persons", "人数"),
    ("poor_persons", "Poor and monitored persons", "脱贫及监测人口"),
    ("blank_villages", "Blank villages", "空白村"),
    ("villages", "Villages", "行政村数"),
    ("map", "Map", "地图"),
    (
        "map_note",
        "Each dot is a village at its recorded point; no boundaries are drawn.",
        "每个点为一个行政村（按登记坐标），不绘制行政边界。",
    ),
    ("indicator", "Indicator", "指标"),
    ("trend", "Settled costs by month", "月度结算费用"),
    ("when", "When", "时间"),
    ("who", "Who", "操作人"),
    ("action", "Action", "操作"),
    ("target", "Target", "对象"),
    ("detail", "Detail", "详情"),
    ("role", "Role", "角色"),
    ("scope", "Region scope", "管辖区域"),
    ("user_facility", "Facility (clerks)", "所属机构（结算员）"),
    ("create_user", "Create user", "新建用户"),
    ("create_token", "New API token", "新建 API 令牌"),
    ("token_once", "Copy this token now; it is not shown again:", "请立即复制此令牌，之后不再显示："),
    ("export_csv", "Export CSV", "导出 CSV"),
    ("none", "Nothing to show.", "暂无数据。"),
    ("all", "All", "全部"),
    ("locked", "locked", "已锁定"),
    ("open", "open", "待核实"),
    ("verifying", "verifying", "核实中"),
    ("assisting", "assisting", "帮扶中"),
    ("resolved", "resolved", "已解除"),
    ("dismissed", "dismissed", "已排除"),
    ("cases", "Cases", "个案"),
    ("case", "Case", "个案"),
    ("overdue", "overdue", "逾期"),
    ("yes", "yes", "是"),
    ("no", "no", "否"),
    ("assignee", "Responsible", "责任人"),
    ("due", "Verify by", "核实期限"),
    ("version", "Version", "版本"),
    ("source", "Source", "来源"),
    ("opened", "Opened", "立案"),
    ("updated", "Updated", "更新时间"),
    ("verified_on", "Verified on", "核实日期"),
    ("close_due", "Close by", "办结期限"),
    ("late_to_close", "past its deadline to close", "逾期未办结"),
    ("monitored", "Monitored", "纳入监测"),
    ("close_reason", "Reason for closing", "结案原因"),
    ("visits", "Visits", "走访记录"),
    ("visitors", "Visitors", "走访人员"),
    ("findings", "Findings", "走访情况"),
    ("next_date", "Next visit", "下次走访"),
    ("date", "Date", "日期"),
    ("fund", "Fund or agency", "资金来源"),
    ("assign", "Assign", "分派"),
    ("verify", "Verify", "核实"),
    ("close_case", "Close the case", "结案"),
    ("open_case", "Open a case", "立案"),
    ("open_case_link", "Open case", "在办个案"),
    ("becomes_monitored", "The household becomes monitored", "纳入监测对象"),
    ("open_only", "Open only", "仅在办"),
    ("overdue_only", "Overdue only", "仅逾期"),
    ("mine", "Mine", "我负责的"),
    ("filter", "Filter", "筛选"),
    ("contracts", "Family-doctor contracts", "家庭医生签约"),
    ("sign_contract", "Sign a contract", "签约"),
    ("practitioner", "Doctor (practitioner ID)", "签约医生（人员编号）"),
    ("signed", "Signed", "签约日期"),
    ("ends", "Ends", "到期日期"),
    ("expired", "expired", "已到期"),
    ("record_visit", "Record a visit", "登记走访"),
    ("record_follow_up", "Record a follow-up", "登记随访"),
    ("whole_household", "The whole household", "全户"),
    ("for_case", "For case", "关联个案"),
    ("ledger", "Ledger", "台账"),
    ("limits", "Amount limits", "金额合理性上限"),
    ("limits_note", "A claim or an assistance measure above its limit is refused with the limit it passed. The most specific row applies; * means any.", "超过上限的费用单据或救助措施将被拒绝并注明所超上限。以最具体的一行为准；* 表示任意。"),
    ("subject", "Applies to", "适用对象"),
    ("care_level", "Level of care", "医疗机构级别"),
    ("max_yuan", "Most (yuan)", "上限（元）"),
    ("change_limit", "Set a limit", "设置上限"),
    ("limit_remove_hint", "empty: remove the row", "留空：删除此行"),
    ("level", "Level", "汇总级别"),
    ("township", "Township", "乡镇"),
    ("county", "County", "县"),
    ("show", "Show", "查询"),
    ("summary", "Summary", "汇总"),
    ("ledger_tables", "Tables of the ledger", "台账各表"),
    ("table", "Table", "表名"),
    ("rows", "Rows", "行数"),
    ("as_of", "As of", "截至"),
    ("download_xlsx", "Download XLSX", "下载 XLSX"),
    ("download_csv", "Download CSV", "下载 CSV"),
    ("village_code", "Village code", "行政村代码"),
    ("consumption", "Consumption (yuan)", "年消费支出（元）"),
    ("food", "Food spending (yuan)", "食品支出（元）"),
    ("diagnoses_hint", "ICD-10 codes separated by ;", "ICD-10 编码，以 ; 分隔"),
    ("change_reason", "Reason for the change", "修改原因"),
    ("new_household", "New household", "新建家庭户"),
    ("change_household", "Change the household", "修改家庭户信息"),
    ("new_person", "New member", "新增家庭成员"),
    ("change_person", "Change the record", "修改人员信息"),
    ("create", "Create", "新建"),
    ("save", "Save", "保存"),
    ("targets", "Targets", "指标目标"),
    ("targets_note", "Each indicator value of a report is drawn against the most specific target of its indicator, region and year: met, near (within the tolerance) or missed. The shipped national targets may be replaced by an administrator; every change is kept as a new version and audited.", "报表中每个指标值与最具体的目标（按指标、区划、年度）比较：达标、接近（在容差内）或未达标。系统内置的全国目标可由管理员修改；每次修改均保留版本并记入审计日志。"),
    ("set_target", "Set a target", "设置目标"),
    ("region_prefix", "Region (code prefix)", "区划（代码前缀）"),
    ("target_value", "Target", "目标"),
    ("target_bands", "Met / near", "达标 / 接近"),
    ("origin", "Set by", "来源版本"),
    ("met", "met", "达标"),
    ("near", "near", "接近"),
    ("missed", "missed", "未达标"),
    ("targets_of_year", "Targets", "目标完成情况"),
    ("tour_doctor", "Doctor", "医生"),
    ("tour_facility", "Leaves from", "出发机构"),
    ("tour_halfdays", "Half-days", "半天"),
    ("tour_villages", "Villages in order", "依次巡诊的村"),
    ("tour_travel", "Travel (min)", "路途（分钟）"),
];

/// The message for `key` in `lang`.
pub fn t(lang: Lang, key: &'static str) -> &'static str {
    match MESSAGES.iter().find(|(k, _, _)| *k == key) {
        Some((_, en, zh)) => match lang {
            Lang::En => en,
            Lang::Zh => zh,
        },
        None => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_both_languages_filled() {
        for (i, (k, en, zh)) in MESSAGES.iter().enumerate() {
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
            assert!(!MESSAGES[..i].iter().any(|(k2, _, _)| k2 == k), "duplicate key {k}");
        }
        assert_eq!(t(Lang::Zh, "alerts"), "预警");
        assert_eq!(t(Lang::En, "alerts"), "Alerts");
    }
}
