//! Properties of docs/settlement.md that must hold for every policy and every
//! set of claims: money is conserved, nothing is negative, yearly caps hold, the
//! batch is the real-time path, input order does not matter, and bands pay a
//! year's total whatever the split across claims.

use chrono::NaiveDate;
use domain::{ClaimKind, FacilityLevel, Fen, PovertyStatus};
use proptest::prelude::*;
use settle::*;
use std::collections::HashMap;

const LEVELS: [&str; 6] = ["village", "township", "county", "municipal", "provincial", "out_of_province"];
const STATUSES: [&str; 5] = ["special_hardship", "low_income", "lifted", "monitored", "general"];
const KINDS: [&str; 3] = ["inpatient", "outpatient", "chronic_outpatient"];

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn rate(r: u32) -> String {
    format!("{}.{:04}", r / 10_000, r % 10_000)
}

/// An amount or a per-level table that may leave levels out.
fn amount_or_table(max: i64) -> impl Strategy<Value = String> {
    prop_oneof![
        (0..max).prop_map(yuan),
        proptest::collection::vec(proptest::option::of(0..max), 6).prop_map(|v| {
            let cells: Vec<String> =
                v.iter().zip(LEVELS).filter_map(|(a, l)| a.map(|a| format!("{l} = {}", yuan(a)))).collect();
            format!("{{ {} }}", cells.join(", "))
        }),
    ]
}

fn rate_or_table() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..=10_000).prop_map(rate),
        proptest::collection::vec(proptest::option::of(0u32..=10_000), 6).prop_map(|v| {
            let cells: Vec<String> =
                v.iter().zip(LEVELS).filter_map(|(r, l)| r.map(|r| format!("{l} = {}", rate(r)))).collect();
            format!("{{ {} }}", cells.join(", "))
        }),
    ]
}

fn subset(all: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
    proptest::option::of(proptest::sample::subsequence(all, 1..=all.len()))
        .prop_map(|s| s.map(|v| format!("[{}]", v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(", "))))
}

fn bands() -> impl Strategy<Value = String> {
    (proptest::collection::vec((1i64..3_000_000, 0u32..=10_000), 0..3), 0u32..=10_000, any::<bool>()).prop_map(
        |(steps, last, last_up_to)| {
            let mut up = 0;
            let mut cells = Vec::new();
            for (s, r) in steps {
                up += s;
                cells.push(format!("{{ up_to = {}, rate = {} }}", yuan(up), rate(r)));
            }
            if last_up_to {
                cells.push(format!("{{ up_to = {}, rate = {} }}", yuan(up + 100_000), rate(last)));
            } else {
                cells.push(format!("{{ rate = {} }}", rate(last)));
            }
            format!("[{}]", cells.join(", "))
        },
    )
}

fn tier() -> impl Strategy<Value = String> {
    let when = (subset(&STATUSES), subset(&KINDS), subset(&LEVELS));
    let mode = prop_oneof![
        rate_or_table().prop_map(|r| (format!("rate = {r}"), true)),
        bands().prop_map(|b| (format!("bands = {b}"), true)),
        amount_or_table(2_000_000).prop_map(|c| (format!("oop_cap = {c}"), false)),
        amount_or_table(2_000_000).prop_map(|c| (format!("oop_cap = {c}\noop_cap_level = \"highest\""), false)),
        (0u32..=10_000).prop_map(|q| (format!("oop_ratio_cap = {}", rate(q)), false)),
    ];
    (
        prop::sample::select(vec!["a", "b", "c"]),
        when,
        any::<bool>(),
        mode,
        proptest::option::of(amount_or_table(200_000)),
        proptest::option::of(0i64..2_000_000),
        proptest::option::of(0i64..5_000_000),
        proptest::option::of(0i64..10_000_000),
    )
        .prop_map(|(name, (st, ki, le), all, (mode, deductible_ok), cd, ad, cc, ac)| {
            // A highest-level cap keeps its cap where rate and bands keep their base,
            // so it may not share a name with them: it gets a name of its own.
            let name = if mode.contains("oop_cap_level") { "h" } else { name };
            let mut t = format!("[[tier]]\nname = \"{name}\"\n{mode}\n");
            let mut w = Vec::new();
            if let Some(s) = st {
                w.push(format!("statuses = {s}"));
            }
            if let Some(k) = ki {
                w.push(format!("kinds = {k}"));
            }
            if let Some(l) = le {
                w.push(format!("levels = {l}"));
            }
            if !w.is_empty() {
                t.push_str(&format!("when = {{ {} }}\n", w.join(", ")));
            }
            if all {
                t.push_str("base = \"all\"\n");
            }
            if deductible_ok {
                if let Some(cd) = cd {
                    t.push_str(&format!("claim_deductible = {cd}\n"));
                }
                if let Some(ad) = ad {
                    t.push_str(&format!("annual_deductible = {}\n", yuan(ad)));
                }
            }
            if let Some(cc) = cc {
                t.push_str(&format!("claim_cap = {}\n", yuan(cc)));
            }
            if let Some(ac) = ac {
                t.push_str(&format!("annual_cap = {}\n", yuan(ac)));
            }
            t
        })
}

