//! Settlement over the store, on both engines: policies stored and versioned, the
//! real-time path (the spec's worked example, idempotency, serialisation of one
//! person's claims), voids that re-settle the year, and the batch over stored
//! claims against the pure engine.

mod common;
use common::*;
use domain::*;
use store::{Scope, Store, StoreError};

both_backends!(
    a_bad_policy_is_refused_and_stores_nothing,
    policies_are_versioned_and_the_longest_prefix_wins,
    realtime_gives_the_worked_example,
    the_same_claim_twice_is_counted_once,
    claims_of_one_person_at_once_are_serialised,
    a_void_resettles_the_later_claims_and_reports_differences,
    the_batch_over_the_store_equals_the_pure_engine,
    a_group_commit_settles_each_claim_as_one_at_a_time_would,
    a_settlement_and_a_void_commit_with_their_audit_rows,
    a_group_of_new_claims_settles_each_as_one_at_a_time_would,
);

const POLICY: &str = include_str!("../../settle/tests/data/demo_county_2024.toml");

fn yuan(s: &str) -> Fen {
    Fen::parse_yuan(s).unwrap()
}

fn fens(v: &[(String, Fen)]) -> Vec<Fen> {
    v.iter().map(|(_, f)| *f).collect()
}

async fn a_bad_policy_is_refused_and_stores_nothing(store: &Store) {
    let bad = POLICY.replace("rate = 0.6\n", "rate = 1.6\n");
    let e = app::settlement::put_policy(store, "341122", 2024, &bad, "admin").await.unwrap_err();
    assert!(matches!(e, StoreError::Rejected { .. }), "{e}");
    assert!(e.to_string().contains("rate"), "the parser's error names the key: {e}");
    let e = app::settlement::put_policy(store, "341122", 2024, "name = \"x\"\n[[tier]]\nname = \"basic\"\n", "admin")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Rejected { .. }), "{e}");
    // A file for another year is refused too.
    let e = app::settlement::put_policy(store, "341122", 2025, POLICY, "admin").await.unwrap_err();
    assert!(e.to_string().contains("2024"), "{e}");
    // A bad region prefix.
    assert!(app::settlement::put_policy(store, "3411", 2024, POLICY, "admin").await.is_ok());
    assert!(app::settlement::put_policy(store, "34x", 2024, POLICY, "admin").await.is_err());
    assert!(store.policy_versions("341122", 2024).await.unwrap().is_empty());
    assert_eq!(store.policies(&Scope::all()).await.unwrap().len(), 1);
}

async fn policies_are_versioned_and_the_longest_prefix_wins(store: &Store) {
    let province = POLICY.replace("Demo county 2024", "Province 2024");
    let v1 = app::settlement::put_policy(store, "34", 2024, &province, "wang").await.unwrap();
    assert_eq!((v1.region.as_str(), v1.year, v1.version, v1.actor.as_str()), ("34", 2024, 1, "wang"));
    assert_eq!(v1.name, "Province 2024");
    let village = code("341122100201");
    let (found, parsed) = app::settlement::policy_for(store, village, 2024).await.unwrap().unwrap();
    assert_eq!(found, v1);
    assert_eq!(parsed.names, vec!["basic", "critical", "assistance", "safety_net"]);
    let c1 = app::settlement::put_policy(store, "341122", 2024, POLICY, "li").await.unwrap();
    let c2 = app::settlement::put_policy(store, "341122", 2024, &POLICY.replace("Demo county", "Demo county v2"), "li")
        .await
        .unwrap();
    assert_eq!((c1.version, c2.version), (1, 2));
    let (found, _) = app::settlement::policy_for(store, village, 2024).await.unwrap().unwrap();
    assert_eq!(found.id, c2.id, "the latest version of the longest prefix");
    // Another county of the province falls back to the province's policy.
    let (found, _) = app::settlement::policy_for(store, code("341123100201"), 2024).await.unwrap().unwrap();
    assert_eq!(found.id, v1.id);
    assert!(app::settlement::policy_for(store, village, 2025).await.unwrap().is_none());
    assert!(app::settlement::policy_for(store, code("110101001001"), 2024).await.unwrap().is_none());
    let versions = store.policy_versions("341122", 2024).await.unwrap();
    assert_eq!(versions.iter().map(|p| p.version).collect::<Vec<_>>(), vec![1, 2]);
    // A county scope sees its own policy and the province's, not a sibling county's.
    app::settlement::put_policy(store, "341123", 2024, POLICY, "li").await.unwrap();
    let seen: Vec<String> =
        store.policies(&Scope::new("341122").unwrap()).await.unwrap().into_iter().map(|p| p.region).collect();
    assert_eq!(seen, vec!["34", "341122"]);
    let latest = store.policies(&Scope::all()).await.unwrap();
    assert_eq!(latest.len(), 3);
    assert!(latest.iter().all(|p| p.region != "341122" || p.version == 2));
}

