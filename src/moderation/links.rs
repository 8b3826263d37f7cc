//! Links in chat: `http(s)://…`, `www.…` and bare domains such as
//! `example.com/x`, found on the detector's folded view (so full-width
//! `ｅｘａｍｐｌｅ．ｃｏｍ` is a link too) and mapped back to the original.
//!
//! Word boundaries are ASCII ones (hosts are ASCII after folding): a
//! Unicode `\b` would make the regex crate leave its fast DFA on any line
//! with an accent or an emoji, which is most chat.
//!
//! A bare domain needs a top-level domain from a short list of the common
//! ones: "ok.merci" or "taille.m" are chat, not links.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::privacy::normalize;

/// Which links a live accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkPolicy {
    /// No link at all: every link fires the rule.
    NoLinks,
    /// Links to these domains (and their subdomains) only.
    AllowList(Vec<String>),
    /// Every link is fine: the rule never fires.
    AllLinks,
}

impl LinkPolicy {
    /// Whether a link to `host` (lower-case) breaks the policy.
    pub(crate) fn refuses(&self, host: &str) -> bool {
        match self {
            Self::NoLinks => true,
            Self::AllLinks => false,
            Self::AllowList(domains) => !domains.iter().any(|d| {
                host == d
                    || host
                        .strip_suffix(d.as_str())
                        .is_some_and(|sub| sub.ends_with('.'))
            }),
        }
    }
}

/// Whether `domain` can go on an allow-list: letters, digits, dashes and
/// at least one inner dot.
pub(crate) fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// One link found in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    /// The host, lower-case, without `www.`'s scheme or a port.
    pub(crate) host: String,
    /// Where the link is in the original text (char boundaries).
    pub(crate) span: Range<usize>,
}

static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?:https?://(?P<url>[^\s/?#:@]+)",
        r"|(?-u:\b)(?P<www>www\.[a-z0-9-]+(?:\.[a-z0-9-]+)+)",
        r"|(?-u:\b)(?P<bare>(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+",
        r"(?:com|net|org|fr|be|ch|de|es|it|uk|eu|io|co|me|ly|gl|tv|app|shop|store|info|biz|xyz|link|site|online|club|live|ru|cn))(?-u:\b))",
        r"(?::\d+)?(?:[/?#][^\s]*)?",
    ))
    .expect("static regex")
});

/// Every link in `text`. An e-mail address's domain is not a link.
pub(crate) fn find_links(text: &str) -> Vec<Link> {
    let view = normalize::fold(text);
    let mut links = Vec::new();
    // Every link has a dot in its host; most chat lines have none.
    if !view.text.contains('.') {
        return links;
    }
    for caps in LINK.captures_iter(&view.text) {
        let Some(whole) = caps.get(0) else { continue };
        let Some(host) = caps
            .name("url")
            .or_else(|| caps.name("www"))
            .or_else(|| caps.name("bare"))
        else {
            continue;
        };
        if caps.name("bare").is_some() && view.text[..whole.start()].ends_with('@') {
            continue;
        }
        links.push(Link {
            host: host.as_str().to_ascii_lowercase(),
            span: view.original(whole.range()),
        });
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(text: &str) -> Vec<String> {
        find_links(text).into_iter().map(|l| l.host).collect()
    }

    #[test]
    fn urls_www_and_bare_domains_are_links() {
        assert_eq!(
            hosts("voir https://Shop.Example.org/robe?id=3"),
            ["shop.example.org"]
        );
        assert_eq!(hosts("go www.promo-folle.biz now"), ["www.promo-folle.biz"]);
        assert_eq!(
            hosts("sur example.com/x et arnaque.fr"),
            ["example.com", "arnaque.fr"]
        );
        assert_eq!(hosts("ｅｘａｍｐｌｅ．ｃｏｍ"), ["example.com"]);
    }

    #[test]
    fn chat_with_dots_and_emails_is_not_a_link() {
        assert!(hosts("ok.merci, taille.m svp... 39.90 €").is_empty());
        assert!(hosts("écris à julie@free.fr").is_empty());
    }

    #[test]
    fn the_span_is_the_whole_link_in_the_original() {
        let text = "lien: ｅｘａｍｐｌｅ．ｃｏｍ/x ok";
        let link = &find_links(text)[0];
        assert_eq!(&text[link.span.clone()], "ｅｘａｍｐｌｅ．ｃｏｍ/x");
    }

    #[test]
    fn an_allow_list_accepts_its_domains_and_their_subdomains_only() {
        let policy = LinkPolicy::AllowList(vec!["example.com".into()]);
        assert!(!policy.refuses("example.com"));
        assert!(!policy.refuses("shop.example.com"));
        assert!(policy.refuses("badexample.com"));
        assert!(policy.refuses("example.com.evil.io"));
        assert!(LinkPolicy::NoLinks.refuses("example.com"));
        assert!(!LinkPolicy::AllLinks.refuses("evil.io"));
    }

    #[test]
    fn domains_for_an_allow_list_are_checked() {
        assert!(is_domain("example.com"));
        assert!(is_domain("shop.my-brand.fr"));
        assert!(!is_domain("example"));
        assert!(!is_domain("exa mple.com"));
        assert!(!is_domain("-x.com"));
        assert!(!is_domain("x..com"));
    }
}