fn policy() -> impl Strategy<Value = Policy> {
    proptest::collection::vec(tier(), 1..7).prop_map(|tiers| {
        let text = format!("name = \"random\"\nyear = 2024\n\n{}", tiers.join("\n"));
        Policy::parse(&text).unwrap_or_else(|e| panic!("generated policy refused: {e}\n{text}"))
    })
}

#[derive(Debug, Clone)]
struct Case {
    claims: Vec<BatchClaim>,
    ids: Vec<String>,
    statuses: Vec<PovertyStatus>,
}

fn case() -> impl Strategy<Value = Case> {
    let claim = (0u32..4, 0i64..500, 0usize..6, 0usize..3, 0i64..5_000_000, 0i64..=100);
    (proptest::collection::vec(claim, 0..40), proptest::collection::vec(0usize..5, 4)).prop_map(|(cs, st)| {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let claims: Vec<BatchClaim> = cs
            .iter()
            .map(|&(person, day, level, kind, total, pct)| BatchClaim {
                person,
                discharged: start + chrono::Days::new(day as u64),
                input: ClaimInput {
                    level: FacilityLevel::ALL[level],
                    kind: ClaimKind::ALL[kind],
                    total_cost: Fen(total),
                    eligible_cost: Fen(total * pct / 100),
                    enrolled: true,
                    referred: true,
                },
            })
            .collect();
        // Ids that do not follow input order, so ties on a day are broken by id.
        let ids = (0..claims.len()).map(|i| format!("K{:03}", (i * 37) % 101)).collect();
        Case { claims, ids, statuses: st.iter().map(|&s| PovertyStatus::ALL[s]).collect() }
    })
}