async fn realtime_gives_the_worked_example(store: &Store) {
    seed(store).await;
    app::settlement::put_policy(store, "341122", 2024, POLICY, "admin").await.unwrap();
    let all = Scope::all();
    let r1 = app::settlement::settle_realtime(store, &all, &claim("C1", 1, "2024-03-10", 60_000, 50_000), "clerk")
        .await
        .unwrap();
    assert!(!r1.replayed);
    assert_eq!(r1.status, PovertyStatus::Lifted);
    assert_eq!(fens(&r1.payments), vec![yuan("42287.50"), yuan("138.13"), yuan("3944.62"), yuan("629.75")]);
    assert_eq!(r1.out_of_pocket, yuan("13000.00"));
    assert_eq!(app::settlement::settlement_of(&r1).payments, fens(&r1.payments));
    assert_eq!(r1.total, yuan("60000"));
    assert!(r1.explanation.contains("safety_net"), "{}", r1.explanation);
    let r2 = app::settlement::settle_realtime(store, &all, &claim("C2", 1, "2024-06-01", 20_000, 20_000), "clerk")
        .await
        .unwrap();
    assert_eq!(fens(&r2.payments), vec![yuan("16787.50"), yuan("2088.12"), yuan("674.63"), yuan("449.75")]);
    assert_eq!(r2.out_of_pocket, Fen::ZERO);
    // Stored as settled, readable back, with the claim row stored.
    let stored = store.settlements_of(&all, pid(1)).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].payments, r2.payments);
    assert_eq!(stored[0].settled_by, "clerk");
    assert_eq!(stored[0].policy_version, Some(1));
    assert!(store.get::<Claim>("C2").await.unwrap().is_some());
    assert_eq!(
        app::settlement::explain_stored(store, &all, &ClaimKey::new("", "C1")).await.unwrap().unwrap(),
        r1.explanation
    );
    // Outside the scope the person does not exist.
    let other = Scope::new("341123").unwrap();
    let e = app::settlement::settle_realtime(store, &other, &claim("C3", 1, "2024-07-01", 100, 100), "clerk")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    assert!(store.settlements_of(&other, pid(1)).await.unwrap().is_empty());
    // No policy for the region: refused, nothing stored.
    let e = app::settlement::settle_realtime(store, &all, &claim("C4", 7, "2024-07-01", 100, 100), "clerk")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Rejected { .. }), "{e}");
    assert!(store.get::<Claim>("C4").await.unwrap().is_none());
}

async fn the_same_claim_twice_is_counted_once(store: &Store) {
    seed(store).await;
    app::settlement::put_policy(store, "341122", 2024, POLICY, "admin").await.unwrap();
    let all = Scope::all();
    let c1 = claim("C1", 1, "2024-03-10", 60_000, 50_000);
    let first = app::settlement::settle_realtime(store, &all, &c1, "clerk").await.unwrap();
    let again = app::settlement::settle_realtime(store, &all, &c1, "another clerk").await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.payments, first.payments);
    assert_eq!(again.out_of_pocket, first.out_of_pocket);
    assert_eq!(again.policy, first.policy);
    assert_eq!(again.explanation, first.explanation);
    // Counted once: the second claim still settles as the worked example says.
    let r2 = app::settlement::settle_realtime(store, &all, &claim("C2", 1, "2024-06-01", 20_000, 20_000), "clerk")
        .await
        .unwrap();
    assert_eq!(fens(&r2.payments), vec![yuan("16787.50"), yuan("2088.12"), yuan("674.63"), yuan("449.75")]);
    assert_eq!(store.settlements_of(&all, pid(1)).await.unwrap().len(), 2);
    // A different claim under the same id is refused, and changes nothing.
    let mut changed = c1.clone();
    changed.total_cost = yuan("60001");
    let e = app::settlement::settle_realtime(store, &all, &changed, "clerk").await.unwrap_err();
    assert!(matches!(e, StoreError::Constraint { .. }), "{e}");
    let back = store.settlement(&all, &ClaimKey::new("", "C1")).await.unwrap().unwrap();
    assert_eq!(back.payments, first.payments);
    // An imported, unsettled claim is settled by the real-time call, once.
    let c5 = claim("C5", 3, "2024-08-01", 1_000, 1_000);
    store.import_claims(std::slice::from_ref(&c5)).await.unwrap();
    assert!(!app::settlement::settle_realtime(store, &all, &c5, "clerk").await.unwrap().replayed);
    assert!(app::settlement::settle_realtime(store, &all, &c5, "clerk").await.unwrap().replayed);
}

