//! A deterministic generator of synthetic records in Kazakh, Russian and English, for
//! benchmarks and demos. The same seed gives the same records on every machine. Every person,
//! place and story here is invented from lists of common names and places.

use serde_json::{json, Value};

/// splitmix64: tiny, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// One element of a slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Given names: (Kazakh Cyrillic, Latin as in a Kazakh passport, a second Latin spelling).
pub const GIVEN: &[(&str, &str, &str)] = &[
    ("Сенбай", "Senbay", "Senbai"),
    ("Нұрахен", "Nurakhen", "Nurahen"),
    ("Жандос", "Zhandos", "Jandos"),
    ("Қайрат", "Kairat", "Qairat"),
    ("Ерлан", "Yerlan", "Erlan"),
    ("Гүлбахар", "Gulbakhar", "Gulbahar"),
    ("Сайрагүл", "Sairagul", "Sayragul"),
    ("Әсел", "Asel", "Äsel"),
    ("Бақыт", "Bakyt", "Baqyt"),
    ("Айгүл", "Aigul", "Aygul"),
    ("Мұрат", "Murat", "Murat"),
    ("Зәуре", "Zaure", "Zäure"),
    ("Ержан", "Yerzhan", "Erjan"),
    ("Құлпыш", "Kulpysh", "Qulpysh"),
    ("Төлеухан", "Toleukhan", "Tölewxan"),
    ("Мейрамбек", "Meirambek", "Meyrambek"),
    ("Ботагөз", "Botagoz", "Botagöz"),
    ("Дина", "Dina", "Dina"),
    ("Абылай", "Abylai", "Abylay"),
    ("Қалида", "Kalida", "Qalida"),
    ("Өмірбек", "Omirbek", "Ömirbek"),
    ("Шынар", "Shynar", "Şynar"),
    ("Нұрлан", "Nurlan", "Nurlan"),
    ("Жәмила", "Zhamila", "Jamila"),
];

/// Family names (Cyrillic, Latin, second Latin spelling).
pub const FAMILY: &[(&str, &str, &str)] = &[
    ("Сауытбай", "Sauytbay", "Sauitbai"),
    ("Жақсылық", "Zhaksylyk", "Jaqsylyq"),
    ("Мамырхан", "Mamyrkhan", "Mamyrhan"),
    ("Ахметов", "Akhmetov", "Ahmetov"),
    ("Серікбаев", "Serikbayev", "Serikbaev"),
    ("Тұрсын", "Tursyn", "Tursïn"),
    ("Қасымов", "Kasymov", "Qasymov"),
    ("Нұрғали", "Nurgali", "Nurğali"),
    ("Бекмұхамбет", "Bekmukhambet", "Bekmuhambet"),
    ("Есенгелді", "Yesengeldi", "Esengeldi"),
    ("Оразбек", "Orazbek", "Orazbek"),
    ("Жұмабай", "Zhumabay", "Jumabai"),
    ("Құрманәлі", "Kurmanali", "Qurmanäli"),
    ("Ізбасар", "Izbasar", "İzbasar"),
    ("Дәулетхан", "Dauletkhan", "Däwletxan"),
    ("Шәмші", "Shamshi", "Şämşi"),
];

/// Places (Kazakh, Russian, English).
pub const PLACES: &[(&str, &str, &str)] = &[
    ("Құлжа", "Кульджа", "Ghulja"),
    ("Үрімші", "Урумчи", "Urumqi"),
    ("Шәуешек", "Чугучак", "Tacheng"),
    ("Алтай", "Алтай", "Altay"),
    ("Тоқсун", "Токсун", "Toksun"),
    ("Моңғолкүре", "Монголькуре", "Zhaosu"),
    ("Шонжы", "Чонджи", "Qapqal"),
    ("Көктоғай", "Коктогай", "Koktokay"),
];

const KK: &[&str] = &[
    "Мені {year} жылы {place} қаласындағы лагерьге алып кетті.",
    "Онда бізді күн сайын саясат сабағына мәжбүрледі.",
    "Әйелімнің телефоны алынып, төлқұжаты тәркіленді.",
    "Ағам әлі күнге дейін хабарсыз жоқ, туыстарым оның қайда екенін білмейді.",
    "Маған WeChat арқылы полиция хабарласып, Қазақстандағы өмірім туралы сұрады.",
    "Біз лагерьде қытай тілін үйреніп, әндер айтуға мәжбүр болдық.",
    "Босатылғаннан кейін мені фабрикаға жұмысқа жіберді.",
    "Консулдыққа үш рет өтініш бердім, бірақ жауап болмады.",
];

