//! The words of shop questions, FR and EN: filler, intents, the values
//! that tell questions apart, and the product words in one language.
//! Tokens arrive [`super::normalise`]d (lower case, no accents).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use super::Intent;

/// What one token means to grouping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Meaning {
    /// Filler: articles, pronouns, politeness, generic verbs.
    Stop,
    Intent(Intent),
    /// A distinguishing value, canonical (`size:m`, `colour:red`, `n:38`).
    Value(Cow<'static, str>),
    /// Any other word, canonical where the lexicon knows it.
    Word(Cow<'static, str>),
}

/// Phrases read as one word before the tokens are looked up, so that
/// "runs small" is about fit, not the size S, and "how much" is a price.
/// Each side is normalised text; matched on word boundaries.
const PHRASES: &[(&str, &str)] = &[
    ("true to size", "fit"),
    ("runs small", "fit"),
    ("run small", "fit"),
    ("runs big", "fit"),
    ("run big", "fit"),
    ("runs large", "fit"),
    ("run large", "fit"),
    ("taille petit", "fit"),
    ("taille grand", "fit"),
    ("taille normalement", "fit"),
    ("taille normal", "fit"),
    ("taille comment", "fit"),
    ("taille bien", "fit"),
    ("taillent petit", "fit"),
    ("taillent grand", "fit"),
    ("extra large", "xl"),
    ("extra small", "xs"),
    ("how much time", "delai"),
    ("how many days", "delai"),
    ("how long", "delai"),
    ("how many left", "stock"),
    ("how much", "prix"),
    ("combien de temps", "delai"),
    ("combien de jours", "delai"),
    ("combien de jour", "delai"),
    ("en combien de fois", "fois"),
    ("combien de fois", "fois"),
    ("combien il en reste", "stock"),
    ("combien en reste", "stock"),
    ("combien il reste", "stock"),
    ("combien mesure", "mesure"),
    ("combien pese", "poids"),
    ("sold out", "stock"),
    ("back in stock", "stock"),
    ("in stock", "stock"),
    ("en stock", "stock"),
    ("comes in", "stock"),
    ("come in", "stock"),
    ("how do i order", "buy"),
    ("how can i order", "buy"),
    ("how to order", "buy"),
    ("where can i buy", "buy"),
    ("where to buy", "buy"),
    ("etats unis", "usa"),
    ("royaume uni", "uk"),
    ("outre mer", "dom"),
    ("tee shirt", "tshirt"),
    ("t shirt", "tshirt"),
];

/// `text` with every phrase of [`PHRASES`] replaced by its word.
pub(super) fn rewrite_phrases(text: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    for (phrase, word) in PHRASES {
        let current = out.as_deref().unwrap_or(text);
        if !current.contains(phrase) {
            continue;
        }
        let padded = format!(" {current} ");
        let replaced = padded.replace(&format!(" {phrase} "), &format!(" {word} "));
        out = Some(replaced.trim().to_owned());
    }
    out.map_or(Cow::Borrowed(text), Cow::Owned)
}

#[rustfmt::skip]
const STOP: &[&str] = &[
    // French
    "le", "la", "les", "un", "une", "des", "du", "de", "en", "au", "aux", "et", "ou", "y",
    "pour", "par", "sur", "sous", "dans", "avec", "sans", "chez", "ca", "cela", "ceci", "ce",
    "cet", "cette", "ces", "celle", "celui", "celles", "ceux", "ci", "mon", "ma", "mes", "ton",
    "ta", "tes", "son", "sa", "ses", "votre", "vos", "notre", "nos", "leur", "leurs", "je",
    "tu", "il", "ils", "elle", "elles", "on", "nous", "vous", "me", "te", "se", "moi", "toi",
    "lui", "eux", "est", "es", "sont", "suis", "etes", "etre", "sera", "serait", "seront",
    "ete", "etait", "fait", "fais", "faites", "font", "faire", "peut", "peux", "pouvez",
    "pourriez", "pourrait", "pouvons", "puis", "voudrais", "voudrait", "veux", "veut", "voulez",
    "aimerais", "aimerait", "savoir", "sais", "sait", "dire", "dites", "ai", "as", "ont",
    "aurai", "aura", "aurais", "aurait", "que", "quoi", "quel", "quelle", "quels", "quelles",
    "qui", "comment", "quand", "pourquoi", "ne", "pas", "plus", "moins", "tres", "trop",
    "bien", "aussi", "encore", "toujours", "deja", "svp", "stp", "merci", "bonjour", "bonsoir",
    "salut", "coucou", "bjr", "slt", "oui", "non", "alors", "donc", "mais", "si", "car", "ici",
    "voila", "voici", "question", "juste", "vraiment", "possible", "mdr", "porte", "porter",
    "article", "produit", "modele", "piece", "truc", "chose", "svp", "fois", "plusieurs",
    "autre", "autres", "tout", "tous", "toute", "toutes", "niveau", "a", "svpp", "ya",
    "quelqu", "quelqun", "madame", "monsieur", "rien", "sinon", "exactement", "propose",
    "proposez",
    // English
    "the", "an", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this",
    "that", "these", "those", "do", "does", "did", "done", "can", "could", "would", "will",
    "shall", "should", "may", "might", "must", "i", "you", "we", "they", "he", "she", "him",
    "her", "my", "your", "our", "their", "them", "there", "here", "what", "which", "who",
    "how", "when", "where", "why", "of", "in", "at", "to", "for", "with", "without",
    "from", "by", "and", "or", "but", "if", "so", "any", "some", "also", "still", "too",
    "very", "really", "just", "item", "product", "one", "ones", "get", "got", "guys", "thanks",
    "thank", "thx", "hi", "hello", "hey", "ok", "okay", "yes", "no", "not", "want", "like",
    "know", "tell", "about", "anyone", "someone", "else", "plz", "pls", "lol", "wearing",
    "wears", "wear", "other", "others", "much", "many", "please", "piece", "possible", "all",
    "please", "ask", "asking", "wondering", "wonder", "im", "happen", "again", "take", "takes",
    "need", "does", "option", "options", "offer", "us", "does", "way", "same", "does", "back",
];

#[rustfmt::skip]
const INTENTS: &[(Intent, &[&str])] = &[
    (Intent::Size, &["taille", "tailles", "pointure", "pointures", "size", "sizes", "sizing", "guide"]),
    (Intent::Fit, &[
        "fit", "fits", "fitting", "ajuste", "ajustee", "coupe", "grand", "petit", "big", "tight",
        "serre", "serree", "ample", "loose", "oversize", "oversized", "baggy",
    ]),
    (Intent::Model, &["mannequin", "mannequins", "model", "models"]),
    (Intent::Price, &[
        "prix", "price", "prices", "pricing", "cost", "costs", "coute", "coutent", "coutera",
        "cout", "combien", "cher", "chere", "chers", "expensive", "cheap", "tarif", "tarifs",
        "montant", "euro", "euros", "eur", "gratuit", "gratuite", "gratuits", "gratuites",
        "free", "payant", "payante", "payants", "frais", "fee", "fees", "charge",
    ]),
    (Intent::Delivery, &[
        "livraison", "livraisons", "livrer", "livrez", "livre", "livree", "livrent", "livrable",
        "livres", "expedition", "expedie", "expedier", "expediez", "envoi", "envoie",
        "envoyez", "envoyer", "envoye", "shipping", "ship", "ships", "shipped", "deliver",
        "delivery", "delivered", "deliveries", "port", "colissimo", "chronopost", "relais",
        "relay", "ups", "dhl", "recevoir", "recois", "recu", "recue", "receive", "received",
        "arrive", "arriver", "arrivera", "postage", "send", "sent",
    ]),
    (Intent::Duration, &[
        "delai", "delais", "temps", "jours", "jour", "days", "day", "semaine", "semaines", "week",
        "weeks", "rapide", "rapidement", "fast", "quickly", "vite", "quick",
    ]),
    (Intent::Returns, &[
        "retour", "retours", "retourner", "retourne", "renvoyer", "renvoi", "rembourse",
        "remboursement", "rembourser", "remboursable", "refund", "refunds", "refundable",
        "return", "returns", "returning", "echange", "echanger", "echanges", "exchange",
        "exchanges", "satisfait",
    ]),
    (Intent::Stock, &[
        "stock", "stocks", "dispo", "dispos", "disponible", "disponibles", "existe", "disponibilite", "available",
        "availability", "existent", "exister", "avez", "avoir", "have", "has", "reste",
        "restant", "restock", "reassort", "epuise", "epuisee", "rupture", "sold", "left",
    ]),
    (Intent::Colour, &["couleur", "couleurs", "coloris", "teinte", "teintes", "color", "colors", "colour", "colours"]),
    (Intent::Material, &["matiere", "matieres", "material", "materials", "tissu", "tissus", "fabric", "composition", "compose", "made"]),
    (Intent::Care, &[
        "lavage", "laver", "lave", "lavable", "machine", "wash", "washing", "washable",
        "entretien", "entretenir", "repasser", "repassage", "iron", "ironing", "secher",
        "sechage", "dryer", "tumble",
    ]),
    (Intent::Payment, &[
        "paiement", "paiements", "payer", "paye", "payez", "payable", "pay", "paying", "payment",
        "payments", "paypal", "carte", "card", "cb", "visa", "mastercard", "klarna",
        "installments", "instalments", "installment",
    ]),
    (Intent::Discount, &[
        "code", "codes", "promo", "promos", "promotion", "reduction", "reductions", "remise",
        "remises", "discount", "discounts", "coupon", "coupons", "soldes", "sale",
    ]),
    (Intent::Buy, &[
        "lien", "liens", "link", "links", "url", "site", "acheter", "achete", "achat", "buy",
        "buying", "purchase", "commander", "panier", "cart", "checkout",
    ]),
    (Intent::Order, &[
        "commande", "commandes", "order", "orders", "ordered", "suivi", "tracking", "track",
        "colis", "parcel", "package",
    ]),
    (Intent::Warranty, &["garantie", "garanti", "garanties", "warranty", "guarantee", "guaranteed"]),
    (Intent::Gift, &["cadeau", "cadeaux", "gift", "gifts", "emballage", "wrap", "wrapping", "offrir"]),
    (Intent::Dimensions, &[
        "dimension", "dimensions", "mesure", "mesures", "mesurer", "longueur", "length",
        "largeur", "width", "hauteur", "height", "poids", "weight", "pese", "lourd", "heavy",
        "cm",
    ]),
];

/// Canonical value → its spellings.
#[rustfmt::skip]
const SIZES: &[(&str, &[&str])] = &[
    ("size:xxs", &["xxs"]),
    ("size:xs", &["xs"]),
    ("size:s", &["s", "small"]),
    ("size:m", &["m", "medium", "moyen"]),
    ("size:l", &["l", "large"]),
    ("size:xl", &["xl"]),
    ("size:xxl", &["xxl", "2xl"]),
    ("size:xxxl", &["xxxl", "3xl"]),
];

#[rustfmt::skip]
const COLOURS: &[(&str, &[&str])] = &[
    ("colour:red", &["rouge", "rouges", "red"]),
    ("colour:black", &["noir", "noire", "noirs", "black"]),
    ("colour:white", &["blanc", "blanche", "blancs", "white"]),
    ("colour:blue", &["bleu", "bleue", "bleus", "blue"]),
    ("colour:green", &["vert", "verte", "verts", "green"]),
    ("colour:yellow", &["jaune", "jaunes", "yellow"]),
    ("colour:pink", &["rose", "roses", "pink"]),
    ("colour:grey", &["gris", "grise", "grey", "gray"]),
    ("colour:brown", &["marron", "brown", "chocolat"]),
    ("colour:beige", &["beige", "nude", "sable"]),
    ("colour:purple", &["violet", "violette", "purple", "mauve", "lilas"]),
    ("colour:orange", &["orange"]),
    ("colour:khaki", &["kaki", "khaki"]),
    ("colour:burgundy", &["bordeaux", "burgundy"]),
    ("colour:navy", &["marine", "navy"]),
    ("colour:camel", &["camel"]),
    ("colour:gold", &["dore", "doree", "gold", "golden"]),
    ("colour:silver", &["argent", "argente", "argentee", "silver"]),
    ("colour:cream", &["ecru", "ivoire", "ivory", "cream", "creme"]),
    ("colour:turquoise", &["turquoise"]),
    ("colour:coral", &["corail", "coral"]),
    ("colour:fuchsia", &["fuchsia"]),
    ("colour:taupe", &["taupe"]),
    ("colour:multi", &["multicolore", "multicolor", "multicolour"]),
];

#[rustfmt::skip]
const MATERIALS: &[(&str, &[&str])] = &[
    ("material:cotton", &["coton", "cotton"]),
    ("material:linen", &["lin", "linen"]),
    ("material:wool", &["laine", "wool"]),
    ("material:silk", &["soie", "silk"]),
    ("material:leather", &["cuir", "leather"]),
    ("material:faux-leather", &["similicuir", "simili", "vegan", "synthetique", "synthetic"]),
    ("material:polyester", &["polyester"]),
    ("material:cashmere", &["cachemire", "cashmere"]),
    ("material:viscose", &["viscose"]),
    ("material:suede", &["daim", "suede"]),
    ("material:velvet", &["velours", "velvet"]),
    ("material:denim", &["denim"]),
    ("material:steel", &["acier", "inox", "steel"]),
];

#[rustfmt::skip]
const PLACES: &[(&str, &[&str])] = &[
    ("place:be", &["belgique", "belgium", "bruxelles", "brussels"]),
    ("place:ch", &["suisse", "switzerland", "geneve", "geneva"]),
    ("place:ca", &["canada", "quebec", "montreal"]),
    ("place:fr", &["france", "paris"]),
    ("place:lu", &["luxembourg"]),
    ("place:es", &["espagne", "spain"]),
    ("place:it", &["italie", "italy"]),
    ("place:de", &["allemagne", "germany"]),
    ("place:uk", &["uk", "angleterre", "england", "london", "londres"]),
    ("place:us", &["usa", "america", "amerique"]),
    ("place:dom", &["dom", "domtom", "martinique", "guadeloupe", "reunion", "guyane"]),
    ("place:corse", &["corse", "corsica"]),
    ("place:mc", &["monaco"]),
    ("place:ma", &["maroc", "morocco"]),
];

/// Products named in both languages: one word each.
#[rustfmt::skip]
const PRODUCTS: &[(&str, &[&str])] = &[
    ("dress", &["robe", "robes", "dress", "dresses"]),
    ("bag", &["sac", "sacs", "bag", "bags", "sacoche", "handbag"]),
    ("shoe", &["chaussure", "chaussures", "shoe", "shoes", "basket", "baskets", "sneaker", "sneakers", "escarpin", "escarpins"]),
    ("boot", &["botte", "bottes", "boot", "boots", "bottine", "bottines"]),
    ("sweater", &["pull", "pulls", "sweater", "sweaters", "jumper", "sweat", "gilet", "cardigan"]),
    ("jacket", &["veste", "vestes", "jacket", "jackets", "blazer", "blouson"]),
    ("coat", &["manteau", "manteaux", "coat", "coats", "doudoune", "parka"]),
    ("trousers", &["pantalon", "pantalons", "pants", "trousers"]),
    ("jeans", &["jean", "jeans"]),
    ("skirt", &["jupe", "jupes", "skirt", "skirts"]),
    ("shirt", &["chemise", "chemises", "shirt", "shirts", "chemisier", "blouse"]),
    ("tshirt", &["tshirt", "tshirts", "tee", "tees"]),
    ("belt", &["ceinture", "ceintures", "belt", "belts"]),
    ("necklace", &["collier", "colliers", "necklace", "necklaces"]),
    ("ring", &["bague", "bagues", "ring", "rings"]),
    ("earring", &["boucle", "boucles", "earring", "earrings"]),
    ("bracelet", &["bracelet", "bracelets"]),
    ("watch", &["montre", "montres", "watch", "watches"]),
    ("glasses", &["lunettes", "glasses", "sunglasses"]),
    ("scarf", &["echarpe", "echarpes", "scarf", "scarves", "foulard", "foulards"]),
    ("hat", &["chapeau", "chapeaux", "hat", "hats", "bonnet", "bonnets", "casquette", "cap"]),
    ("shorts", &["short", "shorts"]),
    ("jumpsuit", &["combinaison", "jumpsuit", "combi"]),
    ("swimsuit", &["maillot", "maillots", "swimsuit", "bikini"]),
    ("perfume", &["parfum", "parfums", "perfume", "fragrance"]),
    ("set", &["ensemble", "ensembles", "set"]),
    ("lipstick", &["lipstick", "rouge-a-levres"]),
];

struct Lexicon {
    exact: HashMap<&'static str, Meaning>,
    /// Every entry of five letters or more and its one-letter deletions
    /// (symmetric delete): a typo at one edit finds its meaning. `None`
    /// where two meanings share a deletion (ambiguous: no guess).
    typos: HashMap<String, Option<Meaning>>,
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut exact: HashMap<&'static str, Meaning> = HashMap::new();
    for (intent, words) in INTENTS {
        for w in *words {
            exact.entry(w).or_insert(Meaning::Intent(*intent));
        }
    }
    for table in [SIZES, COLOURS, MATERIALS, PLACES] {
        for (value, words) in table {
            for w in *words {
                exact
                    .entry(w)
                    .or_insert(Meaning::Value(Cow::Borrowed(value)));
            }
        }
    }
    for (word, spellings) in PRODUCTS {
        for w in *spellings {
            exact.entry(w).or_insert(Meaning::Word(Cow::Borrowed(word)));
        }
    }
    for w in STOP {
        exact.entry(w).or_insert(Meaning::Stop);
    }
    let mut typos: HashMap<String, Option<Meaning>> = HashMap::new();
    for (entry, meaning) in exact.iter().filter(|(k, _)| k.chars().count() >= 5) {
        for variant in std::iter::once((*entry).to_owned()).chain(deletions(entry)) {
            typos
                .entry(variant)
                .and_modify(|known| {
                    if known.as_ref() != Some(meaning) {
                        *known = None;
                    }
                })
                .or_insert_with(|| Some(meaning.clone()));
        }
    }
    Lexicon { exact, typos }
});