async fn claims_of_one_person_at_once_are_serialised(store: &Store) {
    seed(store).await;
    app::settlement::put_policy(store, "341122", 2024, POLICY, "admin").await.unwrap();
    // Identical bills of one person: whatever order they settle in, the n-th one
    // settled must give what the n-th gives sequentially, so the multiset of
    // results equals the sequential one; a lost update of the accumulators (two
    // settlements reading the same totals) would pay a deductible twice or breach a cap.
    let n = 8;
    let claims: Vec<Claim> = (0..n).map(|i| claim(&format!("K{i}"), 1, "2024-05-05", 40_000, 36_000)).collect();
    let policy = settle::Policy::parse(POLICY).unwrap();
    let mut acc = settle::Accumulators::new(&policy);
    let mut want: Vec<(Vec<Fen>, Fen)> = claims
        .iter()
        .map(|c| {
            let s = settle::settle_claim(&policy, &settle::ClaimInput::from(c), PovertyStatus::Lifted, &mut acc);
            (s.payments, s.out_of_pocket)
        })
        .collect();
    let mut tasks = Vec::new();
    for c in claims.clone() {
        let store = store.clone();
        tasks.push(tokio::spawn(
            async move { app::settlement::settle_realtime(&store, &Scope::all(), &c, "clerk").await },
        ));
    }
    // And the same claims again at the same moment: replays, never double counts.
    for c in &claims[..3] {
        let (store, c) = (store.clone(), c.clone());
        tasks.push(tokio::spawn(
            async move { app::settlement::settle_realtime(&store, &Scope::all(), &c, "clerk").await },
        ));
    }
    let mut got = Vec::new();
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        if !r.replayed {
            got.push((app::settlement::settlement_of(&r).payments, r.out_of_pocket));
        }
    }
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let stored = store.settlements_of(&Scope::all(), pid(1)).await.unwrap();
    assert_eq!(stored.len(), n);
    let mut stored: Vec<(Vec<Fen>, Fen)> = stored.into_iter().map(|s| (fens(&s.payments), s.out_of_pocket)).collect();
    stored.sort();
    assert_eq!(stored, want);
    // The accumulators are the sequential ones: one more claim settles as the (n+1)-th.
    let extra = claim("K9", 1, "2024-05-06", 40_000, 36_000);
    let next = settle::settle_claim(&policy, &settle::ClaimInput::from(&extra), PovertyStatus::Lifted, &mut acc);
    let r = app::settlement::settle_realtime(store, &Scope::all(), &extra, "clerk").await.unwrap();
    assert_eq!(app::settlement::settlement_of(&r), next);
}

