//! Opaque references to persons, so that no link, form or JSON field needs to carry
//! a resident ID.
//!
//! A reference is 32 hex digits: a tag of 8 bytes, a keyed hash of the ID, and the
//! ID's 8 bytes enciphered with a pad derived from the tag (a deterministic
//! authenticated encryption in the manner of SIV). The same person always has the
//! same reference, so links can be bookmarked; without the server's key a
//! reference tells nothing about the ID, not even for an ID whose birth date is
//! the only unknown; a made-up or altered reference decodes to nothing.
//!
//! The key is kept in the store (`server_keys`), so every process on one store
//! makes and reads the same references.

use blake2::{Blake2s256, Digest};
use domain::ResidentId;

/// The key's name in the store.
pub(crate) const PERSON_KEY: &str = "person_reference";

/// Makes and reads persons' opaque references.
#[derive(Clone)]
pub struct PersonRefs {
    key: [u8; 32],
}

impl std::fmt::Debug for PersonRefs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonRefs(..)")
    }
}

impl PersonRefs {
    /// From the stored key (32 bytes; a longer one is cut, a shorter one padded
    /// with zeros: neither happens with keys this program made).
    pub fn new(key: &[u8]) -> PersonRefs {
        let mut k = [0u8; 32];
        let n = key.len().min(32);
        k[..n].copy_from_slice(&key[..n]);
        PersonRefs { key: k }
    }

    /// A new random key.
    pub fn fresh_key() -> [u8; 32] {
        rand::random()
    }

    fn prf(&self, purpose: &[u8], data: &[u8; 8]) -> [u8; 8] {
        let h = Blake2s256::new().chain_update(self.key).chain_update(purpose).chain_update(data).finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&h[..8]);
        out
    }

    /// The reference of a person.
    pub fn reference(&self, id: ResidentId) -> String {
        let plain = id.as_u64().to_be_bytes();
        let tag = self.prf(b"tag", &plain);
        let pad = self.prf(b"pad", &tag);
        let mut out = String::with_capacity(32);
        for b in tag.iter().chain(plain.iter().zip(pad).map(|(p, k)| p ^ k).collect::<Vec<_>>().iter()) {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// The person a reference stands for; `None` for anything this key did not make.
    pub fn person(&self, reference: &str) -> Option<ResidentId> {
        let r = reference.as_bytes();
        if r.len() != 32 || !r.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)) {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&reference[2 * i..2 * i + 2], 16).ok()?;
        }
        let mut tag = [0u8; 8];
        tag.copy_from_slice(&bytes[..8]);
        let pad = self.prf(b"pad", &tag);
        let mut plain = [0u8; 8];
        for i in 0..8 {
            plain[i] = bytes[8 + i] ^ pad[i];
        }
        let expected = self.prf(b"tag", &plain);
        // Compared without stopping at the first difference.
        if expected.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
            return None;
        }
        ResidentId::from_u64(u64::from_be_bytes(plain)).ok()
    }

    /// Whether a text has the shape of a reference (it may still be forged).
    pub fn looks_like(s: &str) -> bool {
        s.len() == 32 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(s: &str) -> ResidentId {
        ResidentId::parse(s).unwrap()
    }

    #[test]
    fn a_reference_reads_back_and_hides_the_id() {
        let refs = PersonRefs::new(&[7u8; 32]);
        let p = id("341122195811250026");
        let r = refs.reference(p);
        assert_eq!(r.len(), 32);
        assert!(PersonRefs::looks_like(&r));
        assert_eq!(refs.person(&r), Some(p));
        assert_eq!(refs.reference(p), r, "the same person has the same reference");
        assert!(!r.contains("341122") && !r.contains("0026"), "{r}");
        // Another key reads nothing.
        assert_eq!(PersonRefs::new(&[8u8; 32]).person(&r), None);
        // The clear ID, upper case, and a changed digit are not references.
        assert_eq!(refs.person("341122195811250026"), None);
        assert_eq!(refs.person(&r.to_uppercase()), None);
        let mut changed = r.clone().into_bytes();
        changed[31] = if changed[31] == b'0' { b'1' } else { b'0' };
        assert_eq!(refs.person(std::str::from_utf8(&changed).unwrap()), None);
    }

    #[test]
    fn neighbours_have_unrelated_references() {
        // Two IDs that differ only in the birth day share no prefix of the reference.
        let refs = PersonRefs::new(&[1u8; 32]);
        let a = refs.reference(id("341122195811250026"));
        let b = refs.reference(
            ResidentId::from_parts(341122, chrono::NaiveDate::from_ymd_opt(1958, 11, 26).unwrap(), 2).unwrap(),
        );
        assert_ne!(a[..8], b[..8]);
    }

    proptest! {
        #[test]
        fn every_reference_reads_back(seed in any::<[u8; 32]>(), addr in 110000u32..660000, days in 0i64..40000, seq in 0u16..1000) {
            let birth = chrono::NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            let Ok(p) = ResidentId::from_parts(addr, birth, seq) else { return Ok(()) };
            let refs = PersonRefs::new(&seed);
            prop_assert_eq!(refs.person(&refs.reference(p)), Some(p));
        }
    }
}
