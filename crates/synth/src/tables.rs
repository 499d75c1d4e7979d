//! The small tables of fact and custom the generator draws from: provincial
//! centres and rural incomes, surnames and given-name characters, the parts of
//! village names, and the diseases with their prevalence. Figures are rounded
//! public approximations, good for realistic shapes, not for statistics.

/// A province's approximate geographic centre (longitude, latitude), the radius in
/// degrees that holds most of its counties, and its rural per-capita disposable
/// income of 2023 in yuan (农村居民人均可支配收入, rounded).
pub struct ProvinceFacts {
    pub code: u8,
    pub lon: f64,
    pub lat: f64,
    pub radius: f64,
    pub rural_income_2023: u32,
}

const fn p(code: u8, lon: f64, lat: f64, radius: f64, rural_income_2023: u32) -> ProvinceFacts {
    ProvinceFacts { code, lon, lat, radius, rural_income_2023 }
}

pub const PROVINCES: [ProvinceFacts; 31] = [
    p(11, 116.40, 40.20, 0.40, 37_358),
    p(12, 117.30, 39.30, 0.40, 30_851),
    p(13, 115.90, 39.30, 1.80, 20_688),
    p(14, 112.30, 37.60, 1.50, 17_677),
    p(15, 113.90, 44.10, 5.00, 21_221),
    p(21, 122.60, 41.30, 1.50, 21_483),
    p(22, 126.20, 43.70, 1.80, 19_472),
    p(23, 127.90, 47.80, 2.50, 19_756),
    p(31, 121.40, 31.20, 0.30, 42_988),
    p(32, 119.50, 32.90, 1.30, 30_488),
    p(33, 120.10, 29.20, 1.20, 40_311),
    p(34, 117.20, 31.80, 1.40, 21_144),
    p(35, 118.00, 26.00, 1.30, 26_722),
    p(36, 115.70, 27.60, 1.50, 21_358),
    p(37, 118.20, 36.30, 1.70, 23_776),
    p(41, 113.60, 33.90, 1.60, 20_053),
    p(42, 112.30, 30.90, 1.80, 21_293),
    p(43, 111.70, 27.60, 1.60, 20_921),
    p(44, 113.40, 23.30, 1.80, 25_142),
    p(45, 108.80, 23.80, 1.80, 18_656),
    p(46, 109.80, 19.20, 0.60, 20_708),
    p(50, 107.80, 30.00, 1.20, 20_820),
    p(51, 102.70, 30.60, 2.80, 19_978),
    p(52, 106.80, 26.80, 1.40, 14_817),
    p(53, 101.50, 24.90, 2.30, 16_361),
    p(54, 88.40, 31.50, 4.00, 19_924),
    p(61, 108.90, 35.20, 1.90, 16_992),
    p(62, 100.90, 37.90, 3.00, 13_131),
    p(63, 96.00, 35.70, 2.80, 15_614),
    p(64, 106.20, 37.30, 0.90, 17_772),
    p(65, 85.20, 41.10, 5.50, 17_948),
];

pub fn province_facts(code: u8) -> Option<&'static ProvinceFacts> {
    PROVINCES.iter().find(|p| p.code == code)
}

/// China's bounding box as `domain::check_point` has it, a little inside.
pub const LON: (f64, f64) = (73.5, 135.0);
pub const LAT: (f64, f64) = (3.5, 53.5);