fn batch(p: &Policy, c: &Case) -> Vec<(String, Vec<Fen>, Fen)> {
    let mut out = Vec::new();
    settle_batch(
        p,
        &c.claims,
        |i| c.ids[i].as_str(),
        &c.statuses,
        |i, pay, oop| out.push((c.ids[i].clone(), pay.to_vec(), oop)),
    );
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn money_is_conserved_and_nothing_is_negative(p in policy(), c in case()) {
        let totals: HashMap<&str, Fen> = c.ids.iter().map(|s| s.as_str()).zip(c.claims.iter().map(|x| x.input.total_cost)).collect();
        for (id, pay, oop) in batch(&p, &c) {
            prop_assert!(pay.iter().all(|f| f.0 >= 0), "{id}: {pay:?}");
            prop_assert!(oop.0 >= 0);
            prop_assert_eq!(pay.iter().copied().sum::<Fen>() + oop, totals[id.as_str()]);
        }
    }

    #[test]
    fn batch_is_the_real_time_path_and_caps_hold(p in policy(), c in case()) {
        let got = batch(&p, &c);
        // Claim by claim, in settlement order, each person-year with its own accumulators.
        let mut order: Vec<usize> = (0..c.claims.len()).collect();
        order.sort_by(|&a, &b| c.claims[a].discharged.cmp(&c.claims[b].discharged).then(c.ids[a].cmp(&c.ids[b])));
        let mut accs: HashMap<(u32, i32), Accumulators> = HashMap::new();
        for (k, &i) in order.iter().enumerate() {
            use chrono::Datelike;
            let cl = &c.claims[i];
            let acc = accs.entry((cl.person, cl.discharged.year())).or_insert_with(|| Accumulators::new(&p));
            let status = c.statuses[cl.person as usize];
            let ex = explain(&p, &cl.input, status, acc);
            let s = settle_claim(&p, &cl.input, status, acc);
            prop_assert_eq!(&ex.settlement, &s, "explanation and settlement agree");
            prop_assert_eq!(&got[k].0, &c.ids[i]);
            prop_assert_eq!(&got[k].1, &s.payments);
            prop_assert_eq!(got[k].2, s.out_of_pocket);
            for step in &ex.steps {
                if let Some(e) = step.entry {
                    // Variants of a name share `paid` but may differ in cap: a payment
                    // never lifts the year's total above the cap of the entry that made it.
                    if let Some(cap) = p.entries[e].annual_cap {
                        if step.pay.0 > 0 {
                            prop_assert!(step.after.paid <= cap, "yearly total {} above cap {}", step.after.paid, cap);
                        }
                    }
                    if let Some(cap) = p.entries[e].claim_cap {
                        prop_assert!(step.pay <= cap);
                    }
                }
            }
        }
    }

    #[test]
    fn result_does_not_depend_on_input_order(p in policy(), c in case(), seed in any::<u64>()) {
        let mut shuffled = c.clone();
        let n = c.claims.len();
        let mut perm: Vec<usize> = (0..n).collect();
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (s >> 33) as usize % (i + 1));
        }
        shuffled.claims = perm.iter().map(|&i| c.claims[i]).collect();
        shuffled.ids = perm.iter().map(|&i| c.ids[i].clone()).collect();
        prop_assert_eq!(batch(&p, &c), batch(&p, &shuffled));
    }

    #[test]
    fn bands_pay_the_year_whatever_the_split(
        b in bands(),
        d in 0i64..2_000_000,
        parts in proptest::collection::vec(0i64..3_000_000, 1..12),
    ) {
        let p = Policy::parse(&format!("[[tier]]\nname = \"critical\"\nannual_deductible = {}\nbands = {b}\n", yuan(d))).unwrap();
        let Mode::Bands(bs) = &p.entries[0].mode else { unreachable!() };
        let total: i64 = parts.iter().sum();
        let expect = domain::money::round_scaled(bands_f(bs, d, total));
        let mut acc = Accumulators::new(&p);
        let mut paid = Fen::ZERO;
        for x in &parts {
            let c = ClaimInput { level: FacilityLevel::County, kind: ClaimKind::Inpatient, total_cost: Fen(*x), eligible_cost: Fen(*x), enrolled: true, referred: true };
            paid += settle_claim(&p, &c, PovertyStatus::General, &mut acc).payments[0];
        }
        prop_assert_eq!(paid, Fen(expect));
        // And one claim of the whole amount pays the same.
        let mut acc = Accumulators::new(&p);
        let c = ClaimInput { level: FacilityLevel::County, kind: ClaimKind::Inpatient, total_cost: Fen(total), eligible_cost: Fen(total), enrolled: true, referred: true };
        prop_assert_eq!(settle_claim(&p, &c, PovertyStatus::General, &mut acc).payments[0], Fen(expect));
    }

    #[test]
    fn a_highest_level_cap_holds_the_year_at_the_largest_cap_met(
        caps in proptest::collection::vec(0i64..2_000_000, 6),
        claims in proptest::collection::vec((0usize..6, 0i64..3_000_000), 1..12),
    ) {
        let table: Vec<String> = caps.iter().zip(LEVELS).map(|(c, l)| format!("{l} = {}", yuan(*c))).collect();
        let p = Policy::parse(&format!(
            "[[tier]]\nname = \"safety_net\"\noop_cap = {{ {} }}\noop_cap_level = \"highest\"\n",
            table.join(", ")
        )).unwrap();
        let mut acc = Accumulators::new(&p);
        let mut highest = 0;
        for (level, cost) in claims {
            highest = i64::max(highest, caps[level]);
            let before = acc.tiers[0].unpaid.0;
            let c = ClaimInput { level: FacilityLevel::ALL[level], kind: ClaimKind::Inpatient, total_cost: Fen(cost), eligible_cost: Fen(cost), enrolled: true, referred: true };
            let s = settle_claim(&p, &c, PovertyStatus::Lifted, &mut acc);
            // What the patient owes this year never passes the largest cap met, and
            // nothing is paid below it.
            prop_assert_eq!(acc.tiers[0].unpaid.0, i64::min(before + cost, highest));
            prop_assert_eq!(s.out_of_pocket.0, acc.tiers[0].unpaid.0 - before);
        }
    }
}
