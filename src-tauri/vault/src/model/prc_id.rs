//! The 18-character PRC resident identity number (GB 11643-1999).
//!
//! Layout: 6-digit administrative region code, 8-digit birth date (YYYYMMDD), 3-digit sequence
//! (odd for men, even for women), and an ISO 7064 MOD 11-2 check character (0–9 or X).

/// What an 18-character PRC resident ID says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrcId {
    /// Region code, e.g. `650102` (Ürümqi, Tianshan district); `65…` is Xinjiang.
    pub region: String,
    /// Birth date (year, month, day).
    pub birth: (u16, u8, u8),
    /// Sequence digit parity: `true` when the number is issued to a man.
    pub male: bool,
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// Checks an 18-character PRC resident ID and returns what it encodes, or a sentence saying
/// what is wrong.
pub fn check_prc_resident_id(number: &str) -> Result<PrcId, String> {
    let n: String = number
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let b = n.as_bytes();
    if b.len() != 18 {
        return Err(format!(
            "a PRC resident ID has 18 characters; this one has {}",
            n.chars().count()
        ));
    }
    if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
        return Err("a PRC resident ID is 17 digits followed by a digit or X".into());
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let expected = CHECK[(sum % 11) as usize];
    if b[17] != expected {
        return Err(format!(
            "check character is {} but should be {} for these digits: a digit was probably mistyped",
            b[17] as char, expected as char
        ));
    }
    if !(b'1'..=b'9').contains(&b[0]) {
        return Err("the region code (first 6 digits) is not a PRC region".into());
    }
    let num = |r: std::ops::Range<usize>| n[r].parse::<u16>().expect("checked digits");
    let (y, m, d) = (num(6..10), num(10..12) as u8, num(12..14) as u8);
    let valid = time::Month::try_from(m)
        .ok()
        .and_then(|mm| time::Date::from_calendar_date(y as i32, mm, d).ok())
        .is_some();
    if !valid || !(1890..=2100).contains(&y) {
        return Err(format!(
            "digits 7–14 should be a birth date but {y:04}-{m:02}-{d:02} is not a real date"
        ));
    }
    Ok(PrcId {
        region: n[..6].to_owned(),
        birth: (y, m, d),
        male: (b[16] - b'0') % 2 == 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_valid_xinjiang_id() {
        // 65010219850302001 + check character computed by MOD 11-2.
        let id = check_prc_resident_id("650102198503020018").unwrap();
        assert_eq!(id.region, "650102");
        assert_eq!(id.birth, (1985, 3, 2));
        assert!(id.male);
    }

    #[test]
    fn accepts_x_check_character_in_either_case() {
        // Published example number with check character X.
        assert!(check_prc_resident_id("11010519491231002X").is_ok());
        assert!(check_prc_resident_id("11010519491231002x").is_ok());
    }

    #[test]
    fn rejects_a_mistyped_digit() {
        let e = check_prc_resident_id("650102198503020019").unwrap_err();
        assert!(e.contains("should be 8"), "{e}");
    }

    #[test]
    fn rejects_an_impossible_birth_date() {
        // 1985-02-30, with a correct check character for those digits.
        let base = "65010219850230001";
        let sum: u32 = base
            .bytes()
            .zip(WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        let full = format!("{base}{}", CHECK[(sum % 11) as usize] as char);
        let e = check_prc_resident_id(&full).unwrap_err();
        assert!(e.contains("not a real date"), "{e}");
    }

    #[test]
    fn rejects_wrong_length() {
        assert!(check_prc_resident_id("65010219850302001").is_err());
    }
}
