//! Merge tags in canned answers: `{first_name}`, `{product}`, `{price}`,
//! `{live}` and `{host}`, replaced by their values before a reply leaves
//! the console. Pure: the brand file and the hub check a canned text with
//! [`check`], the console expands one with [`expand`] and refuses to send a
//! line that still holds a tag ([`tags_in`]).
//!
//! The syntax is deliberately small, so that nothing else in a reply is
//! mistaken for a tag: a tag is `{`, a name of letters, digits or `_`
//! starting with a letter or `_`, then `}`. Any other brace is text (`{{`,
//! `{ }`, `{42}`, an unclosed `{first_name`), so a smiley `:-{` or a JSON
//! snippet goes through as typed. A tag regie does not know (`{prix}`,
//! `{prénom}`) is an error, never sent raw.

use std::fmt;

/// One tag regie knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tag {
    /// The first name of the viewer the reply answers.
    FirstName,
    /// The name of the product now showing.
    Product,
    /// The price of the product now showing.
    Price,
    /// The live's title.
    Live,
    /// The staff member's own name.
    Host,
}

impl Tag {
    /// Every tag, in the order the docs list them.
    pub const ALL: &'static [Tag] = &[
        Tag::FirstName,
        Tag::Product,
        Tag::Price,
        Tag::Live,
        Tag::Host,
    ];

    /// The name between the braces.
    pub fn name(self) -> &'static str {
        match self {
            Tag::FirstName => "first_name",
            Tag::Product => "product",
            Tag::Price => "price",
            Tag::Live => "live",
            Tag::Host => "host",
        }
    }

    pub fn from_name(name: &str) -> Option<Tag> {
        Tag::ALL.iter().copied().find(|t| t.name() == name)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.name())
    }
}

/// Why a text cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagError {
    /// `{prix}`: no such tag (the name as written).
    Unknown(String),
    /// A known tag with no value now (nothing showing, no message replied to).
    Missing(Tag),
}

impl fmt::Display for TagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagError::Unknown(name) => {
                let known: Vec<String> = Tag::ALL.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "unknown merge tag {{{name}}} (known: {})",
                    known.join(" ")
                )
            }
            TagError::Missing(tag) => {
                let why = match tag {
                    Tag::FirstName => "this reply answers no viewer",
                    Tag::Product | Tag::Price => "no product is showing",
                    Tag::Live => "the live has no title",
                    Tag::Host => "the console does not know your name",
                };
                write!(f, "{tag} has no value: {why}")
            }
        }
    }
}

/// A piece of a text: literal text, or a tag by the name written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Tag(&'a str),
}

/// The text cut into literal runs and tags (see the module docs).
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut literal_from = 0;
    let mut i = 0;
    while let Some(open) = text[i..].find('{').map(|o| i + o) {
        let after = open + 1;
        let name_len = tag_name_len(&text[after..]);
        if name_len > 0 && text[after + name_len..].starts_with('}') {
            if literal_from < open {
                out.push(Piece::Text(&text[literal_from..open]));
            }
            out.push(Piece::Tag(&text[after..after + name_len]));
            i = after + name_len + 1;
            literal_from = i;
        } else {
            i = after;
        }
    }
    if literal_from < text.len() {
        out.push(Piece::Text(&text[literal_from..]));
    }
    out
}

/// The length in bytes of the tag name `rest` starts with (0: none).
fn tag_name_len(rest: &str) -> usize {
    let mut len = 0;
    for (n, c) in rest.char_indices() {
        let ok = if n == 0 {
            c.is_alphabetic() || c == '_'
        } else {
            c.is_alphanumeric() || c == '_'
        };
        if !ok {
            break;
        }
        len = n + c.len_utf8();
    }
    len
}

/// The tags written in `text`, in order, as written (known or not).
pub fn tags_in(text: &str) -> Vec<&str> {
    pieces(text)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Tag(name) => Some(name),
            Piece::Text(_) => None,
        })
        .collect()
}

/// Whether every tag of `text` is one regie knows (for the brand file and
/// `canned_add`); the error names the first unknown one.
pub fn check(text: &str) -> Result<(), TagError> {
    match tags_in(text)
        .into_iter()
        .find(|n| Tag::from_name(n).is_none())
    {
        Some(unknown) => Err(TagError::Unknown(unknown.to_owned())),
        None => Ok(()),
    }
}

/// The values the tags take now; `None` is a missing value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    pub first_name: Option<String>,
    pub product: Option<String>,
    pub price: Option<String>,
    pub live: Option<String>,
    pub host: Option<String>,
}

impl Values {
    fn get(&self, tag: Tag) -> Option<&str> {
        let v = match tag {
            Tag::FirstName => &self.first_name,
            Tag::Product => &self.product,
            Tag::Price => &self.price,
            Tag::Live => &self.live,
            Tag::Host => &self.host,
        };
        v.as_deref().filter(|v| !v.trim().is_empty())
    }
}

