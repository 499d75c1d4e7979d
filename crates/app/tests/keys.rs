//! Persons' opaque references: the same for every application on one store, from
//! the first use on, and unreadable with another store's key.

mod common;

use app::App;
use common::*;
use store::Store;

both_backends!(every_application_on_a_store_makes_the_same_references);

async fn every_application_on_a_store_makes_the_same_references(store: &Store) {
    let p = pid(7);
    // Two applications over one store asking at once, as two server processes
    // starting together would: one key wins, both use it.
    let (one, two) = (App::new(store.clone()), App::new(store.clone()));
    let (a, b) = tokio::join!(one.person_refs(), two.person_refs());
    let (a, b) = (a.unwrap().reference(p), b.unwrap().reference(p));
    assert_eq!(a, b);
    assert_eq!(two.person_refs().await.unwrap().person(&a), Some(p));
    // A later application reads the kept key.
    let three = App::new(store.clone());
    assert_eq!(three.person_refs().await.unwrap().reference(p), a);
    // A store of its own has a key of its own.
    let other = App::open(":memory:").await.unwrap();
    assert_ne!(other.person_refs().await.unwrap().reference(p), a);
    assert_eq!(other.person_refs().await.unwrap().person(&a), None);
}