async fn a_void_resettles_the_later_claims_and_reports_differences(store: &Store) {
    seed(store).await;
    app::settlement::put_policy(store, "341122", 2024, POLICY, "admin").await.unwrap();
    let all = Scope::all();
    let c1 = claim("C1", 1, "2024-03-10", 60_000, 50_000);
    let c2 = claim("C2", 1, "2024-06-01", 20_000, 20_000);
    let c3 = claim("C3", 1, "2024-09-01", 5_000, 4_000);
    let other = claim("D1", 3, "2024-04-01", 30_000, 30_000);
    let mut before = Vec::new();
    for c in [&c1, &c2, &c3, &other] {
        before.push(app::settlement::settle_realtime(store, &all, c, "clerk").await.unwrap());
    }
    // Out of scope: not found; unknown: not found.
    assert!(matches!(
        app::settlement::void_claim(store, &Scope::new("341123").unwrap(), &ClaimKey::new("", "C1"), "clerk").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        app::settlement::void_claim(store, &all, &ClaimKey::new("", "nope"), "clerk").await,
        Err(StoreError::NotFound { .. })
    ));
    let out = app::settlement::void_claim(store, &all, &ClaimKey::new("", "C1"), "supervisor").await.unwrap();
    assert_eq!(out.person, pid(1));
    assert_eq!(out.year, 2024);
    // The remaining claims settle as if C1 had never been.
    let policy = settle::Policy::parse(POLICY).unwrap();
    let pc = |c: &Claim| settle::PersonClaim {
        claim_id: c.claim_id.clone(),
        discharged: c.discharged,
        status: PovertyStatus::Lifted,
        input: settle::ClaimInput::from(c),
    };
    let fresh = settle::settle_person_year(&policy, &[pc(&c2), pc(&c3)]);
    let resettled: Vec<(String, settle::Settlement)> = out
        .settlements
        .iter()
        .map(|(id, p, o)| (id.claim_id.clone(), settle::Settlement { payments: p.clone(), out_of_pocket: *o }))
        .collect();
    assert_eq!(resettled, fresh);
    // Differences: C1 refunded in full, C2 and C3 changed, new minus old.
    let ids: Vec<&str> = out.changes.iter().map(|c| c.claim_id.as_str()).collect();
    assert_eq!(ids, vec!["C1", "C2", "C3"]);
    assert_eq!(out.changes[0].old, before[0].payments);
    assert!(out.changes[0].new.iter().all(|(_, f)| *f == Fen::ZERO));
    assert_eq!(out.changes[1].old, before[1].payments);
    assert_eq!(fens(&out.changes[1].new), fresh[0].1.payments);
    assert_eq!(out.changes[1].new_out_of_pocket, fresh[0].1.out_of_pocket);
    let d = &app::settlement::differences_of(&out)[1];
    assert_eq!(d.out_of_pocket, fresh[0].1.out_of_pocket - before[1].out_of_pocket);
    assert!(d.out_of_pocket.0 > 0, "without C1 the safety net pays less of C2");
    // Stored: C1 voided, C2 and C3 rewritten, the other person untouched.
    let stored = store.settlements_of(&all, pid(1)).await.unwrap();
    assert!(stored[0].voided && !stored[1].voided);
    assert_eq!(fens(&stored[1].payments), fresh[0].1.payments);
    assert_eq!(stored[2].out_of_pocket, fresh[1].1.out_of_pocket);
    assert_eq!(stored[2].settled_by, "supervisor");
    assert_eq!(store.settlement(&all, &ClaimKey::new("", "D1")).await.unwrap().unwrap().payments, before[3].payments);
    // The accumulators follow: a fourth claim settles on top of C2 and C3 alone.
    let c4 = claim("C4", 1, "2024-11-01", 8_000, 8_000);
    let want = settle::settle_person_year(&policy, &[pc(&c2), pc(&c3), pc(&c4)]);
    let r4 = app::settlement::settle_realtime(store, &all, &c4, "clerk").await.unwrap();
    assert_eq!(app::settlement::settlement_of(&r4), want[2].1);
    // A batch explanation is recomputed for a re-settled claim.
    let text = app::settlement::explain_stored(store, &all, &ClaimKey::new("", "C2")).await.unwrap().unwrap();
    assert!(text.contains("basic"), "{text}");
    // Voided once only; a voided claim is not settled again.
    assert!(matches!(
        app::settlement::void_claim(store, &all, &ClaimKey::new("", "C1"), "clerk").await,
        Err(StoreError::Constraint { .. })
    ));
    assert!(matches!(
        app::settlement::settle_realtime(store, &all, &c1, "clerk").await,
        Err(StoreError::Constraint { .. })
    ));
    // A batch afterwards settles nothing: the voided claim is counted aside, the
    // others as settled already, in each scope.
    for (scope, want) in [("", (0, 1, 4)), ("341122", (0, 1, 4)), ("341123", (0, 0, 0))] {
        let c = app::settlement::settle_stored(store, &Scope::new(scope).unwrap(), 2024, "batch").await.unwrap();
        assert_eq!((c.settled, c.voided, c.already_settled), want, "scope {scope:?}");
    }
}

