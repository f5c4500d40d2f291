//! Every page of a vault's database file and of its WAL, decrypted one by one with the raw key:
//! live pages, free pages and the unused rest of each page alike. What `sqlcipher_export` shows
//! ([`crate::bundles::plaintext_dump`]) is what the database *holds*; this is what the *file*
//! holds, and deleted text that SQLite only unlinked would still be here. The proof behind
//! "a purge destroys the content" (docs/threat-model.md R5 and the purge rows).
//!
//! SQLCipher 4's defaults, which the vault keeps: 4096-byte pages, each AES-256-CBC encrypted
//! with the raw key, followed by its 16-byte IV and a 64-byte HMAC-SHA512 (80 bytes reserved);
//! the first 16 bytes of page 1 are the file's salt, in the clear. A WAL is a 32-byte header,
//! then frames of a 24-byte header and one page, encrypted the same way.

use std::path::Path;

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, KeyIvInit};

const PAGE: usize = 4096;
const RESERVED: usize = 16 + 64;
const WAL_HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

/// One page decrypted: its data area (after the salt, on page 1).
fn decrypt(key: &[u8; 32], page: &[u8], first: bool) -> Vec<u8> {
    let end = PAGE - RESERVED;
    let iv: [u8; 16] = page[end..end + 16].try_into().unwrap();
    let mut data = page[if first { 16 } else { 0 }..end].to_vec();
    cbc::Decryptor::<aes::Aes256>::new(key.into(), &iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .expect("whole AES blocks");
    data
}

/// The plaintext of every page of `vault.db` and every frame of `vault.db-wal` under `dir`,
/// concatenated. Fails when page 1 does not decrypt to a SQLite header (a wrong key or layout
/// would otherwise make every search come back empty).
pub fn decrypted_pages(dir: &Path) -> Vec<u8> {
    let key: [u8; 32] = hex::decode(crate::fixture::sqlcipher_key(dir))
        .unwrap()
        .try_into()
        .expect("a 256-bit raw key");
    let db = std::fs::read(dir.join("vault.db")).unwrap();
    assert_eq!(db.len() % PAGE, 0, "vault.db is not whole 4096-byte pages");
    let mut out = Vec::with_capacity(db.len());
    for (i, page) in db.chunks(PAGE).enumerate() {
        let plain = decrypt(&key, page, i == 0);
        if i == 0 {
            // Bytes 16–17 of a SQLite header: the page size, big-endian; 18–19: format 1 or 2.
            assert!(
                plain[..2] == [0x10, 0x00] && matches!(plain[2], 1 | 2) && plain[2] == plain[3],
                "page 1 did not decrypt to a SQLite header: wrong key or page layout"
            );
        }
        out.extend_from_slice(&plain);
    }
    let wal = std::fs::read(dir.join("vault.db-wal")).unwrap_or_default();
    if wal.len() > WAL_HEADER {
        for frame in wal[WAL_HEADER..].chunks(FRAME_HEADER + PAGE) {
            if frame.len() < FRAME_HEADER + PAGE {
                break;
            }
            let number = u32::from_be_bytes(frame[..4].try_into().unwrap());
            out.extend_from_slice(&decrypt(&key, &frame[FRAME_HEADER..], number == 1));
        }
    }
    out
}

/// Bytes of the WAL file under `dir` (0 when there is none).
pub fn wal_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("vault.db-wal")).map_or(0, |m| m.len())
}
