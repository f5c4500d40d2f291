//! The region a place written as free text lies in: the fourteen prefecture-level divisions of
//! Xinjiang, found by the names people write for them (Latin, Kazakh and Russian Cyrillic,
//! Chinese). Counts for advocacy may name a region, never a place finer than that
//! (docs/design-notes.md "Counts for advocacy"), so a chart of places counts by these keys.
//!
//! A place that names none of them counts as `other`; one that names two (a transfer from
//! Ghulja to Ürümqi) counts under the first named.

/// Region keys and the names that find them (lowercase; Chinese matched anywhere in the text,
/// the others as whole words).
const REGIONS: &[(&str, &[&str])] = &[
    (
        "urumqi",
        &[
            "urumqi",
            "ürümqi",
            "urumchi",
            "ürümchi",
            "үрімжі",
            "урумчи",
            "乌鲁木齐",
        ],
    ),
    (
        "karamay",
        &["karamay", "qaramay", "қарамай", "карамай", "克拉玛依"],
    ),
    (
        "turpan",
        &["turpan", "turfan", "тұрпан", "турпан", "турфан", "吐鲁番"],
    ),
    (
        "hami",
        &["hami", "kumul", "qumul", "құмыл", "хами", "кумул", "哈密"],
    ),
    (
        "changji",
        &["changji", "sanji", "сәнжі", "санжи", "чанцзи", "昌吉"],
    ),
    (
        "bortala",
        &[
            "bortala",
            "boratala",
            "бортала",
            "боратала",
            "博尔塔拉",
            "博乐",
        ],
    ),
    (
        "bayingolin",
        &[
            "bayingolin",
            "bayangol",
            "korla",
            "баянғол",
            "баянгол",
            "корла",
            "巴音郭楞",
            "库尔勒",
        ],
    ),
    ("aksu", &["aksu", "ақсу", "аксу", "阿克苏"]),
    (
        "kizilsu",
        &[
            "kizilsu",
            "kyzylsu",
            "qizilsu",
            "қызылсу",
            "кызылсу",
            "克孜勒苏",
        ],
    ),
    (
        "kashgar",
        &["kashgar", "kashi", "qeshqer", "қашқар", "кашгар", "喀什"],
    ),
    ("hotan", &["hotan", "khotan", "хотан", "қотан", "和田"]),
    (
        "ili",
        &[
            "ili",
            "yili",
            "ghulja",
            "gulja",
            "kuldja",
            "kulja",
            "yining",
            "іле",
            "или",
            "құлжа",
            "кульджа",
            "伊犁",
            "伊宁",
        ],
    ),
    (
        "tacheng",
        &[
            "tacheng",
            "chuguchak",
            "tarbagatai",
            "shaueshek",
            "шәуешек",
            "тарбағатай",
            "чугучак",
            "тачэн",
            "塔城",
        ],
    ),
    ("altay", &["altay", "altai", "алтай", "阿勒泰"]),
];

/// Every region key, in the order charts list them, `other` last.
pub fn region_keys() -> impl Iterator<Item = &'static str> {
    REGIONS
        .iter()
        .map(|(k, _)| *k)
        .chain(std::iter::once(OTHER))
}

/// The key of a place that names no region.
pub const OTHER: &str = "other";

/// The region `place` names first, or [`OTHER`].
pub fn region_of(place: &str) -> &'static str {
    let lower = place.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut best: Option<(usize, &'static str)> = None;
    for (key, names) in REGIONS {
        for n in *names {
            let at = if n.chars().any(is_han) {
                lower.find(n)
            } else {
                words
                    .iter()
                    .position(|w| w == n)
                    .map(|i| lower.find(words[i]).unwrap_or(i))
            };
            if let Some(at) = at {
                if best.is_none_or(|(b, _)| at < b) {
                    best = Some((at, key));
                }
            }
        }
    }
    best.map_or(OTHER, |(_, k)| k)
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_find_their_region_in_any_script() {
        assert_eq!(region_of("Ghulja, camp No. 3"), "ili");
        assert_eq!(region_of("Құлжа қаласы"), "ili");
        assert_eq!(region_of("伊宁市"), "ili");
        assert_eq!(region_of("Mongolküre county, Ili prefecture"), "ili");
        assert_eq!(region_of("Урумчи"), "urumqi");
        assert_eq!(region_of("from Kashgar to Ürümqi"), "kashgar");
        // A name inside another word is not the region.
        assert_eq!(region_of("Familiar village"), OTHER);
        assert_eq!(region_of("Almaty"), OTHER);
        assert_eq!(region_keys().count(), 15);
    }
}