async fn the_batch_over_the_store_equals_the_pure_engine(store: &Store) {
    seed(store).await;
    app::settlement::put_policy(store, "341122", 2024, POLICY, "admin").await.unwrap();
    // Claims of four persons (lifted, lifted, general, low income) in the covered
    // county, and one of a county without a policy.
    let mut claims = Vec::new();
    let persons = [1u16, 3, 5];
    for i in 0..60u16 {
        let who = persons[(i % 3) as usize];
        let month = 1 + (i % 12) as u32;
        let day = 1 + (i * 7 % 27) as u32;
        let mut c = claim(
            &format!("B{i:03}"),
            who,
            &format!("2024-{month:02}-{day:02}"),
            2_000 + (i as i64 * 1_337) % 40_000,
            1_500 + (i as i64 * 1_337) % 30_000,
        );
        if c.eligible_cost > c.total_cost {
            c.eligible_cost = c.total_cost;
        }
        c.facility_level = [FacilityLevel::Township, FacilityLevel::County, FacilityLevel::Municipal][(i % 3) as usize];
        if i % 5 == 0 {
            c.kind = ClaimKind::ChronicOutpatient;
        }
        claims.push(c);
    }
    claims.push(claim("X1", 7, "2024-02-02", 10_000, 9_000));
    claims.push(claim("Y1", 1, "2023-12-30", 10_000, 9_000));
    store.import_claims(&claims).await.unwrap();
    // In runs of a few claims (whole villages each: here one village a run).
    let counts = app::settlement::settle_stored_in_chunks(store, &Scope::all(), 2024, "batch", 7).await.unwrap();
    assert_eq!(counts.settled, 60);
    assert_eq!(counts.without_policy, 1);
    assert_eq!(counts.missing_policies, vec![(code("341123100201"), 1)]);
    assert_eq!(counts.persons, 3);
    // The pure engine on the same claims.
    let policy = settle::Policy::parse(POLICY).unwrap();
    let statuses = [PovertyStatus::Lifted, PovertyStatus::Lifted, PovertyStatus::General];
    let mine: Vec<&Claim> = claims.iter().filter(|c| c.year() == 2024 && c.person_id != pid(7)).collect();
    let batch: Vec<settle::BatchClaim> = mine
        .iter()
        .map(|c| settle::BatchClaim {
            person: persons.iter().position(|p| pid(*p) == c.person_id).unwrap() as u32,
            discharged: c.discharged,
            input: settle::ClaimInput::from(*c),
        })
        .collect();
    let mut want = std::collections::HashMap::new();
    settle::settle_batch(
        &policy,
        &batch,
        |i| mine[i].claim_id.as_str(),
        &statuses,
        |i, p, o| {
            want.insert(mine[i].claim_id.clone(), (p.to_vec(), o));
        },
    );
    let mut seen = 0;
    for p in persons {
        for s in store.settlements_of(&Scope::all(), pid(p)).await.unwrap() {
            if s.year != 2024 {
                continue;
            }
            let (pay, oop) = &want[&s.claim_id];
            assert_eq!(&fens(&s.payments), pay, "claim {}", s.claim_id);
            assert_eq!(s.out_of_pocket, *oop, "claim {}", s.claim_id);
            assert_eq!(s.settled_by, "batch");
            seen += 1;
        }
    }
    assert_eq!(seen, 60);
    // Explanations of batch claims are recomputed and agree with the stored figures.
    let last = mine.iter().max_by_key(|c| (c.discharged, c.claim_id.clone())).unwrap();
    assert!(app::settlement::explain_stored(store, &Scope::all(), &last.claim_key()).await.unwrap().is_some());
    // Again: nothing left to settle.
    let again = app::settlement::settle_stored(store, &Scope::all(), 2024, "batch").await.unwrap();
    assert_eq!((again.settled, again.already_settled, again.without_policy), (0, 60, 1));
    // A real-time claim after the batch continues from the batch's accumulators.
    let extra = claim("B999", 1, "2024-12-31", 9_000, 9_000);
    let mut all1: Vec<settle::PersonClaim> = mine
        .iter()
        .filter(|c| c.person_id == pid(1))
        .map(|c| settle::PersonClaim {
            claim_id: c.claim_id.clone(),
            discharged: c.discharged,
            status: PovertyStatus::Lifted,
            input: settle::ClaimInput::from(*c),
        })
        .collect();
    all1.push(settle::PersonClaim {
        claim_id: extra.claim_id.clone(),
        discharged: extra.discharged,
        status: PovertyStatus::Lifted,
        input: settle::ClaimInput::from(&extra),
    });
    let seq = settle::settle_person_year(&policy, &all1);
    let r = app::settlement::settle_realtime(store, &Scope::all(), &extra, "clerk").await.unwrap();
    assert_eq!(app::settlement::settlement_of(&r), seq.last().unwrap().1);
    // And a batch after that continues from the stored accumulators in turn.
    let later = claim("B9999", 1, "2024-12-31", 7_000, 7_000);
    store.import_claims(std::slice::from_ref(&later)).await.unwrap();
    all1.push(settle::PersonClaim {
        claim_id: later.claim_id.clone(),
        discharged: later.discharged,
        status: PovertyStatus::Lifted,
        input: settle::ClaimInput::from(&later),
    });
    let seq = settle::settle_person_year(&policy, &all1);
    assert_eq!(app::settlement::settle_stored(store, &Scope::all(), 2024, "batch").await.unwrap().settled, 1);
    let stored = store.settlements_of(&Scope::all(), pid(1)).await.unwrap();
    let got = stored.iter().find(|s| s.claim_id == "B9999").unwrap();
    let want = &seq.last().unwrap().1;
    assert_eq!((fens(&got.payments), got.out_of_pocket), (want.payments.clone(), want.out_of_pocket));
    // A scope settles only its own claims: the other county's claim, once it has
    // a policy, is settled by a run over that county.
    app::settlement::put_policy(store, "341123", 2024, POLICY, "admin").await.unwrap();
    let none = app::settlement::settle_stored(store, &Scope::new("341122").unwrap(), 2024, "batch").await.unwrap();
    assert_eq!(none.settled, 0);
    let theirs = app::settlement::settle_stored(store, &Scope::new("341123").unwrap(), 2024, "batch").await.unwrap();
    assert_eq!((theirs.settled, theirs.without_policy), (1, 0));
}