/// Surnames with their rough share among the Han population (per mille), the most
/// common first; the list covers about 85% of people.
pub const SURNAMES: &[(&str, u32)] = &[
    ("王", 72),
    ("李", 71),
    ("张", 68),
    ("刘", 53),
    ("陈", 46),
    ("杨", 31),
    ("黄", 23),
    ("赵", 22),
    ("吴", 20),
    ("周", 19),
    ("徐", 14),
    ("孙", 13),
    ("马", 12),
    ("朱", 12),
    ("胡", 11),
    ("郭", 11),
    ("何", 10),
    ("高", 10),
    ("林", 10),
    ("罗", 9),
    ("郑", 9),
    ("梁", 8),
    ("谢", 7),
    ("宋", 7),
    ("唐", 6),
    ("许", 6),
    ("韩", 6),
    ("冯", 6),
    ("邓", 6),
    ("曹", 5),
    ("彭", 5),
    ("曾", 5),
    ("肖", 5),
    ("田", 5),
    ("董", 5),
    ("袁", 4),
    ("潘", 4),
    ("于", 4),
    ("蒋", 4),
    ("蔡", 4),
    ("余", 4),
    ("杜", 4),
    ("叶", 4),
    ("程", 4),
    ("苏", 3),
    ("魏", 3),
    ("吕", 3),
    ("丁", 3),
    ("任", 3),
    ("沈", 3),
    ("姚", 3),
    ("卢", 3),
    ("姜", 3),
    ("崔", 3),
    ("钟", 3),
    ("谭", 3),
    ("陆", 3),
    ("汪", 3),
    ("范", 3),
    ("金", 3),
    ("石", 3),
    ("廖", 2),
    ("贾", 2),
    ("夏", 2),
    ("韦", 2),
    ("付", 2),
    ("方", 2),
    ("白", 2),
    ("邹", 2),
    ("孟", 2),
    ("熊", 2),
    ("秦", 2),
    ("邱", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("闫", 2),
    ("段", 2),
    ("雷", 2),
    ("侯", 2),
    ("龙", 2),
    ("史", 2),
    ("陶", 1),
    ("黎", 1),
    ("贺", 1),
    ("顾", 1),
    ("毛", 1),
    ("郝", 1),
    ("龚", 1),
    ("邵", 1),
    ("万", 1),
    ("钱", 1),
    ("严", 1),
    ("欧阳", 1),
    ("诸葛", 1),
];

/// Characters of men's given names (older and younger fashions mixed).
pub const MALE_CHARS: &[&str] = &[
    "伟", "强", "军", "勇", "杰", "涛", "斌", "明", "超", "辉", "刚", "健", "平", "国", "建", "华", "林", "峰", "磊",
    "鹏", "宇", "浩", "俊", "志", "文", "海", "亮", "波", "德", "福", "贵", "生", "山", "忠", "祥", "成", "兵", "东",
    "春", "新", "振", "荣", "宏", "昌", "发", "庆", "全", "永", "金", "宝", "子", "轩", "博", "睿", "泽", "铭", "晨",
    "航", "然", "锦", "天", "一", "家", "豪",
];

/// Characters of women's given names.
pub const FEMALE_CHARS: &[&str] = &[
    "芳", "娟", "敏", "静", "丽", "艳", "霞", "秀", "英", "兰", "梅", "萍", "红", "玉", "珍", "凤", "花", "琴", "燕",
    "娜", "婷", "雪", "慧", "莉", "洁", "玲", "桂", "淑", "翠", "云", "佳", "欣", "怡", "涵", "梓", "萱", "雨", "诗",
    "悦", "可", "晴", "妍", "琳", "颖", "思", "月", "春", "美", "小", "彩",
];

/// First parts of village names: directions, sizes, family names, features.
pub const VILLAGE_HEADS: &[&str] = &[
    "大", "小", "东", "西", "南", "北", "前", "后", "上", "下", "新", "老", "高", "石", "黄", "青", "白", "红", "柳",
    "杨", "李", "张", "王", "刘", "陈", "周", "吴", "孙", "马", "朱", "胡", "何", "赵", "徐", "郭", "林", "罗", "梁",
    "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "田", "董", "潘", "蒋", "杜", "程", "魏", "丁", "沈", "姚",
    "桃", "杏", "梨", "松", "竹", "梅", "枣", "槐", "桑", "金", "银", "双", "三", "五", "八", "九", "长", "永", "太平",
    "和平", "幸福", "团结", "胜利", "光明", "丰收", "富强", "红星", "向阳", "兴隆", "龙泉", "凤凰", "龙王", "龙潭",
];

/// Second parts of village names: the kind of place.
pub const VILLAGE_TAILS: &[&str] = &[
    "庄", "湾", "岗", "桥", "集", "圩", "店", "楼", "营", "寨", "沟", "河", "坝", "塘", "岭", "坪", "洼", "铺", "堡",
    "冲", "家", "林", "山", "峪", "台", "坡", "园", "田", "岔", "口", "屯", "港", "溪", "墩", "滩", "坊", "门", "井",
    "塆", "畈", "垸", "头", "洲", "源", "院",
];

/// Suffixes that end a township's name; the stem is what is left.
pub const TOWNSHIP_SUFFIXES: &[&str] =
    &["民族乡", "民族镇", "街道办事处", "街道", "办事处", "苏木", "镇", "乡", "农场", "林场", "牧场", "管委会"];

/// The stem of a township's name (`新安镇` -> `新安`), at least one character.
pub fn township_stem(name: &str) -> &str {
    for s in TOWNSHIP_SUFFIXES {
        if let Some(stem) = name.strip_suffix(s) {
            if !stem.is_empty() {
                return stem;
            }
        }
    }
    name
}

/// What the generator knows of a diagnosis: its code, and whether it makes the
/// person a chronic-outpatient or a serious patient (from the shipped catalogues).
#[derive(Debug, Clone, Copy)]
pub struct Disease {
    pub code: &'static str,
    /// Yearly prevalence (per 10,000) by age band: 0-17, 18-44, 45-59, 60+.
    pub per_10k: [u32; 4],
    /// Only women (`Some(false)`), only men (`Some(true)`), or both.
    pub male: Option<bool>,
    /// Visits per year of outpatient chronic care (门诊慢特病) it brings.
    pub chronic_visits: f64,
    /// Admissions per year it brings.
    pub admissions: f64,
    /// The cost multiplier of its admissions.
    pub cost: f64,
}

const fn dz(
    code: &'static str,
    per_10k: [u32; 4],
    male: Option<bool>,
    chronic_visits: f64,
    admissions: f64,
    cost: f64,
) -> Disease {
    Disease { code, per_10k, male, chronic_visits, admissions, cost }
}

/// Recorded diagnoses and their prevalence. Hypertension about 20% of adults and
/// diabetes about 8% in a rural population of this age shape; cancers rare.
pub const DISEASES: &[Disease] = &[
    // chronic catalogue
    dz("I10", [0, 600, 2300, 3900], None, 4.0, 0.04, 1.0),
    dz("E11.9", [3, 250, 900, 1400], None, 4.0, 0.05, 1.0),
    dz("A16.2", [1, 5, 6, 8], None, 3.0, 0.3, 1.2),
    dz("F20.9", [2, 60, 50, 35], None, 5.0, 0.3, 1.5),
    dz("F31.9", [1, 20, 15, 10], None, 4.0, 0.2, 1.3),
    // serious catalogue
    dz("C34.9", [0, 2, 20, 60], None, 2.0, 2.0, 2.4),
    dz("C16.9", [0, 1, 14, 35], None, 2.0, 1.8, 2.2),
    dz("C15.9", [0, 1, 8, 25], None, 2.0, 1.6, 2.2),
    dz("C22.0", [0, 1, 10, 25], None, 2.0, 1.6, 2.4),
    dz("C18.9", [0, 1, 7, 20], None, 2.0, 1.6, 2.0),
    dz("C20", [0, 1, 6, 15], None, 2.0, 1.6, 2.0),
    dz("C50.9", [0, 6, 25, 25], Some(false), 2.0, 1.6, 1.8),
    dz("C53.9", [0, 5, 12, 10], Some(false), 2.0, 1.6, 1.8),
    dz("C56", [0, 1, 5, 6], Some(false), 2.0, 2.0, 2.0),
    dz("C67.9", [0, 0, 3, 10], None, 2.0, 2.0, 1.6),
    dz("C64", [0, 0, 3, 7], None, 2.0, 1.8, 1.8),
    dz("C91.0", [3, 1, 0, 0], None, 2.0, 4.0, 3.0),
    dz("Q21.0", [8, 1, 0, 0], None, 0.0, 1.0, 2.5),
    dz("Q36.9", [2, 0, 0, 0], None, 0.0, 1.0, 1.2),
    dz("N18.5", [0, 6, 14, 20], None, 12.0, 0.8, 1.6),
    dz("I21.9", [0, 2, 10, 30], None, 1.0, 1.2, 2.0),
    dz("I63.9", [0, 10, 80, 300], None, 2.0, 0.8, 1.5),
    dz("J44.9", [0, 5, 80, 400], None, 2.0, 0.6, 1.0),
    dz("H25.9", [0, 0, 30, 250], None, 0.0, 0.5, 0.7),
    dz("J62.8", [0, 4, 12, 15], Some(true), 2.0, 0.5, 1.2),
    dz("D66", [2, 1, 1, 0], Some(true), 3.0, 0.5, 1.8),
    dz("I05.9", [1, 6, 10, 15], None, 1.0, 0.5, 2.0),
    // common chronic conditions outside the catalogues
    dz("I25.1", [0, 30, 300, 700], None, 0.0, 0.15, 1.2),
    dz("M17.9", [0, 20, 300, 900], None, 0.0, 0.03, 1.0),
];

/// Diagnoses of ordinary outpatient visits, outside both catalogues.
pub const OUTPATIENT_CODES: &[&str] =
    &["J06.9", "J20.9", "K29.7", "A09.9", "M54.5", "R51", "J02.9", "K52.9", "L30.9", "N39.0", "R10.4", "T14.0"];

/// Diagnoses of ordinary admissions, outside both catalogues.
pub const INPATIENT_CODES: &[&str] = &["J18.9", "K80.2", "K35.8", "S72.0", "N20.0", "K92.2", "J98.4", "K56.6", "S06.0"];

/// The demo's settlement policy: Anhui's comprehensive medical security for the
/// rural poor as revised up to 2019, the file shipped as
/// `examples/policies/anhui-351-180.toml` (its sources and choices are in its
/// opening comments; docs/synth.md, "Policy"). Basic medical insurance (outpatient
/// pooling, admissions with the poor's deductible halved and five points more,
/// chronic outpatient care), critical-illness insurance (the poor's deductible
/// 5,000 yuan, no cap), medical assistance, the government safety net "351" (a
/// poor patient's yearly out-of-pocket for admissions held to 3,000 / 5,000 /
/// 10,000 yuan by the highest level met) and the supplementary insurance "180"
/// (80% of what the poor still owe for chronic outpatient care).
/// [`crate::policy_toml`] sets its name and year.
pub const POLICY_SOURCE: &str = include_str!("../../../examples/policies/anhui-351-180.toml");