/// `text` with every tag replaced by its value, or every problem found (an
/// unknown tag, a missing value), each once, in the order written. Values
/// are inserted as they are and never expanded again.
pub fn expand(text: &str, values: &Values) -> Result<String, Vec<TagError>> {
    let mut out = String::with_capacity(text.len());
    let mut errors: Vec<TagError> = Vec::new();
    for piece in pieces(text) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Tag(name) => {
                let found = match Tag::from_name(name) {
                    None => Err(TagError::Unknown(name.to_owned())),
                    Some(tag) => values.get(tag).ok_or(TagError::Missing(tag)),
                };
                match found {
                    Ok(v) => out.push_str(v),
                    Err(e) if !errors.contains(&e) => errors.push(e),
                    Err(_) => {}
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// `text` with each tag replaced by `value(name)`, in one pass (a value
/// is never expanded again), for texts with tags of their own (the SMS
/// alert's `{live_title}`, `{start_time}`, `{link}`: [`crate::sms`]); the
/// names `value` has nothing for, each once, in the order written.
pub fn expand_named(
    text: &str,
    mut value: impl FnMut(&str) -> Option<String>,
) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(text.len());
    let mut missing: Vec<String> = Vec::new();
    for piece in pieces(text) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Tag(name) => match value(name) {
                Some(v) => out.push_str(&v),
                None if !missing.iter().any(|m| m == name) => missing.push(name.to_owned()),
                None => {}
            },
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Values {
        Values {
            first_name: Some("Léa".into()),
            product: Some("Robe Lina".into()),
            price: Some("49 €".into()),
            live: Some("Soldes d'hiver".into()),
            host: Some("Claire".into()),
        }
    }

    #[test]
    fn every_tag_expands() {
        let text = "{first_name}, la {product} est à {price} pendant « {live} » — {host}";
        assert_eq!(
            expand(text, &all()).unwrap(),
            "Léa, la Robe Lina est à 49 € pendant « Soldes d'hiver » — Claire"
        );
    }

    #[test]
    fn a_missing_value_is_an_error_naming_the_tag_once() {
        let values = Values {
            product: None,
            ..all()
        };
        let errors = expand(
            "{product} {product} {price}",
            &Values {
                price: None,
                ..values
            },
        )
        .unwrap_err();
        assert_eq!(
            errors,
            vec![
                TagError::Missing(Tag::Product),
                TagError::Missing(Tag::Price)
            ]
        );
        assert!(errors[0].to_string().contains("no product is showing"));
        let blank = Values {
            first_name: Some("  ".into()),
            ..all()
        };
        assert_eq!(
            expand("{first_name}", &blank).unwrap_err(),
            vec![TagError::Missing(Tag::FirstName)]
        );
    }

    #[test]
    fn unknown_tags_are_errors_and_checked() {
        assert_eq!(
            expand("Bonjour {prénom}", &all()).unwrap_err(),
            vec![TagError::Unknown("prénom".into())]
        );
        assert_eq!(check("{prix}"), Err(TagError::Unknown("prix".into())));
        assert!(check("{first_name} {host}").is_ok());
        assert!(
            TagError::Unknown("prix".into())
                .to_string()
                .contains("{first_name}")
        );
    }

    #[test]
    fn braces_that_are_not_tags_stay_text() {
        for text in [
            "{{",
            "}}",
            "{",
            "}",
            "{ }",
            "{42}",
            "{-x}",
            "a { b",
            "code {{PROMO",
            "{first_name",
            ":-{",
            "{}",
        ] {
            assert_eq!(expand(text, &Values::default()).unwrap(), text, "{text:?}");
            assert!(tags_in(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn doubled_and_nested_braces_find_the_inner_tag() {
        assert_eq!(expand("{{first_name}}", &all()).unwrap(), "{Léa}");
        assert_eq!(tags_in("{a{first_name}}"), vec!["first_name"]);
        assert_eq!(expand("{a{first_name}}", &all()).unwrap(), "{aLéa}");
        assert_eq!(tags_in("{{x}"), vec!["x"]);
    }

    #[test]
    fn values_are_not_expanded_again() {
        let values = Values {
            first_name: Some("{host}".into()),
            ..all()
        };
        assert_eq!(expand("{first_name}!", &values).unwrap(), "{host}!");
    }

    #[test]
    fn unicode_around_and_in_tags() {
        assert_eq!(expand("🎉{first_name}🎉", &all()).unwrap(), "🎉Léa🎉");
        assert_eq!(tags_in("{ß_ü1}"), vec!["ß_ü1"]);
        assert_eq!(tags_in("{é\u{301}}"), Vec::<&str>::new());
        assert_eq!(
            expand("日本{live}語", &all()).unwrap(),
            "日本Soldes d'hiver語"
        );
    }
}
