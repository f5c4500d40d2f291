//! Passphrases: the wiped container they travel in, how strong one looks, and the proof
//! that it was typed again just now. Split from `keys` (which opens keyslots with them) so
//! that each file holds one concern; `keys` re-exports everything here.

use age::secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use zeroize::{Zeroize, Zeroizing};

/// Minimum passphrase length in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// A passphrase, kept in a zeroize-on-drop container from the terminal or IPC to the KDF.
pub struct Passphrase(SecretString);

impl Passphrase {
    /// Wraps a passphrase. The `String` is moved; if it has spare room (a line read from a
    /// terminal), it is copied once to its exact size and wiped, as the secret container would
    /// otherwise shrink it and leave the old buffer unwiped.
    pub fn new(mut s: String) -> Self {
        if s.capacity() != s.len() {
            let exact = String::from(s.as_str());
            s.zeroize();
            s = exact;
        }
        Passphrase(SecretString::from(s))
    }

    pub(crate) fn secret(&self) -> SecretString {
        SecretString::from(self.0.expose_secret().to_owned())
    }

    /// The passphrase text, for strength checks and comparisons only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Read straight from a request (the app's IPC): the text goes into the wiped container at
/// once, and no command handles it as a plain `String`.
impl<'de> Deserialize<'de> for Passphrase {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(Passphrase::new)
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

/// Proof that the vault's passphrase was typed again just now (`Vault::confirm_passphrase`),
/// for a change to who can read what leaves the vault: a new recipient, one removed, a bundle
/// to a key not among them, passphrase bundles allowed. Used once (taken by value); made only
/// inside this crate, after the passphrase opened the keyslot.
#[derive(Debug)]
#[must_use]
pub struct Confirmed(());

impl Confirmed {
    pub(crate) fn after_keyslot_opened() -> Self {
        Confirmed(())
    }
}

/// How strong a passphrase looks, with a hint to show the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strength {
    /// 0 (unusable) to 4 (strong).
    pub score: u8,
    /// Rough entropy estimate in bits.
    pub bits: u32,
    /// One sentence for the user.
    pub hint: &'static str,
}

/// Estimates passphrase strength from length and character variety (no dictionary: the hint
/// always recommends several unrelated words).
pub fn passphrase_strength(p: &str) -> Strength {
    // The copies made to count are wiped when done, as the passphrase's own are (allocated
    // once, at full size, so no grown-out buffer is left behind unwiped).
    let mut chars: Zeroizing<Vec<char>> = Zeroizing::new(Vec::with_capacity(p.len()));
    chars.extend(p.chars());
    let n = chars.len();
    let mut pool = 0u32;
    if chars.iter().any(|c| c.is_lowercase()) {
        pool += 26;
    }
    if chars.iter().any(|c| c.is_uppercase()) {
        pool += 26;
    }
    if chars.iter().any(|c| c.is_ascii_digit()) {
        pool += 10;
    }
    if chars.iter().any(|c| !c.is_alphanumeric()) {
        pool += 20;
    }
    if chars.iter().any(|c| !c.is_ascii()) {
        pool += 40;
    }
    let distinct = {
        let mut d = chars.clone(); // a Zeroizing copy, wiped when dropped
        d.sort_unstable();
        d.dedup();
        d.len()
    };
    // Repetition ("aaaaaaaaaaaa") earns little: count distinct characters twice as much as length.
    let effective = (n + 2 * distinct) / 3;
    let bits = (effective as f64 * (pool.max(1) as f64).log2()) as u32;
    let (score, hint) = if n < MIN_PASSPHRASE_CHARS {
        (
            0,
            "too short: use at least 12 characters, better four or five unrelated words",
        )
    } else if bits < 50 {
        (1, "weak: add more unrelated words")
    } else if bits < 70 {
        (2, "fair: one or two more words would make it strong")
    } else if bits < 90 {
        (3, "good")
    } else {
        (4, "strong")
    };
    Strength { score, bits, hint }
}
