//! Everything that touches key material or ciphertext on disk, below the store.
//!
//! - [`keys`]: the vault's secrets (SQLCipher key, age identity, device signing key) and the
//!   keyslots, standard age files, that hold them on disk;
//! - `passphrase`: the passphrase container, its strength, the proof it was typed again
//!   (re-exported by [`keys`]);
//! - `agefile`: re-addressing an age file to another recipient by rewriting its header only;
//! - `arriving`: an attachment arriving already encrypted, stored as it is and its content checked;
//! - [`blobs`]: attachments, streamed into age files encrypted to the vault's own identity;
//! - `chunks`: pieces of a recording in progress, each a small age file written whole;
//! - `sink`: large ciphertext files written on their own thread, around the page cache;
//! - [`harden`]: no core dumps, key pages locked in RAM (the crate's only `unsafe`).
//!
//! Nothing here knows about records, the database or bundles.

pub(crate) mod agefile;
pub(crate) mod arriving;
pub(crate) mod blobs;
pub(crate) mod chunks;
pub mod harden;
pub mod keys;
mod passphrase;
mod sink;

pub(crate) use sink::{Hash, Sink};
