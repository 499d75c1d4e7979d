//! A bad policy is refused with the tier (position and name), the key and why.

use settle::{Policy, PolicyError, TierProblem};

fn refuse(text: &str) -> (usize, String, String, TierProblem) {
    match Policy::parse(text) {
        Err(PolicyError::Tier { index, name, key, problem }) => (index, name, key, problem),
        other => panic!("expected a tier error, got {other:?}"),
    }
}

const GOOD: &str = "[[tier]]\nname = \"basic\"\nrate = 0.5\n";

#[test]
fn unknown_key() {
    let (i, n, k, p) = refuse(&format!("{GOOD}\n[[tier]]\nname = \"critical\"\nrate = 0.5\nanual_cap = 100\n"));
    assert_eq!((i, n.as_str(), k.as_str(), p), (2, "critical", "anual_cap", TierProblem::UnknownKey));
    let (_, _, k, p) = refuse("[[tier]]\nname = \"a\"\nrate = 0.5\nwhen = { status = [\"general\"] }\n");
    assert_eq!((k.as_str(), p), ("when.status", TierProblem::UnknownKey));
    let (_, _, k, p) = refuse("[[tier]]\nname = \"a\"\nbands = [{ upto = 5, rate = 0.5 }]\n");
    assert_eq!((k.as_str(), p), ("bands[1].upto", TierProblem::UnknownKey));
    assert!(
        matches!(Policy::parse(&format!("nmae = \"x\"\n{GOOD}")), Err(PolicyError::Top { key, .. }) if key == "nmae")
    );
}

#[test]
fn no_mode_or_two_modes() {
    let (i, n, _, p) = refuse("[[tier]]\nname = \"basic\"\nannual_cap = 5\n");
    assert_eq!((i, n.as_str(), p), (1, "basic", TierProblem::NoMode));
    let (_, _, k, p) = refuse("[[tier]]\nname = \"basic\"\nrate = 0.5\noop_cap = 3000\n");
    assert_eq!((k.as_str(), p), ("oop_cap", TierProblem::TwoModes("rate", "oop_cap")));
    let msg = Policy::parse("[[tier]]\nname = \"basic\"\nrate = 0.5\noop_cap = 3000\n").unwrap_err().to_string();
    assert_eq!(
        msg,
        "tier 1 (\"basic\"), key oop_cap: two modes (rate and oop_cap): a tier needs exactly one of rate, bands, oop_cap, oop_ratio_cap"
    );
}

#[test]
fn rates_outside_zero_one_or_too_precise() {
    for bad in ["1.5", "-0.1", "0.12345"] {
        let (_, _, k, p) = refuse(&format!("[[tier]]\nname = \"a\"\nrate = {bad}\n"));
        assert_eq!(k, "rate");
        assert!(matches!(p, TierProblem::BadRate(_)), "{bad}: {p:?}");
    }
    let (_, _, k, p) = refuse("[[tier]]\nname = \"a\"\nrate = { county = 0.8, township = 2 }\n");
    assert_eq!(k, "rate");
    assert!(matches!(p, TierProblem::BadRate(_)));
    let (_, _, k, _) = refuse("[[tier]]\nname = \"a\"\noop_ratio_cap = 1.1\n");
    assert_eq!(k, "oop_ratio_cap");
    assert!(Policy::parse("[[tier]]\nname = \"a\"\nrate = 0.1234\n").is_ok());
    assert!(Policy::parse("[[tier]]\nname = \"a\"\nrate = 1\n").is_ok());
}

#[test]
fn bands_must_rise_and_only_the_last_may_be_open() {
    let (_, _, k, p) =
        refuse("[[tier]]\nname = \"c\"\nbands = [{ up_to = 100, rate = 0.5 }, { up_to = 100, rate = 0.6 }]\n");
    assert_eq!(k, "bands");
    assert!(matches!(p, TierProblem::BadBands(ref m) if m.contains("must rise")), "{p:?}");
    let (_, _, _, p) = refuse("[[tier]]\nname = \"c\"\nbands = [{ rate = 0.5 }, { up_to = 100, rate = 0.6 }]\n");
    assert!(matches!(p, TierProblem::BadBands(ref m) if m.contains("only the last band")), "{p:?}");
    let (_, _, _, p) = refuse("[[tier]]\nname = \"c\"\nbands = []\n");
    assert!(matches!(p, TierProblem::BadBands(_)));
    let (_, _, k, p) = refuse("[[tier]]\nname = \"c\"\nbands = [{ up_to = 100 }]\n");
    assert_eq!((k.as_str(), p), ("bands[1].rate", TierProblem::Missing));
}

#[test]
fn unknown_level_status_kind_names() {
    let (_, _, k, p) = refuse("[[tier]]\nname = \"a\"\nrate = { county = 0.8, hamlet = 0.9 }\n");
    assert_eq!(k, "rate.hamlet");
    assert!(matches!(p, TierProblem::UnknownName(ref m) if m.contains("facility level")));
    let (_, _, k, p) = refuse("[[tier]]\nname = \"a\"\nrate = 0.8\nwhen = { statuses = [\"rich\"] }\n");
    assert_eq!(k, "when.statuses");
    assert!(matches!(p, TierProblem::UnknownName(ref m) if m.contains("poverty status")));
    let (_, _, k, _) = refuse("[[tier]]\nname = \"a\"\nrate = 0.8\nwhen = { kinds = [\"dental\"] }\n");
    assert_eq!(k, "when.kinds");
    let (_, _, k, _) = refuse("[[tier]]\nname = \"a\"\nrate = 0.8\nwhen = { levels = [\"moon\"] }\n");
    assert_eq!(k, "when.levels");
    let (_, _, k, _) = refuse("[[tier]]\nname = \"a\"\nrate = 0.8\nbase = \"some\"\n");
    assert_eq!(k, "base");
    // Chinese names are accepted too.
    assert!(Policy::parse("[[tier]]\nname = \"a\"\nrate = 0.8\nwhen = { statuses = [\"低保\"] }\n").is_ok());
}

