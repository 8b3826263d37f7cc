//! The moderation rules' cost per chat message (issue 10): 5,000 blocked
//! terms (a tenth with a `*` wildcard), 50 regexes and a link allow-list,
//! judged on a realistic mix of chat lines; and, separately, the
//! personal-data detector on the same mix, which the hub runs first.
//!
//! `cargo bench --bench rules`. Each group's throughput is one element per
//! chat line, so criterion prints messages per second on one core.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regie::hub::config::default_blocked_terms;
use regie::moderation::{Action, LinkPolicy, Matcher, Rule, RuleSet};
use regie::privacy::{detect_personal_data, mask_detections};

/// What a live's chat looks like: mostly plain questions and reactions,
/// some prices and sizes, a few links, insults (plain and disguised) and
/// personal data.
const MIX: &[&str] = &[
    "Elle existe en bleu ? Je l'adore, trop belle la robe 😍",
    "taille 38 ou 40 ? c'est 39,90 € ou 49.90, livraison le 12/11/2026",
    "bonjour de Lyon !",
    "trop cher 😭",
    "commande n° 123456789 toujours pas reçue, ref 7781 2290",
    "vous livrez en Belgique ?",
    "le lien https://shop.ma-marque.fr/robe-bleue ne marche pas",
    "allez voir promo-folle.xyz/gratuit code CADEAU2026",
    "quel ARN4QUEUR ce vendeur",
    "c'est une arnaque totale, remboursez",
    "Bonjour à toutes et à tous, est-ce que la veste existe aussi en vert foncé ? J'ai vu qu'elle était en promo la semaine dernière mais je n'ai pas pu commander à temps, merci beaucoup pour le live !",
    "❤️❤️❤️",
    "appelle-moi au 06 12 34 56 78 après le live",
    "écris à julie.martin arobase gmail point com",
    "mon num ０６ １２ ３４ ５６ ７８ merci",
    "first time here, love the show!",
];

/// Pronounceable made-up words, deterministic: a real list's size and
/// shape without shipping a real list of insults.
fn made_up_terms(n: usize) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "ro", "mi", "tu", "ne", "sa", "lo", "pi", "da", "ve", "zu", "go", "ri", "fe", "bo",
        "che", "tra", "gli", "pou", "vin",
    ];
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % 1_000_003).unwrap_or(0)
    };
    (0..n)
        .map(|i| {
            let len = 2 + next() % 3;
            let mut word: String = (0..len)
                .map(|_| SYLLABLES[next() % SYLLABLES.len()])
                .collect();
            if i % 10 == 0 {
                word.push('*');
            }
            word
        })
        .collect()
}

/// Which kinds of rule a benchmark keeps, to see each one's cost.
type Keep = fn(&Matcher) -> bool;

/// The benchmark's rules, those `keep` picks.
fn rules_of(keep: Keep) -> RuleSet {
    let mut rules = Vec::new();
    let mut id = 0;
    let mut add = |matcher, action| {
        id += 1;
        rules.push(Rule::new(id, matcher, action));
    };
    for term in default_blocked_terms() {
        add(Matcher::Term(term), Action::Hold);
    }
    for term in made_up_terms(5_000 - default_blocked_terms().len()) {
        add(Matcher::Term(term), Action::Hold);
    }
    for i in 0..50 {
        let pattern = match i % 5 {
            0 => format!(r"\bcode\s*[a-z]{{3,}}{i}\b"),
            1 => format!(r"\b(?:gagn|win)\w*\s+{i}\d*\s*(?:€|eur|euros)\b"),
            2 => format!(r"(?:whats?app|telegram)\W*{i}"),
            3 => format!(r"\b(?:promo|soldes)[-_]?{i}\d{{2}}\b"),
            _ => format!(r"[!?]{{{},}}", 6 + i % 7),
        };
        add(Matcher::Regex(pattern), Action::Flag);
    }
    add(
        Matcher::Links(LinkPolicy::AllowList(vec!["ma-marque.fr".into()])),
        Action::Hold,
    );
    rules.retain(|r| keep(&r.matcher));
    RuleSet::compile(rules).expect("the benchmark's rules compile")
}

fn rules() -> RuleSet {
    rules_of(|_| true)
}

fn rule_set(c: &mut Criterion) {
    let rules = rules();
    let now = 1_764_547_200_000;
    let fired = MIX
        .iter()
        .filter(|l| rules.evaluate(l, now).is_some())
        .count();
    eprintln!(
        "rules: {} rules; {fired} of {} lines fire",
        rules.rules().len(),
        MIX.len()
    );

    let mut group = c.benchmark_group("rules");
    group.throughput(Throughput::Elements(MIX.len() as u64));
    group.bench_function("5000_terms_50_regexes_links/mix", |b| {
        b.iter(|| {
            MIX.iter()
                .filter(|line| rules.evaluate(std::hint::black_box(line), now).is_some())
                .count()
        });
    });
    let parts: [(&str, Keep); 3] = [
        ("terms_only/mix", |m| matches!(m, Matcher::Term(_))),
        ("regexes_only/mix", |m| matches!(m, Matcher::Regex(_))),
        ("links_only/mix", |m| matches!(m, Matcher::Links(_))),
    ];
    for (name, keep) in parts {
        let part = rules_of(keep);
        group.bench_function(name, |b| {
            b.iter(|| {
                MIX.iter()
                    .filter(|line| part.evaluate(std::hint::black_box(line), now).is_some())
                    .count()
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("detector");
    group.throughput(Throughput::Elements(MIX.len() as u64));
    group.bench_function("detect_personal_data/mix", |b| {
        b.iter(|| {
            MIX.iter()
                .filter_map(|line| {
                    let found = detect_personal_data(std::hint::black_box(line));
                    (!found.is_empty()).then(|| mask_detections(line, &found))
                })
                .count()
        });
    });
    group.finish();
}

criterion_group!(benches, rule_set);
criterion_main!(benches);