const RU: &[&str] = &[
    "В {year} году меня забрали в лагерь в городе {place}.",
    "Каждый день нас заставляли учить китайский язык и петь песни.",
    "У моей жены отобрали паспорт и телефон.",
    "О моём брате нет никаких известий, родственники боятся звонить.",
    "Мне звонил сотрудник полиции через WeChat и спрашивал о моей жизни в Казахстане.",
    "После освобождения меня отправили работать на фабрику.",
    "Я трижды подавал заявление в консульство, но ответа так и не получил.",
    "В камере было двадцать человек, свет не выключали ночью.",
];

const EN: &[&str] = &[
    "In {year} I was taken to a camp near {place}.",
    "Every day we were made to attend political classes and sing songs.",
    "My wife's passport and phone were confiscated.",
    "There is still no news of my brother; our relatives are afraid to call.",
    "A police officer contacted me on WeChat and asked about my life in Kazakhstan.",
    "After my release I was sent to work in a factory.",
    "I applied to the consulate three times and never received an answer.",
    "Twenty people were held in one cell and the light was never turned off.",
];

/// A person record: names in Cyrillic and two Latin spellings, a date of birth, a passport.
pub fn person(rng: &mut Rng, i: usize) -> Value {
    let g = rng.pick(GIVEN);
    let f = rng.pick(FAMILY);
    let year = 1950 + rng.below(50);
    let (m, d) = (1 + rng.below(12), 1 + rng.below(28));
    json!({
        "names": [
            { "value": format!("{} {}", g.0, f.0), "script": "cyrl", "kind": "legal",
              "parts": { "given": g.0, "surname": f.0 } },
            { "value": format!("{} {}", g.1, f.1), "script": "latn", "kind": "transliteration" },
        ],
        "gender": if rng.below(2) == 0 { "female" } else { "male" },
        "date_of_birth": format!("{year:04}-{m:02}-{d:02}"),
        "place_of_birth": { "text": rng.pick(PLACES).2, "region": "Xinjiang", "country": "CN" },
        "citizenships": [{ "country": "KZ" }],
        "documents": [{ "type": "kz-passport", "series": "N", "number": format!("{:08}", 10_000_000 + i) }],
        "ethnicity": "Kazakh",
    })
}

/// A narrative of about `target` bytes in Kazakh, Russian or English.
pub fn narrative(rng: &mut Rng, target: usize) -> (String, &'static str) {
    let (lang, sentences) = match rng.below(3) {
        0 => ("kk", KK),
        1 => ("ru", RU),
        _ => ("en", EN),
    };
    let place = rng.pick(PLACES);
    let place = match lang {
        "kk" => place.0,
        "ru" => place.1,
        _ => place.2,
    };
    let year = 2017 + rng.below(4);
    let mut s = String::with_capacity(target + 200);
    while s.len() < target {
        let t = rng.pick(sentences);
        s.push_str(
            &t.replace("{year}", &year.to_string())
                .replace("{place}", place),
        );
        s.push(' ');
    }
    (s, lang)
}

/// A testimony of about 2 KB by `witness`.
pub fn testimony(rng: &mut Rng, witness: &str) -> Value {
    let (text, lang) = narrative(rng, 1800);
    let year = 2019 + rng.below(8);
    json!({
        "witness": witness,
        "recorded_at": format!("{year:04}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
        "place": "Almaty",
        "languages": [lang],
        "consent": { "given": true, "scope": "internal", "recorded_how": "signed-form" },
        "narrative": text,
        "connection": "first-hand",
        "events": [{ "type": "camp", "from": format!("{}", 2017 + rng.below(3)), "place": rng.pick(PLACES).2 }],
        "tags": ["camp"],
        "status": "draft",
    })
}

/// A renunciation attempt by `person`.
pub fn attempt(rng: &mut Rng, person: &str) -> Value {
    let outcomes = [
        "no-response",
        "pending",
        "refused",
        "more-documents-requested",
        "accepted",
    ];
    let outcome = *rng.pick(&outcomes);
    let year = 2019 + rng.below(7);
    let mut v = json!({
        "person": person,
        "submitted_on": format!("{year:04}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
        "channel": "consulate-almaty",
        "request": "renounce-prc-citizenship",
        "outcome": outcome,
    });
    if !matches!(outcome, "no-response" | "pending") {
        v["outcome_on"] = json!(format!("{}", year + 1));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spelling of every generated name folds to the same search key, so the search
    /// benchmark measures real matches.
    #[test]
    fn all_spellings_of_generated_names_share_a_key() {
        for (cyr, lat1, lat2) in GIVEN.iter().chain(FAMILY) {
            let k = vault::index::keys::name_keys(cyr);
            assert_eq!(k, vault::index::keys::name_keys(lat1), "{cyr} / {lat1}");
            assert_eq!(k, vault::index::keys::name_keys(lat2), "{cyr} / {lat2}");
        }
    }
}
