//! A live's products and the brand's canned answers: their bounds and the
//! checks every way in goes through (the brand file's `[[products]]` and
//! `[[canned]]`, the hub's `product_add` and `canned_add`), so a hostile
//! value gets the same clear refusal wherever it comes from. Pure.

use crate::merge_tags;
use crate::privacy::{grapheme_count, sanitize};
use crate::protocol::{CannedAnswer, Product};

/// The longest product name, in graphemes (it fits a card and a tag).
pub const MAX_PRODUCT_NAME: usize = 80;
/// The longest price, in graphemes ("49,90 €", "2 pour 30 €").
pub const MAX_PRICE: usize = 30;
/// The longest product link, in bytes.
pub const MAX_LINK_BYTES: usize = 500;
/// The most products one live holds (the brand file's and those added live).
pub const MAX_PRODUCTS: usize = 500;
/// The first id of a product added live: the brand file's are 1 to
/// [`MAX_PRODUCTS`], in file order.
pub const FIRST_ADDED_PRODUCT_ID: u32 = 1001;
/// The longest canned answer title, in graphemes.
pub const MAX_CANNED_TITLE: usize = 60;
/// The longest canned answer text, in graphemes (before expansion; the
/// expanded reply is held to the live's message limit when it is sent).
pub const MAX_CANNED_TEXT: usize = 500;
/// The most canned answers (the brand file's and those saved live).
pub const MAX_CANNED: usize = 300;

/// The most bytes the products and canned answers take together, as JSON:
/// a staff welcome's head carries them all, and no frame may exceed
/// [`crate::protocol::MAX_FRAME_BYTES`] (the rest of the head, a pin and
/// the settings, stays well under the remaining room).
pub const MAX_SHOWCASE_BYTES: usize = 48 * 1024;

/// Whether `products` and `canned` fit in [`MAX_SHOWCASE_BYTES`].
pub fn fits(products: &[Product], canned: &[CannedAnswer]) -> bool {
    let len = |v: Result<Vec<u8>, serde_json::Error>| v.map_or(usize::MAX, |v| v.len());
    len(serde_json::to_vec(products)).saturating_add(len(serde_json::to_vec(canned)))
        <= MAX_SHOWCASE_BYTES
}

/// A product of the brand file: for one live (`live = "show"`), or for
/// every live when `live` is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredProduct {
    pub live: Option<String>,
    pub product: Product,
}

/// The brand file's products that `live` starts with, in file order.
pub fn products_for(configured: &[ConfiguredProduct], live: &str) -> Vec<Product> {
    configured
        .iter()
        .filter(|c| c.live.as_deref().is_none_or(|l| l == live))
        .map(|c| c.product.clone())
        .collect()
}

/// One line of text, sanitised and trimmed, 1 to `max` graphemes.
fn one_line(what: &str, raw: &str, max: usize) -> Result<String, String> {
    let clean = sanitize(raw);
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    let n = grapheme_count(&clean);
    if n > max {
        return Err(format!("{what} has {n} characters; at most {max}"));
    }
    Ok(clean)
}

/// A link a viewer may follow: `http://` or `https://` and a host, no
/// spaces or controls, at most [`MAX_LINK_BYTES`].
pub fn check_link(raw: &str) -> Result<String, String> {
    let link = raw.trim();
    if link.len() > MAX_LINK_BYTES {
        return Err(format!("the link is longer than {MAX_LINK_BYTES} bytes"));
    }
    let lower = link.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| format!("the link {link:?} is not an http(s) link"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') || host.contains('@') {
        return Err(format!("the link {link:?} names no host"));
    }
    if link
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\'))
    {
        return Err(format!(
            "the link {link:?} holds spaces or control characters"
        ));
    }
    Ok(link.to_owned())
}

/// A product as given (name, price, optional link), checked; `id` is the
/// caller's to assign.
pub fn product(id: u32, name: &str, price: &str, link: Option<&str>) -> Result<Product, String> {
    let name = one_line("a product name", name, MAX_PRODUCT_NAME)?;
    let price = one_line("a price", price, MAX_PRICE)?;
    let link = match link.map(str::trim) {
        None | Some("") => None,
        Some(l) => Some(check_link(l)?),
    };
    Ok(Product {
        id,
        name,
        price,
        link,
    })
}

/// A canned answer as given, checked: a title, a text whose merge tags
/// are all known ones.
pub fn canned(title: &str, text: &str) -> Result<CannedAnswer, String> {
    let title = one_line("a canned answer title", title, MAX_CANNED_TITLE)?;
    let clean = sanitize(text);
    let text = clean.trim();
    if text.is_empty() {
        return Err("a canned answer text must not be empty".into());
    }
    let n = grapheme_count(text);
    if n > MAX_CANNED_TEXT {
        return Err(format!(
            "a canned answer text has {n} characters; at most {MAX_CANNED_TEXT}"
        ));
    }
    merge_tags::check(text).map_err(|e| e.to_string())?;
    Ok(CannedAnswer {
        title,
        text: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_cleaned_and_bounded() {
        let p = product(
            1,
            "  Robe\u{202e} Lina ",
            "49 €",
            Some(" https://shop.example.com/lina "),
        )
        .unwrap();
        assert_eq!(p.name, "Robe Lina");
        assert_eq!(p.link.as_deref(), Some("https://shop.example.com/lina"));
        assert!(product(1, "", "1 €", None).is_err());
        assert!(product(1, "x", " ", None).is_err());
        assert!(
            product(1, &"x".repeat(81), "1", None)
                .unwrap_err()
                .contains("at most 80")
        );
        assert_eq!(product(1, "x", "1", Some("")).unwrap().link, None);
    }

    #[test]
    fn only_http_links_pass() {
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,x",
            "ftp://x.org",
            "//x.org",
            "https://",
            "https:///path",
            "https://a b.org",
            "https://x.org/\u{7}",
            "https://user@evil.org",
            "https://x.org/\"onmouseover=",
        ] {
            assert!(check_link(bad).is_err(), "{bad:?}");
        }
        assert!(check_link(&format!("https://x.org/{}", "a".repeat(600))).is_err());
        assert!(check_link("HTTP://Shop.example.com/a?b=c#d").is_ok());
    }

    #[test]
    fn canned_answers_need_known_tags() {
        assert!(canned("Livraison", "{first_name}, c'est offert").is_ok());
        assert!(canned("Prix", "{prix}").unwrap_err().contains("{prix}"));
        assert!(canned(" ", "x").is_err());
        assert!(canned("t", "\u{1b}[2J").is_err());
    }
}