/// `word` with one character left out, each way.
fn deletions(word: &str) -> impl Iterator<Item = String> + '_ {
    word.char_indices().map(move |(at, c)| {
        let mut s = String::with_capacity(word.len());
        s.push_str(&word[..at]);
        s.push_str(&word[at + c.len_utf8()..]);
        s
    })
}

/// Whether a canonical value is a size (or a number, which is one as
/// often as not: "en 38").
pub(super) fn is_size_value(value: &str) -> bool {
    value.starts_with("size:") || value.starts_with("n:")
}

pub(super) fn is_colour_value(value: &str) -> bool {
    value.starts_with("colour:")
}

/// What `token` (normalised, one word) means.
pub(super) fn lookup(token: &str) -> Meaning {
    if token.chars().any(|c| c.is_ascii_digit()) {
        return Meaning::Value(Cow::Owned(format!("n:{}", number(token))));
    }
    let lexicon = &*LEXICON;
    if let Some(m) = lexicon.exact.get(token) {
        return m.clone();
    }
    let stem = stem(token);
    if let Some(m) = lexicon.exact.get(stem) {
        return m.clone();
    }
    if token.chars().count() >= 5 {
        let found = std::iter::once(token.to_owned())
            .chain(deletions(token))
            .find_map(|v| lexicon.typos.get(&v).cloned().flatten());
        if let Some(m) = found {
            return m;
        }
    }
    if token.chars().count() <= 2 {
        return Meaning::Stop;
    }
    Meaning::Word(Cow::Owned(stem.to_owned()))
}

/// `robes` → `robe`, `shoes` → `shoe`; `dress` and short words stay.
fn stem(token: &str) -> &str {
    if token.len() > 3 && !token.ends_with("ss") {
        token
            .strip_suffix('s')
            .or_else(|| token.strip_suffix('x'))
            .unwrap_or(token)
    } else {
        token
    }
}

/// `20e`, `20eur`, `20euros` and `3x` are the numbers 20 and 3; `48h`
/// and `38cm` keep their unit.
fn number(token: &str) -> &str {
    let digits_end = token
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(token.len(), |(at, _)| at);
    if digits_end == 0 {
        return token;
    }
    match &token[digits_end..] {
        "e" | "eur" | "euro" | "euros" | "x" => &token[..digits_end],
        _ => token,
    }
}