async fn a_group_commit_settles_each_claim_as_one_at_a_time_would(store: &Store) {
    seed(store).await;
    app::settlement::put_policy(store, "341122", 2024, POLICY, "admin").await.unwrap();
    let all = Scope::all();
    let c1 = claim("C1", 1, "2024-03-10", 60_000, 50_000);
    let c2 = claim("C2", 1, "2024-06-01", 20_000, 20_000);
    let mut changed = c1.clone();
    changed.total_cost = yuan("60001");
    let items = vec![
        (all.clone(), c1.clone()),
        // No policy for person 7's region: refused, and nothing of it stays.
        (all.clone(), claim("C4", 7, "2024-07-01", 100, 100)),
        // The same claim again in the same batch: the stored result.
        (all.clone(), c1.clone()),
        // A different claim under C1: refused, C1 untouched.
        (all.clone(), changed),
        // Outside the caller's scope: not found.
        (Scope::new("341123").unwrap(), claim("C3", 1, "2024-07-01", 100, 100)),
        (all.clone(), c2.clone()),
    ];
    let out = app::settlement::settle_realtime_batch(
        store,
        &items.into_iter().map(|(s, c)| (s, c, "clerk".to_string(), vec![])).collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(out.len(), 6);
    let r1 = out[0].as_ref().unwrap();
    assert!(!r1.replayed);
    assert_eq!(fens(&r1.payments), vec![yuan("42287.50"), yuan("138.13"), yuan("3944.62"), yuan("629.75")]);
    assert!(matches!(out[1], Err(StoreError::Rejected { .. })), "{:?}", out[1]);
    let again = out[2].as_ref().unwrap();
    assert!(again.replayed);
    assert_eq!(again.payments, r1.payments);
    assert!(matches!(out[3], Err(StoreError::Constraint { .. })), "{:?}", out[3]);
    assert!(matches!(out[4], Err(StoreError::NotFound { .. })), "{:?}", out[4]);
    // C2 after C1, counted once: the worked example's second claim.
    let r2 = out[5].as_ref().unwrap();
    assert_eq!(fens(&r2.payments), vec![yuan("16787.50"), yuan("2088.12"), yuan("674.63"), yuan("449.75")]);
    assert_eq!(r2.out_of_pocket, Fen::ZERO);
    // Stored: C1 and C2 only.
    let stored = store.settlements_of(&all, pid(1)).await.unwrap();
    assert_eq!(stored.iter().map(|s| s.claim_id.as_str()).collect::<Vec<_>>(), ["C1", "C2"]);
    assert!(store.get::<Claim>("C4").await.unwrap().is_none());
    assert!(store.get::<Claim>("C3").await.unwrap().is_none());
    // The next claim continues from the accumulators both left.
    let again = app::settlement::settle_realtime(store, &all, &c2, "clerk").await.unwrap();
    assert!(again.replayed);
}

/// The audit row of a settlement or a void is written in its own transaction:
/// once the call returns (what a client is told), the row is there, with who did
/// it; a claim refused inside a group leaves no row.
async fn a_settlement_and_a_void_commit_with_their_audit_rows(store: &Store) {
    seed(store).await;
    app::settlement::put_policy(store, "341122", 2024, POLICY, "admin").await.unwrap();
    let all = Scope::all();
    let rows = |action: &'static str| async move {
        store.audit_log(1000).await.unwrap().into_iter().filter(|r| r.action == action).collect::<Vec<_>>()
    };
    app::settlement::settle_realtime(store, &all, &claim("A1", 1, "2024-03-10", 60_000, 50_000), "clerk_wang")
        .await
        .unwrap();
    let settled = rows("settle").await;
    assert_eq!(settled.len(), 1, "{settled:?}");
    let r = &settled[0];
    assert_eq!((r.actor.as_str(), r.object_kind.as_str(), r.object_id.as_str()), ("clerk_wang", "claim", "A1"));
    assert_eq!(r.region_code, Some(code("341122100201").as_u64() as i64));
    assert!(r.detail.contains("13000.00"), "{}", r.detail);
    // A group: each settled claim audited with its own clerk, the refused one not.
    let group = vec![
        (all.clone(), claim("A2", 1, "2024-05-01", 1_000, 1_000), "clerk_li".to_string(), vec![]),
        (all.clone(), claim("A3", 99, "2024-05-01", 1_000, 1_000), "clerk_li".to_string(), vec![]),
        (all.clone(), claim("A4", 3, "2024-05-02", 2_000, 2_000), "clerk_zhao".to_string(), vec![]),
    ];
    let out = app::settlement::settle_realtime_batch(store, &group).await.unwrap();
    assert!(out[0].is_ok() && out[1].is_err() && out[2].is_ok(), "{out:?}");
    let who: Vec<(String, String)> = rows("settle").await.into_iter().map(|r| (r.object_id, r.actor)).collect();
    for want in [("A2", "clerk_li"), ("A4", "clerk_zhao")] {
        assert!(who.contains(&(want.0.to_string(), want.1.to_string())), "{who:?}");
    }
    assert!(!who.iter().any(|(id, _)| id == "A3"), "{who:?}");
    // A void, likewise.
    app::settlement::void_claim(store, &all, &ClaimKey::new("", "A1"), "supervisor").await.unwrap();
    let voids = rows("void_claim").await;
    assert_eq!(voids.len(), 1);
    assert_eq!((voids[0].actor.as_str(), voids[0].object_id.as_str()), ("supervisor", "A1"));
}