#[test]
fn negative_or_over_precise_amounts() {
    let (i, n, k, p) = refuse(&format!("{GOOD}[[tier]]\nname = \"net\"\noop_cap = -3000\n"));
    assert_eq!((i, n.as_str(), k.as_str()), (2, "net", "oop_cap"));
    assert!(matches!(p, TierProblem::NegativeAmount(_)));
    let (_, _, k, p) = refuse("[[tier]]\nname = \"a\"\nrate = 0.5\nannual_cap = 100.005\n");
    assert_eq!(k, "annual_cap");
    assert!(matches!(p, TierProblem::BadAmount(ref m) if m.contains("two decimals")));
    let (_, _, k, p) = refuse("[[tier]]\nname = \"a\"\nrate = 0.5\nclaim_deductible = { county = -1.5 }\n");
    assert_eq!(k, "claim_deductible");
    assert!(matches!(p, TierProblem::NegativeAmount(_)));
    let (_, _, k, p) = refuse("[[tier]]\nname = \"a\"\nrate = 0.5\nclaim_cap = \"lots\"\n");
    assert_eq!((k.as_str(), p), ("claim_cap", TierProblem::WrongType("an amount in yuan")));
    let p = Policy::parse("[[tier]]\nname = \"a\"\nrate = 0.5\nannual_cap = 1234.56\n").unwrap();
    assert_eq!(p.entries[0].annual_cap, Some(domain::Fen(123_456)));
}

#[test]
fn deductibles_on_a_cap_mode_and_missing_names() {
    let (_, _, k, p) = refuse("[[tier]]\nname = \"net\"\noop_cap = 3000\nannual_deductible = 100\n");
    assert_eq!((k.as_str(), p), ("annual_deductible", TierProblem::NotForMode("oop_cap")));
    let (i, n, k, p) = refuse(&format!("{GOOD}[[tier]]\nrate = 0.5\n"));
    assert_eq!((i, n.as_str(), k.as_str(), p), (2, "", "name", TierProblem::Missing));
    assert!(matches!(Policy::parse("name = \"x\"\n"), Err(PolicyError::Top { key, .. }) if key == "tier"));
    assert!(matches!(Policy::parse("[[tier]\n"), Err(PolicyError::Syntax(_))));
}

#[test]
fn a_level_left_out_of_a_table_makes_the_entry_not_match() {
    use domain::{ClaimKind, FacilityLevel, PovertyStatus};
    let p = Policy::parse(
        "[[tier]]\nname = \"basic\"\nclaim_deductible = { county = 500 }\nrate = 0.8\n\
         [[tier]]\nname = \"basic\"\nrate = 0.5\n",
    )
    .unwrap();
    let at = |l| p.entry_for(0, PovertyStatus::General, ClaimKind::Inpatient, l);
    assert_eq!(at(FacilityLevel::County), Some(0));
    assert_eq!(at(FacilityLevel::Township), Some(1));
}

#[test]
fn oop_cap_level_only_on_oop_cap_and_never_beside_a_base() {
    let (_, _, k, p) = refuse("[[tier]]\nname = \"a\"\nrate = 0.5\noop_cap_level = \"highest\"\n");
    assert_eq!((k.as_str(), p), ("oop_cap_level", TierProblem::NotForMode("rate")));
    let (_, _, k, p) = refuse("[[tier]]\nname = \"a\"\noop_cap = 3000\noop_cap_level = \"top\"\n");
    assert!(k == "oop_cap_level" && matches!(p, TierProblem::UnknownName(_)), "{p:?}");
    // The highest cap met lives where rate and bands keep their base: refused in
    // either order, naming the later entry.
    let capped = "[[tier]]\nname = \"safety_net\"\noop_cap = 3000\noop_cap_level = \"highest\"\n";
    let rated = "[[tier]]\nname = \"safety_net\"\nrate = 0.8\n";
    let (i, _, k, p) = refuse(&format!("{rated}\n{capped}"));
    assert!(i == 2 && k == "oop_cap_level" && matches!(p, TierProblem::SharedAccumulator(_)), "{p:?}");
    let (i, _, k, p) = refuse(&format!("{capped}\n{rated}"));
    assert!(i == 2 && k == "rate" && matches!(p, TierProblem::SharedAccumulator(_)), "{p:?}");
    // Beside an oop_cap of the claim's level, or with rate under another name, it is fine.
    let plain = "[[tier]]\nname = \"safety_net\"\noop_cap = 500\n";
    assert!(Policy::parse(&format!("{capped}\n{plain}\n[[tier]]\nname = \"b\"\nrate = 0.8\n")).is_ok());
    assert!(Policy::parse("[[tier]]\nname = \"a\"\noop_cap = 1\noop_cap_level = \"claim\"\n").is_ok());
}
