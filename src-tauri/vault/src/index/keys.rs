//! Search keys: cross-script name keys, number keys, and full-text query building.
//!
//! A person's name is written in Kazakh or Russian Cyrillic, in one of several Latin
//! transliterations, in Chinese passports' pinyin, and by hand. [`name_keys`] maps every spelling
//! to one *skeleton*: Cyrillic letters (Kazakh and Russian) go to Latin, diacritics and case fold
//! away, and the spelling differences between transliteration systems collapse
//! (`kh`/`h`/`x`, `zh`/`j`, `y`/`i`, `q`/`k`, doubled letters), so that
//! Сенбай = Senbay = Senbai → `senbai` and Нұрахен = Nurahen = Nurakhen → `nurahen`.
//!
//! Keys are stored per name word; a query matches when each of its words is a prefix of some
//! word key of the same record.

use unicode_normalization::UnicodeNormalization;

/// Cyrillic (Russian and Kazakh) letters to Latin, before folding.
fn cyrillic(c: char) -> Option<&'static str> {
    Some(match c {
        'а' | 'ә' => "a",
        'б' => "b",
        'в' => "v",
        'г' | 'ғ' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' | 'й' | 'і' | 'ы' => "i",
        'к' | 'қ' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'ң' => "ng",
        'о' | 'ө' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ұ' | 'ү' => "u",
        'ф' => "f",
        'х' | 'һ' => "h",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ю' => "iu",
        'я' => "ia",
        _ => return None,
    })
}

/// The folded, Latin skeleton of one word (see the module docs). Empty for words with no
/// letters or digits.
pub fn word_key(word: &str) -> String {
    // 1. Lowercase, Cyrillic → Latin, strip diacritics (NFD, drop combining marks).
    let mut latin = String::with_capacity(word.len());
    for c in word.chars().flat_map(char::to_lowercase) {
        if let Some(l) = cyrillic(c) {
            latin.push_str(l);
        } else {
            match c {
                // Letters NFD does not decompose.
                'ı' => latin.push('i'),
                'ø' => latin.push('o'),
                'ß' => latin.push_str("ss"),
                'ł' => latin.push('l'),
                'đ' => latin.push('d'),
                'ŋ' => latin.push_str("ng"),
                // Kazakh Latin (2021) and Turkish-style spellings: ş = ш, ç = ч.
                'ş' => latin.push_str("sh"),
                'ç' => latin.push_str("ch"),
                _ => latin.extend(c.nfd().filter(|c| !is_combining(*c))),
            }
        }
    }
    let s: Vec<char> = latin.chars().filter(|c| c.is_alphanumeric()).collect();
    // 2. Fold transliteration variants to one spelling.
    let mut out: Vec<char> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let (emit, used): (&str, usize) = match rest {
            ['d', 'z', 'h', ..] => ("j", 3),
            ['k', 'h', ..] => ("h", 2),
            ['z', 'h', ..] => ("j", 2),
            ['n', 'g', ..] => ("n", 2),
            ['x', ..] => ("h", 1),
            ['q', ..] => ("k", 1),
            ['y', ..] => ("i", 1),
            ['w', ..] => ("u", 1),
            ['c', 'h', ..] => ("ch", 2),
            ['c', ..] => ("k", 1),
            _ => {
                out.push(rest[0]);
                i += 1;
                continue;
            }
        };
        out.extend(emit.chars());
        i += used.max(1);
    }
    // 3. Collapse doubled letters (Нұрахмет / Nurakhmet, Алла / Ala).
    out.dedup();
    // 4. Russian е is written "ye" after a vowel or at the start (Серікбаев / Serikbayev,
    //    Ерлан / Yerlan): after y → i, fold "ie" to "e".
    let mut folded: Vec<char> = Vec::with_capacity(out.len());
    for c in out {
        if c == 'e' && folded.last() == Some(&'i') {
            folded.pop();
        }
        folded.push(c);
    }
    folded.dedup();
    folded.into_iter().collect()
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// Splits a name or query into words (letters and digits; anything else separates).
pub fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// All word keys of a name, deduplicated.
pub fn name_keys(name: &str) -> Vec<String> {
    let mut keys: Vec<String> = words(name)
        .map(word_key)
        .filter(|k| !k.is_empty())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A document or reference number folded for lookup: uppercase letters and digits only
/// (`N 1234 567` = `n1234567`).
pub fn number_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// An FTS5 MATCH expression for free text typed by a user: each word becomes a quoted prefix
/// term (so no FTS5 syntax from the user is interpreted), all words required. `None` when the
/// query has no words.
pub fn fts_query(q: &str) -> Option<String> {
    let terms: Vec<String> = words(q)
        .take(16)
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" AND "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) {
        assert_eq!(name_keys(a), name_keys(b), "{a} vs {b}");
    }

    #[test]
    fn kazakh_and_russian_cyrillic_meet_latin_spellings() {
        same("Сенбай", "Senbay");
        same("Сенбай", "Senbai");
        same("Нұрахен", "Nurahen");
        same("Нұрахен", "Nurakhen");
        same("Жандос", "Zhandos");
        same("Жандос", "Jandos");
        same("Қайрат", "Qairat");
        same("Қайрат", "Kairat");
        same("Ерлан", "Yerlan");
        same("Ерлан", "Erlan");
        same("Гүлбахар", "Gulbahar");
        same("Гүлбахар", "Gülbahar");
        same("Нұрахмет", "Nurakhmet");
        same("Сайрагүл Сауытбай", "Sayragul Sauytbay");
        same("Әсел", "Äsel");
        same("Асель", "Asel");
        same("Серікбаев", "Serikbayev");
        same("Алиев", "Aliyev");
        same("Шынар", "Şynar");
        same("Шынар", "Shynar");
        same("Шәмші", "Şämşi");
    }

    #[test]
    fn case_and_diacritics_fold() {
        same("SENBAY", "senbay");
        same("Ṣenbay", "Senbay");
        assert_eq!(word_key("Nurakhen"), "nurahen");
    }

    #[test]
    fn different_names_stay_different() {
        assert_ne!(name_keys("Сенбай"), name_keys("Серік"));
        assert_ne!(word_key("Asan"), word_key("Usen"));
    }

    #[test]
    fn number_keys_ignore_spacing_and_case() {
        assert_eq!(number_key("n 1234-567"), number_key("N1234567"));
    }

    #[test]
    fn fts_query_neutralises_syntax() {
        assert_eq!(
            fts_query("camp AND \"x"),
            Some("\"camp\"* AND \"AND\"* AND \"x\"*".into())
        );
        assert_eq!(fts_query("  --  "), None);
    }
}