/// A group of new claims only (on PostgreSQL the set-based path: no claim of it
/// is stored, no key comes twice): a person's claims settle in the order they
/// came, each on the accumulators the one before left; the refused ones leave
/// the rest standing and store nothing.
async fn a_group_of_new_claims_settles_each_as_one_at_a_time_would(store: &Store) {
    seed(store).await;
    app::settlement::put_policy(store, "341122", 2024, POLICY, "admin").await.unwrap();
    let all = Scope::all();
    let mut bad = claim("B5", 3, "2024-07-01", 100, 100);
    bad.eligible_cost = yuan("200");
    let group: Vec<(Scope, Claim)> = vec![
        (all.clone(), claim("C1", 1, "2024-03-10", 60_000, 50_000)),
        (all.clone(), claim("B1", 7, "2024-07-01", 100, 100)),
        (Scope::new("341123").unwrap(), claim("B2", 1, "2024-07-01", 100, 100)),
        (all.clone(), claim("B3", 99, "2024-07-01", 100, 100)),
        (all.clone(), claim("D1", 3, "2024-04-01", 30_000, 30_000)),
        (all.clone(), claim("C2", 1, "2024-06-01", 20_000, 20_000)),
        (all.clone(), bad),
    ];
    let out = app::settlement::settle_realtime_batch(
        store,
        &group.iter().map(|(s, c)| (s.clone(), c.clone(), "clerk".to_string(), vec![])).collect::<Vec<_>>(),
    )
    .await
    .unwrap();
    assert_eq!(out.len(), 7);
    let r1 = out[0].as_ref().unwrap();
    assert_eq!(fens(&r1.payments), vec![yuan("42287.50"), yuan("138.13"), yuan("3944.62"), yuan("629.75")]);
    assert!(matches!(out[1], Err(StoreError::Rejected { .. })), "no policy: {:?}", out[1]);
    assert!(matches!(out[2], Err(StoreError::NotFound { .. })), "outside the scope: {:?}", out[2]);
    assert!(matches!(out[3], Err(StoreError::NotFound { .. })), "unknown person: {:?}", out[3]);
    assert!(matches!(out[6], Err(StoreError::Rejected { .. })), "eligible above total: {:?}", out[6]);
    let r2 = out[5].as_ref().unwrap();
    assert_eq!(fens(&r2.payments), vec![yuan("16787.50"), yuan("2088.12"), yuan("674.63"), yuan("449.75")]);
    assert_eq!(r2.out_of_pocket, Fen::ZERO);
    // Person 3's claim settles as alone (on fresh accumulators).
    let policy = settle::Policy::parse(POLICY).unwrap();
    let mut acc = settle::Accumulators::new(&policy);
    let d1 = &group[4].1;
    let want = settle::settle_claim(&policy, &settle::ClaimInput::from(d1), PovertyStatus::Lifted, &mut acc);
    assert_eq!(app::settlement::settlement_of(out[4].as_ref().unwrap()), want);
    for id in ["B1", "B2", "B3", "B5"] {
        assert!(store.get::<Claim>(id).await.unwrap().is_none(), "{id} refused, not stored");
    }
    let settled: Vec<String> = store
        .audit_log(1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "settle")
        .map(|r| r.object_id)
        .collect();
    assert_eq!(settled.len(), 3, "{settled:?}");
    // The next claim of person 1 continues from C1 and C2; the group again is replayed.
    let again = app::settlement::settle_realtime(store, &all, &group[5].1, "clerk").await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.payments, r2.payments);
    accumulators_are_the_sums_of_payments(store).await;
}

