//! The personal-data detector's cost per chat message (issue 9): it runs
//! on every viewer message, before the message is stored.
//!
//! `cargo bench --bench detect`. One benchmark per kind of line: the plain
//! chat most lines are (stopped by the cheap candidate pass), chat with
//! prices and sizes (digits, no phone), and lines carrying a phone, a
//! spelled-out phone, an obfuscated e-mail, an IBAN and full-width digits.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regie::privacy::{detect_personal_data, mask_detections};

const LINES: &[(&str, &str)] = &[
    (
        "plain",
        "Elle existe en bleu ? Je l'adore, trop belle la robe 😍",
    ),
    (
        "numbers",
        "taille 38 ou 40 ? c'est 39,90 € ou 49.90, livraison le 12/11/2026",
    ),
    (
        "order",
        "commande n° 123456789 toujours pas reçue, ref 7781 2290",
    ),
    ("phone", "appelle-moi au 06 12 34 56 78 après le live"),
    ("phone_intl", "my number is +44 7911 123456, text me"),
    (
        "spelled",
        "zéro six douze trente-quatre cinquante-six soixante-dix-huit merci",
    ),
    (
        "email_obfuscated",
        "écris à julie.martin arobase gmail point com",
    ),
    (
        "iban",
        "mon rib FR76 3000 6000 0112 3456 7890 189 pour le remboursement",
    ),
    ("full_width", "mon num ０６ １２ ３４ ５６ ７８ merci"),
    (
        "long_plain",
        "Bonjour à toutes et à tous, est-ce que la veste existe aussi en vert foncé ? J'ai vu qu'elle était en promo la semaine dernière mais je n'ai pas pu commander à temps, merci beaucoup pour le live !",
    ),
];

fn detector(c: &mut Criterion) {
    let mut group = c.benchmark_group("detect_personal_data");
    group.throughput(Throughput::Elements(1));
    for (name, text) in LINES {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let found = detect_personal_data(std::hint::black_box(text));
                if found.is_empty() {
                    None
                } else {
                    Some(mask_detections(text, &found))
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, detector);
criterion_main!(benches);