/// Each stored accumulator's paid amount is the sum of its tier's payments over
/// the person's settlements of the year (nothing counted twice or lost).
async fn accumulators_are_the_sums_of_payments(store: &Store) {
    let all = Scope::all();
    let accs = store.year_accumulators(&all, 2024).await.unwrap();
    assert!(!accs.is_empty());
    for a in accs {
        let sum: i64 = store
            .settlements_of(&all, a.person)
            .await
            .unwrap()
            .iter()
            .filter(|s| s.year == 2024 && !s.voided)
            .flat_map(|s| s.payments.iter().filter(|(t, _)| *t == a.tier).map(|(_, f)| f.0))
            .sum();
        assert_eq!(a.acc.paid.0, sum, "person {} tier {}", a.person, a.tier);
    }
}

/// PostgreSQL settles several groups at the same time. Groups that name the same
/// persons in every order, all at once: none fails (no deadlock reaches a
/// caller), each person's settlements are those of its claims settled one after
/// the other, and the accumulators are the sums of the settlements.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_groups_of_the_same_persons_settle_each_claim_once() {
    let Some(db) = TestDb::pg().await else { return };
    let store = &db.store;
    seed(store).await;
    app::settlement::put_policy(store, "341122", 2024, POLICY, "admin").await.unwrap();
    let persons: [(u16, PovertyStatus); 3] =
        [(1, PovertyStatus::Lifted), (3, PovertyStatus::Lifted), (5, PovertyStatus::General)];
    let (tasks_n, rounds) = (12, 4);
    let mut tasks = Vec::new();
    for t in 0..tasks_n {
        let mut group = Vec::new();
        for r in 0..rounds {
            let mut order: Vec<u16> = persons.iter().map(|p| p.0).collect();
            order.rotate_left(t % 3);
            if t % 2 == 1 {
                order.reverse();
            }
            for seq in order {
                let c = claim(&format!("G{t}-{r}-{seq}"), seq, "2024-05-05", 9_000, 8_000);
                group.push((Scope::all(), c, format!("clerk{t}"), vec![]));
            }
        }
        let store = store.clone();
        tasks.push(tokio::spawn(async move { app::settlement::settle_realtime_batch(&store, &group).await }));
    }
    let mut got: std::collections::HashMap<ResidentId, Vec<(Vec<Fen>, Fen)>> = Default::default();
    for t in tasks {
        for r in t.await.unwrap().unwrap() {
            let r = r.unwrap();
            assert!(!r.replayed);
            got.entry(r.person).or_default().push((fens(&r.payments), r.out_of_pocket));
        }
    }
    let policy = settle::Policy::parse(POLICY).unwrap();
    for (seq, status) in persons {
        let mut acc = settle::Accumulators::new(&policy);
        let c = claim("X", seq, "2024-05-05", 9_000, 8_000);
        let mut want: Vec<(Vec<Fen>, Fen)> = (0..tasks_n * rounds)
            .map(|_| {
                let s = settle::settle_claim(&policy, &settle::ClaimInput::from(&c), status, &mut acc);
                (s.payments, s.out_of_pocket)
            })
            .collect();
        let mut have = got.remove(&pid(seq)).unwrap();
        want.sort();
        have.sort();
        assert_eq!(have, want, "person {seq}");
        assert_eq!(store.settlements_of(&Scope::all(), pid(seq)).await.unwrap().len(), tasks_n * rounds);
    }
    accumulators_are_the_sums_of_payments(store).await;
    db.finish().await;
}
